"""Publishing: a static site of maps, an index page and the tables behind them.

:func:`publish_site` draws the :class:`~gisrenew.indicators.Indicators` it is handed
(and the :class:`~gisrenew.results.CoverageChange` of a recompute) and writes them into
one folder::

    index.html                   the maps, their key figures and the date
    index.json                   the same figures, for scripts
    coverage.html                coverage map (straight-line service radius)
    coverage_network.html        coverage map by walking distance (when computed)
    plans.html                   renewal plans and affected parcels
    lifecircles.html             community life circles 社区生活圈 (when computed)
    before_after.html            new parks and blind spots closed (given a change)
    tables/<map>_<table>.csv     the data each map shows (UTF-8 with BOM, for Excel)
    .gisrenew-site.json          what gisrenew wrote: relative paths and SHA-256 checksums

Publishing only presents: it never opens a project, reads ``gisrenew.toml``, reads or
conforms a layer or calls an engine. The figures come from
:func:`gisrenew.indicators.compute_indicators` (and the recompute); the ``[maps]``
settings from ``indicators.inputs.config.maps``; the site name and the layers drawn for
context (parks, districts, built-up area, plans) from ``indicators.inputs``.

Every page is static: open ``index.html`` from a file share or any web server.
With ``offline=True`` each map is one self-contained file that loads nothing.

Every file is written atomically by :mod:`gisrenew.outfiles`. A later publish removes
only files its own manifest (``.gisrenew-site.json``) lists that it no longer writes and
that still have the recorded checksum — never a file someone else put or changed, never
one outside the site folder. A plain publish keeps the before/after map of the last
recompute (``before_after.html`` and its tables) and keeps listing it.

Examples
--------
>>> from gisrenew.indicators import compute_indicators  # doctest: +SKIP
>>> from gisrenew.inputs import gather_inputs
>>> indicators = compute_indicators(gather_inputs("taicang"))
>>> publish_site(indicators, "taicang/maps", offline=True)
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import math
import os
import stat
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from gisrenew import outfiles
from gisrenew.errors import InputError
from gisrenew.indicators import Indicators, PlanIndicators
from gisrenew.present import formats as fmt
from gisrenew.present import labels as words
from gisrenew.present.labels import column_headers, sheet_names
from gisrenew.results import (
    INDICATOR_NAMES,
    CoverageChange,
    CoverageResult,
    StoredChange,
    loaded_change,
)
from gisrenew.webmap.basemaps import Basemap, get_basemap
from gisrenew.webmap.drawcache import drawing_cache
from gisrenew.webmap.escape import escape_text
from gisrenew.webmap.labels import detect_lang, label, resolve_lang
from gisrenew.webmap.lifecircles import life_circle_map
from gisrenew.webmap.maps import (
    MapOptions,
    before_after_map,
    coverage_map,
    frames_in_china,
    plans_map,
    save_map,
)

__all__ = ["PAGES_A_PARK_CHANGE_DRAWS", "SITE_MANIFEST", "PublishedMap", "publish_site"]

log = logging.getLogger(__name__)

#: The site's record of the files gisrenew wrote (relative path → SHA-256).
SITE_MANIFEST = ".gisrenew-site.json"

#: The pages a change of parks changes (for ``publish_site(..., pages=...)``): the coverage
#: maps, the plans map (parks are its context) and the newest before/after map; the
#: before/after maps of earlier runs stay as they are.
PAGES_A_PARK_CHANGE_DRAWS = frozenset({"coverage", "coverage_network", "plans", "before_after"})

#: The coverage pages: method → (page key, file, title label).
_COVERAGE_PAGES = {
    "buffer": ("coverage", "coverage.html", "map_coverage"),
    "network": ("coverage_network", "coverage_network.html", "map_coverage_network"),
}


@dataclass(frozen=True)
class PublishedMap:
    """One map of the site: file, title, key figures and tables."""

    key: str
    title: str
    file: Path
    figures: list[tuple[str, str]]
    tables: list[Path]
    layers: dict[str, dict]
    run: int | None = None  # a before/after map: the run it shows
    drawing: str | None = None  # a before/after map: how it was drawn (_Site.fingerprint)


# --------------------------------------------------------------------------- the site


@dataclass(frozen=True)
class _Site:
    """How every page of one publish is drawn, and where it goes."""

    folder: Path
    layers: Mapping[str, gpd.GeoDataFrame]
    lang: str
    offline: bool
    basemap: Basemap
    data_datum: str
    options: MapOptions | None
    zone: str | None = None

    def t(self, key: str) -> str:
        return label(key, self.lang)

    def layer(self, kind: str) -> gpd.GeoDataFrame | None:
        return self.layers.get(kind)

    def drawing(self) -> dict[str, Any]:
        """The keyword arguments every map builder takes."""
        return {
            "basemap": self.basemap,
            "lang": self.lang,
            "source_datum": self.data_datum,
            "options": self.options,
        }

    def fingerprint(self) -> str:
        """What the look of a page depends on besides its data (a page drawn with the same
        fingerprint and data is the same page)."""
        drawn = (self.lang, self.offline, self.basemap, self.data_datum, self.options, self.zone)
        return hashlib.sha256(repr(drawn).encode("utf-8")).hexdigest()[:16]

    def save(self, m: folium.Map, name: str) -> Path:
        return save_map(m, self.folder / name, offline=self.offline)

    def write_tables(
        self, stem: str, tables: Mapping[str, pd.DataFrame | None], subject: str | None = None
    ) -> list[Path]:
        """``tables/<stem>_<name>.csv`` for each table (headers in the site's language)."""
        headers = column_headers(self.lang, subject)
        written = []
        for name, frame in tables.items():
            if frame is None:
                continue
            if isinstance(frame, gpd.GeoDataFrame):
                frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
            frame = frame.rename(columns=lambda c: headers.get(str(c), str(c)))
            written.append(outfiles.write_csv(self.folder / "tables" / f"{stem}_{name}.csv", frame))
        return written


def _site(indicators: Indicators, folder: Path, choices: Mapping[str, Any]) -> _Site:
    """The site's drawing settings: keyword arguments, else ``[maps]``, else defaults."""
    settings = indicators.inputs.config.maps
    layers = indicators.inputs.layers
    offline = bool(settings.offline) if choices["offline"] is None else bool(choices["offline"])
    data_datum = choices["data_datum"] or settings.data_datum or "wgs84"
    if data_datum not in ("wgs84", "gcj02"):
        raise InputError(f"`data_datum` must be 'wgs84' or 'gcj02', got {data_datum!r}")
    lang = resolve_lang(choices["lang"] or settings.language_choice)
    if lang is None:
        frames = [layers.get(k) for k in ("parks", "residential", "plans", "districts")]
        located = [layers[k] for k in ("residential", "parks", "plans") if k in layers]
        lang = detect_lang(frames, in_china=frames_in_china(located[:1]))
    basemap = choices["basemap"]
    if basemap is None:
        basemap = settings.basemap or ("none" if offline else "osm")
    basemap = get_basemap(
        basemap,
        key=choices["tianditu_key"],
        lang=lang,
        datum=choices["tiles_datum"] or settings.tiles_datum or "wgs84",
        attribution=settings.tiles_attribution,
    )
    if offline and basemap.needs_internet:  # every page says so too
        log.info(
            "self-contained site with the %s basemap: the tiles still need the internet "
            "(without it the pages draw the data alone; --basemap none or an intranet tile URL)",
            basemap.name,
        )
    options = choices["options"]
    if options is None and settings.simplify_m is not None:
        options = MapOptions(simplify_m=float(settings.simplify_m))
    zone = indicators.inputs.config.time_zone
    return _Site(folder, layers, lang, offline, basemap, data_datum, options, zone)


def _site_title(indicators: Indicators, title: str | None, lang: str) -> str:
    """`title`, else ``[maps] title``, else the project's name + the maps' title."""
    name = indicators.inputs.name
    default = f"{name} {label('index_title', lang)}" if name else label("index_title", lang)
    return title or indicators.inputs.config.maps.title or default


def _check_change(indicators: Indicators, change: CoverageChange | None) -> None:
    """A change must be the one that led to `indicators` (the site shows one state)."""
    if change is None:
        return
    if not isinstance(change, CoverageChange):
        raise TypeError(f"`change` must be a CoverageChange, got {type(change).__name__}")
    after, shown = change.after, indicators.buffer
    if shown is None or after is shown:
        return
    same = all(
        math.isclose(getattr(after, a), getattr(shown, a), rel_tol=1e-9, abs_tol=1e-6)
        for a in ("covered_area_m2", "residential_area_m2")
    )
    if not same:
        raise InputError(
            "the before/after change does not match the indicators to publish: coverage after "
            f"the change is {fmt.percent_short(after.ratio)}, the indicators' "
            f"{fmt.percent_short(shown.ratio)}. Fix: publish the indicators computed after the "
            "change (the recompute's `after`) with it."
        )


# --------------------------------------------------------------------------- pages


def _coverage_figures(result: CoverageResult, lang: str) -> list[tuple[str, str]]:
    rows = [
        (label("coverage_ratio", lang), fmt.percent_short(result.ratio, missing="")),
        (label("numerator", lang), fmt.area_compact(result.covered_area_m2, lang, missing="")),
        (
            label("denominator", lang),
            fmt.area_compact(result.residential_area_m2, lang, missing=""),
        ),
    ]
    if result.weight_column is not None and math.isfinite(result.weighted_ratio):
        rows.append((label("weighted", lang), fmt.percent_short(result.weighted_ratio, missing="")))
    if result.method == "network":  # every walking figure names its distance
        rows.append((label("walk_readings", lang), fmt.walk(result.walk(), lang)))
    return rows


def _coverage_page(site: _Site, result: CoverageResult) -> PublishedMap:
    """``coverage.html`` (or ``coverage_network.html``) and its tables."""
    key, file, title = _COVERAGE_PAGES[result.method]
    m = coverage_map(
        result,
        site.layer("parks"),
        districts=site.layer("districts"),
        boundary=site.layer("boundary"),
        **site.drawing(),
    )
    path = site.save(m, file)
    tables = {
        "districts": result.districts,
        "parks": result.parks,
        "blind_spots": result.blind_spots,
        "residential": result.residential,
    }
    written = site.write_tables(key, tables)
    figures = _coverage_figures(result, site.lang)
    return PublishedMap(key, site.t(title), path, figures, written, m.gisrenew_layers)


def _plan_figures(site: _Site, totals: Mapping[str, Any], n_plans: int) -> list[tuple[str, str]]:
    lang = site.lang
    figures = [
        (site.t("plans"), fmt.count(totals.get("plans", n_plans))),
        (site.t("area"), fmt.area_compact(totals.get("area_m2"), lang, missing="")),
    ]
    if "households_total" in totals:
        figures += [
            (site.t("households_total"), fmt.households(totals["households_total"])),
            (site.t("households_signed"), fmt.households(totals["signed"], missing="")),
            (site.t("signing_rate"), fmt.percent_short(totals["signing_rate"], missing="")),
        ]
    return figures


def _plans_page(site: _Site, plans: PlanIndicators) -> PublishedMap:
    """``plans.html``: renewal plans and the parcels they affect, with the plan tables."""
    plan_layer = site.layer("plans")
    context = {kind: site.layer(kind) for kind in ("parks", "districts", "residential")}
    m = plans_map(plans, plan_layer, boundary=site.layer("boundary"), **context, **site.drawing())
    path = site.save(m, "plans.html")
    tables = {"summary": plans.summary, "parcels": plans.pairs} if plans.summary is not None else {}
    written = site.write_tables("plans", tables, subject="plans")
    n_plans = len(plans.summary) if plans.summary is not None else len(plan_layer)
    figures = _plan_figures(site, m.gisrenew_totals, n_plans)
    return PublishedMap("plans", site.t("map_plans"), path, figures, written, m.gisrenew_layers)


def _life_circle_tables(results: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """Per method: the type table, the circle table and the district circles."""
    tables = {}
    for method, result in results.items():
        tables[f"{method}_lifecircle_types"] = result.types
        tables[f"{method}_lifecircle_circles"] = result.circles
        if len(result.district_circles):
            tables[f"{method}_lifecircle_districts"] = result.district_circles
    return tables


def _life_circle_page(site: _Site, results: Mapping[str, Any]) -> PublishedMap:
    """``lifecircles.html``: facilities, gaps per type, completeness, and their tables."""
    m = life_circle_map(
        results, districts=site.layer("districts"), boundary=site.layer("boundary"),
        **site.drawing(),
    )  # fmt: skip
    path = site.save(m, "lifecircles.html")
    written = site.write_tables("lifecircles", _life_circle_tables(results), subject="lifecircles")
    figures = []
    for method, result in results.items():
        way = site.t("lc_walk_short" if method == "network" else "lc_straight")
        for minutes in result.circles["circle_min"].astype(int):
            name = site.t("lc_complete").format(minutes=int(minutes))
            share = fmt.percent_short(result.complete_share(int(minutes)), missing="")
            figures.append((f"{name} · {way}", share))
    title = site.t("lc_map")
    return PublishedMap("lifecircles", title, path, figures, written, m.gisrenew_layers)


def _change_table(change: CoverageChange) -> pd.DataFrame:
    """The figures before and after the change, one row each."""
    before, after = change.before, change.after
    closed = float(change.closed_blind_spots["area_m2"].sum())
    return pd.DataFrame(
        {
            "figure": [
                "coverage_ratio",
                "covered_area_m2",
                "residential_area_m2",
                "closed_blind_spots_m2",
            ],
            "before": [before.ratio, before.covered_area_m2, before.residential_area_m2, math.nan],
            "after": [after.ratio, after.covered_area_m2, after.residential_area_m2, closed],
        }
    )


def _change_title(site: _Site, change: CoverageChange) -> str:
    """``新建公园前后对比地图（第 2 次重新计算，2026-12-03 10:15+08:00）``."""
    title = site.t("map_before_after")
    parts = []
    if change.run_id is not None:
        parts.append(site.t("run").format(run=change.run_id))
    if change.time_utc:
        parts.append(fmt.local_time(change.time_utc, site.lang, zone=site.zone))
    if not parts:
        return title
    if site.lang == "zh":
        return f"{title}（{'，'.join(parts)}）"
    return f"{title} ({', '.join(parts)})"


def _before_after_page(site: _Site, change: CoverageChange, stem: str) -> PublishedMap:
    """``<stem>.html``: what one change of parks did, with its tables."""
    m = before_after_map(
        change,
        parks=change.parks_before if change.parks_before is not None else site.layer("parks"),
        districts=site.layer("districts"),
        boundary=site.layer("boundary"),
        **site.drawing(),
    )
    path = site.save(m, f"{stem}.html")
    closed = change.closed_blind_spots
    tables = {"figures": _change_table(change), "closed_blind_spots": closed}
    written = site.write_tables(stem, tables)
    n_added = 0 if change.added_parks is None else len(change.added_parks)
    ratios = f"{fmt.percent_short(change.before.ratio)} → {fmt.percent_short(change.after.ratio)}"
    figures = [
        (site.t("coverage_ratio"), ratios),
        (
            site.t("closed_blind_spots"),
            fmt.area_compact(closed["area_m2"].sum(), site.lang, missing=""),
        ),
        (site.t("new_parks"), fmt.count(n_added)),
    ]
    title = _change_title(site, change)
    return PublishedMap(
        stem, title, path, figures, written, m.gisrenew_layers, change.run_id, site.fingerprint()
    )


def _newest_first(
    change: CoverageChange | None, changes: Sequence[CoverageChange | StoredChange] | None
) -> list[CoverageChange | StoredChange]:
    """The changes to draw, newest run first (`change`, of the indicators, wins its run)."""
    items = list(changes or [])
    if change is not None:
        items = [c for c in items if change.run_id is None or c.run_id != change.run_id]
        items.append(change)
    return sorted(items, key=lambda c: (c.run_id is None, c.run_id or 0), reverse=True)


def _change_pages(
    site: _Site,
    changes: list[CoverageChange | StoredChange],
    kept: Callable[[str], PublishedMap | None],
    earlier: list[PublishedMap] | None,
) -> list[PublishedMap]:
    """``before_after.html`` for the newest change, ``before_after_<run>.html`` for the others.

    `earlier`: the intact before/after maps of the earlier publish that may be renamed
    (the map of the run that was the newest is copied as ``before_after_<run>.html``
    when drawn alike), None to draw them. Copies are made before the newest map is
    drawn over ``before_after.html``.
    """
    stems = [
        "before_after" if number == 0 else f"before_after_{change.run_id}"
        for number, change in enumerate(changes)
    ]
    pages = [kept(stem) for stem in stems]
    for number, change in enumerate(changes):
        if pages[number] is None and number and earlier is not None:
            pages[number] = _renamed(site, earlier, change, stems[number])
    return [
        page or _before_after_page(site, loaded_change(change), stem)
        for page, change, stem in zip(pages, changes, stems, strict=True)
    ]


def _renamed(
    site: _Site, earlier: list[PublishedMap], change: CoverageChange, stem: str
) -> PublishedMap | None:
    """The earlier publish's map of `change` copied as `stem` (same run, drawn alike)."""
    if change.run_id is None:
        return None
    fingerprint = site.fingerprint()
    found = [p for p in earlier if p.run == change.run_id and p.drawing == fingerprint]
    if not found:
        return None
    page = found[0]
    tables = []
    for table in page.tables:
        name = f"{stem}_{table.stem[len(page.key) + 1 :]}.csv"
        tables.append(outfiles.write_bytes(site.folder / "tables" / name, table.read_bytes()))
    path = outfiles.write_bytes(site.folder / f"{stem}.html", page.file.read_bytes())
    return replace(page, key=stem, file=path, tables=tables)


def _pages(
    site: _Site,
    indicators: Indicators,
    changes: list[CoverageChange | StoredChange] | None,
    previous: _PreviousSite,
    redraw: Collection[str] | None,
) -> list[PublishedMap]:
    """Draw every page the indicators (and the changes) hold, in the site's order.

    `changes` None: a plain publish keeps the before/after maps an earlier publish wrote.
    `redraw` None: every page is drawn; else only the pages it names, and those of which
    the earlier publish left no intact copy (the others are kept as they are).
    """

    def kept(key: str) -> PublishedMap | None:
        return None if redraw is None or key in redraw else previous.page(key)

    renamed = None if redraw is None else previous.before_after

    pages = []
    for result in indicators.results().values():
        pages.append(kept(_COVERAGE_PAGES[result.method][0]) or _coverage_page(site, result))
    if indicators.plans is not None:
        pages.append(kept("plans") or _plans_page(site, indicators.plans))
    if indicators.life_circles:
        pages.append(kept("lifecircles") or _life_circle_page(site, indicators.life_circles))
    elif redraw is not None and previous.page("lifecircles") is not None:
        pages.append(previous.page("lifecircles"))  # not drawn again: kept as it was
    if changes is not None:
        pages += _change_pages(site, changes, kept, renamed)
    else:
        pages += previous.before_after
    return pages


# --------------------------------------------------------------------------- index


_INDEX_STYLE = """<style>
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", Arial, sans-serif;
  margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
.map { border: 1px solid #ddd; border-radius: 6px; padding: 0.8em 1.2em; margin: 1em 0; }
table { border-collapse: collapse; } th, td { text-align: left; padding: 2px 12px 2px 0; }
th { color: #555; font-weight: normal; } .meta { color: #666; font-size: 0.9em; }
.note { background: #fff3cd; color: #6b4e00; padding: 4px 8px; border-radius: 4px; }
</style>"""


def _index_notes(site: _Site) -> list[str]:
    """What the reader should know about the pages: self-contained or not, internet tiles."""
    e, lang = escape_text, site.lang
    pages = words.label("site.self_contained" if site.offline else "site.cdn", lang)
    notes = [f'<p class="{"meta" if site.offline else "note"}">{e(pages)}</p>']
    if site.basemap.needs_internet:
        text = words.label("site.online_basemap", lang).format(name=site.basemap.label[lang])
        notes.append(f'<p class="note">{e(text)}</p>')
    return notes


def _table_links(site: _Site, item: PublishedMap) -> str:
    """Links to a map's tables, named in the site's language (``各片区覆盖率.csv``)."""
    e = escape_text
    keys = [p.stem[len(item.key) + 1 :] for p in item.tables]
    names = sheet_names(keys, site.lang)
    return " · ".join(
        f'<a href="{e(p.relative_to(site.folder).as_posix())}">{e(names[k])}.csv</a>'
        for p, k in zip(item.tables, keys, strict=True)
    )


def _index_entry(site: _Site, item: PublishedMap) -> list[str]:
    e = escape_text
    href = e(item.file.relative_to(site.folder).as_posix())
    parts = [f'<div class="map" id="{e(item.key)}"><h3><a href="{href}">{e(item.title)}</a></h3>']
    if item.figures:
        parts.append("<table>")
        parts += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in item.figures]
        parts.append("</table>")
    if item.tables:
        parts.append(f'<p class="meta">{e(site.t("index_tables"))}: {_table_links(site, item)}</p>')
    parts.append("</div>")
    return parts


def _index_html(site: _Site, site_title: str, date: str, maps: list[PublishedMap]) -> str:
    lang, t, e = site.lang, site.t, escape_text
    names = f"{INDICATOR_NAMES['zh']} / {INDICATOR_NAMES['zh_new']}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(site_title)}</title>",
        _INDEX_STYLE,
        "</head><body>",
        f"<h1>{e(site_title)}</h1>",
        f'<p class="meta">{e(t("index_generated"))}: {e(date)} · {e(t("basemap"))}: '
        f"{e(site.basemap.label[lang])}</p>",
        *_index_notes(site),
        f'<p class="meta">{e(names if lang == "zh" else INDICATOR_NAMES["en"])}</p>',
        f"<h2>{e(t('index_maps'))}</h2>",
    ]
    for item in maps:
        parts += _index_entry(site, item)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _index_json(site: _Site, site_title: str, date: str, maps: list[PublishedMap]) -> str:
    summary = {
        "title": site_title,
        "date": date,
        "lang": site.lang,
        "basemap": site.basemap.name,
        "offline": site.offline,
        "maps": [
            {
                "key": item.key,
                "title": item.title,
                "file": item.file.name,
                "figures": dict(item.figures),
                "tables": [p.relative_to(site.folder).as_posix() for p in item.tables],
                "layers": item.layers,
                **({} if item.run is None else {"run": item.run, "drawing": item.drawing}),
            }
            for item in maps
        ],
    }
    return json.dumps(summary, ensure_ascii=False, indent=2)


