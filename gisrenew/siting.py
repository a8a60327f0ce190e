"""Siting the next pocket parks (口袋公园选址): where does a new park add the most coverage?

National guidance asks that new pocket parks go first where coverage is lacking.
:func:`rank_sites` takes candidate sites (vacant lots, renewal plots that become
green), turns each into a park with the rule set's tier for its area (or a forced
class or radius), and ranks them by the residential area — or households — each
*newly* brings into service:

* **greedy** (default): pick the candidate with the largest gain, remove what it
  covers, pick again — the maximal covering location problem (MCLP) with the existing
  parks fixed. Gains are exact areas from the incremental coverage engine
  (:meth:`gisrenew.coverage.IncrementalCoverage.gain_if_added` on the residential
  pieces each candidate reaches). Coverage gains are submodular, so the greedy set is
  within a factor 1 − 1/e ≈ 0.632 of the best set, and usually much closer.
* **exact**: a mixed-integer program (PuLP with its bundled CBC solver) over the
  atomic pieces of uncovered residential land — pieces defined by which candidate
  service areas cover them. Meant for small cases (tens of candidates); the chosen
  sites are then listed in greedy order so each still shows its own marginal gain.

**Any facility type of a life circle** (社区生活圈设施选址):
:func:`gisrenew.lifecircles.rank_facility_sites` asks the same question for one facility
type of a life-circle rule set, with the selection of this module (:func:`pick_sites`)
and the same :class:`SiteRanking`.
"""

from __future__ import annotations

import heapq
import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew import jsonable
from gisrenew.coverage import IncrementalCoverage, park_table, service_areas
from gisrenew.errors import AnalysisError, InputError
from gisrenew.geometry import geometry_array
from gisrenew.io import conformed
from gisrenew.rules import RuleSet, flat_rules, get_rules
from gisrenew.units import m2_to_ha, m2_to_mu

__all__ = [
    "SitePicks",
    "SiteRanking",
    "check_siting_options",
    "exact_selection",
    "pick_sites",
    "rank_sites",
    "ranked_sites",
]

log = logging.getLogger(__name__)

_KEY = "candidate:"  # engine key prefix, so candidate ids never meet existing park ids
#: gains below this (m² or weight units) count as nothing
_EPS = 1e-6
#: the exact method refuses more candidates than this (it is meant for small cases)
EXACT_MAX_CANDIDATES = 200


