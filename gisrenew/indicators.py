"""Every indicator of a project, computed in one place: the orchestrator.

:func:`compute_indicators` takes the :class:`~gisrenew.inputs.ProjectInputs` of a run
and calls the engines — straight-line coverage (:mod:`gisrenew.coverage`), the walk
along streets (:mod:`gisrenew.network`), renewal plans (:mod:`gisrenew.plans`) — with
the run's one rule set, weight, residential codes and validated settings. It returns
an :class:`Indicators` object that the presenters (text tables, Excel, web maps,
reports) draw without computing anything themselves. The CLI's ``coverage``,
``affected``, ``demo``, ``recompute`` and ``publish`` and the notebooks all get their
figures here; :func:`rank_sites` does the same for the siting engine.

Adding an indicator
-------------------
1. Write the engine below this module (a function of layers and options, returning a
   result object; it never reads files or settings).
2. If it has settings, add a dataclass to :mod:`gisrenew.settings` (its table is then
   validated for every command) and read it from ``inputs.config``.
3. Add a field to :class:`Indicators` and a step ``_<name>(inputs, ...)`` called by
   :func:`compute_indicators` when its layers are present (or asked for).
4. Present it: a text table in :mod:`gisrenew.present`, a map in :mod:`gisrenew.webmap`,
   a key in :meth:`Indicators.to_dict`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew import coverage, greenspace, lifecircles, siting
from gisrenew import plans as plan_engine
from gisrenew.geometry import geometry_array
from gisrenew.inputs import MissingLayerError, ProjectInputs
from gisrenew.results import CoverageResult
from gisrenew.settings import DEFAULT_WALK_SPEED_KMH

__all__ = [
    "METHODS",
    "GreenSpaceIndicators",
    "Indicators",
    "PlanIndicators",
    "available_methods",
    "compute_indicators",
    "rank_facility_sites",
    "rank_sites",
    "updated_indicators",
    "walk_after_change",
]

log = logging.getLogger(__name__)

#: Coverage methods: straight-line radius from the park boundary, walk along streets.
METHODS = ("buffer", "network")


@dataclass(frozen=True)
class PlanIndicators:
    """Renewal plans and the parcels they touch (更新地块).

    Attributes
    ----------
    pairs : GeoDataFrame or None
        One row per (plan, affected parcel) (:func:`gisrenew.plans.affected_parcels`);
        None (like `summary` and `totals`) when the run has no parcels.
    summary : GeoDataFrame or None
        One row per plan: 亩, households by kind, signing (:func:`~gisrenew.plans.plan_summary`).
    totals : dict or None
        Every affected parcel counted once (:func:`~gisrenew.plans.plan_totals`).
    effects : DataFrame or None
        Residential land green plans newly bring into service (None without parks and
        residential land, or without green plans).
    household_rule : str
        How a partly affected parcel's households count.
    households : dict or None
        Parcels columns of the household kinds, when not the schema's.
    affected_parcels : GeoDataFrame or None
        Every affected parcel once, whole (:func:`~gisrenew.plans.affected_parcel_layer`),
        with its households and signing status 签约进度 (``households_total``,
        ``households_signed``, ``households_unsigned``, ``signing_rate``,
        ``signing_status``, ``signing_status_zh`` of :func:`~gisrenew.plans.signing_status`,
        the engine's one signing rule); None without parcels.
    old_communities : dict or None
        Old-community renovation 老旧小区改造 figures of the plans of type
        ``old_community`` (:func:`gisrenew.greenspace.old_community_figures`); empty
        without such plans.
    """

    pairs: gpd.GeoDataFrame | None
    summary: gpd.GeoDataFrame | None
    totals: dict[str, Any] | None
    effects: pd.DataFrame | None
    household_rule: str = "whole"
    households: dict[str, str] | None = None
    affected_parcels: gpd.GeoDataFrame | None = None
    old_communities: dict[str, Any] | None = None

    @property
    def household_columns(self) -> dict[str, str]:
        """Role → parcels column of each household kind (居民户/非居户/商铺/已签约)."""
        return {**plan_engine.DEFAULT_HOUSEHOLD_COLUMNS, **(self.households or {})}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plan tables (see :func:`gisrenew.plans.plans_to_dict`)."""
        return plan_engine.plans_to_dict(self.summary, self.pairs, self.totals, self.effects)


@dataclass(frozen=True)
class GreenSpaceIndicators:
    """Green-space figures besides coverage (:mod:`gisrenew.greenspace`).

    Attributes
    ----------
    per_capita : PerCapitaGreenSpace
        人均公园绿地面积, comprehensive and community parks per person, city and districts.
    greenway : GreenwayCoverage or None
        城市绿道服务半径覆盖率 (None without a greenways layer).
    """

    per_capita: greenspace.PerCapitaGreenSpace
    greenway: greenspace.GreenwayCoverage | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (city values; districts as records)."""
        data: dict[str, Any] = {
            "per_capita": {k: dataclasses.asdict(v) for k, v in self.per_capita.figures.items()},
            "population": self.per_capita.population,
            "population_source": self.per_capita.population_source,
        }
        if self.greenway is not None:
            data["greenway"] = {
                "coverage_ratio": self.greenway.ratio,
                "covered_area_m2": self.greenway.covered_area_m2,
                "residential_area_m2": self.greenway.residential_area_m2,
                "radius_m": self.greenway.radius_m,
            }
        return data


@dataclass(frozen=True)
class Indicators:
    """Every indicator computed for one state of a project.

    Attributes
    ----------
    inputs : ProjectInputs
        The layers and settings they were computed from.
    buffer, network : CoverageResult or None
        Coverage by straight-line radius and by walking along streets.
    plans : PlanIndicators or None
        Renewal plans, when the run has plans and parcels.
    contributions : DataFrame or None
        Each park's unique coverage (asked for with ``contributions=True``).
    life_circles : dict of str to LifeCircleResult, or None
        The community life circles 社区生活圈 by method (``buffer``, ``network``), when
        asked for (``compute_indicators(..., life_circles=True)``).
    greenspace : GreenSpaceIndicators or None
        Per-capita park green space and greenway coverage, computed with the coverage
        (``compute_indicators(..., greenspace=False)`` skips them).
    """

    inputs: ProjectInputs
    buffer: CoverageResult | None = None
    network: CoverageResult | None = None
    plans: PlanIndicators | None = None
    contributions: pd.DataFrame | None = None
    life_circles: dict[str, lifecircles.LifeCircleResult] | None = None
    greenspace: GreenSpaceIndicators | None = None

    @property
    def coverage(self) -> CoverageResult | None:
        """The headline coverage result: straight line when computed, else the walk."""
        return self.buffer if self.buffer is not None else self.network

    def results(self) -> dict[str, CoverageResult]:
        """The coverage results computed, by method."""
        found = {"buffer": self.buffer, "network": self.network}
        return {k: v for k, v in found.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures: one coverage result as is, both side by side, plans."""
        results = self.results()
        if len(results) == 2:
            data = coverage.comparison_dict(self.buffer, self.network)
        elif results:
            data = next(iter(results.values())).to_dict()
        else:
            data = {}
        if self.contributions is not None:
            data["park_contribution"] = self.contributions.to_dict(orient="records")
        if self.plans is not None:
            data["plans"] = self.plans.to_dict()
        if self.life_circles:
            data["life_circles"] = {m: r.to_dict() for m, r in self.life_circles.items()}
        if self.greenspace is not None:
            data["greenspace"] = self.greenspace.to_dict()
        return data


def available_methods(inputs: ProjectInputs) -> tuple[str, ...]:
    """The coverage methods the inputs allow (network needs a roads layer)."""
    if not inputs.has("parks", "residential"):
        return ()
    return METHODS if inputs.has("roads") else ("buffer",)


def compute_indicators(
    inputs: ProjectInputs,
    *,
    methods: Iterable[str] | None = None,
    plans: bool | None = None,
    contributions: bool = False,
    network_service_areas: str = "park",
    progress: bool = False,
    life_circles: bool = False,
    greenspace: bool | None = None,
) -> Indicators:
    """Compute the indicators of a run (the one place that assembles them).

    Parameters
    ----------
    inputs : ProjectInputs
        From :func:`gisrenew.inputs.gather_inputs`.
    methods : iterable of {"buffer", "network"}, optional
        Coverage methods; default every method the layers allow.
    plans : bool, optional
        Plans: True requires plans and parcels; False skips them; None (default)
        computes what the layers allow — the plan tables with parcels, the coverage
        effects of green plans with parks and residential land.
    contributions : bool
        Each park's unique coverage (straight-line method).
    network_service_areas : {"park", "nearest", "merged", "none"}
        Walking service-area polygons (maps need them; ``none`` is fastest).
    progress : bool
        Progress bars on long steps.
    life_circles : bool
        Community life circles 社区生活圈: True computes them (and requires facilities
        and residential land); False (default) skips them, so a run pays for them only
        when it shows them (``gisrenew lifecircles``, ``demo``). Methods:
        ``[life_circles] method``, else the coverage methods of this run, else every
        method the layers allow.
    greenspace : bool, optional
        Per-capita park green space 人均公园绿地面积 and, with a greenways layer, the
        greenway coverage 城市绿道服务半径覆盖率 (``[report]`` settings), on the coverage
        denominator: None (default) computes them with the coverage (cheap: the
        denominator is built already); True also without a coverage method; False skips
        them.

    Raises
    ------
    MissingLayerError
        When a method or the plans are asked for and their layers are missing.
    """
    wanted = available_methods(inputs) if methods is None else tuple(methods)
    _require(inputs, wanted, plans)
    buffer = _buffer(inputs, progress) if "buffer" in wanted else None
    walk = None
    if "network" in wanted:
        land = None if buffer is None else buffer.residential  # the denominator, built once
        walk = _network(inputs, network_service_areas, progress, land=land)
    plan_tables = None
    if plans or (plans is None and inputs.has("plans")):
        plan_tables = _plans(inputs)
    contribution = _contributions(inputs) if contributions else None
    circles = _life_circles(inputs, wanted, progress) if life_circles else None
    green = None
    headline = buffer or walk
    if greenspace or (greenspace is None and headline is not None):
        green = _greenspace(inputs, headline)
    return Indicators(inputs, buffer, walk, plan_tables, contribution, circles, greenspace=green)


def updated_indicators(
    before: Indicators,
    inputs: ProjectInputs,
    engine: coverage.IncrementalCoverage,
    *,
    plans: bool | None = None,
    network_service_areas: str = "park",
    progress: bool = False,
    known_service_areas: Mapping[str, Any] | None = None,
) -> Indicators:
    """Every indicator after a change of parks, straight-line coverage updated from `before`.

    The recompute's path (:func:`gisrenew.recompute.recompute`). Straight-line coverage
    is not computed again: `engine` — seeded from ``before.buffer``
    (:meth:`~gisrenew.coverage.IncrementalCoverage.from_result`) and given the change
    (``remove_parks``, ``add_parks``) — recomputed only the residential pieces the
    changed parks reach, and :func:`gisrenew.coverage.updated_coverage` makes the
    result of it (equal to :func:`compute_indicators` on the parks after the change;
    the tests check 1e-9). The walk along streets (with roads) starts from the walk
    before when ``before.network`` holds its per-piece walk and the change only added
    parks (:func:`gisrenew.network.updated_network_coverage`: walks only get shorter);
    else it is computed once, with the parks after the change. The plans' coverage
    effects are computed once: a green plan's gain depends on every park.

    Parameters
    ----------
    before : Indicators
        The indicators before the change (at least ``buffer``).
    inputs : ProjectInputs
        The run's inputs with the parks after the change
        (``before.inputs.with_layers(parks=...)``).
    engine : IncrementalCoverage
        The engine that applied the change.
    plans, network_service_areas, progress
        As for :func:`compute_indicators`.
    known_service_areas : mapping of park_id to polygon, optional
        Walking service-area polygons of parks the change did not touch, as stored with
        results that are current (:mod:`gisrenew.recompute.state`): only the other
        parks are walked for theirs (``network_service_areas="park"``).
    """
    if before.buffer is None:
        raise ValueError("`before` has no straight-line coverage to update")
    wanted = available_methods(inputs)
    _require(inputs, wanted, plans)
    buffer = coverage.updated_coverage(
        before.buffer, engine, inputs.layer("parks"), districts=inputs.layer("districts")
    )
    walk = None
    if "network" in wanted:
        walk = _network(
            inputs, network_service_areas, progress, land=buffer.residential,
            known_areas=known_service_areas, before=_walk_before(before, inputs),
        )  # fmt: skip
    plan_tables = None
    if plans or (plans is None and inputs.has("plans")):
        plan_tables = _plans(inputs)
    buffer = _with_slivers(inputs, buffer)
    green = _greenspace(inputs, buffer)
    return Indicators(inputs, buffer, walk, plan_tables, greenspace=green)


def walk_after_change(
    before: Indicators,
    inputs: ProjectInputs,
    *,
    network_service_areas: str = "none",
    progress: bool = False,
) -> CoverageResult:
    """The walk along streets after a change of parks, and nothing else (the what-if).

    As :func:`updated_indicators` walks: from the per-piece walk of ``before.network``
    when the change only adds parks (:func:`gisrenew.network.updated_network_coverage`,
    only the new parks walked from), else computed once with the parks after the change.

    Parameters
    ----------
    before : Indicators
        The indicators before the change, with ``buffer`` (its residential land is the
        walk's) and, for the incremental walk, ``network``.
    inputs : ProjectInputs
        The inputs with the parks after the change (``before.inputs.with_layers(parks=...)``).
    network_service_areas, progress
        As for :func:`compute_indicators` (``"none"``: no service-area polygons, fastest).
    """
    if before.buffer is None:
        raise ValueError("`before` has no straight-line coverage (its residential land)")
    _require(inputs, ("network",), None)
    return _network(
        inputs, network_service_areas, progress, land=before.buffer.residential,
        before=_walk_before(before, inputs),
    )  # fmt: skip


def _walk_before(before: Indicators, inputs: ProjectInputs) -> tuple[pd.DataFrame, list] | None:
    """The per-piece walk before a change that only added parks, and the parks added.

    None when the walk must be computed whole: `before` has no per-piece walk (its
    ``network.residential`` without ``walk_status``), or the change removed or
    replaced a park (a walk may then get longer).
    """
    result = before.network
    if result is None or "walk_status" not in result.residential.columns:
        return None
    old, new = before.inputs.layer("parks"), inputs.layer("parks")
    old_ids = old["park_id"].astype(str)
    new_ids = pd.Index(new["park_id"].astype(str))
    if old_ids.duplicated().any() or new_ids.duplicated().any():
        return None
    found = new_ids.get_indexer(old_ids)
    if (found < 0).any():
        return None  # a park was removed
    kept = geometry_array(new)[found]
    if not shapely.equals_exact(kept, geometry_array(old), 0.0).all():
        return None  # a park was replaced (same id, other geometry)
    added = np.ones(len(new_ids), dtype=bool)
    added[found] = False
    return result.residential, new_ids[added].tolist()


def _require(inputs: ProjectInputs, methods: tuple[str, ...], plans: bool | None) -> None:
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"`methods` was {unknown} but is expected to be in {METHODS}")
    needed = ["parks", "residential"] if methods else []
    if "network" in methods:
        needed.append("roads")
    if plans:
        needed += ["plans", "parcels"]
    missing = [k for k in dict.fromkeys(needed) if not inputs.has(k)]
    if missing:
        raise MissingLayerError(missing)


