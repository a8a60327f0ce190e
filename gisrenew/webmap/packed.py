"""Large polygon layers as a compact binary layer: a city's parcels drawn in a second.

A layer of tens of thousands of polygons (100 000 residential parcels) written as
GeoJSON text is ~15 MB of coordinates and ~10 MB of popup text, and Leaflet makes one
object per feature before it draws anything (a 35 MB page, 7–14 s before the first
draw, measured by ``benchmarks/bench_commands.py``). A *packed* layer instead carries:

* the geometry in the columnar layout of GeoArrow, made by
  :func:`shapely.to_ragged_array`: coordinates (longitude/latitude quantized to
  ``10**-precision`` degrees as 32-bit integers, each written as its difference from
  the previous one), ring, part and feature offsets — one deflated (zlib) array,
  ~1 MB for 100 000 parcels instead of 15 MB (:func:`pack_geometry`; kept apart from
  the rest, so a page whose parcels did not move reuses it: :mod:`~gisrenew.webmap.drawcache`);
* each popup column dictionary-encoded (:func:`pack_column`): its distinct values,
  escaped with :func:`~gisrenew.webmap.escape.escape_text`
  (:func:`~gisrenew.webmap.escape.escape_column`), as deflated JSON text, and one code
  per feature in a deflated array — each column apart, so a column that did not change
  (the parcels' names and areas after a park is added) is reused as it was;
* the style index of each feature, deflated (:func:`pack_styles`).

In the page (:data:`PACKED_JS`, the file ``gisrenew/webmap/static/packed.js``: inlined
into each published page, served as a file by ``gisrenew serve``) the arrays are
inflated by the browser's own ``DecompressionStream`` and drawn by Leaflet as **a few
polygons per style class** (64 neighbouring features of one class in one Leaflet
polygon), on the page's one renderer, in the layer's place in the drawing order. A click
or hover finds the feature under the pointer in the arrays (bounding boxes, then the
even–odd rule) and opens its popup or tooltip, assembled from the escaped values like
every other layer's. So the city draws at once at city zoom, and each parcel still
answers with its own popup when zoomed in. Measured choices for the geometry of 100 000
parcels (``benchmarks/bench_maps.py``, 2026-12-03): GeoJSON text 15.0 MB; FlatGeobuf
17.1 MB (12.8 MB without its index, 2.6 MB deflated, and a reader to inline); Mapbox
vector tiles at one zoom (GDAL's MVT writer, as PMTiles) 0.7 MB but 2.9 s to write,
clipped at tile edges and needing a tile reader; the packed arrays 1.2 MB in 0.2 s.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template

from gisrenew.webmap.elements import DataLayer
from gisrenew.webmap.escape import escape_column, escape_text, script_json

__all__ = [
    "PACKED_JS",
    "PACKED_JS_FILE",
    "PackedLayer",
    "PackedRuntime",
    "is_packable",
    "pack_column",
    "pack_geometry",
    "pack_layer",
    "pack_styles",
    "pack_values",
]

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
#: Every character base64 text may hold (a packed part is checked to hold nothing else).
_BASE64 = re.compile(r"[A-Za-z0-9+/=]*")


def is_packable(geoms: np.ndarray) -> bool:
    """Whether every geometry is a polygon or multipolygon (what a packed layer draws)."""
    return bool(len(geoms)) and bool(np.isin(shapely.get_type_id(geoms), _POLYGONAL).all())


def _deflated(data: bytes) -> str:
    """`data` compressed (zlib, the ``deflate`` of the Compression Streams standard), base64."""
    text = base64.b64encode(zlib.compress(data, 3)).decode("ascii")  # level 3: 0.05 s, 6: 0.14
    if _BASE64.fullmatch(text) is None:  # pragma: no cover - base64 is this set
        raise ValueError("base64 text outside its alphabet")
    return text


def pack_geometry(geoms: np.ndarray, precision: int) -> tuple[dict, str]:
    """The geometry part of a packed layer (what stays the same when only popups change).

    Parameters
    ----------
    geoms : numpy.ndarray of (multi)polygons
        In longitude/latitude, non-empty.
    precision : int
        Decimals of longitude/latitude kept (6 → ~0.1 m): coordinates are rounded to
        them, as :func:`numpy.round` does for the GeoJSON layers.

    Returns
    -------
    counts : dict
        ``coords``, ``rings``, ``parts``, ``features``, ``origin``, ``scale`` (what the
        page needs to read the geometry part).
    geometry : str
        Base64 of the deflated int32 arrays: coordinate differences, ring, part and
        feature offsets.
    """
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    if kind == shapely.GeometryType.POLYGON:  # no multipolygon: one part per feature
        offsets = (*offsets, np.arange(len(geoms) + 1))
    rings, parts, features = offsets
    scale = 10**precision
    quantized = np.rint(coords * scale).astype(np.int64)  # longitude, latitude × scale
    origin = quantized.min(axis=0)
    steps = np.diff(quantized - origin, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    arrays = [steps.astype(np.int32).ravel(), rings, parts, features]
    counts = {
        "coords": len(coords),
        "rings": len(rings) - 1,
        "parts": len(parts) - 1,
        "features": len(features) - 1,
        "origin": [int(origin[0]), int(origin[1])],
        "scale": scale,
    }
    return counts, _deflated(_int32_bytes(arrays))


def pack_values(style_index: np.ndarray, columns: Sequence[Sequence]) -> tuple[str, list[str]]:
    """The style and popup parts of a packed layer.

    Parameters
    ----------
    style_index : numpy.ndarray of int
        Style of each feature.
    columns : sequence of sequence
        The popup values of each column, one per feature (escaped here).

    Returns
    -------
    binary : str
        Base64 of the deflated int32 style indices.
    columns : list of str
        :func:`pack_column` of each column, one after the other (codes, values, ...).
    """
    parts = [part for values in columns for part in pack_column(values)]
    return pack_styles(style_index), parts


def pack_styles(style_index: np.ndarray) -> str:
    """Base64 of the deflated int32 style index of each feature."""
    return _deflated(_int32_bytes([np.asarray(style_index)]))


def pack_column(values: Sequence) -> tuple[str, str]:
    """One popup column, dictionary-encoded: its codes and its distinct escaped values.

    Returns
    -------
    codes : str
        Base64 of the deflated int32 code of each feature.
    uniques : str
        Base64 of the deflated JSON list of the column's distinct escaped values.
    """
    codes, uniques = escape_column(values)
    text = json.dumps(uniques, ensure_ascii=False, separators=(",", ":"))
    return _deflated(_int32_bytes([codes])), _deflated(text.encode("utf-8"))


def _int32_bytes(arrays: Sequence[np.ndarray]) -> bytes:
    return b"".join(np.ascontiguousarray(a, dtype="<i4").tobytes() for a in arrays)


def pack_layer(
    geoms: np.ndarray,
    style_index: np.ndarray,
    columns: Sequence[Sequence],
    precision: int,
) -> tuple[dict, str, str, list[str]]:
    """The parts of a packed layer: its counts, geometry, styles and popup columns.

    :func:`pack_geometry` and :func:`pack_values` in one call (see them for the
    parameters); ``counts["columns"]`` is the number of popup columns.
    """
    counts, geometry = pack_geometry(geoms, precision)
    binary, parts = pack_values(style_index, columns)
    return {**counts, "columns": len(columns)}, geometry, binary, parts


#: The browser's reader of packed layers, a file of this package: inlined into the published
#: pages (:class:`PackedRuntime`) and served as a file by ``gisrenew serve``.
PACKED_JS_FILE = Path(str(resources.files("gisrenew.webmap") / "static" / "packed.js"))
#: The page's reader of packed layers: ``window.gisrenew.packed(...)`` returns a
#: ``L.FeatureGroup`` that fills itself (polygons by style) once the arrays are read. It
#: needs ``window.gisrenew`` (``map``, ``canvas``, ``popup``, ``tooltip``, ``restack``):
#: :class:`~gisrenew.webmap.elements.Runtime` in a published page.
PACKED_JS = PACKED_JS_FILE.read_text(encoding="utf-8")


class PackedRuntime(MacroElement):
    """The reader of packed layers (:data:`PACKED_JS`), added once to a page that has one."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.js }}
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "GisrenewPackedRuntime"
        self.js = PACKED_JS