@dataclass(frozen=True)
class SiteRanking:
    """Candidate sites ranked by the coverage each newly adds.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        Every candidate (its polygon): ``candidate_id``, ``name``, ``park_class``,
        ``park_area_m2``, ``tier``, ``radius_m``, ``qualifies``, ``reason`` (why a
        candidate cannot count or was left out), ``standalone_gain_m2`` (what it adds to
        the existing parks alone), ``rank`` (1, 2, ...; 0 = not picked), ``gain_m2`` /
        ``gain_ha`` / ``gain_mu`` (its marginal gain after the earlier picks),
        ``cumulative_gain_m2``, ``coverage_ratio_after``; with weights also
        ``standalone_gain_weight``, ``gain_weight``, ``cumulative_gain_weight``.
    service_areas : geopandas.GeoDataFrame
        Service areas of the picked sites (``candidate_id``, ``rank``, ``radius_m``).
    newly_covered : geopandas.GeoDataFrame
        Residential land each pick brings into service (``candidate_id``, ``rank``,
        ``area_m2``), not covered by existing parks or earlier picks.
    method : {"greedy", "exact"}
    objective : {"area", "weight"}
        Whether picks maximise residential area or weight (households/population).
    count : int
        Sites asked for.
    before, after : dict
        City coverage figures with the existing parks, and with the picks added.
    rules : RuleSet or gisrenew.lifecircles.LifeCircleRules
        Rule set that gave the candidates their tier and radius (a life-circle rule set
        for a facility type).
    weight_column : str or None
    exact_objective : float
        Objective value of the exact optimum (nan for the greedy method).
    facility_type : str or None
        Canonical key of the facility type sited
        (:func:`gisrenew.lifecircles.rank_facility_sites`); None for
        pocket parks. Then ``sites`` has ``facility_type`` and ``label_zh`` instead of
        ``park_class`` and ``tier``, ``park_area_m2`` is the site's area and the figures
        ``before``/``after`` are the share of residential land within the type's radius.
    """

    sites: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    newly_covered: gpd.GeoDataFrame
    method: str
    objective: str
    count: int
    before: dict
    after: dict
    rules: Any  # RuleSet; LifeCircleRules for a facility type
    weight_column: str | None = None
    exact_objective: float = math.nan
    parameters: dict[str, Any] = field(default_factory=dict)
    facility_type: str | None = None

    def table(self) -> pd.DataFrame:
        """The picked sites in rank order (no geometry)."""
        picked = self.sites[self.sites["rank"] > 0].sort_values("rank")
        return pd.DataFrame(picked.drop(columns=picked.geometry.name)).reset_index(drop=True)

    @property
    def total_gain_m2(self) -> float:
        """Residential area the picks bring into service together."""
        return float(self.sites.loc[self.sites["rank"] > 0, "gain_m2"].sum())

    @property
    def total_gain_weight(self) -> float:
        """Weight the picks bring into service together (nan without weights)."""
        if "gain_weight" not in self.sites.columns:
            return math.nan
        return float(self.sites.loc[self.sites["rank"] > 0, "gain_weight"].sum())

    def to_dict(self) -> dict:
        """JSON-ready summary: method, figures before/after and the ranked sites."""
        rows = []
        for record in self.table().to_dict(orient="records"):
            rows.append({k: jsonable.plain(v) for k, v in record.items()})
        left_out = self.sites[(self.sites["rank"] == 0) & (self.sites["reason"] != "")]
        facility = {} if self.facility_type is None else {"facility_type": self.facility_type}
        return {
            **facility,
            "method": self.method,
            "objective": self.objective,
            "count": self.count,
            "rules": {"name": self.rules.name, "version": self.rules.version},
            "weight_column": self.weight_column,
            "before": self.before,
            "after": self.after,
            "total_gain_m2": self.total_gain_m2,
            "total_gain_weight": jsonable.plain(self.total_gain_weight),
            "exact_objective": jsonable.plain(self.exact_objective),
            "sites": rows,
            "left_out": [
                {"candidate_id": str(c), "reason": str(r)}
                for c, r in zip(left_out["candidate_id"], left_out["reason"], strict=True)
            ],
            "parameters": self.parameters,
        }