def _write_index(site: _Site, site_title: str, date: str, maps: list[PublishedMap]) -> list[Path]:
    """``index.html`` and ``index.json``; return every file of the site, the index first."""
    index = outfiles.write_text(
        site.folder / "index.html", _index_html(site, site_title, date, maps)
    )
    files = [index, site.folder / "index.json"]
    for item in maps:
        files.append(item.file)
        files.extend(item.tables)
    outfiles.write_text(site.folder / "index.json", _index_json(site, site_title, date, maps))
    return files


# --------------------------------------------------------------------------- manifest


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
    pages: list[PublishedMap] = field(default_factory=list)

    @property
    def before_after(self) -> list[PublishedMap]:
        """The intact before/after maps, in the earlier index's order."""
        return [item for item in self.pages if _is_change_page(item.key)]

    def page(self, key: str) -> PublishedMap | None:
        """The intact earlier page `key`, or None."""
        return next((item for item in self.pages if item.key == key), None)


def _is_change_page(key: str) -> bool:
    return key == "before_after" or key.startswith("before_after_")


def _previous_site(folder: Path) -> _PreviousSite:
    """Read the manifest of an earlier publish and the pages of it that are intact."""
    manifest = _site_file(folder, SITE_MANIFEST)
    if manifest is None:
        return _PreviousSite()
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        files = {str(name): str(digest) for name, digest in data["files"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        log.warning("%s cannot be read; no file of an earlier publish will be removed", manifest)
        return _PreviousSite()
    return _PreviousSite(files, _kept_pages(folder, files))


def _kept_pages(folder: Path, files: dict[str, str]) -> list[PublishedMap]:
    """The entries of gisrenew's own index.json whose files are all intact."""
    index = _intact(folder, "index.json", files.get("index.json"))
    if index is None:
        return []
    try:
        maps = json.loads(index.read_text(encoding="utf-8"))["maps"]
    except (OSError, ValueError, TypeError, KeyError):
        return []
    kept = []
    for entry in maps if isinstance(maps, list) else []:
        item = _kept_entry(folder, files, entry)
        if item is not None:
            kept.append(item)
    return kept


def _kept_entry(folder: Path, files: dict[str, str], entry: Any) -> PublishedMap | None:
    """One entry of an earlier index, when every file of it is intact."""
    try:
        key = str(entry.get("key", ""))
        if not key:
            return None
        names = [str(entry["file"]), *(str(t) for t in entry.get("tables", []))]
        figures = [(str(k), str(v)) for k, v in dict(entry.get("figures", {})).items()]
        run, drawing = entry.get("run"), entry.get("drawing")
        item = PublishedMap(
            key, str(entry["title"]), folder / names[0], figures,
            [folder / name for name in names[1:]], dict(entry.get("layers", {})),
            int(run) if isinstance(run, int) else None,
            str(drawing) if isinstance(drawing, str) else None,
        )  # fmt: skip
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
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
    outfiles.write_text(folder / SITE_MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))


def publish_site(
    indicators: Indicators,
    out_dir: str | os.PathLike,
    *,
    change: CoverageChange | None = None,
    changes: Sequence[CoverageChange | StoredChange] | None = None,
    basemap: str | Basemap | None = None,
    tianditu_key: str | None = None,
    tiles_datum: str | None = None,
    offline: bool | None = None,
    lang: str | None = None,
    data_datum: str | None = None,
    title: str | None = None,
    date: str | _dt.date | None = None,
    options: MapOptions | None = None,
    pages: Collection[str] | None = None,
    cache: str | os.PathLike | None = None,
) -> list[Path]:
    """Write the static map site of computed indicators (see module docs).

    Parameters
    ----------
    indicators : Indicators
        From :func:`gisrenew.indicators.compute_indicators`: each coverage result gets a
        map, the plans (``indicators.plans``) the plans map, the life circles
        (``indicators.life_circles``) ``lifecircles.html``. The ``[maps]`` settings, the
        site name and the context layers come from ``indicators.inputs``.
    out_dir : path
        Site folder (``gisrenew publish`` uses ``maps/`` in the project folder).
    change : CoverageChange, optional
        A change of parks (from the recompute) whose result after is
        ``indicators.buffer``: its before/after map is ``before_after.html``.
    changes : sequence of CoverageChange or StoredChange, optional
        Every change to show, e.g. the project's run history
        (:func:`gisrenew.recompute.read_changes`, as ``gisrenew publish`` and
        ``gisrenew recompute`` pass it, lazily: a stored change is read only when its page
        is drawn): the newest as ``before_after.html``, the others as
        ``before_after_<run>.html``, listed newest first. Without `change` and
        `changes`, the before/after maps of an earlier publish in `out_dir` are kept.
    basemap : {"osm", "gaode", "tianditu", "none"} or tile URL or Basemap, optional
        Default: ``[maps] basemap``, else ``none`` for self-contained sites and ``osm``
        otherwise. An internet basemap is said on every page.
    tianditu_key : str, optional
        Tianditu key; default the ``TIANDITU_KEY`` environment variable.
    tiles_datum : {"wgs84", "gcj02"}, optional
        Datum of a custom tile URL (default ``[maps] tiles_datum`` or wgs84).
    offline : bool, optional
        Self-contained pages that open with no network (default ``[maps] offline``,
        true unless set to false); False links Leaflet from a CDN.
    lang : {"zh", "en"}, optional
        Labels; default ``[maps] lang``, else Chinese for Chinese data.
    data_datum : {"wgs84", "gcj02"}, optional
        Declare ``gcj02`` for data digitised on Gaode maps (default ``[maps] data_datum``).
    title : str, optional
        Site title (default ``[maps] title``, else the project name +
        "公园绿地服务半径覆盖率与城市更新地图").
    date : str or date, optional
        Date printed on the index (default today, in ``[project] time_zone``).
    options : MapOptions, optional
        Drawing/size options of every map (default: ``[maps] simplify_m``).
    pages : collection of str, optional
        Draw only these pages again (keys: ``coverage``, ``coverage_network``, ``plans``,
        ``lifecircles``, ``before_after``, ``before_after_<run>``), e.g.
        :data:`PAGES_A_PARK_CHANGE_DRAWS` after a recompute; every other page of the site
        is kept as the earlier publish in `out_dir` wrote it (listed again in the index),
        or drawn when that publish left no intact copy of it. Default: every page is drawn.
    cache : path, optional
        Folder keeping the drawn geometry of large layers between publishes
        (:func:`gisrenew.webmap.drawcache.map_cache_folder` of the project: never inside
        the site), so a publish after a park change draws the parcels' geometry from it
        (:mod:`gisrenew.webmap.drawcache`). Default: none (drawn each time). The pages
        are the same either way.

    Returns
    -------
    list of Path
        Files of the site: ``index.html`` first, then ``index.json``, the maps and the
        tables (with a before/after map kept from an earlier publish).

    Raises
    ------
    InputError
        When there is nothing to publish, or `change` does not lead to `indicators`.
    OutputError
        When the site folder (or its ``tables/``) is a file or a link leading elsewhere,
        or a file cannot be written (e.g. a full disk).
    """
    folder = Path(out_dir)
    outfiles.check_folder(folder)
    previous = _previous_site(folder)
    _check_change(indicators, change)
    choices = {
        "basemap": basemap, "tianditu_key": tianditu_key, "tiles_datum": tiles_datum,
        "offline": offline, "lang": lang, "data_datum": data_datum, "options": options,
    }  # fmt: skip
    site = _site(indicators, folder, choices)
    site_title = _site_title(indicators, title, site.lang)
    today = _dt.datetime.now(fmt.time_zone(site.lang, site.zone)).date()
    date_text = date if isinstance(date, str) else (date or today).isoformat()
    shown = None if change is None and changes is None else _newest_first(change, changes)
    drawn = (indicators.plans, shown or None, previous.before_after or None,
             indicators.life_circles or None)  # fmt: skip
    if not indicators.results() and all(item is None for item in drawn):
        raise InputError(
            "nothing to publish: the maps need coverage (parks and residential land) or plans. "
            f"Layers given: {', '.join(indicators.inputs.layers) or 'none'}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    redraw = None if pages is None else frozenset(pages)
    with drawing_cache(cache):  # drawn geometries: shared by this site's pages, kept in `cache`
        drawn_pages = _pages(site, indicators, shown, previous, redraw)
    files = _write_index(site, site_title, date_text, drawn_pages)
    _record_site(folder, files, previous)
    log.info("published %d map(s) to %s", len(drawn_pages), folder)
    return files
