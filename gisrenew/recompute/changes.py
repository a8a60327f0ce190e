"""The before/after of every recompute run, kept in the project for its maps.

A recompute stores, in the same transaction as the parks and the run-history row,
what the before/after map of the run needs (the run's
:class:`~gisrenew.results.CoverageChange`) as result layers named after the run::

    run_<n>_change                one row: figures before and after, rule set, time (JSON)
    run_<n>_new_parks             the parks added, with their tier, reason and own gain
    run_<n>_parks_before          the parks before the change, with their tier
    run_<n>_service_areas_before  each park's service area before the change
    run_<n>_service_areas_new     the new parks' service areas
    run_<n>_closed_blind_spots    residential land the change brought into service
    run_<n>_opened_blind_spots    residential land it left without service
    run_<n>_blind_spots_after     the blind spots after the change
    run_<n>_districts             the district table after the change

:func:`read_changes` reads them back (``gisrenew publish`` draws a before/after page
per run from them, newest first) and :func:`forget_change` removes a run's layers
(``gisrenew history --unpublish N``): its page then leaves the site at the next
publish. The run-history row stays.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any

import geopandas as gpd
import pandas as pd

from gisrenew import jsonable
from gisrenew.errors import ProjectError
from gisrenew.project import Project, Transaction
from gisrenew.results import CoverageChange, CoverageResult, StoredChange
from gisrenew.rules import RuleSet, Tier

__all__ = ["CHANGE_PARTS", "change_layers", "forget_change", "read_changes", "stored_runs"]

#: The layers of one run's change, by part name (``run_<n>_<part>``).
CHANGE_PARTS = (
    "change", "new_parks", "parks_before", "service_areas_before", "service_areas_new",
    "closed_blind_spots", "opened_blind_spots", "blind_spots_after", "districts",
)  # fmt: skip

_NAME = re.compile(r"^run_(\d+)_change$")
_PARK_COLUMNS = ("park_area_m2", "tier", "radius_m", "qualifies", "reason")


def _layer(run_id: int, part: str) -> str:
    return f"run_{int(run_id)}_{part}"


# --------------------------------------------------------------------------- writing


def _name_lookup(table: pd.DataFrame | None, id_column: str) -> pd.Series | None:
    """``name`` by id (text) of `table`, the first row of an id winning; None without names."""
    if table is None or "name" not in table.columns or id_column not in table.columns:
        return None
    names = pd.Series(table["name"].to_numpy(dtype=object), index=table[id_column].astype(str))
    return names[~names.index.duplicated()]


def _names(ids: pd.Series, names: pd.Series | None) -> list:
    """The name of each id in `names` (:func:`_name_lookup`; ``""`` where there is none)."""
    ids = ids.astype(str)
    if names is None:
        return [""] * len(ids)
    return ids.map(names).astype(object).where(lambda v: v.notna(), "").tolist()


def _named_spots(spots: gpd.GeoDataFrame, names: tuple) -> gpd.GeoDataFrame:
    """Blind spots with the names of their residential land and district (for the popups).

    `names` holds the :func:`_name_lookup` of the residential pieces and of the districts
    (made once for every layer of a change: the pieces are the whole city).
    """
    return spots.assign(
        name=_names(spots["residential_id"], names[0]),
        district_name=_names(spots["district_id"], names[1]),
    )


def _with_table(parks: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Park polygons with their row of the result's park table (tier, radius, reason)."""
    columns = [c for c in _PARK_COLUMNS if c in table.columns]
    info = table[["park_id", *columns]].drop_duplicates("park_id")
    info = info.assign(park_id=info["park_id"].astype(str))
    parks = parks.assign(park_id=parks["park_id"].astype(str)).drop(
        columns=[c for c in columns if c in parks.columns]
    )
    merged = parks.merge(info, on="park_id", how="left")
    return gpd.GeoDataFrame(merged, geometry=parks.geometry.name, crs=parks.crs)


def _figures(result: CoverageResult) -> dict[str, Any]:
    return {
        "covered_area_m2": result.covered_area_m2,
        "residential_area_m2": result.residential_area_m2,
        "weight_column": result.weight_column,
        "weight_total": result.weight_total,
        "weight_covered": result.weight_covered,
        "sliver_m2": (result.parameters or {}).get("sliver_m2"),
    }


