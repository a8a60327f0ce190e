"""Renewal plans 城市更新项目: the parcels each plan affects, plan tables, effects on coverage.

A *plan* (更新地块 / 片区 / 老旧小区改造) is a polygon; a *parcel* (地块) is a polygon with
household counts (居民户 residential, 非居户 non-residential, 商铺 shops) and the number of
households that have signed (已签约). Three questions are answered here:

* :func:`affected_parcels` — which parcels each plan touches and how much of each: one
  row per (plan, parcel) pair with the overlap area and both shares;
* :func:`plan_summary` / :func:`plan_totals` — the plan table the bureau files: parcel
  count, the plan's area in m², ha and 亩, households by kind, signing progress, and city
  totals that count every parcel once;
* :func:`plan_coverage_effects` — for plans that turn land into park green space, the
  residential land (and households) each newly brings within a park's service radius,
  computed with :mod:`gisrenew.coverage` (never a copy of it).

Rules (also in the README, "Renewal plans")
-------------------------------------------
*Affected.* A parcel is affected by a plan when their overlap has an area of at least
``min_overlap_m2`` (default 1 m²) **and** covers at least ``min_overlap_share`` of the
parcel (default 1 %). Failing either threshold excludes the pair: both guard against
slivers from digitising noise (a plan boundary drawn a few centimetres off a parcel
edge gives a long, thin overlap with a tiny area and a tiny share). Set a threshold to
0 to switch it off. A parcel that only touches a plan (shared edge or corner, zero
area) is never affected, whatever the thresholds.

*Shared parcels.* A parcel cut by two plans appears under both (``plan_count`` 2,
``shared`` true). Per-plan figures count it in each plan; :func:`plan_totals` counts it
once (its area inside the union of its plans, its households once).

*Households of a partly affected parcel* (``household_rule``):

``"whole"`` (default)
    every affected parcel counts with all its households in every plan that affects it
    — the usual practice when a plan boundary follows parcel boundaries;
``"area_share"``
    households × the share of the parcel's area inside the plan (even spread; figures
    may be fractional);
``"largest"``
    all households go to the one plan holding the largest part of the parcel (ties:
    the plan listed first), so per-plan figures add up to the city total.

*Signing.* ``signed`` is the parcels' ``households_signed`` under the same rule;
``households_total`` = residential + non-residential + shops; ``unsigned`` = total −
signed; ``signing_rate`` = signed / total. The roll-up ``signing_status`` is
``no_parcels`` (无涉及地块), ``no_households`` (无住户), ``not_started`` (未启动, nothing
signed), ``signing`` (签约中) or ``signed`` (已完成签约, everything signed); ``unknown``
(签约情况未知) when the parcels carry no signing column.

*Plans that become parks.* A plan whose ``target_use`` is park green space — ``park``,
``green``, ``公园``, ``绿地``, ``公园绿地``, ``口袋公园``, ``G1``, ``G11``–``G14``, ``1401``
(or a plaza, ``G3``/``广场``/``1403``, which counts only under rule sets that count
plazas) — becomes a park of that class with the rule set's tier for its area.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew import jsonable
from gisrenew.coverage import IncrementalCoverage, park_table
from gisrenew.errors import GisrenewWarning, ProjectError, SchemaError
from gisrenew.geometry import geometry_array, in_two_threads, polygonal_part, union_by_group
from gisrenew.io import conformed
from gisrenew.schema import SIGNING_STATUS_TERMS, column_aliases, get_layer_schema, headers_of
from gisrenew.units import M2_PER_HA, M2_PER_MU

__all__ = [
    "DEFAULT_HOUSEHOLD_COLUMNS",
    "DEFAULT_MIN_OVERLAP_M2",
    "DEFAULT_MIN_OVERLAP_SHARE",
    "HOUSEHOLD_RULES",
    "absent_parcel_columns",
    "affected_parcel_layer",
    "affected_parcels",
    "green_plan_class",
    "options_from_settings",
    "plan_coverage_effects",
    "plan_summary",
    "plan_totals",
    "plans_as_parks",
    "plans_to_dict",
    "signing_status",
]

log = logging.getLogger(__name__)

#: Smallest overlap area (m²) for a parcel to count as affected by a plan.
DEFAULT_MIN_OVERLAP_M2 = 1.0
#: Smallest share of the parcel's area inside the plan for it to count as affected.
DEFAULT_MIN_OVERLAP_SHARE = 0.01

HouseholdRule = Literal["whole", "area_share", "largest"]
HOUSEHOLD_RULES: tuple[str, ...] = ("whole", "area_share", "largest")

#: Household kinds counted in ``households_total``.
HOUSEHOLD_KINDS: tuple[str, ...] = ("residential", "nonresidential", "shops")

#: Role → parcels column holding it (override with ``households=``).
DEFAULT_HOUSEHOLD_COLUMNS: dict[str, str] = {
    "residential": "households_residential",
    "nonresidential": "households_nonresidential",
    "shops": "households_shops",
    "signed": "households_signed",
}

# target_use values that make a plan park green space, and the park class they give
_GREEN_USES: dict[str, str] = {
    "park": "G1",
    "parks": "G1",
    "green": "G1",
    "green space": "G1",
    "green_space": "G1",
    "greenspace": "G1",
    "公园": "G1",
    "绿地": "G1",
    "公园绿地": "G1",
    "1401": "G1",
    "g1": "G1",
    "g11": "G11",
    "综合公园": "G11",
    "g12": "G12",
    "社区公园": "G12",
    "g13": "G13",
    "专类公园": "G13",
    "g14": "G14",
    "游园": "G14",
    "pocket park": "G14",
    "pocket_park": "G14",
    "口袋公园": "G14",
    "plaza": "G3",
    "g3": "G3",
    "广场": "G3",
    "广场用地": "G3",
    "1403": "G3",
}

_PAIR_KIND = "plan_parcels"


# --------------------------------------------------------------------------- helpers


def _conform_layers(plans: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame | None):
    """Validate plans (and parcels) and bring parcels into the plans' metric CRS.

    A layer without a CRS is refused (:class:`~gisrenew.errors.CRSError`); parcels in
    another CRS are reprojected to the plans' working CRS, with a log message.
    """
    plans_c = conformed(plans, "plans", name="plans")
    parcels_c = conformed(parcels, "parcels", name="parcels", crs=plans_c.crs)
    return plans_c, parcels_c


def _divide(numerator, denominator) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _check_thresholds(min_overlap_share: float, min_overlap_m2: float) -> None:
    if not (0.0 <= float(min_overlap_share) <= 1.0):
        raise ValueError(f"`min_overlap_share` must lie in 0–1, got {min_overlap_share!r}")
    if not float(min_overlap_m2) >= 0.0:
        raise ValueError(f"`min_overlap_m2` must be 0 or more, got {min_overlap_m2!r}")


def _is_pairs(frame) -> bool:
    return frame.attrs.get("kind") == _PAIR_KIND or {"plan_id", "parcel_id", "overlap_m2"} <= set(
        frame.columns
    )


def absent_parcel_columns(columns, mapping: Mapping[str, str] | None = None) -> list[str]:
    """Parcels schema columns that a source with headers `columns` does not provide.

    A schema column is provided when a header is its English name (any case), its
    Shapefile-truncated name (10 characters), a built-in Chinese alias
    (:func:`gisrenew.schema.column_aliases`) or a header that `mapping` (the
    project's ``[columns.parcels]``, ``{your header: gisrenew column}``) maps to it.
    Used to tell "no household column" from "zero households" before the loader
    fills absent columns with their defaults.
    """
    present = {str(c) for c in columns}
    lower = {c.lower() for c in present}
    mapped = {t for a, t in (mapping or {}).items() if a in present}
    absent = []
    for col in get_layer_schema("parcels").columns:
        names = {col.name, col.name[:10], *headers_of("parcels", col.name)}
        if not (names & present or col.name.lower() in lower or col.name in mapped):
            absent.append(col.name)
    return absent


def _absent_parcel_columns(raw: gpd.GeoDataFrame) -> list[str]:
    """Parcels columns the caller's frame lacked before defaults were filled in.

    ``attrs["defaulted_columns"]`` wins when the loader (or the caller) recorded it; a
    frame that was already conformed (``attrs["kind"] == "parcels"``) without that
    record is taken as complete; otherwise the headers are checked.
    """
    recorded = raw.attrs.get("defaulted_columns")
    if recorded is not None:
        return list(recorded)
    if raw.attrs.get("kind") == "parcels":
        return []
    return absent_parcel_columns(raw.columns)


# --------------------------------------------------------------------------- pairs


def affected_parcels(
    plans: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    min_overlap_share: float = DEFAULT_MIN_OVERLAP_SHARE,
    min_overlap_m2: float = DEFAULT_MIN_OVERLAP_M2,
    geometry: Literal["overlap", "parcel"] = "overlap",
) -> gpd.GeoDataFrame:
    """The parcels each renewal plan affects: one row per (plan, parcel) pair.

    Candidate pairs come from one spatial-index query (``STRtree.query`` with the
    ``intersects`` predicate) and their overlaps from one vectorized
    ``shapely.intersection`` over the pair arrays (a parcel wholly inside its plan
    is taken whole, without an intersection); there is no loop over plans.

    Parameters
    ----------
    plans : geopandas.GeoDataFrame
        Plan polygons (``plan_id``, ``name`` ... optional; see :mod:`gisrenew.schema`).
        Invalid polygons are repaired and reported by :func:`gisrenew.io.conform`.
    parcels : geopandas.GeoDataFrame
        Parcel polygons with their attributes. Reprojected to the plans' CRS when
        different (logged); a layer without a CRS is refused.
    min_overlap_share : float, default 0.01
        Smallest share (0–1) of the parcel's area inside the plan.
    min_overlap_m2 : float, default 1.0
        Smallest overlap area in m². A pair failing either threshold is a sliver and
        left out; touching-only pairs (zero overlap area) are always left out.
    geometry : {"overlap", "parcel"}
        Geometry of each row: the part of the parcel inside the plan (default) or the
        whole parcel. :func:`affected_parcel_layer` gives one row per parcel instead.

    Returns
    -------
    geopandas.GeoDataFrame
        Sorted by plan (input order) then parcel (input order), with columns
        ``plan_id``, ``plan_name``, ``parcel_id``, ``parcel_name``, ``overlap_m2``,
        ``overlap_mu`` (亩), ``parcel_area_m2``, ``parcel_share`` (share of the parcel
        inside the plan), ``plan_share`` (share of the plan covered by the parcel),
        ``plan_count`` (plans affecting this parcel), ``shared`` (``plan_count > 1``),
        then every other parcel column (households, land use, ...), and geometry, in the
        plans' metric CRS.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> plans = gpd.GeoDataFrame({"plan_id": ["P1"]},
    ...     geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:4549")
    >>> parcels = gpd.GeoDataFrame({"parcel_id": ["a", "b"]},
    ...     geometry=[shapely.box(50, 0, 150, 100), shapely.box(100, 0, 200, 100)],
    ...     crs="EPSG:4549")
    >>> pairs = affected_parcels(plans, parcels)
    >>> pairs[["plan_id", "parcel_id", "overlap_m2", "parcel_share"]].values.tolist()
    [['P1', 'a', 5000.0, 0.5]]
    """
    _check_thresholds(min_overlap_share, min_overlap_m2)
    if geometry not in ("overlap", "parcel"):
        raise ValueError(f"`geometry` must be 'overlap' or 'parcel', got {geometry!r}")
    absent = _absent_parcel_columns(parcels)
    plans_c, parcels_c = _conform_layers(plans, parcels)
    parcel_geoms = geometry_array(parcels_c)
    plan_idx, parcel_idx, overlap, area = _overlaps(geometry_array(plans_c), parcel_geoms)
    parcel_area = shapely.area(parcel_geoms)
    plan_area = shapely.area(geometry_array(plans_c))
    parcel_share = _divide(area, parcel_area[parcel_idx])
    plan_share = _divide(area, plan_area[plan_idx])
    keep = _not_sliver(area, parcel_share, min_overlap_m2, min_overlap_share)
    plan_idx, parcel_idx = plan_idx[keep], parcel_idx[keep]
    area, parcel_share, plan_share = area[keep], parcel_share[keep], plan_share[keep]
    plan_count = np.bincount(parcel_idx, minlength=len(parcel_geoms))[parcel_idx]
    base = pd.DataFrame(
        {
            "plan_id": plans_c["plan_id"].to_numpy(dtype=object)[plan_idx],
            "plan_name": plans_c["name"].to_numpy(dtype=object)[plan_idx],
            "parcel_id": parcels_c["parcel_id"].to_numpy(dtype=object)[parcel_idx],
            "parcel_name": parcels_c["name"].to_numpy(dtype=object)[parcel_idx],
            "overlap_m2": area,
            "overlap_mu": area / M2_PER_MU,
            "parcel_area_m2": parcel_area[parcel_idx],
            "parcel_share": parcel_share,
            "plan_share": plan_share,
            "plan_count": plan_count.astype(np.int64),
            "shared": plan_count > 1,
        }
    )
    skip = {"parcel_id", "name", parcels_c.geometry.name, *base.columns}
    extra = [c for c in parcels_c.columns if c not in skip]
    attributes = parcels_c[extra].iloc[parcel_idx].reset_index(drop=True)
    frame = pd.concat([base, attributes], axis=1)
    geoms = polygonal_part(overlap[keep]) if geometry == "overlap" else parcel_geoms[parcel_idx]
    pairs = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=plans_c.crs))
    pairs.attrs = {
        "kind": _PAIR_KIND,
        "geometry": geometry,
        "min_overlap_m2": float(min_overlap_m2),
        "min_overlap_share": float(min_overlap_share),
        "defaulted_columns": absent,
    }
    return pairs


def _overlaps(plan_geoms: np.ndarray, parcel_geoms: np.ndarray):
    """Every (plan, parcel) pair that intersects, sorted by plan then parcel, with the overlap.

    One spatial-index query and one vectorized intersection; a parcel wholly inside its
    plan is taken whole. Returns plan and parcel positions, overlap geometry and area.
    """
    tree = shapely.STRtree(parcel_geoms)
    plan_idx, parcel_idx = tree.query(plan_geoms, predicate="intersects")
    order = np.lexsort((parcel_idx, plan_idx))
    plan_idx, parcel_idx = plan_idx[order], parcel_idx[order]
    a = plan_geoms[plan_idx]
    b = parcel_geoms[parcel_idx]
    shapely.prepare(plan_geoms)
    inside = shapely.covers(a, b)  # parcel wholly in the plan: the overlap is the parcel
    overlap = b.copy()
    partial = np.flatnonzero(~inside)
    if len(partial):
        overlap[partial] = in_two_threads(shapely.intersection, a[partial], b[partial])
    area = np.where(inside, shapely.area(parcel_geoms)[parcel_idx], shapely.area(overlap))
    return plan_idx, parcel_idx, overlap, area


def _not_sliver(area, parcel_share, min_overlap_m2: float, min_overlap_share: float) -> np.ndarray:
    """Pairs whose overlap passes both sliver thresholds (and has an area); logs the rest."""
    keep = (
        (area > 0)
        & (area >= float(min_overlap_m2))
        & (np.nan_to_num(parcel_share) >= float(min_overlap_share))
    )
    dropped = int((~keep & (area > 0)).sum())
    if dropped:
        log.info(
            "%d sliver overlap(s) below min_overlap_m2=%g / min_overlap_share=%g left out",
            dropped, min_overlap_m2, min_overlap_share,
        )  # fmt: skip
    return keep


def affected_parcel_layer(
    plans: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    pairs: gpd.GeoDataFrame | None = None,
    min_overlap_share: float = DEFAULT_MIN_OVERLAP_SHARE,
    min_overlap_m2: float = DEFAULT_MIN_OVERLAP_M2,
) -> gpd.GeoDataFrame:
    """Every affected parcel once, with its whole geometry — the GIS layer of a plan run.

    Parameters
    ----------
    plans, parcels : geopandas.GeoDataFrame
        As for :func:`affected_parcels`.
    pairs : geopandas.GeoDataFrame, optional
        The result of :func:`affected_parcels` on the same layers (recomputed when
        not given).
    min_overlap_share, min_overlap_m2 : float
        Thresholds used when `pairs` is not given.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per affected parcel (parcel input order): ``parcel_id``,
        ``parcel_name``, ``plan_ids`` (``;``-separated, plan order), ``plan_count``,
        ``shared``, ``parcel_area_m2``, ``affected_area_m2`` (the parcel's area inside the
        union of its plans, so a shared parcel is counted once), ``affected_share``,
        the parcel's other columns and its geometry.
    """
    plans_c, parcels_c = _conform_layers(plans, parcels)
    if pairs is None:
        pairs = affected_parcels(
            plans_c, parcels_c, min_overlap_share=min_overlap_share, min_overlap_m2=min_overlap_m2
        )
    row = pd.Index(parcels_c["parcel_id"]).get_indexer(pairs["parcel_id"])
    if (row < 0).any():
        raise SchemaError("`pairs` name parcels that are not in `parcels`; recompute the pairs")
    affected_m2 = _parcel_affected_area(pairs, plans_c, row, len(parcels_c))
    hit = np.flatnonzero(np.bincount(row, minlength=len(parcels_c)) > 0)
    ordered = pairs.assign(_row=row).sort_values(["_row"], kind="stable")
    plan_ids = ordered.groupby("_row", sort=True)["plan_id"].agg(lambda s: ";".join(map(str, s)))
    out = parcels_c.iloc[hit].reset_index(drop=True)
    out = out.rename(columns={"name": "parcel_name"})
    area = shapely.area(geometry_array(out))
    counts = np.bincount(row, minlength=len(parcels_c))[hit]
    lead = pd.DataFrame(
        {
            "plan_ids": plan_ids.reindex(hit).to_numpy(dtype=object),
            "plan_count": counts.astype(np.int64),
            "shared": counts > 1,
            "parcel_area_m2": area,
            "affected_area_m2": affected_m2[hit],
            "affected_area_mu": affected_m2[hit] / M2_PER_MU,
            "affected_share": _divide(affected_m2[hit], area),
        }
    )
    geom_name = out.geometry.name
    rest = [c for c in out.columns if c not in ("parcel_id", "parcel_name", geom_name)]
    frame = pd.concat([out[["parcel_id", "parcel_name"]], lead, out[rest]], axis=1)
    layer = gpd.GeoDataFrame(frame, geometry=out.geometry.reset_index(drop=True), crs=out.crs)
    absent = pairs.attrs.get("defaulted_columns")
    layer.attrs = {
        "kind": "affected_parcels",
        # the columns the caller's parcels lacked (filled with defaults): signing_status()
        # tells "no signing column" from "nothing signed" by them
        "defaulted_columns": list(_absent_parcel_columns(parcels) if absent is None else absent),
    }
    return layer


def _parcel_affected_area(
    pairs: gpd.GeoDataFrame, plans_c: gpd.GeoDataFrame, row: np.ndarray, n_parcels: int
) -> np.ndarray:
    """Per parcel (by position), its area inside the union of the plans affecting it."""
    out = np.zeros(n_parcels)
    overlap = pairs["overlap_m2"].to_numpy(dtype=float)
    counts = np.bincount(row, minlength=n_parcels)
    single = counts[row] == 1
    out[row[single]] = overlap[single]
    shared = np.flatnonzero(~single)
    if len(shared):
        geoms = geometry_array(pairs)[shared]
        if pairs.attrs.get("geometry") != "overlap":
            plan_pos = pd.Index(plans_c["plan_id"]).get_indexer(pairs["plan_id"].iloc[shared])
            geoms = shapely.intersection(geoms, geometry_array(plans_c)[plan_pos])
        codes, uniques = pd.factorize(row[shared])
        _, union = union_by_group(geoms, codes)  # codes 0..k-1: the unions in that order
        out[np.asarray(uniques)] = shapely.area(union)
    return out


# --------------------------------------------------------------------------- summaries


def _household_columns(
    pairs: gpd.GeoDataFrame, households: Mapping[str, str] | None
) -> dict[str, str | None]:
    """Resolve role → column; raise SchemaError naming the mapping to set."""
    households = dict(households or {})
    unknown = set(households) - set(DEFAULT_HOUSEHOLD_COLUMNS)
    if unknown:
        raise ValueError(
            f"`households` has unknown key(s) {sorted(unknown)}; "
            f"allowed: {', '.join(DEFAULT_HOUSEHOLD_COLUMNS)}"
        )
    absent = set(pairs.attrs.get("defaulted_columns", ()))
    resolved: dict[str, str | None] = {}
    for role, default in DEFAULT_HOUSEHOLD_COLUMNS.items():
        if role in households:
            column = households[role]
            if column not in pairs.columns:  # a header the loader renamed (已签约户数)
                column = column_aliases("parcels").get(column.strip(), column)
            if column not in pairs.columns:
                raise SchemaError(
                    f"`households` maps {role!r} to column {column!r}, which the parcels "
                    f"layer does not have. Columns: {', '.join(map(str, pairs.columns))}. "
                    "Fix: name an existing column, or map yours in [columns.parcels] of "
                    "gisrenew.toml."
                )
            resolved[role] = column
        else:
            resolved[role] = None if default in absent or default not in pairs.columns else default
    if all(resolved[k] is None for k in HOUSEHOLD_KINDS):
        names = ", ".join(
            f"{DEFAULT_HOUSEHOLD_COLUMNS[k]}"
            f" ({'/'.join(headers_of('parcels', DEFAULT_HOUSEHOLD_COLUMNS[k]))})"
            for k in HOUSEHOLD_KINDS
        )
        raise SchemaError(
            "the parcels layer has no household columns, so a plan table would show zero "
            f"households. Expected one or more of: {names}. Fix: map your columns in "
            '[columns.parcels] of gisrenew.toml (e.g. `"居民户数量" = "households_residential"`), '
            "or pass `households={'residential': 'your column', ...}` in Python."
        )
    for role in HOUSEHOLD_KINDS:
        if resolved[role] is None:
            log.info("parcels have no %s households column; counted as 0", role)
    if resolved["signed"] is None:
        log.info(
            "parcels have no households_signed (已签约) column; signing progress is unknown. "
            "Map yours in [columns.parcels] of gisrenew.toml."
        )
    return resolved


def _parcel_ids(frame: pd.DataFrame) -> np.ndarray:
    """Parcel ids of the rows (row numbers from 1 when the frame has no ``parcel_id``)."""
    if "parcel_id" in frame.columns:
        return frame["parcel_id"].to_numpy()
    return np.arange(1, len(frame) + 1)


def _numeric(pairs: pd.DataFrame, column: str | None) -> np.ndarray:
    if column is None:
        return np.zeros(len(pairs))
    values = pd.to_numeric(pairs[column], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) | (values < 0)
    if bad.any():
        ids = _parcel_ids(pairs)[bad][:5].tolist()
        raise SchemaError(
            f"parcels column {column!r} has {int(bad.sum())} value(s) that are not counts "
            f"(empty, text or negative), e.g. parcels {ids}. Fix: clean the column."
        )
    return values


def _rule_factor(pairs: pd.DataFrame, rule: str) -> np.ndarray:
    if rule == "whole":
        return np.ones(len(pairs))
    if rule == "area_share":
        return pairs["parcel_share"].to_numpy(dtype=float)
    if rule == "largest":
        if len(pairs) == 0:
            return np.zeros(0)
        position = pd.Series(np.arange(len(pairs)), index=pairs.index)
        overlap = pd.Series(pairs["overlap_m2"].to_numpy(dtype=float), index=pairs.index)
        winner = overlap.groupby(pairs["parcel_id"].to_numpy(), sort=False).idxmax()
        factor = np.zeros(len(pairs))
        factor[position.loc[winner.to_numpy()].to_numpy()] = 1.0
        return factor
    raise ValueError(f"`household_rule` must be one of {', '.join(HOUSEHOLD_RULES)}, got {rule!r}")


def _status_codes(n_parcels, total, signed, signed_known: bool) -> tuple[np.ndarray, np.ndarray]:
    """Signing roll-up codes (and Chinese labels) — the one rule for parcels and plans."""
    n_parcels = np.asarray(n_parcels)
    total = np.asarray(total, dtype=float)
    signed = np.asarray(signed, dtype=float)
    tol = 1e-9
    status = np.where(
        n_parcels == 0,
        "no_parcels",
        np.where(
            total <= tol,
            "no_households",
            np.where(
                not signed_known,
                "unknown",
                np.where(
                    signed <= tol,
                    "not_started",
                    np.where(signed >= total - 1e-6, "signed", "signing"),
                ),
            ),
        ),
    ).astype(object)
    zh = np.array([SIGNING_STATUS_TERMS[s][0] for s in status], dtype=object)
    return status, zh


def _prepare_pairs(plans, parcels, *, min_overlap_share, min_overlap_m2):
    plans_c, _ = _conform_layers(plans, None)
    if _is_pairs(parcels):
        pairs = parcels
        unknown = ~pairs["plan_id"].isin(plans_c["plan_id"]).to_numpy()
        if unknown.any():
            raise SchemaError(
                f"`parcels` holds pairs for plans not in `plans` "
                f"({pairs['plan_id'][unknown].unique()[:5].tolist()}); recompute the pairs "
                "with affected_parcels() on these plans"
            )
    else:
        pairs = affected_parcels(
            plans_c, parcels, min_overlap_share=min_overlap_share, min_overlap_m2=min_overlap_m2
        )
    return plans_c, pairs


def _household_counts(frame, households):
    """Household columns of `frame` (parcels or pairs): counts by kind and signed (capped).

    Returns ``(columns, kinds, signed, signed_known)``; ``signed`` is zeros when the
    frame has no signing column (``signed_known`` False).
    """
    columns = _household_columns(frame, households)
    kinds = {k: _numeric(frame, columns[k]) for k in HOUSEHOLD_KINDS}
    signed_known = columns["signed"] is not None
    signed = _numeric(frame, columns["signed"]) if signed_known else np.zeros(len(frame))
    total = sum(kinds.values())
    over = signed > total + 1e-9
    if over.any():
        ids = pd.unique(_parcel_ids(frame)[over])[:5].tolist()
        warnings.warn(
            f"{len(pd.unique(_parcel_ids(frame)[over]))} parcel(s) have more signed "
            f"households than households (e.g. {ids}); their signed count is capped at the "
            "household total",
            GisrenewWarning,
            stacklevel=5,
        )
        signed = np.minimum(signed, total)
    return columns, kinds, signed, signed_known


def _household_arrays(pairs, households, rule):
    columns, kinds, signed, signed_known = _household_counts(pairs, households)
    return columns, _rule_factor(pairs, rule), kinds, signed, signed_known


def signing_status(
    parcels: pd.DataFrame, households: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Households, signed/unsigned and signing status 签约进度 of each parcel.

    The same rule as the plan table (:func:`plan_summary`): ``no_households`` (无住户),
    ``not_started`` (未启动, nothing signed), ``signing`` (签约中), ``signed`` (已完成签约)
    and ``unknown`` (签约情况未知) when the parcels have no signing column — a column
    the loader filled with its default (``attrs["defaulted_columns"]``) counts as
    absent, so "no data" is never shown as "nothing signed". Signed counts above the
    household total are capped at it (with a warning).

    Parameters
    ----------
    parcels : pandas.DataFrame
        Parcels (or the layer of :func:`affected_parcel_layer`) with household columns.
    households : mapping, optional
        ``{role: column}`` overrides, as for :func:`plan_summary`.

    Returns
    -------
    pandas.DataFrame
        On the input index: ``households_total``, ``households_signed`` and
        ``households_unsigned`` (nan when unknown), ``signing_rate`` (nan without
        households or signing column), ``signing_status``, ``signing_status_zh``.

    Raises
    ------
    SchemaError
        When the parcels have none of the household columns.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"parcel_id": ["a", "b"], "households_residential": [10, 4],
    ...                       "households_signed": [10, 0]})
    >>> signing_status(frame)["signing_status"].tolist()
    ['signed', 'not_started']
    >>> signing_status(frame.drop(columns="households_signed"))["signing_status"].tolist()
    ['unknown', 'unknown']
    """
    _, kinds, signed, signed_known = _household_counts(parcels, households)
    total = sum(kinds.values())
    if not signed_known:
        signed = np.full(len(parcels), np.nan)
    status, status_zh = _status_codes(np.ones(len(parcels)), total, signed, signed_known)
    return pd.DataFrame(
        {
            "households_total": total,
            "households_signed": signed,
            "households_unsigned": total - signed,
            "signing_rate": _divide(signed, total),
            "signing_status": status,
            "signing_status_zh": status_zh,
        },
        index=parcels.index,
    )


def plan_summary(
    plans: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    household_rule: HouseholdRule = "whole",
    households: Mapping[str, str] | None = None,
    min_overlap_share: float = DEFAULT_MIN_OVERLAP_SHARE,
    min_overlap_m2: float = DEFAULT_MIN_OVERLAP_M2,
) -> gpd.GeoDataFrame:
    """The plan table: one row per plan, in input order, plans without parcels included.

    Parameters
    ----------
    plans : geopandas.GeoDataFrame
        Plan polygons.
    parcels : geopandas.GeoDataFrame
        The parcels layer, or the pairs returned by :func:`affected_parcels` for these
        plans (then the thresholds below are not used).
    household_rule : {"whole", "area_share", "largest"}
        How a partly affected parcel's households count (see module docs).
    households : mapping, optional
        ``{role: column}`` overrides for the roles ``residential``, ``nonresidential``,
        ``shops`` and ``signed``; defaults are the parcels schema columns
        (:data:`DEFAULT_HOUSEHOLD_COLUMNS`).
    min_overlap_share, min_overlap_m2 : float
        Sliver thresholds, see :func:`affected_parcels`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``plan_id``, ``name``, ``plan_type``, ``target_use``, ``plan_status`` (the plan
        layer's own status text), ``parcel_count``, ``shared_parcels`` (affected parcels
        that another plan affects too), ``area_m2/_ha/_mu`` (the plan polygon),
        ``affected_area_m2/_ha/_mu`` (parcel area inside the plan), ``parcels_area_m2/
        _ha/_mu`` (whole area of the affected parcels), ``households_residential``,
        ``households_nonresidential``, ``households_shops``, ``households_total``,
        ``signed``, ``unsigned``, ``signing_rate`` (nan without households),
        ``signing_status`` and ``signing_status_zh``, ``household_rule``; geometry is
        the plan polygon.

    Raises
    ------
    SchemaError
        When the parcels have none of the household columns (the message names the
        ``[columns.parcels]`` mapping to set), or a mapped column is missing.
    """
    plans_c, pairs = _prepare_pairs(
        plans, parcels, min_overlap_share=min_overlap_share, min_overlap_m2=min_overlap_m2
    )
    columns, factor, kinds, signed, signed_known = _household_arrays(
        pairs, households, household_rule
    )
    code = pd.Index(plans_c["plan_id"]).get_indexer(pairs["plan_id"])
    data: dict[str, Any] = {
        "plan_id": plans_c["plan_id"].to_numpy(dtype=object),
        "name": plans_c["name"].to_numpy(dtype=object),
        "plan_type": plans_c["plan_type"].to_numpy(dtype=object),
        "target_use": plans_c["target_use"].to_numpy(dtype=object),
        "plan_status": plans_c["status"].to_numpy(dtype=object),
        **_plan_areas(plans_c, pairs, code),
        **_plan_households(
            code, len(plans_c), kinds, factor, signed if signed_known else None, household_rule
        ),
    }
    summary = gpd.GeoDataFrame(
        pd.DataFrame(data), geometry=plans_c.geometry.reset_index(drop=True), crs=plans_c.crs
    )
    summary.attrs = {"kind": "plan_summary", "household_rule": household_rule, "columns": columns}
    return summary


def _plan_areas(plans_c: gpd.GeoDataFrame, pairs: pd.DataFrame, code: np.ndarray) -> dict:
    """Per plan: parcel counts, and the plan's, affected and parcels' areas in m², ha, 亩."""
    n = len(plans_c)
    parcel_count = np.bincount(code, minlength=n)
    shared = np.bincount(code, weights=pairs["shared"].to_numpy(dtype=float), minlength=n)
    data: dict[str, Any] = {
        "parcel_count": parcel_count.astype(np.int64),
        "shared_parcels": np.round(shared).astype(np.int64),
    }
    for prefix, values in (
        ("area", shapely.area(geometry_array(plans_c))),
        ("affected_area", np.bincount(code, pairs["overlap_m2"].to_numpy(dtype=float), n)),
        ("parcels_area", np.bincount(code, pairs["parcel_area_m2"].to_numpy(dtype=float), n)),
    ):
        data[f"{prefix}_m2"] = values
        data[f"{prefix}_ha"] = values / M2_PER_HA
        data[f"{prefix}_mu"] = values / M2_PER_MU
    return data


def _plan_households(code, n, kinds, factor, signed, household_rule) -> dict:
    """Per plan: households by kind, signed/unsigned, rate and status (``signed`` None: unknown)."""

    def per_plan(values) -> np.ndarray:
        return np.bincount(code, weights=np.asarray(values, dtype=float), minlength=n)

    counts = {k: per_plan(kinds[k] * factor) for k in HOUSEHOLD_KINDS}
    total = sum(counts.values())
    signed_sum = np.full(n, np.nan) if signed is None else per_plan(signed * factor)
    status, status_zh = _status_codes(np.bincount(code, minlength=n), total, signed_sum,
                                      signed is not None)  # fmt: skip
    whole = household_rule != "area_share"

    def count_column(values):
        return np.round(values).astype(np.int64) if whole and not np.isnan(values).any() else values

    data = {f"households_{kind}": count_column(counts[kind]) for kind in HOUSEHOLD_KINDS}
    data["households_total"] = count_column(total)
    data["signed"] = count_column(signed_sum)
    data["unsigned"] = count_column(total - signed_sum)
    data["signing_rate"] = _divide(signed_sum, total)
    data["signing_status"] = status
    data["signing_status_zh"] = status_zh
    data["household_rule"] = np.full(n, household_rule, dtype=object)
    return data


def plan_totals(
    plans: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    household_rule: HouseholdRule = "whole",
    households: Mapping[str, str] | None = None,
    min_overlap_share: float = DEFAULT_MIN_OVERLAP_SHARE,
    min_overlap_m2: float = DEFAULT_MIN_OVERLAP_M2,
) -> dict[str, Any]:
    """City totals over all plans, counting every parcel (and every m²) once.

    Parameters are those of :func:`plan_summary`. Under ``"whole"`` and ``"largest"``
    each affected parcel's households count once; under ``"area_share"`` they count
    by the share of the parcel inside the union of the plans affecting it.

    Returns
    -------
    dict
        ``plans``, ``parcel_count`` (distinct parcels), ``shared_parcels`` (parcels in
        more than one plan), ``area_m2/_ha/_mu`` (the union of the plan polygons, so
        overlapping plans count once), ``affected_area_m2/_ha/_mu`` (parcel area inside
        the union of the plans), household counts, ``signed``, ``unsigned``,
        ``signing_rate``, ``signing_status``/``signing_status_zh``, ``household_rule``.
    """
    plans_c, pairs = _prepare_pairs(
        plans, parcels, min_overlap_share=min_overlap_share, min_overlap_m2=min_overlap_m2
    )
    _, _, kinds, signed, signed_known = _household_arrays(pairs, households, "whole")
    if household_rule not in HOUSEHOLD_RULES:
        raise ValueError(
            f"`household_rule` must be one of {', '.join(HOUSEHOLD_RULES)}, got {household_rule!r}"
        )
    codes, uniques = pd.factorize(pairs["parcel_id"].to_numpy(dtype=object))
    n_parcels = len(uniques)
    first = np.unique(codes, return_index=True)[1]  # first pair of each parcel
    affected = _parcel_affected_area(pairs, plans_c, codes, n_parcels)
    parcel_area = pairs["parcel_area_m2"].to_numpy(dtype=float)[first]
    factor = (
        _divide(affected, parcel_area) if household_rule == "area_share" else np.ones(n_parcels)
    )
    factor = np.nan_to_num(factor)
    counts = {k: float((kinds[k][first] * factor).sum()) for k in HOUSEHOLD_KINDS}
    total = sum(counts.values())
    signed_total = float((signed[first] * factor).sum()) if signed_known else math.nan
    plan_count_per_parcel = np.bincount(codes, minlength=n_parcels)
    union_area = (
        float(shapely.area(shapely.union_all(geometry_array(plans_c)))) if len(plans_c) else 0.0
    )
    status, status_zh = _status_codes([n_parcels], [total], [signed_total], signed_known)
    whole = household_rule != "area_share"

    def count(value: float):
        return round(value) if whole and not math.isnan(value) else value

    result: dict[str, Any] = {
        "plans": len(plans_c),
        "parcel_count": n_parcels,
        "shared_parcels": int((plan_count_per_parcel > 1).sum()),
        "area_m2": union_area,
        "area_ha": union_area / M2_PER_HA,
        "area_mu": union_area / M2_PER_MU,
        "affected_area_m2": float(affected.sum()),
        "affected_area_ha": float(affected.sum()) / M2_PER_HA,
        "affected_area_mu": float(affected.sum()) / M2_PER_MU,
    }
    for kind in HOUSEHOLD_KINDS:
        result[f"households_{kind}"] = count(counts[kind])
    result["households_total"] = count(total)
    result["signed"] = count(signed_total)
    result["unsigned"] = count(total - signed_total)
    result["signing_rate"] = signed_total / total if total > 0 else math.nan
    result["signing_status"] = str(status[0])
    result["signing_status_zh"] = str(status_zh[0])
    result["household_rule"] = household_rule
    return result


# --------------------------------------------------------------------------- coverage effects


def green_plan_class(target_use) -> np.ndarray:
    """Park class a plan gets from its ``target_use`` (``""`` when it does not become green).

    Matching ignores case and surrounding spaces; see the module docs for the values.

    Examples
    --------
    >>> green_plan_class(["park", "G12", "公园", "residential", "口袋公园"]).tolist()
    ['G1', 'G12', 'G1', '', 'G14']
    """
    values = pd.Series(np.atleast_1d(np.asarray(target_use, dtype=object)), dtype=object)
    keys = values.fillna("").astype(str).str.strip().str.lower()
    return keys.map(_GREEN_USES).fillna("").to_numpy(dtype=object)


def plans_as_parks(plans: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The plans whose target use is park green space, as a parks layer.

    Returns
    -------
    geopandas.GeoDataFrame
        ``park_id`` (``"plan:<plan_id>"``), ``plan_id``, ``name``, ``park_class`` (from
        ``target_use``, see :func:`green_plan_class`), ``is_pocket_park`` (class G14) and
        the plan geometry; ready for :func:`gisrenew.coverage.compute_coverage`.
    """
    plans_c, _ = _conform_layers(plans, None)
    classes = green_plan_class(plans_c["target_use"].to_numpy(dtype=object))
    green = classes != ""
    chosen = plans_c.loc[green].reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "park_id": ("plan:" + chosen["plan_id"].astype(str)).to_numpy(dtype=object),
            "plan_id": chosen["plan_id"].to_numpy(dtype=object),
            "name": chosen["name"].to_numpy(dtype=object),
            "park_class": classes[green],
            "is_pocket_park": classes[green] == "G14",
        }
    )
    return gpd.GeoDataFrame(frame, geometry=chosen.geometry.reset_index(drop=True), crs=plans_c.crs)


def plan_coverage_effects(
    plans: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    *,
    rules=None,
    boundary: gpd.GeoDataFrame | None = None,
    weight: str | None = "households",
    residential_codes=None,
    convert_residential: bool = True,
) -> pd.DataFrame:
    """Residential land each green plan newly brings within a park's service radius.

    Every plan whose ``target_use`` is park green space (:func:`green_plan_class`)
    becomes a park of that class, with the rule set's tier for its own area; the
    residential land it newly covers is the land within its service area that no
    existing park covers. Each plan is judged alone against the existing parks
    (two green plans close together each report the land they would bring on their
    own). The gain is :meth:`gisrenew.coverage.IncrementalCoverage.gain_if_added` on the
    coverage of the existing parks (the residential denominator, service areas and
    covered areas of :mod:`gisrenew.coverage`).

    Parameters
    ----------
    plans, parks, residential : geopandas.GeoDataFrame
        Plans, existing parks and residential land (居住用地).
    rules : str, RuleSet or None
        Rule set (default preset when None).
    boundary : geopandas.GeoDataFrame, optional
        Built-up area 建成区; residential land outside it does not count.
    weight : str or None, default "households"
        Residential column spread evenly over each polygon's area to count households
        newly served (``None``: no household figures).
    residential_codes : sequence of str, optional
        Land-use code prefixes that count as residential (default: the rule set's).
    convert_residential : bool, default True
        Residential land under a green plan becomes park: it leaves the denominator
        and is reported as ``converted_residential_m2`` instead of as newly covered.

    Returns
    -------
    pandas.DataFrame
        One row per green plan: ``plan_id``, ``name``, ``target_use``, ``park_class``,
        ``park_area_m2``, ``tier``, ``radius_m`` (nan when it does not qualify),
        ``qualifies``, ``reason``, ``new_covered_m2/_ha/_mu``, ``new_households``,
        ``converted_residential_m2``, ``converted_households``. Plans that do not turn
        green are not listed.
    """
    plans_c = conformed(plans, "plans", name="plans")
    new_parks = plans_as_parks(plans_c)
    table = park_table(new_parks, rules=rules)
    engine = IncrementalCoverage.from_layers(
        conformed(parks, "parks", name="parks", crs=plans_c.crs),
        conformed(residential, "residential", name="residential", crs=plans_c.crs),
        rules=rules,
        boundary=conformed(boundary, "boundary", name="boundary", crs=plans_c.crs),
        weight=weight,
        residential_codes=residential_codes,
    )
    ids, reach, _ = engine.service_geometries(new_parks)
    reach_of = dict(zip(ids, reach, strict=True))
    land = engine.land
    area = land["area_m2"].to_numpy(dtype=float)
    density = _divide(land["weight"].to_numpy(dtype=float), area) if weight else np.zeros(len(land))
    n = len(new_parks)
    new_m2, new_households = np.zeros(n), np.zeros(n)
    converted_m2, converted_hh = np.zeros(n), np.zeros(n)
    # one gain per green plan (few), each on the land its service area reaches
    for i, (park_id, footprint) in enumerate(
        zip(new_parks["park_id"], geometry_array(new_parks), strict=True)
    ):
        if convert_residential:
            converted_m2[i], converted_hh[i] = _converted(engine, density, footprint)
        if park_id in reach_of:
            new_m2[i], new_households[i] = engine.gain_if_added(
                reach_of[park_id], footprint=footprint if convert_residential else None
            )
    has_weight = weight is not None
    park_rows = table.set_index("park_id").reindex(new_parks["park_id"])
    return pd.DataFrame(
        {
            "plan_id": new_parks["plan_id"].to_numpy(dtype=object),
            "name": new_parks["name"].to_numpy(dtype=object),
            "target_use": plans_c.set_index("plan_id")
            .loc[new_parks["plan_id"], "target_use"]
            .to_numpy(dtype=object),
            "park_class": new_parks["park_class"].to_numpy(dtype=object),
            "park_area_m2": park_rows["park_area_m2"].to_numpy(dtype=float),
            "tier": park_rows["tier"].to_numpy(),
            "radius_m": park_rows["radius_m"].to_numpy(dtype=float),
            "qualifies": park_rows["qualifies"].to_numpy(dtype=bool),
            "reason": park_rows["reason"].to_numpy(dtype=object),
            "new_covered_m2": new_m2,
            "new_covered_ha": new_m2 / M2_PER_HA,
            "new_covered_mu": new_m2 / M2_PER_MU,
            "new_households": new_households if has_weight else np.full(n, np.nan),
            "converted_residential_m2": converted_m2,
            "converted_households": converted_hh if has_weight else np.full(n, np.nan),
        }
    )


def _converted(engine: IncrementalCoverage, density: np.ndarray, footprint) -> tuple[float, float]:
    """Residential land (m², households) under `footprint`, which becomes park."""
    touched = engine.pieces_touching(footprint)
    if len(touched) == 0:
        return 0.0, 0.0
    pieces = geometry_array(engine.land)[touched]
    under = shapely.area(shapely.intersection(pieces, footprint))
    return float(under.sum()), float((under * density[touched]).sum())


# --------------------------------------------------------------------------- output


_JSON_PLAN_COLUMNS = [
    "plan_id", "name", "plan_type", "target_use", "parcel_count", "shared_parcels",
    "area_m2", "area_ha", "area_mu", "affected_area_m2", "affected_area_mu",
    "households_residential", "households_nonresidential", "households_shops",
    "households_total", "signed", "unsigned", "signing_rate", "signing_status",
    "signing_status_zh",
]  # fmt: skip
_JSON_PAIR_COLUMNS = [
    "plan_id", "parcel_id", "overlap_m2", "overlap_mu", "parcel_share", "plan_share", "shared",
]  # fmt: skip


def plans_to_dict(
    summary: pd.DataFrame,
    pairs: pd.DataFrame,
    totals: Mapping[str, Any] | None = None,
    coverage_effects: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """JSON-ready dict: ``plans`` (one object per plan), ``pairs``, ``totals``, parameters."""
    data: dict[str, Any] = {
        "household_rule": summary.attrs.get("household_rule"),
        "min_overlap_m2": pairs.attrs.get("min_overlap_m2"),
        "min_overlap_share": pairs.attrs.get("min_overlap_share"),
        "plans": jsonable.records(summary, _JSON_PLAN_COLUMNS),
        "pairs": jsonable.records(pairs, _JSON_PAIR_COLUMNS),
    }
    if totals is not None:
        data["totals"] = {
            k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in totals.items()
        }
    if coverage_effects is not None:
        data["coverage_effects"] = jsonable.records(
            coverage_effects, list(coverage_effects.columns)
        )
    return data


SETTINGS_KEYS = {"min_overlap_share", "min_overlap_m2", "household_rule", "households"}


def options_from_settings(
    section: Mapping[str, Any], *, where: str = "gisrenew.toml"
) -> dict[str, Any]:
    """Keyword arguments of :func:`plan_summary` / :func:`plan_totals` from a ``[plans]`` table.

    Unknown keys are an error, so a typo never silently falls back to a default.
    """
    unknown = set(section) - SETTINGS_KEYS
    if unknown:
        raise ProjectError(
            f"{where}: unknown key(s) in [plans]: {sorted(unknown)}; known: {sorted(SETTINGS_KEYS)}"
        )
    out: dict[str, Any] = {}
    for key in ("min_overlap_share", "min_overlap_m2"):
        if key in section:
            try:
                out[key] = float(section[key])
            except (TypeError, ValueError):
                raise ProjectError(f"{where}: [plans] {key} must be a number") from None
    if "household_rule" in section:
        rule = str(section["household_rule"])
        if rule not in HOUSEHOLD_RULES:
            raise ProjectError(
                f"{where}: [plans] household_rule must be one of "
                f"{', '.join(HOUSEHOLD_RULES)}, got {rule!r}"
            )
        out["household_rule"] = rule
    if "households" in section:
        mapping = section["households"]
        if not isinstance(mapping, dict):
            raise ProjectError(f"{where}: [plans.households] must be a table of role = column")
        out["households"] = {str(k): str(v) for k, v in mapping.items()}
    return out