def _coverage_options(inputs: ProjectInputs) -> dict[str, Any]:
    """The options every coverage engine gets from the run's inputs."""
    return {
        "rules": inputs.rules,
        "boundary": inputs.layer("boundary"),
        "districts": inputs.layer("districts"),
        "weight": inputs.weight,
        "residential_codes": inputs.residential_codes,
    }


def _with_slivers(inputs: ProjectInputs, result: CoverageResult) -> CoverageResult:
    """Blind spots below ``[coverage] sliver_m2`` flagged: counted, not listed or drawn."""
    sliver_m2 = inputs.config.coverage.sliver_m2
    return coverage.mark_slivers(result, coverage.SLIVER_M2 if sliver_m2 is None else sliver_m2)


def _buffer(inputs: ProjectInputs, progress: bool) -> CoverageResult:
    result = coverage.compute_coverage(
        inputs.layer("parks"),
        inputs.layer("residential"),
        progress=progress,
        **_coverage_options(inputs),
    )
    return _with_slivers(inputs, result)


def _network_options(inputs: ProjectInputs) -> dict[str, Any]:
    """``[network]`` settings as engine options (unset ones keep the engine's defaults)."""
    settings = inputs.config.network
    options = {"walk_distance_m": settings.walk_limit_m}
    for key in ("snap_distance_m", "connector_limit_m", "lateral_m"):
        value = getattr(settings, key)
        if value is not None:
            options[key] = value
    return options


