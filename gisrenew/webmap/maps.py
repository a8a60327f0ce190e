"""Web maps of coverage, blind spots, renewal plans and before/after comparisons.

Each builder takes gisrenew's results — a :class:`~gisrenew.results.CoverageResult`,
the :class:`~gisrenew.indicators.PlanIndicators`, a :class:`~gisrenew.results.CoverageChange`
— and layers for context (GeoDataFrames in the metric working CRS), and returns a
:class:`folium.Map`; :func:`save_map` writes it, as a normal page or as one
self-contained offline HTML file. The maps only draw: every figure they show was
computed by the engines (through :func:`gisrenew.indicators.compute_indicators` or the
recompute) before they are called.

What every map does:

* geometry is simplified (≈ 1 m by default) in the metric CRS, reprojected to
  longitude/latitude, shifted to GCJ-02 for Gaode tiles (and not shifted again
  when the data is declared GCJ-02 already), and rounded to 1e-6° (≈ 0.1 m);
* every text (attribute values, layer names, legend and title) goes through
  :func:`gisrenew.webmap.escape.escape_text`; popups and tooltips are assembled
  from those escaped values by a small fixed script (:mod:`~gisrenew.webmap.elements`);
* large layers are drawn on a canvas and start hidden (tick them in the layer
  control); legends are plain HTML (no d3, no branca colormap);
* labels are Chinese or English (``lang``), Chinese by default for Chinese data;
* one renderer per page, so a click reaches what is drawn on top (residential land
  answers inside a service area; a service area names its park);
* the view frames the data in the part the title box and legend leave free;
* the page loads only Leaflet, inlined (self-contained) unless asked otherwise; an
  internet basemap is said in the title box, and the data draw without its tiles.
"""

from __future__ import annotations

import logging

import folium
import geopandas as gpd
import numpy as np
import shapely

from gisrenew.indicators import PlanIndicators
from gisrenew.present import formats as fmt
from gisrenew.results import INDICATOR_NAMES, CoverageChange, CoverageResult
from gisrenew.webmap.basemaps import Basemap
from gisrenew.webmap.labels import label
from gisrenew.webmap.layers import (
    BLIND_COLOUR,
    affected_parcel_layer,
    blind_spot_layer,
    boundary_layer,
    context_layer,
    district_layer,
    park_layers,
    residential_layer,
    service_area_layer,
)
from gisrenew.webmap.layers import plan_layer as draw_plan_layer
from gisrenew.webmap.page import (
    MapOptions,
    feature_collection,
    finish,
    frames_in_china,
    make_context,
    map_html,
    new_map,
    numbers,
    save_map,
    title_html,
)

__all__ = [
    "MapOptions",
    "before_after_map",
    "coverage_map",
    "feature_collection",
    "frames_in_china",
    "map_html",
    "plans_map",
    "save_map",
]

log = logging.getLogger(__name__)

_CLOSED_COLOUR = "#1a9850"
_NEW_PARK_COLOUR = "#f16913"
_NEW_AREA_COLOURS = ["#f16913", "#fd8d3c", "#fdae6b"]


# ---------------------------------------------------------------- coverage map


def _figure_rows(result: CoverageResult, lang: str) -> list[tuple[str, str]]:
    rows = [
        (label("numerator", lang), fmt.area_compact(result.covered_area_m2, lang, missing="")),
        (
            label("denominator", lang),
            fmt.area_compact(result.residential_area_m2, lang, missing=""),
        ),
    ]
    if result.weight_column is not None and np.isfinite(result.weighted_ratio):
        rows.append((label("weighted", lang), fmt.percent_short(result.weighted_ratio, missing="")))
    return rows


def _method_note(result: CoverageResult, lang: str) -> list[str]:
    """How the figure was measured (the walk named with its distance) and the rule set."""
    if result.method == "network":
        colon = "：" if lang == "zh" else ": "
        notes = [f"{label('method_network', lang)}{colon}{fmt.walk(result.walk(), lang)}"]
    else:
        notes = [label("method_buffer", lang)]
    rules = getattr(result, "rules", None)
    if rules is not None:
        notes.append(f"{label('rules', lang)}: {fmt.rules(rules, lang)}")
    return notes


