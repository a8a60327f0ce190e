"""The indicator sheet of a city health check (城市体检), assembled: a ``Checkup``.

:func:`build_checkup` gathers a project's inputs, computes every indicator once
(:func:`gisrenew.indicators.compute_indicators`) and hands them to :func:`checkup_of`,
which assembles the sheet without computing any figure again:

* indicator rows — the coverage ratio of both methods (exactly the
  ``CoverageResult.ratio`` that ``gisrenew coverage --json`` prints as
  ``coverage_ratio``), per-capita park green space ×3, greenway coverage, life-circle
  completeness — each with its numerator and denominator and the checks of every
  target naming it (:mod:`gisrenew.targets`); a row without a value says why;
* district rows, renewal progress (plan totals, by plan type, old-community figures),
  the latest batch of new parks of the run history and the change since an earlier run
  (from the figures that run stored, :mod:`gisrenew.recompute.history`);
* the trace: every input layer with its SHA-256, the rule set, the target files, the
  run whose stored results the figures are and whether they are still current
  (:mod:`gisrenew.recompute.state`);
* the map layers of the coverage picture (boundary, parks, covered and uncovered land).

Presenters (:mod:`gisrenew.report`) draw a ``Checkup``; they compute nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from gisrenew import __version__, jsonable
from gisrenew import plans as plan_engine
from gisrenew.checksums import frame_sha256
from gisrenew.checkup import (
    Checkup,
    DistrictRow,
    IndicatorRow,
    InputTrace,
    ParkBatch,
    RenewalProgress,
    SinceRun,
)
from gisrenew.errors import ProjectError
from gisrenew.geometry import geometry_array, union_by_group
from gisrenew.indicators import Indicators, compute_indicators
from gisrenew.inputs import ProjectInputs, gather_inputs
from gisrenew.jsonable import finite_number
from gisrenew.project import Project
from gisrenew.recompute.history import history_records, read_history
from gisrenew.recompute.state import state_check
from gisrenew.results import CoverageResult
from gisrenew.targets import INDICATORS, TargetSet, load_targets

__all__ = ["COVERAGE_KEYS", "build_checkup", "checkup_of", "checkup_targets"]

#: Indicator key of each coverage method.
COVERAGE_KEYS = {"buffer": "park_coverage_buffer", "network": "park_coverage_network"}

#: Names of the numerators and denominators: (Chinese, English).
_LAND = ("居住用地面积 (m²)", "residential land (m²)")
_COVERED = ("覆盖居住用地面积 (m²)", "residential land covered (m²)")
_PARK_AREA = ("公园绿地面积 (m²)", "park green space (m²)")
_PEOPLE = {
    "settings": ("城区人口 (人, [report] population)", "population ([report] population)"),
    "residential": ("居住人口 (人)", "residents of the residential land"),
}


def _parts(numerator: tuple[str, str], denominator: tuple[str, str]) -> dict[str, str]:
    """The label fields of an :class:`IndicatorRow` from (Chinese, English) pairs."""
    return {
        "numerator_label": numerator[0], "numerator_label_en": numerator[1],
        "denominator_label": denominator[0], "denominator_label_en": denominator[1],
    }  # fmt: skip


_PER_CAPITA_INPUTS = ("parks", "residential", "boundary")


def build_checkup(
    project: Project | ProjectInputs | Indicators | str | os.PathLike,
    *,
    since: int | None = None,
    targets: TargetSet | str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    methods: Iterable[str] | None = None,
    life_circles: bool = False,
    progress: bool = False,
) -> Checkup:
    """The indicator sheet of a project (``gisrenew report``), computed and assembled.

    Parameters
    ----------
    project : Project, path, ProjectInputs or Indicators
        The project (folder), its gathered inputs, or indicators already computed
        (then `methods`, `life_circles` and `progress` are not used).
    since : int, optional
        A run of the history to compare with (与第 n 次计算相比).
    targets : TargetSet, path or paths, optional
        Targets files replacing the project's ``[report] targets`` (see
        :func:`checkup_targets`).
    methods : iterable of {"buffer", "network"}, optional
        Coverage methods; default every method the layers allow.
    life_circles : bool
        Compute the community life circles (needs facilities) for their completeness.
    progress : bool
        Progress bars on long steps.
    """
    if isinstance(project, Indicators):
        indicators = project
    else:
        inputs = project if isinstance(project, ProjectInputs) else gather_inputs(project)
        indicators = compute_indicators(
            inputs, methods=methods, life_circles=life_circles, progress=progress,
            greenspace=inputs.has("parks", "residential"),
        )  # fmt: skip
    return checkup_of(indicators, since=since, targets=targets)


def checkup_of(
    indicators: Indicators,
    *,
    since: int | None = None,
    targets: TargetSet | str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    history: pd.DataFrame | None = None,
    now: _dt.datetime | None = None,
) -> Checkup:
    """The sheet of indicators already computed (the CLI reuses its own run's).

    Parameters
    ----------
    indicators : Indicators
        From :func:`gisrenew.indicators.compute_indicators`.
    since : int, optional
        Run of the history to compare with; an unknown run is a
        :class:`~gisrenew.errors.ProjectError` listing the runs there are.
    targets : optional
        As for :func:`build_checkup`.
    history : DataFrame, optional
        The run history (default: read from the project; none without a project).
    now : datetime, optional
        The time the sheet states (default: now).
    """
    inputs = indicators.inputs
    chosen = checkup_targets(inputs, targets)
    if history is None:
        history = read_history(inputs.project) if inputs.project is not None else None
    runs = _runs(history, inputs)
    rows = _indicator_rows(indicators, chosen)
    run_id, current = _results_run(inputs, runs)
    when = (now or _dt.datetime.now(_dt.UTC)).astimezone(_dt.UTC)
    return Checkup(
        city=inputs.config.name,
        computed_utc=when.isoformat(timespec="seconds"),
        gisrenew_version=__version__,
        rules=_rules(inputs),
        targets=chosen.to_dict(),
        indicators=rows,
        districts=_district_rows(indicators),
        renewal=_renewal(indicators),
        latest_parks=_latest_batch(runs, indicators),
        since=None if since is None else _since(since, runs, rows, indicators, inputs),
        inputs=_traces(inputs),
        run_id=run_id,
        results_current=current,
        time_zone=inputs.config.time_zone,
        map_layers=_map_layers(indicators),
    )


def checkup_targets(
    inputs: ProjectInputs,
    targets: TargetSet | str | os.PathLike | Sequence[str | os.PathLike] | None = None,
) -> TargetSet:
    """The targets of a sheet.

    `targets` when given (a :class:`~gisrenew.targets.TargetSet`, or files applied to
    the national targets), else the national targets with the project's ``[report]
    targets`` file (relative to the project folder).
    """
    if isinstance(targets, TargetSet):
        return targets
    if targets is None:
        own = inputs.config.targets_source()
        return load_targets(own)
    if isinstance(targets, (str, os.PathLike)):
        return load_targets(Path(targets))
    return load_targets([Path(t) for t in targets])


# --------------------------------------------------------------------------- rows


def _row(key: str, value: float | None, targets: TargetSet, **fields: Any) -> IndicatorRow:
    """One row; a nan value is no value, and the checks say "cannot tell"."""
    if value is not None and not math.isfinite(float(value)):
        value = None
        fields["reason"] = fields.get("reason") or "nothing to divide by (no residential land)"
    info = INDICATORS[key]
    return IndicatorRow(
        key=key, name_zh=info.name_zh, name_en=info.name_en,
        value=None if value is None else float(value), unit=info.unit,
        checks=targets.checks(key, value), **fields,
    )  # fmt: skip


def _coverage_row(method: str, indicators: Indicators, targets: TargetSet) -> IndicatorRow:
    key = COVERAGE_KEYS[method]
    result: CoverageResult | None = getattr(indicators, method)
    if result is None:
        reason = "not computed"
        if method == "network" and not indicators.inputs.has("roads"):
            reason = "no roads layer: the walk along streets needs one"
        if not indicators.inputs.has("parks", "residential"):
            reason = "no parks or residential layer"
        return _row(key, None, targets, method=method, reason=reason)
    inputs = ["parks", "residential", "boundary", "districts"]
    inputs += ["roads", "entrances"] if method == "network" else []
    return _row(
        key, result.ratio, targets, numerator=result.covered_area_m2,
        denominator=result.residential_area_m2, **_parts(_COVERED, _LAND), method=method,
        inputs=tuple(k for k in inputs if indicators.inputs.has(k)),
    )  # fmt: skip


def _per_capita_rows(indicators: Indicators, targets: TargetSet) -> list[IndicatorRow]:
    green = indicators.greenspace
    keys = ("park_area_per_capita", "comprehensive_park_per_capita", "community_park_per_capita")
    if green is None:
        reason = "green-space figures not computed"
        if not indicators.inputs.has("parks", "residential"):
            reason = "no parks or residential layer"
        return [_row(k, None, targets, reason=reason) for k in keys]
    source = green.per_capita.population_source
    people = _PEOPLE["settings" if source == "settings" else "residential"]
    rows = []
    for key in keys:
        figure = green.per_capita.figures[key]
        rows.append(
            _row(
                key,
                figure.value,
                targets,
                numerator=figure.park_area_m2,
                denominator=figure.population,
                **_parts(_PARK_AREA, people),
                reason=figure.reason,
                inputs=tuple(k for k in _PER_CAPITA_INPUTS if indicators.inputs.has(k)),
            )
        )
    return rows


def _greenway_row(indicators: Indicators, targets: TargetSet) -> IndicatorRow:
    green = indicators.greenspace
    greenway = None if green is None else green.greenway
    if greenway is None:
        return _row("greenway_coverage", None, targets, reason="no greenways layer")
    return _row(
        "greenway_coverage", greenway.ratio, targets, numerator=greenway.covered_area_m2,
        denominator=greenway.residential_area_m2,
        **_parts(
            (f"绿道 {greenway.radius_m:g} m 内居住用地面积 (m²)",
             f"residential land within {greenway.radius_m:g} m of a greenway (m²)"),
            _LAND,
        ),
        method="buffer", inputs=("greenways", "residential", "boundary"),
    )  # fmt: skip


def _life_circle_row(indicators: Indicators, targets: TargetSet) -> IndicatorRow:
    key = "life_circle_completeness"
    circles = indicators.life_circles
    if not circles:
        reason = "no facilities layer"
        if indicators.inputs.has("facilities"):
            reason = "life circles not computed"
        return _row(key, None, targets, reason=reason)
    method = "buffer" if "buffer" in circles else next(iter(circles))
    result = circles[method]
    table = result.circles.sort_values("circle_min")
    widest = table.iloc[-1]  # the largest circle (15 minutes) holds every level's types
    return _row(
        key, float(widest["complete_share"]), targets, numerator=float(widest["complete_m2"]),
        denominator=float(widest["residential_area_m2"]),
        **_parts(
            (f"{int(widest['circle_min'])} 分钟生活圈设施齐全的居住用地面积 (m²)",
             f"residential land with a complete {int(widest['circle_min'])}-minute circle (m²)"),
            _LAND,
        ),
        method=method, inputs=("facilities", "residential"),
    )  # fmt: skip


def _indicator_rows(indicators: Indicators, targets: TargetSet) -> tuple[IndicatorRow, ...]:
    rows = [_coverage_row(m, indicators, targets) for m in COVERAGE_KEYS]
    rows += _per_capita_rows(indicators, targets)
    rows += [_greenway_row(indicators, targets), _life_circle_row(indicators, targets)]
    return tuple(rows)


# --------------------------------------------------------------------------- districts


def _district_values(indicators: Indicators) -> dict[str, dict[str, float | None]]:
    """Indicator key → district id → value, for every figure computed per district."""
    out: dict[str, dict[str, float | None]] = {}
    for method, key in COVERAGE_KEYS.items():
        result = getattr(indicators, method)
        if result is not None and len(result.districts):
            table = result.districts
            out[key] = _by_district(table, "coverage_ratio")
    green = indicators.greenspace
    if green is not None and len(green.per_capita.districts):
        table = green.per_capita.districts
        for key in green.per_capita.figures:
            out[key] = _by_district(table, key)
    if green is not None and green.greenway is not None and len(green.greenway.districts):
        table = green.greenway.districts
        out["greenway_coverage"] = _by_district(table, "coverage_ratio")
    return out


def _by_district(table: pd.DataFrame, column: str) -> dict[str, Any]:
    ids = table["district_id"].astype(str).to_numpy(dtype=object)
    return dict(zip(ids, table[column].to_numpy(), strict=True))


def _district_rows(indicators: Indicators) -> tuple[DistrictRow, ...]:
    headline = indicators.coverage
    if headline is None or not len(headline.districts):
        return ()
    values = _district_values(indicators)
    rows = []
    for rec in headline.districts.itertuples(index=False):
        did = str(rec.district_id)
        row_values = {key: finite_number(by_id.get(did)) for key, by_id in values.items()}
        name = str(getattr(rec, "name", "") or "")
        rows.append(DistrictRow(did, name, float(rec.residential_area_m2), row_values))
    return tuple(rows)


# --------------------------------------------------------------------------- renewal


def _renewal(indicators: Indicators) -> RenewalProgress | None:
    """Plan totals (all plans and by type), old-community figures, one dict per plan."""
    found = indicators.plans
    if found is None:
        return None
    old = jsonable.plain(found.old_communities or {})
    if found.totals is None:  # plans without parcels: only what the plans layer says
        return RenewalProgress(renewal={}, old_communities=old, plans=[])
    plans = indicators.inputs.layer("plans")
    kinds = plans["plan_type"].astype(str).str.strip()
    by_type = {}
    for kind in dict.fromkeys(kinds):
        subset = plans.loc[(kinds == kind).to_numpy()]
        pairs = found.pairs[found.pairs["plan_id"].isin(subset["plan_id"])]
        by_type[kind] = plan_engine.plan_totals(
            subset, pairs, household_rule=found.household_rule, households=found.households
        )  # each plan's pairs as computed: no second overlay
    renewal = {**found.totals, "by_type": by_type}
    table = pd.DataFrame(found.summary.drop(columns=found.summary.geometry.name))
    return RenewalProgress(
        renewal=jsonable.plain(renewal),
        old_communities=old,
        plans=jsonable.records(table),
    )


# --------------------------------------------------------------------------- history


def _runs(history: pd.DataFrame | None, inputs: ProjectInputs) -> list[dict[str, Any]]:
    """The history's rows with their JSON parsed (unreadable rows as far as they go)."""
    if history is None or history.empty:
        return []
    where = f"{inputs.project.describe() if inputs.project else 'project'}: run_history"
    records, _ = history_records(history, where)
    return [r for r in records if _run_number(r) is not None]


def _run_number(record: dict[str, Any]) -> int | None:
    try:
        value = float(record.get("run_id"))
    except (TypeError, ValueError):
        return None
    return int(value) if math.isfinite(value) and value == int(value) else None


def _figures(record: dict[str, Any]) -> dict[str, Any]:
    figures = record.get("figures")
    return figures if isinstance(figures, dict) else {}


def _method_figures(record: dict[str, Any], when: str) -> dict[str, dict[str, Any]]:
    """Coverage key → the run's `when` ("before"/"after") figures of that method."""
    found = _figures(record).get("indicators") or {}
    return {
        COVERAGE_KEYS[m]: found[m][when]
        for m in COVERAGE_KEYS
        if isinstance(found.get(m), dict) and isinstance(found[m].get(when), dict)
    }


def _latest_batch(runs: list[dict[str, Any]], indicators: Indicators) -> ParkBatch | None:
    """The last run of the history that added parks, with what it changed."""
    added = [r for r in runs if isinstance(r.get("added_parks"), list) and r["added_parks"]]
    if not added:
        return None
    run = max(added, key=_run_number)
    before, after = _method_figures(run, "before"), _method_figures(run, "after")
    closed = dict(_figures(run).get("blind_spots_closed") or {})
    return ParkBatch(
        run_id=_run_number(run),
        time_utc=str(run.get("time_utc") or ""),
        parks=_batch_parks(run, indicators),
        before=_stored(before, "coverage_ratio"),
        after=_stored(after, "coverage_ratio"),
        gain_m2=_stored_change(before, after, "covered_area_m2"),
        households_gain=_stored_change(before, after, "weight_covered"),
        blind_spots_closed=jsonable.plain(closed),
    )


def _stored(figures: dict[str, dict[str, Any]], name: str) -> dict[str, float]:
    """Figure `name` of each method a run recorded; a damaged or missing one is left out."""
    found = {key: finite_number(values.get(name)) for key, values in figures.items()}
    return {key: value for key, value in found.items() if value is not None}


def _stored_change(before: dict, after: dict, name: str) -> dict[str, float]:
    """After minus before of figure `name`, for the methods where the run recorded both."""
    then, now = _stored(before, name), _stored(after, name)
    return {key: now[key] - then[key] for key in now if key in then}


def _batch_parks(run: dict[str, Any], indicators: Indicators) -> list[dict[str, Any]]:
    """Each park the run added: id, name and area (today's parks layer), own gain (the run)."""
    gains = {str(p.get("park_id")): p for p in _figures(run).get("new_parks") or []}
    parks = indicators.inputs.layer("parks")
    known = {}
    if parks is not None:
        area = shapely.area(parks.geometry.to_numpy())
        names = parks["name"].astype(str) if "name" in parks.columns else [""] * len(parks)
        pairs = zip(names, area, strict=True)
        known = dict(zip(parks["park_id"].astype(str), pairs, strict=True))
    out = []
    for pid in map(str, run["added_parks"]):
        name, area_m2 = known.get(pid, ("", math.nan))
        gain = gains.get(pid, {})
        out.append(
            {
                "park_id": pid, "name": name, "area_m2": float(area_m2),
                "gain_m2": finite_number(gain.get("unique_gain_m2")),
                "qualifies": gain.get("qualifies"),
            }
        )  # fmt: skip
    return out


def _since(
    run_id: int,
    runs: list[dict[str, Any]],
    rows: tuple[IndicatorRow, ...],
    indicators: Indicators,
    inputs: ProjectInputs,
) -> SinceRun:
    """The change since run `run_id`: its stored after-figures against today's."""
    by_id = {_run_number(r): r for r in runs}
    if run_id not in by_id:
        where = inputs.project.describe() if inputs.project is not None else "these inputs"
        known = ", ".join(str(k) for k in sorted(by_id)) or "none (no recompute yet)"
        raise ProjectError(
            f"run {run_id} is not in the run history of {where}; runs recorded: {known}. "
            "Fix: choose one of them (gisrenew history lists them)."
        )
    run = by_id[run_id]
    stored = _method_figures(run, "after")
    now = {row.key: row.value for row in rows}
    then = {
        key: finite_number(stored[key]["coverage_ratio"]) if key in stored else None for key in now
    }
    then.update({k: v for k, v in _stored_greenspace(run).items() if k in now})
    return SinceRun(
        run_id=run_id,
        time_utc=str(run.get("time_utc") or ""),
        then=then,
        now=now,
        districts=_since_districts(run, indicators),
    )


def _stored_greenspace(run: dict[str, Any]) -> dict[str, float | None]:
    """Per-capita and greenway figures a run recorded after its change (runs before these
    were recorded give none)."""
    green = _figures(run).get("greenspace")
    if not isinstance(green, dict):
        return {}
    out = {
        key: finite_number(figure.get("value"))
        for key, figure in (green.get("per_capita") or {}).items()
        if isinstance(figure, dict)
    }
    if isinstance(green.get("greenway"), dict):
        out["greenway_coverage"] = finite_number(green["greenway"].get("coverage_ratio"))
    return out


def _since_districts(run: dict[str, Any], indicators: Indicators) -> list[dict[str, Any]]:
    """Per district: the headline (straight-line) ratio after run `run`, and today's."""
    stored = {
        str(d.get("district_id")): finite_number(d.get("coverage_ratio_after"))
        for d in _figures(run).get("districts") or []
    }
    headline = indicators.coverage
    if headline is None or not len(headline.districts):
        return []
    return [
        {
            "district_id": str(rec.district_id),
            "name": str(getattr(rec, "name", "") or ""),
            "then": stored.get(str(rec.district_id)),
            "now": finite_number(rec.coverage_ratio),
        }
        for rec in headline.districts.itertuples(index=False)
    ]


def _results_run(inputs: ProjectInputs, runs: list[dict[str, Any]]) -> tuple[int | None, bool]:
    """The run whose stored results these figures are, and whether they are still current."""
    latest = max((_run_number(r) for r in runs), default=None)
    if inputs.project is None:
        return latest, False
    state = inputs.project.results_state()
    recorded = (state or {}).get("layers") or []
    if all(inputs.has(kind) for kind in recorded):
        # the run read the layers its results need; the sheet may have read more
        inputs = dataclasses.replace(inputs, layers={k: inputs.layer(k) for k in recorded})
    check = state_check(state, inputs)
    if check["current"] and check["run_id"] is not None:
        return int(check["run_id"]), True
    return latest, False


# --------------------------------------------------------------------------- trace, maps


def _rules(inputs: ProjectInputs) -> dict[str, Any]:
    rules = inputs.rules
    return {
        "name": rules.name,
        "version": rules.version,
        "title": rules.title,
        "source": rules.source,
    }


def _traces(inputs: ProjectInputs) -> tuple[InputTrace, ...]:
    """Every input layer: kind, source, features and the SHA-256 of the conformed layer."""
    return tuple(
        InputTrace(kind, inputs.sources.get(kind, ""), len(layer), frame_sha256(layer))
        for kind, layer in inputs.layers.items()
    )


def _covered_land(result: CoverageResult) -> gpd.GeoDataFrame:
    """The covered part of each residential piece: the piece less its blind spots."""
    land = result.residential
    covered = land["covered_m2"].to_numpy(dtype=float) > 0
    pieces = land.loc[covered]
    keys = pieces["residential_id"].astype(str) + "\x1f" + pieces["district_id"].astype(str)
    spots = result.blind_spots
    spot_keys = spots["residential_id"].astype(str) + "\x1f" + spots["district_id"].astype(str)
    groups, holes = union_by_group(geometry_array(spots), spot_keys.to_numpy(dtype=object))
    at = pd.Index(groups).get_indexer(keys.to_numpy(dtype=object))
    geoms = geometry_array(pieces)
    has_hole = at >= 0
    if has_hole.any():
        geoms = geoms.copy()
        geoms[has_hole] = shapely.difference(geoms[has_hole], holes[at[has_hole]])
    columns = ["residential_id", "district_id", "area_m2", "covered_m2", "covered_share"]
    return gpd.GeoDataFrame(pieces[columns].reset_index(drop=True), geometry=geoms, crs=land.crs)


def _map_layers(indicators: Indicators) -> dict[str, gpd.GeoDataFrame]:
    """Boundary, parks, covered and uncovered residential land of the headline method."""
    inputs = indicators.inputs
    layers = {k: inputs.layer(k) for k in ("boundary", "parks") if inputs.has(k)}
    result = indicators.coverage
    if result is not None:
        layers["covered"] = _covered_land(result)
        layers["uncovered"] = result.listed_blind_spots()
    return layers