def _network(
    inputs: ProjectInputs,
    service_areas: str,
    progress: bool,
    *,
    land: gpd.GeoDataFrame | None = None,
    known_areas: Mapping[str, Any] | None = None,
    before: tuple[pd.DataFrame, list] | None = None,
) -> CoverageResult:
    """The walk; `land`: the straight-line run's residential land on the same inputs.

    `before`: the per-piece walk before a change that only added parks, and their ids
    (:func:`_walk_before`): only the new parks are walked from.
    """
    # the walk engine imports scipy's sparse graph code (~0.45 s): only runs that walk pay it
    from gisrenew import network

    graph = inputs.cached(
        "walk_graph", lambda: network.walk_graph_from_roads(inputs.layer("roads"))
    )
    options = {
        "entrances": inputs.layer("entrances"),
        "service_areas": service_areas,
        "progress": progress,
        "land": land,
        "known_areas": known_areas,
        **_network_options(inputs),
        **_coverage_options(inputs),
    }
    parks, residential = inputs.layer("parks"), inputs.layer("residential")
    if before is not None and land is not None:
        pieces, added = before
        result = network.updated_network_coverage(
            pieces, parks, residential, graph, added=added, **options
        )
    else:
        result = network.network_coverage(parks, residential, graph, **options)
    return _with_slivers(inputs, _with_walk_minutes(inputs, result))