def _sliver_note(result: CoverageResult, lang: str) -> list[str]:
    """The blind spots too small to draw (slivers), counted: ``另有 9 处小于 10 m² 的碎片``."""
    count, area = result.slivers()
    if not count:
        return []
    threshold = (result.parameters or {}).get("sliver_m2")
    return [
        label("slivers", lang).format(
            n=fmt.count(count),
            threshold=fmt.area(threshold, "m2", lang=lang),
            area=fmt.area(area, "m2", lang=lang),
        )
    ]


def coverage_map(
    result: CoverageResult,
    parks: gpd.GeoDataFrame | None = None,
    *,
    districts: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    basemap: str | Basemap | None = "none",
    lang: str | None = None,
    source_datum: str = "wgs84",
    title: str | None = None,
    options: MapOptions | None = None,
) -> folium.Map:
    """Map of park service-radius coverage (公园绿地服务半径覆盖率).

    Layers (bottom to top): district choropleth with legend, built-up area
    outline, each park's service area (its popup names the park), residential land
    coloured by covered share, blind spots (uncovered residential land; slivers below
    the result's threshold are counted in the title box, not drawn), parks by class
    (pocket parks outlined and marked with points; parks that do not count dashed).
    A click answers with what is drawn on top. A title box shows the ratio with its
    numerator and denominator, and names the walk's distance for a walking result.

    Parameters
    ----------
    result : CoverageResult
        From :func:`gisrenew.coverage.compute_coverage` or
        :func:`gisrenew.network.network_coverage`.
    parks : GeoDataFrame, optional
        The park polygons (``park_id``, ``name``, ``park_class``, ``is_pocket_park``);
        joined to ``result.parks`` on ``park_id``. Without it no park layer is drawn.
    districts : GeoDataFrame, optional
        District polygons; coloured by ``result.districts.coverage_ratio``.
    boundary : GeoDataFrame, optional
        Built-up area (建成区) outline.
    basemap : {"none", "osm", "gaode", "tianditu"} or Basemap or tile URL
        See :func:`gisrenew.webmap.basemaps.get_basemap`; default none (the page needs
        no network). An internet basemap is said on the page.
    lang : {"zh", "en"}, optional
        Label language; default Chinese for Chinese data (CJK names or data in China).
    source_datum : {"wgs84", "gcj02"}
        Datum of the data once in longitude/latitude: declare ``"gcj02"`` for data
        digitised on Gaode maps, so it is not shifted twice.
    title : str, optional
        Heading of the title box.
    options : MapOptions, optional
        Simplification, precision, canvas and hiding thresholds.

    Returns
    -------
    folium.Map
        With ``gisrenew_layers`` (key → name, feature count, shown, canvas); shown in
        Jupyter as a self-contained page.
    """
    frames = [parks, districts, result.residential]
    ctx = make_context(basemap, lang, source_datum, options, frames)
    t = ctx.t
    network = result.method == "network"
    heading = title or t("coverage_title_network" if network else "coverage_title")
    m = new_map(ctx, heading)
    district_layer(m, ctx, districts, result.districts)
    boundary_layer(m, ctx, boundary)
    service_area_layer(
        m, ctx, result.service_areas, key="service_areas",
        name=t("walk_service_areas" if network else "service_areas"), rules=result.rules,
        parks=result.parks if "name" in result.parks.columns else parks,
    )  # fmt: skip
    residential_layer(m, ctx, result.residential, districts=result.districts, parks=result.parks)
    blind_spot_layer(
        m, ctx, result.listed_blind_spots(), key="blind_spots", name=t("blind_spots"),
        residential=result.residential, districts=result.districts,
    )  # fmt: skip
    if parks is not None:
        park_layers(m, ctx, parks, result.parks, key="parks", name=t("parks"))
    notes = _method_note(result, ctx.lang) + _sliver_note(result, ctx.lang)
    if ctx.lang == "zh" and title is None:
        notes.insert(0, f"（{INDICATOR_NAMES['zh_new']}）")
    big = fmt.percent_short(result.ratio, missing="")
    return finish(m, ctx, title_html(heading, big, _figure_rows(result, ctx.lang), notes))


# ---------------------------------------------------------------- plans map


