"""The result of a life-circle analysis: per piece, per type, per circle, per district.

:class:`LifeCircleResult` holds plain tables with stable English column names (the
presenters word them) and :meth:`LifeCircleResult.to_dict` gives the JSON-ready
figures. The tables are built from per-piece matrices by :func:`summary_tables`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gisrenew.errors import Problem
from gisrenew.jsonable import plain, records
from gisrenew.lifecircles.rules import LifeCircleRules

__all__ = ["LifeCircleResult", "summary_tables"]

#: What the tables of each group are keyed by.
_TYPE_KEYS = ["facility_type", "label_zh", "label_en", "circle_min", "required", "limit_m"]


@dataclass(frozen=True)
class LifeCircleResult:
    """Which homes reach which services 社区生活圈 (one rule set, one method).

    Attributes
    ----------
    rules : LifeCircleRules
        The rule set (name, version, every entry and clause).
    method : {"buffer", "network"}
        ``buffer``: straight line from the facility's boundary within the type's radius;
        ``network``: walk along streets within the type's walking distance.
    land : geopandas.GeoDataFrame
        The residential pieces (the park coverage's denominator,
        :func:`gisrenew.coverage.residential_land`) with, per circle ``m``:
        ``required_types_{m}min``, ``types_reached_{m}min``, ``missing_{m}min`` (the
        canonical keys of the required types not reached, comma-separated),
        ``complete_{m}min`` and ``complete_{m}min_m2``; with the walk also
        ``connector_m``.
    reach : pandas.DataFrame
        One row per piece and type: ``piece`` (row of `land`), ``residential_id``,
        ``district_id``, ``facility_type``, ``circle_min``, ``required``, ``limit_m``,
        ``distance_m`` (nearest facility of the type; inf: none/no path; nan: no street),
        ``nearest_facility_id``, ``reached``, ``reached_m2``, ``reached_weight``.
    types, circles : pandas.DataFrame
        City figures per type (land and weight reached, shares) and per circle (land and
        weight in a complete circle).
    district_types, district_circles : pandas.DataFrame
        The same per district (``district_id``, ``name`` first); empty without districts.
    gaps : geopandas.GeoDataFrame
        Residential land not reached, per type: ``facility_type``, ``circle_min``,
        ``residential_id``, ``district_id``, ``area_m2``, geometry.
    facilities : geopandas.GeoDataFrame
        The facilities used, with their canonical ``facility_type`` (and ``access`` for
        the walk).
    problems : tuple of Problem
        Warnings (facility rows of unknown type left out).
    parameters : dict
        Every option (radii, walking distances, snap and connector limits, weight).
    """

    rules: LifeCircleRules
    method: str
    land: gpd.GeoDataFrame
    reach: pd.DataFrame
    types: pd.DataFrame
    circles: pd.DataFrame
    district_types: pd.DataFrame
    district_circles: pd.DataFrame
    gaps: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    problems: tuple[Problem, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def residential_area_m2(self) -> float:
        """All residential land (the denominator), m²."""
        return float(self.land["area_m2"].sum())

    def complete_share(self, minutes: int, *, weighted: bool = False) -> float:
        """Share of residential land (or weight) in a complete `minutes` life circle."""
        row = self.circles.loc[self.circles["circle_min"] == minutes]
        if row.empty:
            raise KeyError(f"no {minutes}-minute circle in {self.rules.name}")
        column = "complete_weight_share" if weighted else "complete_share"
        return float(row[column].iloc[0])

    def walking_distances(self) -> dict[str, float]:
        """The distance each type is measured against (radius or walk), by canonical key."""
        return dict(zip(self.types["facility_type"], self.types["limit_m"], strict=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures: rule set, method, distances, city and district tables."""
        return plain(
            {
                "rules": {
                    "name": self.rules.name,
                    "version": self.rules.version,
                    "title": self.rules.title,
                    "origin": self.rules.origin,
                },
                "method": self.method,
                "distance": "straight line" if self.method == "buffer" else "walk along streets",
                "walking_distances_m": self.walking_distances(),
                "residential_area_m2": self.residential_area_m2,
                "types": records(self.types),
                "circles": records(self.circles),
                "district_types": records(self.district_types),
                "district_circles": records(self.district_circles),
                "problems": [p.text(severity=False) for p in self.problems],
                "parameters": self.parameters,
            }
        )


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    part = np.asarray(part, dtype=float)
    whole = np.broadcast_to(np.asarray(whole, dtype=float), part.shape)
    return np.divide(part, whole, out=np.full(part.shape, np.nan), where=whole > 0)


def _grouped(code: np.ndarray, m: int, values: np.ndarray) -> np.ndarray:
    """Column sums of `values` (pieces × columns) per group code 0..m-1."""
    # bincount adds in row order, as np.add.at does, column by column (a few columns)
    out = [np.bincount(code, values[:, j], minlength=m) for j in range(values.shape[1])]
    return np.column_stack(out) if out else np.zeros((m, 0))