def _with_walk_minutes(inputs: ProjectInputs, result: CoverageResult) -> CoverageResult:
    """Record ``[network] walk_minutes`` and the speed with the result (``result.walk()``)."""
    settings = inputs.config.network
    if settings.walk_minutes is None or settings.walk_distance_m is not None:
        return result
    speed = settings.walk_speed_kmh
    parameters = {
        **result.parameters,
        "walk_minutes": float(settings.walk_minutes),
        "walk_speed_kmh": float(DEFAULT_WALK_SPEED_KMH if speed is None else speed),
    }
    return dataclasses.replace(result, parameters=parameters)


def _life_circle_methods(inputs: ProjectInputs, coverage_methods: tuple[str, ...]):
    """``[life_circles] method``, else this run's coverage methods, else what the layers allow."""
    chosen = inputs.config.life_circles.method
    if chosen is not None:
        return METHODS if chosen == "both" else (chosen,)
    if coverage_methods:
        return coverage_methods
    return METHODS if inputs.has("roads") else ("buffer",)


def _life_circles(
    inputs: ProjectInputs, coverage_methods: tuple[str, ...], progress: bool
) -> dict[str, lifecircles.LifeCircleResult]:
    methods = _life_circle_methods(inputs, coverage_methods)
    needed = ["facilities", "residential"] + (["roads"] if "network" in methods else [])
    missing = [k for k in needed if not inputs.has(k)]
    if missing:
        raise MissingLayerError(missing)
    options = {
        "rules": inputs.life_circle_rules,
        "boundary": inputs.layer("boundary"),
        "districts": inputs.layer("districts"),
        "weight": inputs.weight,
        "residential_codes": inputs.residential_codes,
        "progress": progress,
    }
    results = {}
    for method in methods:  # at most two
        walk_options = {}
        if method == "network":
            # the walk engine imports scipy's sparse graph code: only walking runs pay it
            from gisrenew import network

            walk_options["roads"] = inputs.cached(
                "walk_graph", lambda: network.walk_graph_from_roads(inputs.layer("roads"))
            )
            settings = inputs.config.network
            for key in ("snap_distance_m", "connector_limit_m"):
                if getattr(settings, key) is not None:
                    walk_options[key] = getattr(settings, key)
        results[method] = lifecircles.life_circles(
            inputs.layer("residential"),
            inputs.layer("facilities"),
            method=method,
            **walk_options,
            **options,
        )
    return results