def _plan_rows(
    plans: PlanIndicators, plan_layer_frame: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame, dict]:
    """The rows the plans layer draws and the totals of the title box.

    With parcels: the plan table and its totals, as computed. Without: the plans
    themselves (their count and area; the other figures need parcels).
    """
    if plans.summary is not None:
        return plans.summary, dict(plans.totals or {})
    if plan_layer_frame is None:
        raise ValueError("`plan_layer` is needed to draw plans without parcels (no plan table)")
    rows = plan_layer_frame.rename(columns={"status": "plan_status"})
    return rows, {"plans": len(rows), "area_m2": float(rows.geometry.area.sum())}


def _plan_total_rows(ctx, totals: dict, n_plans: int) -> list[tuple[str, str]]:
    """The title box: plans, area and (with parcels) households by kind and signing."""
    t = ctx.t
    rows = [
        (t("plans"), fmt.count(totals.get("plans", n_plans))),
        (t("area"), fmt.area_compact(totals.get("area_m2"), ctx.lang, missing="")),
    ]
    if "households_total" in totals:
        rows += [
            (t("parcel_count"), fmt.count(totals["parcel_count"])),
            (t("households_residential"), fmt.households(totals["households_residential"])),
            (t("households_nonresidential"), fmt.households(totals["households_nonresidential"])),
            (t("households_shops"), fmt.households(totals["households_shops"])),
            (t("households_total"), fmt.households(totals["households_total"])),
            (t("households_signed"), fmt.households(totals["signed"], missing="")),
            (t("signing_rate"), fmt.percent_short(totals["signing_rate"], missing="")),
        ]
    return rows


#: Context layers of the plans map: key, label key, style (muted, never taking a click).
_PLAN_CONTEXT = (
    ("context_districts", "districts_context",
     {"color": "#737373", "weight": 1.5, "fill": False, "dashArray": "6 4"}),
    ("context_residential", "residential_context",
     {"color": "#bdbdbd", "weight": 0.5, "fillColor": "#fdd0a2", "fillOpacity": 0.35}),
    ("context_parks", "parks",
     {"color": "#41ab5d", "weight": 0.8, "fillColor": "#a1d99b", "fillOpacity": 0.6}),
)  # fmt: skip


def plans_map(
    plans: PlanIndicators,
    plan_layer: gpd.GeoDataFrame | None = None,
    *,
    boundary: gpd.GeoDataFrame | None = None,
    parks: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    residential: gpd.GeoDataFrame | None = None,
    basemap: str | Basemap | None = "none",
    lang: str | None = None,
    source_datum: str = "wgs84",
    title: str | None = None,
    options: MapOptions | None = None,
) -> folium.Map:
    """Map of renewal plans (更新地块) and the parcels they affect, by signing progress.

    Draws what the plan indicators hold (:func:`gisrenew.indicators.compute_indicators`):
    plans outlined, with popups holding their row of the plan table (area in m²/亩,
    parcel count, households by kind, signed, signing rate and status); the affected
    parcels coloured by signing status (all signed / signing / none signed / no
    households / unknown), with households by kind in their popups; the totals (each
    parcel counted once) in the title box. Districts, residential land and parks are
    drawn below for context when given. The view frames the plans beside the title
    box. Nothing is computed here.

    Parameters
    ----------
    plans : PlanIndicators
        The plan indicators (``indicators.plans``).
    plan_layer : GeoDataFrame, optional
        The plans layer (``plan_id``, ``name``, ``plan_type``, ``status``, ...): drawn
        when the run had no parcels (then `plans` holds no plan table and only the
        plans are drawn).
    parks, districts, residential : GeoDataFrame, optional
        Context layers (drawn muted, below the plans; they never take a click).
    boundary, basemap, lang, source_datum, title, options
        As for :func:`coverage_map`.

    Returns
    -------
    folium.Map
        With ``gisrenew_layers`` and ``gisrenew_totals`` (the totals of the title box).
    """
    rows, totals = _plan_rows(plans, plan_layer)
    frames = [rows, plans.affected_parcels, parks, districts]
    ctx = make_context(basemap, lang, source_datum, options, frames)
    heading = title or ctx.t("plans_title")
    m = new_map(ctx, heading)
    context = {"context_districts": districts, "context_residential": residential,
               "context_parks": parks}  # fmt: skip
    for key, name, style in _PLAN_CONTEXT:
        context_layer(m, ctx, context[key], key=key, name=ctx.t(name), style=style)
    boundary_layer(m, ctx, boundary, fit=False)  # the view fits the plans
    draw_plan_layer(m, ctx, rows)
    affected_parcel_layer(m, ctx, plans, rows)
    m.gisrenew_totals = totals
    box = title_html(heading, "", _plan_total_rows(ctx, totals, len(rows)), [])
    return finish(m, ctx, box)


