"""Basemaps (底图): OpenStreetMap, Gaode 高德, Tianditu 天地图, none, or an intranet tile URL.

A :class:`Basemap` says where tiles come from and in which datum they are drawn:
``"wgs84"`` (OpenStreetMap, Tianditu) or ``"gcj02"`` (Gaode). The map builders
shift vectors to the basemap's datum (see :mod:`gisrenew.webmap.gcj02`).

The Tianditu key (``tk``) is never stored in gisrenew: pass it as ``key=`` or set
the environment variable ``TIANDITU_KEY``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from gisrenew.errors import InputError
from gisrenew.webmap.escape import escape_text

__all__ = ["BASEMAP_NAMES", "TIANDITU_KEY_ENV", "Basemap", "TileSource", "get_basemap"]

Datum = Literal["wgs84", "gcj02"]

#: Names accepted by :func:`get_basemap` (and ``gisrenew publish --basemap``).
BASEMAP_NAMES = ("osm", "gaode", "tianditu", "none")

#: Environment variable holding the Tianditu key.
TIANDITU_KEY_ENV = "TIANDITU_KEY"


@dataclass(frozen=True)
class TileSource:
    """One XYZ tile layer: URL template (``{z}/{x}/{y}``, optional ``{s}``) and its options."""

    url: str
    attribution: str  # trusted HTML (constants) or escaped user text
    subdomains: str = "abc"
    max_zoom: int = 18
    min_zoom: int = 0


@dataclass(frozen=True)
class Basemap:
    """A basemap: zero or more tile layers drawn in one datum.

    Attributes
    ----------
    name : str
        Short name (``osm``, ``gaode``, ``tianditu``, ``none``, ``custom``).
    label : dict
        Display name by language (``{"zh": ..., "en": ...}``).
    datum : {"wgs84", "gcj02"}
        The datum the tiles are drawn in; vectors are shifted to it.
    tiles : tuple of TileSource
        Base tiles first, then label overlays (Tianditu's annotation layer).
    """

    name: str
    label: dict[str, str]
    datum: Datum = "wgs84"
    tiles: tuple[TileSource, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        """True for the ``none`` basemap (no tiles at all)."""
        return not self.tiles

    @property
    def needs_internet(self) -> bool:
        """True when the tiles come from a public internet service."""
        return self.name in ("osm", "gaode", "tianditu")


_OSM = TileSource(
    url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    attribution=(
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    ),
    subdomains="abc",
    max_zoom=19,
)


def _gaode(lang: str) -> TileSource:
    # style=8: the standard road map; lang=zh_cn / en.
    tile_lang = "en" if lang == "en" else "zh_cn"
    return TileSource(
        url=(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang="
            + tile_lang
            + "&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
        ),
        attribution="&copy; 高德地图 AutoNavi",
        subdomains="1234",
        max_zoom=18,
    )


def _tianditu(key: str, lang: str) -> tuple[TileSource, ...]:
    def layer(name: str) -> TileSource:
        return TileSource(
            url=(
                "https://t{s}.tianditu.gov.cn/"
                + name
                + "_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER="
                + name
                + "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                + "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk="
                + key
            ),
            attribution="&copy; 天地图 Tianditu",
            subdomains="01234567",
            max_zoom=18,
        )

    # vec = vector map; cva / eva = Chinese / English annotation overlay.
    return (layer("vec"), layer("eva" if lang == "en" else "cva"))


def get_basemap(
    name: str | Basemap | None = "osm",
    *,
    key: str | None = None,
    url: str | None = None,
    attribution: str | None = None,
    datum: Datum = "wgs84",
    lang: str = "zh",
    subdomains: str = "abc",
    max_zoom: int = 18,
) -> Basemap:
    """Return a :class:`Basemap` by name, or a custom/intranet one from a tile URL.

    Parameters
    ----------
    name : {"osm", "gaode", "tianditu", "none", "custom"} or Basemap or None
        ``None`` is the same as ``"none"``. A string containing ``{z}`` is taken as
        a custom tile URL. A :class:`Basemap` is returned unchanged.
    key : str, optional
        Tianditu key (``tk``); default: the ``TIANDITU_KEY`` environment variable.
    url : str, optional
        Tile URL template for ``custom`` (e.g. an intranet tile server
        ``http://tiles.intra/{z}/{x}/{y}.png``).
    attribution : str, optional
        Attribution text for a custom basemap (shown as plain text).
    datum : {"wgs84", "gcj02"}
        Datum of a custom basemap's tiles (an intranet mirror of Gaode tiles is ``gcj02``).
    lang : {"zh", "en"}
        Label language of Gaode and Tianditu tiles.
    subdomains, max_zoom
        Options of a custom tile URL.
    """
    if isinstance(name, Basemap):
        return name
    if name is None:
        name = "none"
    if "{z}" in name:
        url, name = name, "custom"
    name = name.lower()
    if name in ("osm", "openstreetmap"):
        return Basemap("osm", {"zh": "OpenStreetMap", "en": "OpenStreetMap"}, "wgs84", (_OSM,))
    if name in ("gaode", "amap", "autonavi"):
        return Basemap(
            "gaode", {"zh": "高德地图", "en": "Gaode (AutoNavi)"}, "gcj02", (_gaode(lang),)
        )
    if name in ("tianditu", "tdt"):
        key = key or os.environ.get(TIANDITU_KEY_ENV, "")
        key = key.strip()
        if not key:
            raise InputError(
                "the Tianditu basemap (天地图) needs a key (tk). Fix: get one from the Tianditu "
                f"developer site and set the environment variable {TIANDITU_KEY_ENV}, or pass "
                "`--tianditu-key` / `key=`; or choose another basemap (osm, gaode, none)."
            )
        if not key.isalnum():
            raise InputError(f"the Tianditu key must be letters and digits only, got {key!r}")
        return Basemap(
            "tianditu", {"zh": "天地图", "en": "Tianditu"}, "wgs84", _tianditu(key, lang)
        )
    if name in ("none", "blank", ""):
        return Basemap("none", {"zh": "无底图", "en": "no basemap"}, "wgs84", ())
    if name == "custom":
        if not url or "{z}" not in url or "{x}" not in url or "{y}" not in url:
            raise InputError(
                f"a custom basemap needs a tile URL with {{z}}, {{x}} and {{y}}, got {url!r}"
            )
        if not url.lower().startswith(("http://", "https://", "/", "./", "../")):
            raise InputError(f"the tile URL must be http(s) or a relative path, got {url!r}")
        if datum not in ("wgs84", "gcj02"):
            raise InputError(f"`datum` must be 'wgs84' or 'gcj02', got {datum!r}")
        source = TileSource(
            url=url,
            attribution=escape_text(attribution or ""),
            subdomains=subdomains,
            max_zoom=max_zoom,
        )
        return Basemap("custom", {"zh": "自定义底图", "en": "custom basemap"}, datum, (source,))
    known = ", ".join(BASEMAP_NAMES)
    raise InputError(
        f"unknown basemap {name!r}; choose one of {known}, "
        "or give a tile URL with {z}/{x}/{y}"
    )