def _greenspace(inputs: ProjectInputs, result: CoverageResult | None) -> GreenSpaceIndicators:
    """Per-capita park green space and greenway coverage on the coverage denominator.

    `result`: a coverage result of this run, whose residential pieces are the land (else
    the denominator is built here, as the coverage engine builds it).
    """
    missing = [k for k in ("parks", "residential") if not inputs.has(k)]
    if missing:
        raise MissingLayerError(missing)
    options = _coverage_options(inputs)
    if result is not None:
        land = result.residential
    else:
        land = coverage.residential_land(inputs.layer("residential"), **options)
    settings = inputs.config.report
    per_capita = greenspace.per_capita_green_space(
        inputs.layer("parks"), land, population=settings.population,
        boundary=options["boundary"], districts=options["districts"],
    )  # fmt: skip
    greenway = None
    if inputs.has("greenways"):
        districts = None if result is None else result.districts
        greenway = greenspace.greenway_coverage(
            inputs.layer("greenways"), land, radius_m=settings.greenway_radius_m,
            districts=districts,
        )  # fmt: skip
    return GreenSpaceIndicators(per_capita, greenway)


def _plan_options(inputs: ProjectInputs) -> dict[str, Any]:
    settings = inputs.config.plans
    options: dict[str, Any] = {}
    if settings.min_overlap_share is not None:
        options["min_overlap_share"] = settings.min_overlap_share
    if settings.min_overlap_m2 is not None:
        options["min_overlap_m2"] = settings.min_overlap_m2
    return options