def rank_sites(
    candidates: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    *,
    count: int = 5,
    min_area_m2: float | None = None,
    rules: RuleSet | str | None = None,
    weight: str | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    park_class: str | None = None,
    radius_m: float | None = None,
    method: str = "greedy",
    objective: str | None = None,
    time_limit_s: float = 60.0,
    residential_codes: Sequence[str] | None = None,
) -> SiteRanking:
    """Rank candidate sites for new pocket parks by the coverage each newly adds.

    Parameters
    ----------
    candidates : geopandas.GeoDataFrame
        Candidate sites (polygons; ``candidate_id``, ``name``, ``park_class`` optional).
    parks, residential : geopandas.GeoDataFrame
        Existing parks (fixed) and residential land, in one metric CRS.
    count : int
        How many sites to pick.
    min_area_m2 : float, optional
        Leave out candidates smaller than this (m²).
    rules : RuleSet or str, optional
        Rule set for existing parks and candidates (default ``tijian-2021``).
    weight : str, optional
        Residential column (``households``/``population``) to report gains in and,
        by default, to maximise.
    boundary, districts : geopandas.GeoDataFrame, optional
        Built-up area (建成区) and districts, as for the coverage ratio.
    park_class : str, optional
        Class every candidate gets as a park (default: its own, ``G14`` 游园 when absent).
    radius_m : float, optional
        Forced service radius for every candidate, instead of the rule set's tier
        for its area (existing parks keep the rule set).
    method : {"greedy", "exact"}
        Greedy ranking, or the exact optimum of a MILP (small cases; needs PuLP).
    objective : {"area", "weight"}, optional
        What to maximise; default ``"weight"`` when `weight` is given, else ``"area"``.
    time_limit_s : float
        Time limit for the exact solver.
    residential_codes : sequence of str, optional
        Land-use code prefixes that count as residential (default: the rule set's, else all).

    Returns
    -------
    SiteRanking

    Examples
    --------
    >>> ranking = rank_sites(candidates, parks, residential, count=3)  # doctest: +SKIP
    >>> ranking.table()[["rank", "candidate_id", "gain_m2"]]             # doctest: +SKIP
    """
    objective = check_siting_options(method, count, objective, weight)
    rules = get_rules(rules)
    engine = IncrementalCoverage.from_layers(
        parks, residential, rules=rules, boundary=boundary, districts=districts, weight=weight,
        residential_codes=residential_codes,
    )  # fmt: skip
    before = engine.figures()
    sites, areas = _candidate_parks(
        candidates,
        engine.crs,
        rules=rules,
        park_class=park_class,
        radius_m=radius_m,
        min_area_m2=min_area_m2,
    )
    return ranked_sites(
        engine, sites, areas, before=before, rules=rules, count=count, method=method,
        objective=objective, time_limit_s=time_limit_s, weight=weight,
        parameters={"min_area_m2": min_area_m2, "park_class": park_class, "radius_m": radius_m},
    )  # fmt: skip


def ranked_sites(
    engine: IncrementalCoverage,
    sites: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    before: dict,
    rules: Any,
    count: int,
    method: str,
    objective: str,
    time_limit_s: float | None,
    weight: str | None,
    parameters: dict,
    facility_type: str | None = None,
) -> SiteRanking:
    """Pick `count` of the candidate `sites` on `engine` and report them as a ranking.

    The one step parks (:func:`rank_sites`) and life-circle facilities
    (:func:`gisrenew.lifecircles.rank_facility_sites`) share: :func:`pick_sites`, then
    the :class:`SiteRanking` with the figures `before` and after the picks, the
    `parameters` of the run plus the number of candidates and of qualifying ones.
    """
    picks = pick_sites(engine, sites, areas, count=count, method=method, objective=objective,
                       time_limit_s=time_limit_s, weight=weight)  # fmt: skip
    return SiteRanking(
        sites=sites,
        service_areas=picks.service_areas,
        newly_covered=picks.newly_covered,
        method=method,
        objective=objective,
        count=int(count),
        before=before,
        after=engine.figures(),
        rules=rules,
        weight_column=weight,
        exact_objective=picks.exact_value,
        parameters={
            **parameters,
            "candidates": len(sites),
            "qualifying_candidates": int(sites["qualifies"].to_numpy(dtype=bool).sum()),
        },
        facility_type=facility_type,
    )


@dataclass(frozen=True)
class SitePicks:
    """What :func:`pick_sites` chose.

    Attributes
    ----------
    service_areas : geopandas.GeoDataFrame
        Reach of the picks in rank order (``candidate_id``, ``rank``, ...).
    newly_covered : geopandas.GeoDataFrame
        Land each pick newly brings (``candidate_id``, ``rank``, ``area_m2``).
    exact_value : float
        Objective of the exact optimum (nan for the greedy method).
    """

    service_areas: gpd.GeoDataFrame
    newly_covered: gpd.GeoDataFrame
    exact_value: float