class PackedLayer(DataLayer):
    """A large polygon layer drawn from packed arrays (see the module docs).

    Parameters
    ----------
    key, name, styles, labels, tooltip, heading, kind, canvas, show, interactive
        As for :class:`~gisrenew.webmap.elements.GeoJsonLayer`.
    counts : dict
        From :func:`pack_layer`.
    geometry, binary : str
        The base64 parts from :func:`pack_layer`: geometry, styles.
    columns : sequence of str
        The base64 codes and values of each popup column (:func:`pack_column`).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = window.gisrenew.packed({{ this.key|tojson }},
                {{ this.def_json }}, {{ this.styles_json }},
                "{{ this.geometry }}", "{{ this.binary }}", {{ this.columns_json }});
            window.gisrenew.layers[{{ this.key|tojson }}] = {{ this.get_name() }};
            window.gisrenew.order.push({{ this.key|tojson }});
            {{ this.add_to_map() }}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        key: str,
        name: str,
        counts: dict,
        geometry: str,
        binary: str,
        columns: Sequence[str],
        *,
        styles: list[dict],
        labels: Sequence[str] = (),
        tooltip: Sequence[int] = (),
        heading: int | None = None,
        kind: str = "",
        canvas: bool = True,
        show: bool = True,
        interactive: bool = True,
        feature_count: int = 0,
    ):
        columns = [str(part) for part in columns]
        if len(columns) != 2 * int(counts.get("columns", 0)):
            raise ValueError("a packed layer needs the codes and values of each popup column")
        for part in (geometry, binary, *columns):
            if not isinstance(part, str) or _BASE64.fullmatch(part) is None:
                raise ValueError("packed parts must be base64 text")
        super().__init__(
            key, name, styles=styles, canvas=canvas, show=show, interactive=interactive,
            feature_count=feature_count,
        )  # fmt: skip
        self._name = "GisrenewPacked"
        self.geometry = geometry
        self.binary = binary
        self.columns = columns
        self.counts = counts
        self.labels = [escape_text(x) for x in labels]
        self.tooltip = [int(i) for i in tooltip]
        self.heading = None if heading is None else int(heading)
        self.kind = escape_text(kind)

    @property
    def columns_json(self) -> str:
        """The popup columns' parts (base64 text only: checked when made)."""
        return json.dumps(self.columns)

    @property
    def def_json(self) -> str:
        """The layer's definition for the page (read when the page is rendered)."""
        return script_json(
            {
                "labels": self.labels,
                "tooltip": self.tooltip,
                "heading": self.heading,
                "kind": self.kind,
                "counts": self.counts,
                "canvas": self.canvas,
                "interactive": self.interactive,
            }
        )
