"""Publishing: a static site of maps, an index page and the tables behind them.

:func:`publish_site` takes a project (or the layers and results directly) and
writes into one folder (``maps/`` by default)::

    index.html                   the maps, their key figures and the date
    index.json                   the same figures, for scripts
    coverage.html                coverage map (straight-line service radius)
    coverage_network.html        coverage map by walking distance (when roads exist)
    plans.html                   renewal plans and affected parcels (plans + parcels)
    before_after.html            new parks and blind spots closed (given before/after)
    tables/<map>_<table>.csv     the data each map shows (UTF-8 with BOM, for Excel)
    .gisrenew-site.json          what gisrenew wrote: relative paths and SHA-256 checksums

Every page is static: open ``index.html`` from a file share or any web server.
With ``offline=True`` each map is one self-contained file that loads nothing.

Every file is written atomically by :mod:`gisrenew.outfiles`. A later publish removes
only files its own manifest (``.gisrenew-site.json``) lists that it no longer writes and
that still have the recorded checksum — never a file someone else put or changed, never
one outside the site folder. A plain publish keeps the before/after map of the last
recompute (``before_after.html`` and its tables) and keeps listing it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import math
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import pandas as pd

from gisrenew import outfiles
from gisrenew.errors import InputError, ProjectError
from gisrenew.present import formats as fmt
from gisrenew.present.labels import column_headers
from gisrenew.results import INDICATOR_NAMES, CoverageResult
from gisrenew.webmap.basemaps import Basemap, get_basemap
from gisrenew.webmap.escape import escape_text
from gisrenew.webmap.labels import detect_lang, label, resolve_lang
from gisrenew.webmap.maps import (
    MapOptions,
    before_after_map,
    closed_blind_spots,
    coverage_map,
    frames_in_china,
    plans_map,
    save_map,
)

__all__ = ["MAP_SETTINGS", "PublishedMap", "SiteInputs", "map_settings", "publish_site"]

log = logging.getLogger(__name__)

#: Keys of the ``[maps]`` table of ``gisrenew.toml``.
MAP_SETTINGS = {
    "basemap": "osm | gaode | tianditu | none, or a tile URL with {z}/{x}/{y}",
    "tiles_datum": "wgs84 | gcj02: datum of a custom tile URL",
    "tiles_attribution": "attribution text of a custom tile URL",
    "data_datum": "wgs84 | gcj02: datum of the project's data once in longitude/latitude",
    "lang": "zh | en",
    "language": "same as lang",
    "offline": "true: self-contained pages",
    "title": "site title",
    "simplify_m": "simplification tolerance in metres (default 1)",
}

_PLAN_KEYS = ("min_overlap_share", "min_overlap_m2", "household_rule", "households")

#: The site's record of the files gisrenew wrote (relative path → SHA-256).
SITE_MANIFEST = ".gisrenew-site.json"


def map_settings(section: Mapping[str, Any], *, where: str = "gisrenew.toml") -> dict[str, Any]:
    """Validate the ``[maps]`` table; return it (unknown keys are an error)."""
    unknown = set(section) - set(MAP_SETTINGS)
    if unknown:
        known = ", ".join(sorted(MAP_SETTINGS))
        raise ProjectError(f"{where}: unknown key(s) in [maps]: {sorted(unknown)}; known: {known}")
    out = dict(section)
    if "language" in out:
        language = out.pop("language")
        if "lang" in out and out["lang"] != language:
            raise ProjectError(f"{where}: [maps] lang = {out['lang']!r} and language = {language!r} differ")
        out["lang"] = language
    return out


@dataclass
class SiteInputs:
    """Layers and results to publish, when not publishing a project folder.

    Attributes
    ----------
    layers : dict of str to GeoDataFrame
        ``parks``, ``residential`` (required for the coverage maps), and optionally
        ``boundary``, ``districts``, ``roads``, ``entrances``, ``plans``, ``parcels``.
    name : str
        Site name (e.g. the city).
    rules : str or RuleSet, optional
        Rule set for the coverage maps (default: gisrenew's default rule set).
    weight : str, optional
        Residential weight column (``households`` / ``population``).
    residential_codes : tuple of str, optional
        Land-use code prefixes that count as residential (default: the rule set's).
    coverage, network : CoverageResult, optional
        Results already computed (else computed here from the layers).
    before : CoverageResult, optional
        Result before a change; with `new_parks`, adds the before/after map
        (``coverage`` is then the result after).
    new_parks : GeoDataFrame, optional
        The parks added by the change.
    contributions : DataFrame, optional
        Each new park's own gain (``park_id``, ``unique_covered_m2``).
    network_options : dict
        Keyword arguments for :func:`gisrenew.network.network_coverage`.
    plan_options : dict
        ``min_overlap_share``, ``min_overlap_m2``, ``household_rule``, ``households``.
    maps : dict
        ``[maps]`` settings (see :data:`MAP_SETTINGS`).
    """

    layers: dict[str, gpd.GeoDataFrame]
    name: str = ""
    rules: Any = None
    weight: str | None = None
    residential_codes: tuple[str, ...] | None = None
    coverage: CoverageResult | None = None
    network: CoverageResult | None = None
    before: CoverageResult | None = None
    new_parks: gpd.GeoDataFrame | None = None
    contributions: pd.DataFrame | None = None
    network_options: dict[str, Any] = field(default_factory=dict)
    plan_options: dict[str, Any] = field(default_factory=dict)
    maps: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishedMap:
    """One map of the site: file, title, key figures and tables."""

    key: str
    title: str
    file: Path
    figures: list[tuple[str, str]]
    tables: list[Path]
    layers: dict[str, dict]


_KINDS = ("parks", "residential", "boundary", "districts", "roads", "entrances", "plans", "parcels")


def _from_project(project) -> SiteInputs:
    from gisrenew import network

    layers = {kind: project.read(kind) for kind in _KINDS if project.has(kind)}
    config = project.config
    coverage_settings = config.section("coverage")
    return SiteInputs(
        layers=layers,
        name=config.name,
        rules=config.rules,
        weight=coverage_settings.get("weight"),
        residential_codes=tuple(config.residential_codes) or None,
        network_options=network.options_from_settings(config.section("network")),
        plan_options={k: v for k, v in config.section("plans").items() if k in _PLAN_KEYS},
        maps=map_settings(config.section("maps"), where=str(config.path or "gisrenew.toml")),
    )


def _inputs(source) -> tuple[SiteInputs, Path | None]:
    if isinstance(source, SiteInputs):
        return source, None
    if isinstance(source, (str, os.PathLike)):
        from gisrenew.project import Project

        project = Project.open(source)
        return _from_project(project), project.folder
    if isinstance(source, Mapping):
        return SiteInputs(layers=dict(source)), None
    if hasattr(source, "read") and hasattr(source, "config") and hasattr(source, "folder"):
        return _from_project(source), Path(source.folder)
    raise TypeError(
        "`source` must be a gisrenew Project, a project folder, a SiteInputs or a dict of layers, "
        f"got {type(source).__name__}"
    )


def _default_weight(residential: gpd.GeoDataFrame, weight: str | None) -> str | None:
    if weight is not None:
        return weight
    if "households" in residential.columns and float(residential["households"].fillna(0).sum()) > 0:
        return "households"
    return None


def _coverage_figures(result: CoverageResult, lang: str) -> list[tuple[str, str]]:
    rows = [
        (label("coverage_ratio", lang), fmt.percent_short(result.ratio, missing="")),
        (label("numerator", lang), fmt.area_compact(result.covered_area_m2, lang, missing="")),
        (label("denominator", lang), fmt.area_compact(result.residential_area_m2, lang, missing="")),
    ]
    if result.weight_column is not None and math.isfinite(result.weighted_ratio):
        rows.append((label("weighted", lang), fmt.percent_short(result.weighted_ratio, missing="")))
    return rows


def _plain_table(frame: pd.DataFrame) -> pd.DataFrame:
    if isinstance(frame, gpd.GeoDataFrame):
        return pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return frame


def _write_tables(folder: Path, stem: str, tables: Mapping[str, pd.DataFrame], lang: str, labels=None) -> list[Path]:
    from gisrenew.io import write_results

    tables = {k: _plain_table(v) for k, v in tables.items() if v is not None}
    if not tables:
        return []
    return write_results(folder / f"{stem}.csv", tables, headers="zh" if lang == "zh" else "en", labels=column_headers(lang) if labels is None else labels)


def _coverage_tables(result: CoverageResult) -> dict[str, pd.DataFrame]:
    return {
        "districts": result.districts,
        "parks": result.parks,
        "blind_spots": result.blind_spots,
        "residential": result.residential,
    }


def _index_html(site_title: str, date: str, maps: list[PublishedMap], folder: Path, lang: str, offline: bool, basemap: Basemap) -> str:
    t = lambda key: label(key, lang)  # noqa: E731
    e = escape_text
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(site_title)}</title>",
        "<style>",
        'body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", Arial, sans-serif;',
        "  margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }",
        "h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }",
        ".map { border: 1px solid #ddd; border-radius: 6px; padding: 0.8em 1.2em; margin: 1em 0; }",
        "table { border-collapse: collapse; } th, td { text-align: left; padding: 2px 12px 2px 0; }",
        "th { color: #555; font-weight: normal; } .meta { color: #666; font-size: 0.9em; }",
        "</style></head><body>",
        f"<h1>{e(site_title)}</h1>",
        f'<p class="meta">{e(t("index_generated"))}: {e(date)} · {e(t("basemap"))}: '
        f"{e(basemap.label[lang])}" + (f" · {e(t('offline_note'))}" if offline else "") + "</p>",
        f'<p class="meta">{e(INDICATOR_NAMES["zh"])} / {e(INDICATOR_NAMES["zh_new"])} · '
        f"{e(INDICATOR_NAMES['en'])}</p>",
        f"<h2>{e(t('index_maps'))}</h2>",
    ]
    for item in maps:
        href = e(item.file.relative_to(folder).as_posix())
        parts.append(f'<div class="map" id="{e(item.key)}"><h3><a href="{href}">{e(item.title)}</a></h3>')
        if item.figures:
            parts.append("<table>")
            parts += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in item.figures]
            parts.append("</table>")
        if item.tables:
            links = " · ".join(
                f'<a href="{e(p.relative_to(folder).as_posix())}">{e(p.name)}</a>' for p in item.tables
            )
            parts.append(f'<p class="meta">{e(t("index_tables"))}: {links}</p>')
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _write_text(path: Path, text: str) -> Path:
    return outfiles.write_text(path, text)


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _site_file(folder: Path, name: str) -> Path | None:
    """``folder/name`` when `name` is a plain file inside the site: relative, no ``..``,
    no symbolic link on the way or at the end; else None."""
    rel = PurePosixPath(name)
    if not rel.parts or rel.is_absolute() or any(p in ("..", ".") for p in rel.parts):
        return None
    path = folder
    for part in rel.parts[:-1]:
        path = path / part
        if path.is_symlink() or not path.is_dir():
            return None
    path = path / rel.parts[-1]
    try:
        return path if stat.S_ISREG(os.lstat(path).st_mode) else None
    except OSError:
        return None


def _intact(folder: Path, name: str, digest: str | None) -> Path | None:
    """The site file `name` when it still has the checksum gisrenew recorded; else None."""
    path = _site_file(folder, name)
    return path if path is not None and digest and _sha256(path) == digest else None


@dataclass
class _PreviousSite:
    """What an earlier publish wrote into the folder (from its manifest)."""

    files: dict[str, str] = field(default_factory=dict)
    before_after: PublishedMap | None = None


def _previous_site(folder: Path) -> _PreviousSite:
    """Read the manifest of an earlier publish; keep its before/after map when intact."""
    manifest = _site_file(folder, SITE_MANIFEST)
    if manifest is None:
        return _PreviousSite()
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        files = {str(name): str(digest) for name, digest in data["files"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        log.warning("%s cannot be read; no file of an earlier publish will be removed", manifest)
        return _PreviousSite()
    return _PreviousSite(files, _kept_before_after(folder, files))


def _kept_before_after(folder: Path, files: dict[str, str]) -> PublishedMap | None:
    """The before/after entry of gisrenew's own index.json, when its files are intact."""
    index = _intact(folder, "index.json", files.get("index.json"))
    if index is None:
        return None
    try:
        maps = json.loads(index.read_text(encoding="utf-8"))["maps"]
        entry = next(m for m in maps if m.get("key") == "before_after")
        names = [str(entry["file"]), *(str(t) for t in entry.get("tables", []))]
        figures = [(str(k), str(v)) for k, v in dict(entry.get("figures", {})).items()]
        item = PublishedMap(
            "before_after", str(entry["title"]), folder / names[0], figures,
            [folder / name for name in names[1:]], dict(entry.get("layers", {})),
        )  # fmt: skip
    except (OSError, StopIteration, ValueError, TypeError, KeyError, AttributeError):
        return None
    if any(_intact(folder, name, files.get(name)) is None for name in names):
        return None
    return item


def _record_site(folder: Path, files: list[Path], previous: _PreviousSite) -> None:
    """Remove what an earlier publish wrote and this one did not; record what this one wrote.

    A file is removed only when the earlier manifest lists it, it is a plain file inside
    the site (no link, no ``..``) and it still has the recorded checksum.
    """
    written = {p.relative_to(folder).as_posix(): _sha256(p) for p in files}
    for name, digest in previous.files.items():
        if name in written or name == SITE_MANIFEST:
            continue
        path = _site_file(folder, name)
        if path is None or path.suffix.lower() not in (".html", ".csv", ".json"):
            continue
        if _sha256(path) != digest:
            log.info("kept %s: it changed since gisrenew wrote it", path)
            continue
        try:
            path.unlink()
        except OSError as exc:
            log.warning("could not remove %s (no longer published): %s", path, exc)
        else:
            log.info("removed %s (no longer published)", path)
    manifest = {"generator": "gisrenew", "format": 1, "files": written}
    _write_text(folder / SITE_MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))


def publish_site(
    source,
    out_dir: str | os.PathLike | None = None,
    *,
    basemap: str | Basemap | None = None,
    tianditu_key: str | None = None,
    tiles_datum: str | None = None,
    offline: bool | None = None,
    lang: str | None = None,
    data_datum: str | None = None,
    title: str | None = None,
    date: str | _dt.date | None = None,
    options: MapOptions | None = None,
    before: CoverageResult | None = None,
    new_parks: gpd.GeoDataFrame | None = None,
    contributions: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the static map site of a project (or of given layers/results).

    Parameters
    ----------
    source : Project, path, SiteInputs or dict of GeoDataFrames
        A project (object or folder), or the layers to publish.
    out_dir : path, optional
        Site folder; default ``maps/`` in the project folder (or the current folder).
    basemap : {"osm", "gaode", "tianditu", "none"} or tile URL or Basemap, optional
        Default: ``[maps] basemap``, else ``none`` for offline sites and ``osm`` otherwise.
    tianditu_key : str, optional
        Tianditu key; default the ``TIANDITU_KEY`` environment variable.
    tiles_datum : {"wgs84", "gcj02"}, optional
        Datum of a custom tile URL (default ``[maps] tiles_datum`` or wgs84).
    offline : bool, optional
        Self-contained pages (default ``[maps] offline`` or False).
    lang : {"zh", "en"}, optional
        Labels; default ``[maps] lang``, else Chinese for Chinese data.
    data_datum : {"wgs84", "gcj02"}, optional
        Declare ``gcj02`` for data digitised on Gaode maps (default ``[maps] data_datum``).
    title : str, optional
        Site title (default: project name + "公园绿地服务半径覆盖率与城市更新地图").
    date : str or date, optional
        Date printed on the index (default today).
    options : MapOptions, optional
        Drawing/size options of every map.
    before, new_parks, contributions : optional
        Add the before/after map: the result before a change, the parks added and
        each one's own gain; the site's coverage is the result after.

    Returns
    -------
    list of Path
        Files of the site: ``index.html`` first, then ``index.json``, the maps and the
        tables (with a before/after map kept from an earlier publish).

    Raises
    ------
    OutputError
        When the site folder (or its ``tables/``) is a file or a link leading elsewhere,
        or a file cannot be written (e.g. a full disk).
    """
    inputs, project_folder = _inputs(source)
    settings = inputs.maps
    layers = inputs.layers
    folder = Path(out_dir) if out_dir is not None else (project_folder or Path.cwd()) / "maps"
    outfiles.check_folder(folder)
    previous = _previous_site(folder)
    offline = bool(settings.get("offline", False)) if offline is None else bool(offline)
    data_datum = data_datum or settings.get("data_datum", "wgs84")
    if data_datum not in ("wgs84", "gcj02"):
        raise InputError(f"`data_datum` must be 'wgs84' or 'gcj02', got {data_datum!r}")
    frames = [layers.get("parks"), layers.get("residential"), layers.get("plans"), layers.get("districts")]
    lang = resolve_lang(lang or settings.get("lang"))
    if lang is None:
        lang = detect_lang(frames, in_china=_in_china(layers))
    basemap_choice = basemap if basemap is not None else settings.get("basemap", "none" if offline else "osm")
    basemap_obj = get_basemap(
        basemap_choice,
        key=tianditu_key,
        lang=lang,
        datum=tiles_datum or settings.get("tiles_datum", "wgs84"),
        attribution=settings.get("tiles_attribution"),
    )
    if offline and basemap_obj.needs_internet:
        log.warning(
            "offline site with the %s basemap: the pages are self-contained, but the tiles still "
            "need the internet (use --basemap none or an intranet tile URL)",
            basemap_obj.name,
        )
    if options is None and "simplify_m" in settings:
        options = MapOptions(simplify_m=float(settings["simplify_m"]))
    date_text = (date or _dt.date.today()).isoformat() if not isinstance(date, str) else date
    site_title = title or settings.get("title") or (
        f"{inputs.name} {label('index_title', lang)}" if inputs.name else label("index_title", lang)
    )
    before = before if before is not None else inputs.before
    new_parks = new_parks if new_parks is not None else inputs.new_parks
    contributions = contributions if contributions is not None else inputs.contributions
    if new_parks is not None and before is None:
        raise InputError("the before/after map needs `before`, the CoverageResult before the new parks")

    folder.mkdir(parents=True, exist_ok=True)
    tables_dir = folder / "tables"
    common = {"basemap": basemap_obj, "lang": lang, "source_datum": data_datum, "options": options}
    parks = layers.get("parks")
    residential = layers.get("residential")
    boundary = layers.get("boundary")
    districts = layers.get("districts")
    published: list[PublishedMap] = []

    # ---------------------------------------------------------- coverage (buffer)
    coverage = inputs.coverage
    if coverage is None and parks is not None and residential is not None:
        from gisrenew.coverage import compute_coverage

        coverage = compute_coverage(
            parks,
            residential,
            rules=inputs.rules,
            boundary=boundary,
            districts=districts,
            weight=_default_weight(residential, inputs.weight),
            residential_codes=inputs.residential_codes,
        )
    if coverage is not None:
        m = coverage_map(coverage, parks, districts=districts, boundary=boundary, **common)
        path = save_map(m, folder / "coverage.html", offline=offline)
        tables = _write_tables(tables_dir, "coverage", _coverage_tables(coverage), lang)
        published.append(
            PublishedMap("coverage", label("map_coverage", lang), path, _coverage_figures(coverage, lang), tables, m.gisrenew_layers)
        )

    # ---------------------------------------------------------- coverage (network)
    network = inputs.network
    roads = layers.get("roads")
    if network is None and roads is not None and parks is not None and residential is not None:
        from gisrenew.network import network_coverage

        network = network_coverage(
            parks,
            residential,
            roads,
            rules=inputs.rules,
            entrances=layers.get("entrances"),
            boundary=boundary,
            districts=districts,
            weight=_default_weight(residential, inputs.weight),
            residential_codes=inputs.residential_codes,
            **inputs.network_options,
        )
    if network is not None:
        m = coverage_map(network, parks, districts=districts, boundary=boundary, **common)
        path = save_map(m, folder / "coverage_network.html", offline=offline)
        tables = _write_tables(tables_dir, "coverage_network", _coverage_tables(network), lang)
        published.append(
            PublishedMap("coverage_network", label("map_coverage_network", lang), path, _coverage_figures(network, lang), tables, m.gisrenew_layers)
        )

    # ---------------------------------------------------------- plans
    plans = layers.get("plans")
    if plans is not None:
        from gisrenew import plans as plan_engine

        parcels = layers.get("parcels")
        opts = {k: v for k, v in inputs.plan_options.items() if k in _PLAN_KEYS}
        pairs = None
        if parcels is not None:
            pairs = plan_engine.affected_parcels(
                plans,
                parcels,
                **{k: opts[k] for k in ("min_overlap_share", "min_overlap_m2") if k in opts},
            )
        m = plans_map(
            plans,
            parcels,
            pairs=pairs,
            household_rule=opts.get("household_rule", "whole"),
            households=opts.get("households"),
            boundary=boundary,
            **common,
        )
        path = save_map(m, folder / "plans.html", offline=offline)
        plan_tables: dict[str, pd.DataFrame] = {}
        if parcels is not None:
            plan_tables["summary"] = plan_engine.plan_summary(
                plans, pairs, household_rule=opts.get("household_rule", "whole"), households=opts.get("households")
            )
            plan_tables["parcels"] = pairs
        tables = _write_tables(tables_dir, "plans", plan_tables, lang, labels=column_headers(lang, "plans"))
        totals = getattr(m, "gisrenew_totals", {})
        figures = [(label("plans", lang), fmt.count(totals.get("plans", len(plans))))]
        figures.append((label("area", lang), fmt.area_compact(totals.get("area_m2"), lang, missing="")))
        if "households_total" in totals:
            figures += [
                (label("households_total", lang), fmt.households(totals["households_total"])),
                (label("households_signed", lang), fmt.households(totals["signed"], missing="")),
                (label("signing_rate", lang), fmt.percent_short(totals["signing_rate"], missing="")),
            ]
        published.append(PublishedMap("plans", label("map_plans", lang), path, figures, tables, m.gisrenew_layers))

    # ---------------------------------------------------------- before / after
    if before is not None:
        after = coverage
        if after is None:
            raise InputError("the before/after map needs the result after the change (parks + residential)")
        m = before_after_map(
            before,
            after,
            new_parks,
            parks=parks,
            districts=districts,
            boundary=boundary,
            contributions=contributions,
            **common,
        )
        path = save_map(m, folder / "before_after.html", offline=offline)
        closed = closed_blind_spots(before, after)
        change = pd.DataFrame(
            {
                "figure": ["coverage_ratio", "covered_area_m2", "residential_area_m2", "closed_blind_spots_m2"],
                "before": [before.ratio, before.covered_area_m2, before.residential_area_m2, math.nan],
                "after": [after.ratio, after.covered_area_m2, after.residential_area_m2, float(closed["area_m2"].sum())],
            }
        )
        tables = _write_tables(tables_dir, "before_after", {"figures": change, "closed_blind_spots": closed}, lang)
        figures = [
            (label("coverage_ratio", lang), f"{fmt.percent_short(before.ratio)} → {fmt.percent_short(after.ratio)}"),
            (label("closed_blind_spots", lang), fmt.area_compact(closed["area_m2"].sum(), lang, missing="")),
            (label("new_parks", lang), str(0 if new_parks is None else len(new_parks))),
        ]
        published.append(
            PublishedMap("before_after", label("map_before_after", lang), path, figures, tables, m.gisrenew_layers)
        )
    elif previous.before_after is not None:  # a plain publish keeps the last recompute's map
        published.append(previous.before_after)

    if not published:
        raise InputError(
            "nothing to publish: the maps need parks and residential land (coverage) or plans. "
            f"Layers given: {', '.join(layers) or 'none'}"
        )
    index = _write_text(folder / "index.html", _index_html(site_title, date_text, published, folder, lang, offline, basemap_obj))
    summary = {
        "title": site_title,
        "date": date_text,
        "lang": lang,
        "basemap": basemap_obj.name,
        "offline": offline,
        "maps": [
            {
                "key": item.key,
                "title": item.title,
                "file": item.file.name,
                "figures": dict(item.figures),
                "tables": [p.relative_to(folder).as_posix() for p in item.tables],
                "layers": item.layers,
            }
            for item in published
        ],
    }
    files = [index, folder / "index.json"]
    for item in published:
        files.append(item.file)
        files.extend(item.tables)
    _write_text(folder / "index.json", json.dumps(summary, ensure_ascii=False, indent=2))
    _record_site(folder, files, previous)
    log.info("published %d map(s) to %s", len(published), folder)
    return files


def _in_china(layers: Mapping[str, gpd.GeoDataFrame]) -> bool:
    return frames_in_china([layers.get(k) for k in ("residential", "parks", "plans") if layers.get(k) is not None][:1])