def pick_sites(
    engine: IncrementalCoverage,
    sites: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    count: int,
    method: str,
    objective: str,
    time_limit_s: float,
    weight: str | None,
) -> SitePicks:
    """Pick among candidate service areas; add the rank and gain columns to `sites`.

    Greedy over every candidate (lazy greedy, marginal gains), or the exact optimum
    listed greedily. `engine` holds the fixed existing reach and ends up with the picks
    added; `sites` (``candidate_id``, ``qualifies``, ``reason``) gets
    ``standalone_gain_m2``, ``rank``, ``gain_m2``, ... (see :class:`SiteRanking`).

    Parameters
    ----------
    engine : IncrementalCoverage
        Coverage of the existing parks or facilities (changed: the picks are added).
    sites : geopandas.GeoDataFrame
        Every candidate (changed in place).
    areas : geopandas.GeoDataFrame
        Reach of the qualifying candidates (``candidate_id``, geometry).
    count, method, objective, time_limit_s, weight
        As for :func:`rank_sites` (`objective` checked by :func:`check_siting_options`).
    """
    before = engine.figures()
    weighted = weight is not None
    geoms = dict(zip(areas["candidate_id"], geometry_array(areas), strict=True))
    standalone = _standalone_gains(engine, sites, geoms, weighted)
    pick = 1 if objective == "weight" else 0
    exact_value = math.nan
    pool, gains, limit = geoms, standalone, count
    if method == "exact":
        chosen, exact_value = exact_selection(
            engine, areas, count=count, objective=objective, time_limit_s=time_limit_s
        )
        pool = {cid: geoms[cid] for cid in chosen}
        gains = {cid: standalone[cid] for cid in chosen}
        limit = len(chosen)
    order, marginal, covered_parts = _greedy(engine, pool, gains, limit, pick)
    _ranked_columns(sites, order, marginal, before, weighted)
    picked_areas, newly = _picked_layers(areas, order, covered_parts, engine.crs)
    if not order:
        log.info("no candidate adds residential land to the existing coverage")
    return SitePicks(picked_areas, newly, exact_value)


def check_siting_options(method: str, count: int, objective: str | None, weight: str | None) -> str:
    """Refuse bad siting options (method, count, objective); return the objective.

    Raises
    ------
    InputError
        Unknown method or objective, a count below 1, a weight objective without weight.
    """
    if method not in ("greedy", "exact"):
        raise InputError(f"`method` was {method!r} but is expected to be 'greedy' or 'exact'")
    if count < 1:
        raise InputError(f"`count` must be at least 1, got {count}")
    objective = objective or ("weight" if weight else "area")
    if objective not in ("area", "weight"):
        raise InputError(f"`objective` was {objective!r} but is expected to be 'area' or 'weight'")
    if objective == "weight" and not weight:
        raise InputError("`objective='weight'` needs `weight=` (e.g. 'households')")
    return objective


def _standalone_gains(engine: IncrementalCoverage, sites, geoms: dict, weighted: bool) -> dict:
    """Each candidate's gain against the existing parks alone (added to `sites` too)."""
    standalone = {cid: engine.gain_if_added(geom) for cid, geom in geoms.items()}
    sites["standalone_gain_m2"] = [
        standalone.get(c, (0.0, math.nan))[0] for c in sites["candidate_id"]
    ]
    if weighted:
        sites["standalone_gain_weight"] = [
            standalone.get(c, (0.0, 0.0))[1] for c in sites["candidate_id"]
        ]
    return standalone