# ---------------------------------------------------------------- before / after


def _changed_area(change: CoverageChange, new_ids: set[str]) -> np.ndarray | None:
    """``[west, south, east, north]`` around what the change touched, or None (nothing).

    The service areas of the parks it added and removed, the new parks and the blind
    spots it closed or opened, widened by the largest service radius: a park or blind
    spot farther away has nothing to do with the change.
    """
    before, after = change.before.service_areas, change.after.service_areas
    touched = [change.added_parks, change.closed_blind_spots, change.opened_blind_spots]
    removed = set(change.removed_park_ids)
    for areas, ids in ((after, new_ids), (before, removed)):
        if areas is not None and len(areas) and "park_id" in areas.columns and ids:
            touched.append(areas[areas["park_id"].astype(str).isin(ids).to_numpy()])
    boxes = [
        shapely.total_bounds(np.asarray(frame.geometry.array, dtype=object))
        for frame in touched
        if frame is not None and len(frame)
    ]
    boxes = [b for b in boxes if np.isfinite(b).all()]
    if not boxes:
        return None
    b = np.vstack(boxes)
    radius = max(
        (float(np.nanmax(numbers(a, "radius_m"), initial=0.0)) for a in (before, after)
         if a is not None and len(a)),
        default=0.0,
    )  # fmt: skip
    return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()]) + np.array(
        [-radius, -radius, radius, radius]
    )


def _around(frame: gpd.GeoDataFrame | None, area: np.ndarray | None):
    """The rows of `frame` whose bounding box meets `area` (all of them without an area)."""
    if frame is None or area is None or not len(frame):
        return frame
    b = shapely.bounds(np.asarray(frame.geometry.array, dtype=object))
    west, south, east, north = area
    meets = (b[:, 0] <= east) & (b[:, 2] >= west) & (b[:, 1] <= north) & (b[:, 3] >= south)
    return frame[meets]


def _change_service_areas(
    m, ctx, change: CoverageChange, new_ids: set[str], area: np.ndarray | None
) -> None:
    """Service areas before the change (around it), and those of the parks it added."""
    areas = change.after.service_areas
    if areas is None or len(areas) == 0:
        return
    t = ctx.t
    service_area_layer(
        m, ctx, _around(change.before.service_areas, area), key="service_areas_before",
        name=t("service_areas_before"), rules=change.before.rules, parks=change.before.parks,
    )  # fmt: skip
    is_new = areas["park_id"].astype(str).isin(new_ids).to_numpy()
    service_area_layer(
        m, ctx, areas[is_new], key="service_areas_new", name=t("new_service_areas"),
        rules=change.after.rules, parks=change.after.parks, colours=_NEW_AREA_COLOURS,
    )  # fmt: skip


def _change_blind_spots(m, ctx, change: CoverageChange, area: np.ndarray | None) -> None:
    """Blind spots the change closed (green) and those that remain around it (red, slivers
    left out)."""
    after = change.after
    t = ctx.t
    blind_spot_layer(
        m, ctx, change.closed_blind_spots, key="closed_blind_spots", name=t("closed_blind_spots"),
        colour=_CLOSED_COLOUR, residential=after.residential, districts=after.districts,
    )  # fmt: skip
    blind_spot_layer(
        m, ctx, _around(after.listed_blind_spots(), area), key="blind_spots",
        name=t("remaining_blind_spots"),
        colour=BLIND_COLOUR, residential=after.residential, districts=after.districts,
    )  # fmt: skip