def _plans(inputs: ProjectInputs) -> PlanIndicators:
    settings = inputs.config.plans
    plans, parcels = inputs.layer("plans"), inputs.layer("parcels")
    rule = settings.household_rule or "whole"
    households = settings.households
    pairs = summary = totals = effects = affected = None
    if parcels is not None:
        pairs = plan_engine.affected_parcels(plans, parcels, **_plan_options(inputs))
        summary = plan_engine.plan_summary(plans, pairs, household_rule=rule, households=households)
        totals = plan_engine.plan_totals(plans, pairs, household_rule=rule, households=households)
        affected = _affected_parcels(plans, parcels, pairs, households)
    defaulted = plans.attrs.get("defaulted_columns") or ()
    old = greenspace.old_community_figures(
        plans, pairs, household_columns=households,
        investment_known="investment_wan" not in defaulted,
    )  # fmt: skip
    if inputs.has("parks", "residential") and len(plan_engine.plans_as_parks(plans)):
        effects = plan_engine.plan_coverage_effects(
            plans,
            inputs.layer("parks"),
            inputs.layer("residential"),
            rules=inputs.rules,
            boundary=inputs.layer("boundary"),
            weight=inputs.weight,
            residential_codes=inputs.residential_codes,
        )
    return PlanIndicators(pairs, summary, totals, effects, rule, households, affected, old)