def _ranked_columns(sites, order: list[str], marginal: dict, before: dict, weighted: bool) -> None:
    """Add rank, marginal and cumulative gains, ratio after and reasons to `sites`."""
    ids = sites["candidate_id"]
    rank = dict(zip(order, range(1, len(order) + 1), strict=True))
    sites["rank"] = [rank.get(c, 0) for c in ids]
    sites["gain_m2"] = [marginal[c][0] if c in rank else 0.0 for c in ids]
    sites["gain_ha"] = m2_to_ha(sites["gain_m2"].to_numpy(dtype=float))
    sites["gain_mu"] = m2_to_mu(sites["gain_m2"].to_numpy(dtype=float))
    if weighted:
        sites["gain_weight"] = [marginal[c][1] if c in rank else 0.0 for c in ids]
    total = before["residential_area_m2"]
    cumulative = {}
    running_area = 0.0
    running_weight = 0.0
    for cid in order:
        running_area += marginal[cid][0]
        running_weight += marginal[cid][1] if weighted else 0.0
        cumulative[cid] = (running_area, running_weight)
    sites["cumulative_gain_m2"] = [cumulative[c][0] if c in rank else np.nan for c in ids]
    if weighted:
        sites["cumulative_gain_weight"] = [cumulative[c][1] if c in rank else np.nan for c in ids]
    sites["coverage_ratio_after"] = [
        (before["covered_area_m2"] + cumulative[c][0]) / total
        if c in rank and total > 0
        else np.nan
        for c in ids
    ]
    qualifying = sites["qualifies"].to_numpy(dtype=bool)
    not_picked_reason = np.where(
        qualifying
        & (sites["rank"].to_numpy() == 0)
        & (sites["standalone_gain_m2"].to_numpy() <= _EPS),
        "adds no residential land to the existing coverage",
        "",
    )
    sites["reason"] = np.where(
        sites["reason"].astype(str) != "", sites["reason"].astype(str), not_picked_reason
    )


def _picked_layers(areas, order: list[str], covered_parts: dict, crs):
    """Service areas of the picks (in rank order) and the land each newly brings."""
    rank = dict(zip(order, range(1, len(order) + 1), strict=True))
    picked_areas = areas[areas["candidate_id"].isin(order)].copy()
    picked_areas["rank"] = [rank[c] for c in picked_areas["candidate_id"]]
    picked_areas = picked_areas.sort_values("rank").reset_index(drop=True)
    newly = gpd.GeoDataFrame(
        {
            "candidate_id": pd.Series(order, dtype="str"),
            "rank": np.arange(1, len(order) + 1, dtype=np.int64),
            "area_m2": [float(shapely.area(covered_parts[c])) for c in order],
        },
        geometry=[covered_parts[c] for c in order],
        crs=crs,
    )
    return picked_areas, newly


def _candidate_parks(candidates, crs, *, rules, park_class, radius_m, min_area_m2):
    """Candidates as parks: table (all candidates) and service areas (qualifying ones)."""
    cands = conformed(candidates, "candidates", name="candidates", crs=crs)
    classes = cands["park_class"].astype(str) if park_class is None else str(park_class)
    as_parks = gpd.GeoDataFrame(
        {
            "park_id": cands["candidate_id"].astype(str).to_numpy(dtype=object),
            "name": cands["name"].to_numpy(dtype=object),
            "park_class": pd.Series(classes, index=cands.index).to_numpy(dtype=object),
        },
        geometry=cands.geometry.values,
        crs=cands.crs,
    )
    cand_rules = rules if radius_m is None else flat_rules(float(radius_m))
    table = park_table(as_parks, cand_rules).set_index("park_id")
    table = table.reindex(as_parks["park_id"])
    sites = gpd.GeoDataFrame(
        {
            "candidate_id": pd.Series(as_parks["park_id"].to_numpy(dtype=object), dtype="str"),
            "name": pd.Series(as_parks["name"].to_numpy(dtype=object), dtype="str"),
            "park_class": pd.Series(as_parks["park_class"].to_numpy(dtype=object), dtype="str"),
            "park_area_m2": table["park_area_m2"].to_numpy(dtype=float),
            "tier": table["tier"].to_numpy(),
            "radius_m": table["radius_m"].to_numpy(dtype=float),
            "qualifies": table["qualifies"].to_numpy(dtype=bool),
            "reason": pd.Series(table["reason"].fillna("").astype(str).to_numpy(), dtype="str"),
        },
        geometry=as_parks.geometry.values,
        crs=as_parks.crs,
    )
    if min_area_m2 is not None:
        small = sites["park_area_m2"].to_numpy() < float(min_area_m2)
        # the rule set's reason, when there is one, says more (e.g. "area below 2000 m²")
        filtered = small & (sites["reason"].to_numpy(dtype=object) == "")
        sites.loc[filtered, "reason"] = f"area below --min-area {float(min_area_m2):g} m²"
        sites.loc[small, "qualifies"] = False
    areas = service_areas(as_parks, cand_rules)
    areas = areas.rename(columns={"park_id": "candidate_id"})
    areas["candidate_id"] = areas["candidate_id"].astype(str)
    allowed = set(sites.loc[sites["qualifies"].to_numpy(dtype=bool), "candidate_id"])
    areas = areas[areas["candidate_id"].isin(allowed)].reset_index(drop=True)
    return sites, areas