def _change_rows(ctx, change: CoverageChange, n_added: int) -> list[tuple[str, str]]:
    """The title box of a change: ratio change, numerators, denominator, closed land."""
    t, lang = ctx.t, ctx.lang
    before, after, closed = change.before, change.after, change.closed_blind_spots

    def area(value) -> str:
        return fmt.area_compact(value, lang, missing="")

    return [
        (f"{t('coverage_ratio')} {t('change')}", fmt.points(after.ratio - before.ratio, lang)),
        (f"{t('numerator')} ({t('before')})", area(before.covered_area_m2)),
        (f"{t('numerator')} ({t('after')})", area(after.covered_area_m2)),
        (t("denominator"), area(after.residential_area_m2)),
        (t("closed_blind_spots"), area(closed["area_m2"].sum())),
        (
            f"{t('closed_blind_spots')} · {t('households')}",
            fmt.households(closed["households"].sum(), lang, with_unit=True),
        ),
        (t("new_parks"), fmt.count(n_added)),
    ]


def _change_notes(change: CoverageChange, lang: str) -> list[str]:
    notes = []
    if change.run_id is not None:
        notes.append(label("run", lang).format(run=change.run_id))
    return notes + _method_note(change.after, lang) + _sliver_note(change.after, lang)


def _other_parks(parks: gpd.GeoDataFrame, new_ids: set[str]) -> gpd.GeoDataFrame:
    if "park_id" not in parks.columns:
        return parks
    return parks[~parks["park_id"].astype(str).isin(new_ids)]


def before_after_map(
    change: CoverageChange,
    *,
    parks: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    basemap: str | Basemap | None = "none",
    lang: str | None = None,
    source_datum: str = "wgs84",
    title: str | None = None,
    options: MapOptions | None = None,
) -> folium.Map:
    """Map of a change of parks: new parks, blind spots closed, blind spots left.

    Draws the :class:`~gisrenew.results.CoverageChange` it is handed (built by the
    recompute, or read back from the project's run history): service areas of the
    parks before and of the new parks, residential land newly covered
    (``change.closed_blind_spots``, green), blind spots that remain (red), the new parks
    (``change.added_parks``) with their own gain (``change.park_gains``) and the other
    parks. The map shows the changed area: the service areas before and the blind
    spots that remain are drawn where they meet the box around what changed (added and
    removed parks' service areas, closed and opened blind spots), widened by the
    largest service radius — a city of 100 000 parcels draws the few hundred blind
    spots around a new pocket park (the parks are all drawn, for context). The title
    box compares the ratio, numerator and denominator before and after (of the whole
    city) and names the run. Nothing is computed here.

    Parameters
    ----------
    change : CoverageChange
        The change and the straight-line coverage before and after it.
    parks : GeoDataFrame, optional
        The parks layer (before or after the change); the added parks are drawn as
        new parks, the others as existing parks. Default: ``change.parks_before``.
    districts, boundary, basemap, lang, source_datum, title, options
        As for :func:`coverage_map`.
    """
    added = change.added_parks
    if added is None:
        added = gpd.GeoDataFrame({"park_id": []}, geometry=[], crs=change.after.residential.crs)
    parks = change.parks_before if parks is None else parks
    ctx = make_context(basemap, lang, source_datum, options, [added, parks, districts])
    t = ctx.t
    heading = title or t("before_after_title")
    m = new_map(ctx, heading)
    district_layer(m, ctx, districts, change.after.districts)
    boundary_layer(m, ctx, boundary)
    new_ids = set(added["park_id"].astype(str)) if "park_id" in added.columns else set()
    area = _changed_area(change, new_ids)
    _change_service_areas(m, ctx, change, new_ids, area)
    _change_blind_spots(m, ctx, change, area)
    if parks is not None:
        others = _other_parks(parks, new_ids)
        park_layers(m, ctx, others, change.before.parks, key="parks", name=t("parks"))
    if len(added):
        park_layers(
            m, ctx, added, change.after.parks, key="new_parks", name=t("new_parks"),
            colour=_NEW_PARK_COLOUR, gains=change.park_gains,
        )  # fmt: skip
    ratio = f"{fmt.percent_short(change.before.ratio)} → {fmt.percent_short(change.after.ratio)}"
    rows = _change_rows(ctx, change, len(added))
    return finish(m, ctx, title_html(heading, ratio, rows, _change_notes(change, ctx.lang)))