def _affected_parcels(plans, parcels, pairs, households) -> gpd.GeoDataFrame:
    """The affected-parcel layer with each parcel's households and signing status."""
    layer = plan_engine.affected_parcel_layer(plans, parcels, pairs=pairs)
    status = plan_engine.signing_status(layer, households)
    joined = layer.drop(columns=[c for c in status.columns if c in layer.columns])
    out = gpd.GeoDataFrame(
        pd.concat([joined, status], axis=1), geometry=layer.geometry.name, crs=layer.crs
    )
    out.attrs = dict(layer.attrs)
    return out


def _contributions(inputs: ProjectInputs) -> pd.DataFrame:
    _require(inputs, ("buffer",), None)
    return coverage.park_contribution(
        inputs.layer("parks"), inputs.layer("residential"), **_coverage_options(inputs)
    )


def rank_sites(
    inputs: ProjectInputs,
    *,
    count: int | None = None,
    min_area_m2: float | None = None,
    by: str | None = None,
    radius_m: float | None = None,
    park_class: str | None = None,
    exact: bool = False,
) -> siting.SiteRanking:
    """Rank the run's candidate sites for new pocket parks (口袋公园选址).

    Parameters are those of :func:`gisrenew.siting.rank_sites`; unset ones come from
    ``[sites]`` (count, min_area_m2, by). The gain counts residential area (``by =
    "area"``, with households reported when the run has a weight) or households /
    population (``by``).
    """
    _require(inputs, ("buffer",), None)
    if not inputs.has("candidates"):
        raise MissingLayerError(["candidates"])
    settings = inputs.config.sites
    by = by or settings.by
    weight = inputs.weight if by == "area" else by
    return siting.rank_sites(
        inputs.layer("candidates"),
        inputs.layer("parks"),
        inputs.layer("residential"),
        count=count or settings.count,
        min_area_m2=min_area_m2 if min_area_m2 is not None else settings.min_area_m2,
        rules=inputs.rules,
        weight=weight,
        boundary=inputs.layer("boundary"),
        districts=inputs.layer("districts"),
        park_class=park_class,
        radius_m=radius_m,
        method="exact" if exact else "greedy",
        objective="area" if by == "area" else "weight",
        residential_codes=inputs.residential_codes,
    )


def rank_facility_sites(
    inputs: ProjectInputs,
    facility_type: str,
    *,
    count: int | None = None,
    min_area_m2: float | None = None,
    by: str | None = None,
    radius_m: float | None = None,
    exact: bool = False,
) -> siting.SiteRanking:
    """Rank the run's candidate sites for the next facility of one type (设施选址).

    As :func:`rank_sites`, for a type of the run's life-circle rule set
    (:func:`gisrenew.lifecircles.rank_facility_sites`); the existing facilities are the run's
    ``facilities`` layer.
    """
    missing = [k for k in ("candidates", "facilities", "residential") if not inputs.has(k)]
    if missing:
        raise MissingLayerError(missing)
    settings = inputs.config.sites
    by = by or settings.by
    return lifecircles.rank_facility_sites(
        inputs.layer("candidates"),
        inputs.layer("facilities"),
        inputs.layer("residential"),
        facility_type=facility_type,
        count=count or settings.count,
        min_area_m2=min_area_m2 if min_area_m2 is not None else settings.min_area_m2,
        rules=inputs.life_circle_rules,
        weight=inputs.weight if by == "area" else by,
        boundary=inputs.layer("boundary"),
        districts=inputs.layer("districts"),
        radius_m=radius_m,
        method="exact" if exact else "greedy",
        objective="area" if by == "area" else "weight",
        residential_codes=inputs.residential_codes,
    )