def _greedy(engine: IncrementalCoverage, pool: dict, gains: dict, limit: int, pick: int):
    """Lazy greedy (CELF): gains only shrink as picks are added (submodularity)."""
    order: list[str] = []
    marginal: dict[str, tuple[float, float]] = {}
    parts: dict[str, Any] = {}
    position = {cid: i for i, cid in enumerate(pool)}
    heap = [(-_value(gains[cid], pick), position[cid], cid, 0) for cid in pool]
    heapq.heapify(heap)
    round_no = 0
    while heap and len(order) < limit:
        neg, pos, cid, evaluated = heapq.heappop(heap)
        if evaluated != round_no:
            gain = engine.gain_if_added(pool[cid])
            heapq.heappush(heap, (-_value(gain, pick), pos, cid, round_no))
            gains[cid] = gain
            continue
        if -neg <= _EPS:
            break  # nothing left adds coverage
        parts[cid] = engine.newly_covered(pool[cid])
        summary = engine.add_service_areas(
            gpd.GeoDataFrame({"park_id": [_KEY + cid]}, geometry=[pool[cid]], crs=engine.crs)
        )
        gain_weight = gains[cid][1]
        marginal[cid] = (summary.gain_m2, gain_weight)
        order.append(cid)
        round_no += 1
    return order, marginal, parts


def _value(gain: tuple[float, float], pick: int) -> float:
    value = gain[pick]
    return 0.0 if math.isnan(value) else value


# ---------------------------------------------------------------------------------------
# Exact maximal covering (MILP)
# ---------------------------------------------------------------------------------------


def _atoms(engine: IncrementalCoverage, areas: gpd.GeoDataFrame, objective: str):
    """Atomic pieces of uncovered residential land, grouped by the candidates covering them.

    Returns ``{frozenset(candidate ids): value}`` where value is the area (or weight)
    of the uncovered land covered by exactly that set of candidate service areas.
    """
    ids = areas["candidate_id"].astype(str).tolist()
    buffers = geometry_array(areas)
    if not ids:
        return {}
    land_idx = engine.pieces_touching(buffers)
    if len(land_idx) == 0:
        return {}
    pieces = geometry_array(engine.land)[land_idx]
    reach = engine.reach_geometries(land_idx)
    uncovered = shapely.difference(pieces, shapely.union_all(reach)) if len(reach) else pieces
    if engine.has_weight:
        area = engine.land["area_m2"].to_numpy(dtype=float)[land_idx]
        weight = engine.land["weight"].to_numpy(dtype=float)[land_idx]
        density = np.divide(weight, area, out=np.zeros_like(area), where=area > 0)
    else:
        density = np.zeros(len(land_idx))
    # atoms: (geometry, index into land_idx, set of candidates)
    geoms = list(uncovered)
    owner = list(range(len(land_idx)))
    sets: list[frozenset] = [frozenset()] * len(geoms)
    for cid, buffer in zip(ids, buffers, strict=True):
        if not geoms:
            break
        arr = np.asarray(geoms, dtype=object)
        hit = np.flatnonzero(shapely.intersects(arr, buffer))
        if len(hit) == 0:
            continue
        inside = shapely.intersection(arr[hit], buffer)
        outside = shapely.difference(arr[hit], buffer)
        keep = np.ones(len(geoms), dtype=bool)
        keep[hit] = False
        new_geoms = [g for g, k in zip(geoms, keep, strict=True) if k]
        new_owner = [o for o, k in zip(owner, keep, strict=True) if k]
        new_sets = [s for s, k in zip(sets, keep, strict=True) if k]
        for j, h in enumerate(hit):
            for part, members in ((inside[j], sets[h] | {cid}), (outside[j], sets[h])):
                if shapely.area(part) > 1e-9:
                    new_geoms.append(part)
                    new_owner.append(owner[h])
                    new_sets.append(members)
        geoms, owner, sets = new_geoms, new_owner, new_sets
    values: dict[frozenset, float] = {}
    area = shapely.area(np.asarray(geoms, dtype=object)) if geoms else np.zeros(0)
    for a, o, s in zip(area, owner, sets, strict=True):
        if not s:
            continue
        value = a * density[o] if objective == "weight" else a
        values[s] = values.get(s, 0.0) + float(value)
    return values