def _change_row(change: CoverageChange) -> pd.DataFrame:
    record = {
        "before": _figures(change.before),
        "after": _figures(change.after),
        "rules": change.after.rules.to_dict(),
        "removed_park_ids": list(change.removed_park_ids),
        "time_utc": change.time_utc,
    }
    return pd.DataFrame({"change": [jsonable.dumps(record, sort_keys=True)]})


def change_layers(change: CoverageChange, run_id: int) -> dict[str, pd.DataFrame]:
    """The layers that keep `change` in the project as run `run_id` (empty ones left out)."""
    added = change.added_parks
    new_ids = set(added["park_id"].astype(str)) if added is not None and len(added) else set()
    gains = change.park_gains.assign(park_id=change.park_gains["park_id"].astype(str))
    areas = change.after.service_areas
    names = (
        _name_lookup(change.after.residential, "residential_id"),
        _name_lookup(change.after.districts, "district_id"),
    )
    parts: dict[str, pd.DataFrame | None] = {
        "change": _change_row(change),
        "new_parks": None
        if not new_ids
        else _with_table(added, change.after.parks).merge(gains, on="park_id", how="left"),
        "parks_before": None
        if change.parks_before is None
        else _with_table(change.parks_before, change.before.parks),
        "service_areas_before": change.before.service_areas,
        "service_areas_new": areas[areas["park_id"].astype(str).isin(new_ids)],
        "closed_blind_spots": _named_spots(change.closed_blind_spots, names),
        "opened_blind_spots": _named_spots(change.opened_blind_spots, names),
        "blind_spots_after": _named_spots(change.after.blind_spots, names),
        "districts": pd.DataFrame(change.after.districts),
    }
    return {
        _layer(run_id, part): frame
        for part, frame in parts.items()
        if frame is not None and len(frame)
    }


def store_change(tx: Transaction, change: CoverageChange, run_id: int) -> list[str]:
    """Write `change` into the transaction as run `run_id`; return the layer names."""
    layers = change_layers(change, run_id)
    for name, frame in layers.items():
        if isinstance(frame, gpd.GeoDataFrame):
            tx.write_layer(name, frame)
        else:
            tx.write_table(name, pd.DataFrame(frame))
    return list(layers)


# --------------------------------------------------------------------------- reading


def stored_runs(project: Project) -> list[int]:
    """The runs whose before/after the project keeps, newest first."""
    runs = [int(m.group(1)) for m in map(_NAME.match, project.layer_kinds()) if m]
    return sorted(runs, reverse=True)


def _rules(data: dict[str, Any]) -> RuleSet:
    """The rule set a run recorded (``RuleSet.to_dict``)."""
    tiers = tuple(
        Tier(
            radius_m=float(t["radius_m"]),
            min_area_m2=float(t.get("min_area_m2") or 0.0),
            max_area_m2=math.inf if t.get("max_area_m2") is None else float(t["max_area_m2"]),
            park_classes=tuple(t["park_classes"]) if t.get("park_classes") else None,
            label=str(t.get("label") or ""),
        )
        for t in data["tiers"]
    )
    return RuleSet(
        name=str(data["name"]), version=str(data["version"]), title=str(data.get("title", "")),
        tiers=tiers, park_classes=tuple(data.get("park_classes", ())),
        count_plazas=bool(data.get("count_plazas", False)),
        min_width_m=float(data.get("min_width_m") or 0.0),
        residential_codes=tuple(data.get("residential_codes", ())),
        source=str(data.get("source", "")),
    )  # fmt: skip


#: Columns of a part left out because it was empty (e.g. no park added).
_EMPTY_COLUMNS = (
    "park_id", "name", "residential_id", "district_id", "district_name", "area_m2",
    "households", "tier", "radius_m", "unique_covered_m2", "unique_weight",
)  # fmt: skip


def _frame(project: Project, run_id: int, part: str, crs) -> gpd.GeoDataFrame:
    layer = project.read_result(_layer(run_id, part))
    if layer is None:
        columns = {name: pd.Series([], dtype=object) for name in _EMPTY_COLUMNS}
        return gpd.GeoDataFrame(columns, geometry=[], crs=crs)
    return layer


def _table(frame: pd.DataFrame) -> pd.DataFrame:
    """A layer's attributes (no geometry)."""
    if isinstance(frame, gpd.GeoDataFrame):
        return pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return pd.DataFrame(frame)