def _figures(area, weight, reached_m2, reached_w, complete_m2, complete_w):
    """Totals of one group: per type and per circle (arrays of one row per group)."""
    return {
        "area": area,
        "weight": weight,
        "reached_m2": reached_m2,
        "reached_weight": reached_w,
        "complete_m2": complete_m2,
        "complete_weight": complete_w,
    }


def _repeated(keys: pd.DataFrame, groups: int) -> pd.DataFrame:
    """The key rows once per group, group by group."""
    return keys.take(np.tile(np.arange(len(keys)), groups)).reset_index(drop=True)


def _type_rows(keys: pd.DataFrame, facilities: np.ndarray, fig: dict) -> pd.DataFrame:
    """Rows per type, for every group of `fig` (group by group)."""
    g = len(fig["area"])
    area, weight = np.repeat(fig["area"], len(keys)), np.repeat(fig["weight"], len(keys))
    table = _repeated(keys, g)
    table["facilities"] = np.tile(facilities, g)
    table["residential_area_m2"] = area
    table["reached_m2"] = fig["reached_m2"].ravel()
    table["reached_share"] = _share(fig["reached_m2"].ravel(), area)
    table["weight_total"] = weight
    table["reached_weight"] = fig["reached_weight"].ravel()
    table["reached_weight_share"] = _share(fig["reached_weight"].ravel(), weight)
    return table


def _circle_rows(circles: pd.DataFrame, fig: dict) -> pd.DataFrame:
    """Rows per circle, for every group of `fig` (group by group)."""
    g = len(fig["area"])
    area, weight = np.repeat(fig["area"], len(circles)), np.repeat(fig["weight"], len(circles))
    table = _repeated(circles, g)
    table["residential_area_m2"] = area
    table["complete_m2"] = fig["complete_m2"].ravel()
    table["complete_share"] = _share(fig["complete_m2"].ravel(), area)
    table["weight_total"] = weight
    table["complete_weight"] = fig["complete_weight"].ravel()
    table["complete_weight_share"] = _share(fig["complete_weight"].ravel(), weight)
    return table


def summary_tables(
    land: pd.DataFrame,
    reached_m2: np.ndarray,
    complete_m2: np.ndarray,
    type_keys: pd.DataFrame,
    circle_keys: pd.DataFrame,
    facility_counts: np.ndarray,
    districts: gpd.GeoDataFrame | None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """City and district tables per type and per circle.

    Weights are spread evenly over each piece (``weight × reached m² / piece m²``), as in
    the park coverage; without a weight the weight columns are nan.

    Returns
    -------
    types, circles, district_types, district_circles : pandas.DataFrame
    """
    area = land["area_m2"].to_numpy(dtype=float)
    weight = land["weight"].to_numpy(dtype=float)
    density = _share(weight, area)
    stacked = np.column_stack([area, weight, reached_m2, reached_m2 * density[:, None],
                               complete_m2, complete_m2 * density[:, None]])  # fmt: skip
    k, c = reached_m2.shape[1], complete_m2.shape[1]
    ids = land["district_id"].astype(str).to_numpy(dtype=object)
    known = [] if districts is None else list(districts["district_id"].astype(str))
    order = known + sorted(set(ids) - set(known) - {""})
    if "" in set(ids) and order:
        order.append("")
    code = pd.Index(order).get_indexer(ids) if order else np.zeros(len(ids), dtype=int)
    city = stacked.sum(axis=0, keepdims=True)
    by_district = _grouped(code, len(order), stacked) if order else np.zeros((0, city.shape[1]))
    splits = np.cumsum([1, 1, k, k, c])

    def figures(sums):
        return _figures(*np.split(sums, splits, axis=1))

    fig_city, fig_d = figures(city), figures(by_district)
    fig_city["area"], fig_city["weight"] = fig_city["area"][:, 0], fig_city["weight"][:, 0]
    fig_d["area"], fig_d["weight"] = fig_d["area"][:, 0], fig_d["weight"][:, 0]
    types = _type_rows(type_keys, facility_counts, fig_city)
    circles = _circle_rows(circle_keys, fig_city)
    names = (
        {} if districts is None else dict(zip(known, districts["name"].astype(str), strict=True))
    )
    labels = [names.get(d, d) if d else "(outside districts)" for d in order]
    return (
        types,
        circles,
        _districts_first(_type_rows(type_keys, facility_counts, fig_d), order, labels, types),
        _districts_first(_circle_rows(circle_keys, fig_d), order, labels, circles),
    )


def _districts_first(table: pd.DataFrame, order: list, labels: list, like: pd.DataFrame):
    """`table` (one block of rows per district, in `order`) with ``district_id``, ``name`` first."""
    if not order:
        return pd.DataFrame(columns=["district_id", "name", *like.columns])
    per = len(table) // len(order)
    head = pd.DataFrame(
        {
            "district_id": _repeat_str(order, per),
            "name": _repeat_str(labels, per),
        }
    )
    return pd.concat([head, table], axis=1)


def _repeat_str(values: list, times: int):
    return (
        pd.Series(np.asarray(values, dtype=object))
        .take(np.repeat(np.arange(len(values)), times))
        .array
    )
