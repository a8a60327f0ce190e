"""Where to put the next facility of a life-circle type 设施选址: which sites close the most gaps.

The pocket-park siting (:mod:`gisrenew.siting`) for one facility type of a life-circle
rule set (幼儿园, 社区卫生服务站, ...): each candidate site becomes a facility of the
type, its reach is the type's radius around the site — straight line from the site's
boundary, with the buffers of :func:`gisrenew.lifecircles.life_circles` — the existing
facilities of the type are fixed, and the gain of a site is the residential land (and
households) newly within the radius: the gaps of that type it closes. The same
selection (greedy with marginal gains, or the exact optimum) and the same
:class:`~gisrenew.siting.SiteRanking`. The starting figure equals the type's
``reached_share`` in :attr:`LifeCircleResult.types <gisrenew.lifecircles.LifeCircleResult.types>`.

By straight line only: the walk would need the candidate sites' access points inserted
into the walk graph and a pass per pick, which the incremental engine does not do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew.coverage import BUFFER_QUAD_SEGS, IncrementalCoverage, residential_land
from gisrenew.crs import ensure_metric
from gisrenew.errors import InputError
from gisrenew.geometry import geometry_array
from gisrenew.io import conformed
from gisrenew.lifecircles.rules import LifeCircleRules, facility_types, get_life_circle_rules
from gisrenew.siting import SiteRanking, check_siting_options, ranked_sites

__all__ = ["facility_type_key", "rank_facility_sites"]


def facility_type_key(rules: LifeCircleRules, facility_type: str) -> str:
    """The canonical key of `facility_type` (key, Chinese or English label, or alias).

    Raises
    ------
    InputError
        No entry of the rule set has that name (the message lists the types).
    """
    key = rules.name_lookup().get(str(facility_type).strip().casefold())
    if key is None:
        names = ", ".join(f"{f.type} ({f.label_zh})" for f in rules.facilities)
        raise InputError(
            f"facility type {facility_type!r} is not a type of the life-circle rule set "
            f"{rules.name}; use one of: {names}"
        )
    return key


def rank_facility_sites(
    candidates: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    *,
    facility_type: str,
    count: int = 5,
    min_area_m2: float | None = None,
    rules: str | LifeCircleRules | None = None,
    weight: str | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    radius_m: float | None = None,
    method: str = "greedy",
    objective: str | None = None,
    time_limit_s: float = 60.0,
    residential_codes: Sequence[str] | None = None,
) -> SiteRanking:
    """Rank candidate sites for the next facility of one type 设施选址 by the gaps each closes.

    Each candidate becomes a facility of `facility_type`; its reach is the type's radius
    around the site (straight line from its boundary, as the life-circle analysis
    measures). The existing facilities of the type are fixed; the gain of a site is the
    residential land (households) newly within the radius. Picks as
    :func:`gisrenew.siting.rank_sites`.

    Parameters
    ----------
    candidates : geopandas.GeoDataFrame
        Candidate sites (polygons; ``candidate_id``, ``name``).
    facilities : geopandas.GeoDataFrame
        Existing facilities with ``facility_type`` (layer ``facilities``; may be empty).
    residential : geopandas.GeoDataFrame
        Residential land, in a metric CRS.
    facility_type : str
        The type to site: key, Chinese or English label or an alias of the rule set
        (``kindergarten``, ``幼儿园``).
    count, min_area_m2, weight, boundary, districts, method, objective, time_limit_s
        As for :func:`gisrenew.siting.rank_sites`.
    rules : str, path or LifeCircleRules, optional
        Life-circle rule set (default preset ``gb50180-2018``).
    radius_m : float, optional
        Radius instead of the rule set's for the type (existing facilities and candidates).
    residential_codes : sequence of str, optional
        Land-use code prefixes that count as residential (default: every polygon).

    Returns
    -------
    SiteRanking
        With ``facility_type`` set; ``before``/``after`` are the share of residential
        land within the type's radius (``coverage_ratio``) without and with the picks.
    """
    objective = check_siting_options(method, count, objective, weight)
    rules = get_life_circle_rules(rules)
    key = facility_type_key(rules, facility_type)
    radius = float(rules.facility(key).radius_m if radius_m is None else radius_m)
    if not (math.isfinite(radius) and radius > 0):
        raise InputError(f"`radius_m` must be a positive number of metres, got {radius_m}")
    res = conformed(residential, "residential", name="residential")
    ensure_metric(res, "residential")
    land = residential_land(
        res,
        boundary=conformed(boundary, "boundary", name="boundary", crs=res.crs),
        districts=conformed(districts, "districts", name="districts", crs=res.crs),
        weight=weight,
        residential_codes=residential_codes,
    )
    fac = conformed(facilities, "facilities", name="facilities", crs=res.crs)
    mine = fac.loc[facility_types(fac, rules)[0] == key]
    # existing facilities by row number: their ids need not be unique, nor meet a candidate's
    keys = [f"facility:{i}" for i in range(len(mine))]
    engine = IncrementalCoverage(land, _reach_frame(keys, mine, radius, res.crs))
    before = engine.figures()
    sites, areas = _candidate_facilities(candidates, res.crs, rules.facility(key), radius,
                                         min_area_m2)  # fmt: skip
    return ranked_sites(
        engine, sites, areas, before=before, rules=rules, count=count, method=method,
        objective=objective, time_limit_s=time_limit_s, weight=weight, facility_type=key,
        parameters={"facility_type": key, "radius_m": radius, "existing_facilities": len(mine),
                    "min_area_m2": min_area_m2},
    )  # fmt: skip


def _reach_frame(ids, geoms, radius: float, crs) -> gpd.GeoDataFrame:
    """Reach of sites as service areas: ``park_id`` (the engine's key) and the buffer."""
    buffers = shapely.buffer(geometry_array(geoms), radius, quad_segs=BUFFER_QUAD_SEGS)
    return gpd.GeoDataFrame(
        {"park_id": pd.Series(ids, dtype=object).astype(str).to_numpy(dtype=object)},
        geometry=buffers,
        crs=crs,
    )


def _candidate_facilities(candidates, crs, entry, radius: float, min_area_m2):
    """Candidates as facilities of one type: table (all) and reach (qualifying ones)."""
    cands = conformed(candidates, "candidates", name="candidates", crs=crs)
    geoms = geometry_array(cands)
    area = shapely.area(geoms)
    n = len(cands)
    reason = np.full(n, "", dtype=object)
    qualifies = np.ones(n, dtype=bool)
    if min_area_m2 is not None:
        small = area < float(min_area_m2)
        reason[small] = f"area below --min-area {float(min_area_m2):g} m²"
        qualifies &= ~small
    ids = cands["candidate_id"].astype(str).to_numpy(dtype=object)
    sites = gpd.GeoDataFrame(
        {
            "candidate_id": pd.Series(ids, dtype="str"),
            "name": pd.Series(cands["name"].to_numpy(dtype=object), dtype="str"),
            "facility_type": pd.Series([entry.type] * n, dtype="str"),
            "label_zh": pd.Series([entry.label_zh] * n, dtype="str"),
            "park_area_m2": area,
            "radius_m": np.full(n, radius),
            "qualifies": qualifies,
            "reason": pd.Series(reason, dtype="str"),
        },
        geometry=geoms,
        crs=cands.crs,
    )
    areas = _reach_frame(ids[qualifies], geoms[qualifies], radius, cands.crs)
    areas = areas.rename(columns={"park_id": "candidate_id"})
    areas["radius_m"] = radius
    return sites, areas