def exact_selection(
    engine: IncrementalCoverage,
    areas: gpd.GeoDataFrame,
    *,
    count: int,
    objective: str = "area",
    time_limit_s: float = 60.0,
) -> tuple[list[str], float]:
    """Best set of at most `count` candidates by a MILP (maximal covering, parks fixed).

    Parameters
    ----------
    engine : IncrementalCoverage
        Coverage state of the existing parks (not changed).
    areas : geopandas.GeoDataFrame
        Candidate service areas (``candidate_id``, geometry).
    count : int
        At most this many candidates are chosen.
    objective : {"area", "weight"}
        Maximise newly covered residential area, or weight.
    time_limit_s : float
        Solver time limit; hitting it is an error (no proven optimum).

    Returns
    -------
    chosen : list of str
        Candidate ids of the optimum (in input order).
    value : float
        Its objective value (area in m², or weight).
    """
    try:
        import pulp
    except ImportError:  # pragma: no cover - pulp is in the `exact` extra
        raise AnalysisError(
            "the exact siting method needs PuLP: pip install 'gisrenew[exact]' "
            "(or pip install pulp)"
        ) from None
    ids = areas["candidate_id"].astype(str).tolist()
    if len(ids) > EXACT_MAX_CANDIDATES:
        raise AnalysisError(
            f"the exact method is for small cases (≤ {EXACT_MAX_CANDIDATES} qualifying "
            f"candidates); got {len(ids)}. Use the greedy method, or narrow the candidates "
            "with --min-area"
        )
    values = _atoms(engine, areas, objective)
    if not values:
        return [], 0.0
    problem = pulp.LpProblem("mclp", pulp.LpMaximize)
    if hasattr(problem, "add_variable"):  # PuLP ≥ 3.3
        variable = problem.add_variable
    else:  # pragma: no cover - older PuLP
        variable = pulp.LpVariable
    # x: candidate chosen; y: atom group covered (continuous, integral at the optimum)
    x = {cid: variable(f"x{i}", cat="Binary") for i, cid in enumerate(ids)}
    y = {}
    for k, members in enumerate(values):
        y[members] = variable(f"y{k}", lowBound=0, upBound=1)
        problem += y[members] <= pulp.lpSum(x[c] for c in members)
    problem += pulp.lpSum(values[m] * y[m] for m in values)
    problem += pulp.lpSum(x.values()) <= int(count)
    with warnings.catch_warnings():
        # PuLP 3.3 announces that its bundled CBC moves to an extra in 4.0
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s)
        status = problem.solve(solver)
    if pulp.LpStatus[status] != "Optimal":
        raise AnalysisError(
            f"the exact siting solver stopped without a proven optimum ({pulp.LpStatus[status]}); "
            "use the greedy method or raise the time limit"
        )
    chosen = [cid for cid in ids if (x[cid].value() or 0.0) > 0.5]
    value = float(sum(v for m, v in values.items() if any(c in chosen for c in m)))
    return chosen, value