def _result(figures: dict, rules: RuleSet, crs, **tables) -> CoverageResult:
    """A straight-line result holding what the before/after map draws of one side."""
    empty = gpd.GeoDataFrame({"residential_id": [], "name": []}, geometry=[], crs=crs)
    sliver = figures.get("sliver_m2")
    return CoverageResult(
        method="buffer", rules=rules, covered_area_m2=float(figures["covered_area_m2"]),
        residential_area_m2=float(figures["residential_area_m2"]), residential=empty,
        weight_column=figures.get("weight_column"),
        weight_total=_number(figures.get("weight_total")),
        weight_covered=_number(figures.get("weight_covered")),
        parameters={} if sliver is None else {"sliver_m2": float(sliver)}, **tables,
    )  # fmt: skip


def _number(value) -> float:
    return math.nan if value is None else float(value)


def _bool_column(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A yes/no column as booleans (GeoPackage keeps them as integers)."""
    if name in frame.columns:
        return frame.assign(**{name: frame[name].fillna(0).astype(bool)})
    return frame


def read_change(project: Project, run_id: int) -> CoverageChange:
    """The before/after of run `run_id`, as its recompute stored it."""
    row = project.read_table(_layer(run_id, "change"))
    if row is None or not len(row):
        raise ProjectError(f"{project.describe()}: run {run_id} has no stored before/after")
    record = json.loads(str(row["change"].iloc[0]))
    rules, crs = _rules(record["rules"]), project.working_crs
    parts = {part: _frame(project, run_id, part, crs) for part in CHANGE_PARTS[1:-1]}
    parts = {k: _bool_column(_bool_column(v, "qualifies"), "sliver") for k, v in parts.items()}
    districts = project.read_table(_layer(run_id, "districts"))
    districts = pd.DataFrame() if districts is None else districts
    before = _result(
        record["before"], rules, crs, districts=districts,
        parks=_table(parts["parks_before"]), service_areas=parts["service_areas_before"],
        blind_spots=gpd.GeoDataFrame({"area_m2": []}, geometry=[], crs=crs),
    )  # fmt: skip
    after = _result(
        record["after"], rules, crs, districts=districts, parks=_table(parts["new_parks"]),
        service_areas=parts["service_areas_new"], blind_spots=parts["blind_spots_after"],
    )  # fmt: skip
    new_parks = parts["new_parks"]
    gains = _table(new_parks).reindex(columns=["park_id", "unique_covered_m2", "unique_weight"])
    return CoverageChange(
        before=before, after=after, added_parks=new_parks,
        removed_park_ids=tuple(str(p) for p in record.get("removed_park_ids", [])),
        park_gains=gains, closed_blind_spots=_bool_column(parts["closed_blind_spots"],
                                                          "fully_closed"),
        opened_blind_spots=parts["opened_blind_spots"], run_id=run_id,
        parks_before=parts["parks_before"] if len(parts["parks_before"]) else None,
        time_utc=record.get("time_utc"),
    )  # fmt: skip


def read_changes(project: Project | str, *, lazy: bool = False) -> list:
    """Every run's before/after the project keeps, newest first (what publishing draws).

    `lazy`: :class:`~gisrenew.results.StoredChange` handles that read a run's layers
    only when its page is drawn (the maps copy intact pages of earlier runs), instead of
    every :class:`~gisrenew.results.CoverageChange` read now.
    """
    project = project if isinstance(project, Project) else Project.open(project)
    if lazy:
        return [
            StoredChange(run_id, functools.partial(read_change, project, run_id))
            for run_id in stored_runs(project)
        ]
    return [read_change(project, run_id) for run_id in stored_runs(project)]


def forget_change(project: Project | str, run_id: int, *, timeout_s: float = 0.0) -> list[str]:
    """Remove the stored before/after of run `run_id` (its history row stays).

    The run's page leaves the site at the next ``gisrenew publish``. Returns the layers
    removed; an unknown run is a :class:`~gisrenew.errors.ProjectError` naming the runs kept.
    """
    project = project if isinstance(project, Project) else Project.open(project)
    project.check_writable("remove a run's before/after map")
    names = [name for name in project.layer_kinds() if name.startswith(f"run_{int(run_id)}_")]
    if not names:
        kept = ", ".join(map(str, stored_runs(project))) or "none"
        raise ProjectError(
            f"{project.folder}: no before/after of run {run_id} is stored (runs kept: {kept}). "
            "Fix: `gisrenew history` lists the runs."
        )
    with project.transaction(timeout_s=timeout_s, purpose=f"forget run {run_id}") as tx:
        for name in names:
            tx.delete_layer(name)
    return names
