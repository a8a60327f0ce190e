"""The indicator sheet of a city health check (城市体检): what ``gisrenew report`` shows.

A :class:`Checkup` holds only figures the engines computed, each checked against the
targets (thresholds with their sources, :mod:`gisrenew.targets`) and traced to its
inputs: the rule set and its version, every input layer with its checksum, the run of
the history it belongs to. It is built by :func:`gisrenew.reporting.build_checkup` (the
orchestrator's report step) and drawn — never computed — by the presenters of
:mod:`gisrenew.report` (a printable A4 page, an Excel workbook, a Word document).

Ratios are fractions (0.8114 is 81.14 %), exactly the figures of ``gisrenew coverage
--json``; areas are m² (presenters convert to 公顷 and 亩); per-capita figures are m²
per person.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import geopandas as gpd

__all__ = [
    "Check",
    "Checkup",
    "DistrictRow",
    "IndicatorRow",
    "InputTrace",
    "ParkBatch",
    "RenewalProgress",
    "SinceRun",
]


@dataclass(frozen=True)
class Check:
    """One indicator checked against one target (达标判断).

    Attributes
    ----------
    target_id : str
        The target's id in its file (``gb55014-coverage``, a local id, ...).
    label : str
        How the target reads in a table: ``> 80%``, ``≥ 8.0 m²/人``.
    op : {">", ">=", "<", "<="}
        The comparison the value must satisfy.
    threshold : float
        In the indicator's own unit (a ratio target of 80 % is 0.8).
    source : str
        The standard or document (``GB 55014-2021 园林绿化工程项目规范``).
    clause : str
        Its clause (``第2.1.3条``), or "" when the source gives none.
    passed : bool or None
        None when the indicator has no value (达标 / 未达标 / 无法判断).
    confirmed : bool
        False for a target whose source the authors could not confirm (shown marked).
    note : str
        Scope or caveat (``老城区``, a local target's remark).
    """

    target_id: str
    label: str
    op: str
    threshold: float
    source: str
    clause: str
    passed: bool | None
    confirmed: bool = True
    note: str = ""


@dataclass(frozen=True)
class IndicatorRow:
    """One indicator of the sheet with its value, how it was computed, and its checks.

    Attributes
    ----------
    key : str
        Stable key (``park_coverage_buffer``, ``park_coverage_network``,
        ``park_area_per_capita``, ``comprehensive_park_per_capita``,
        ``community_park_per_capita``, ``greenway_coverage``,
        ``life_circle_completeness``, ...); targets name indicators by it.
    name_zh, name_en : str
        The indicator's name (公园绿地服务半径覆盖率 ...).
    value : float or None
        Ratio (fraction) or amount; None when it cannot be computed (see `reason`).
    unit : str
        ``ratio`` (shown as %), ``m2_per_person``, ``count``, ...
    numerator, denominator : float or None
        What the value is made of (covered and total residential land in m², park area
        in m² and population, ...).
    numerator_label, denominator_label : str
        Their names in Chinese (``覆盖居住用地面积 (m²)``).
    method : str
        ``buffer`` (straight line), ``network`` (walk along streets) or "".
    checks : tuple of Check
        Every target that names this indicator.
    reason : str
        Why there is no value (no population, no greenway layer, ...), else "".
    inputs : tuple of str
        The layer kinds the value was computed from (see :attr:`Checkup.inputs`).
    numerator_label_en, denominator_label_en : str
        The names of numerator and denominator in English (presenters fall back to the
        Chinese ones).
    """

    key: str
    name_zh: str
    name_en: str
    value: float | None
    unit: str
    numerator: float | None = None
    denominator: float | None = None
    numerator_label: str = ""
    denominator_label: str = ""
    method: str = ""
    checks: tuple[Check, ...] = ()
    reason: str = ""
    inputs: tuple[str, ...] = ()
    numerator_label_en: str = ""
    denominator_label_en: str = ""


@dataclass(frozen=True)
class DistrictRow:
    """One district's coverage (区/镇/街道), by method.

    ``values`` maps an indicator key (as in :class:`IndicatorRow`) to the district's
    value, e.g. ``{"park_coverage_buffer": 0.83, "park_coverage_network": 0.61,
    "park_area_per_capita": 9.4}``; ``residential_area_m2`` is the denominator of its
    coverage ratios.
    """

    district_id: str
    name: str
    residential_area_m2: float
    values: dict[str, float | None]


@dataclass(frozen=True)
class RenewalProgress:
    """Renewal plans (更新地块) and old-community renovation (老旧小区改造) figures.

    ``renewal`` holds the plan totals of :func:`gisrenew.plans.plan_totals` (plots,
    亩, households by kind, signed, signing rate); ``old_communities`` the figures of
    plans of type ``old_community`` (communities, buildings, households, floor area
    m², investment 万元 — keys present only when the layers carry them); ``plans`` one
    dict per plan for the table.
    """

    renewal: dict[str, Any]
    old_communities: dict[str, Any]
    plans: list[dict[str, Any]]


@dataclass(frozen=True)
class ParkBatch:
    """The latest batch of new parks (口袋公园) in the run history and what it changed.

    ``parks`` one dict per park added (id, name, area m², own gain m²); ``before`` and
    ``after`` the coverage ratio by method key (``park_coverage_buffer`` ...);
    ``gain_m2`` the residential land newly covered by method key; ``households_gain``
    likewise when the run had households. ``blind_spots_closed`` count and area.
    """

    run_id: int
    time_utc: str
    parks: list[dict[str, Any]]
    before: dict[str, float]
    after: dict[str, float]
    gain_m2: dict[str, float]
    households_gain: dict[str, float]
    blind_spots_closed: dict[str, Any]


@dataclass(frozen=True)
class SinceRun:
    """The change since an earlier run of the history (与第 n 次计算相比).

    ``then`` and ``now`` map indicator keys to values; an indicator the earlier run did
    not record maps to None in ``then``. ``districts`` one dict per district with
    ``district_id``, ``name`` and ``then``/``now`` ratios of the headline method.
    """

    run_id: int
    time_utc: str
    then: dict[str, float | None]
    now: dict[str, float | None]
    districts: list[dict[str, Any]]


@dataclass(frozen=True)
class InputTrace:
    """One input layer of the figures: kind, where it came from, features, SHA-256."""

    kind: str
    source: str
    features: int
    sha256: str


@dataclass(frozen=True)
class Checkup:
    """The indicator sheet of one project state: figures, checks, maps, trace.

    Attributes
    ----------
    city : str
        The project's name (``[project] name``).
    computed_utc : str
        When the figures were computed (ISO 8601, UTC).
    gisrenew_version : str
    rules : dict
        The coverage rule set (name, version, title, source) of every coverage figure.
    targets : dict
        The target files used: ``{"files": [{"path", "sha256"}], "count": n}``.
    indicators : tuple of IndicatorRow
        The sheet, in display order.
    districts : tuple of DistrictRow
        Per-district figures (empty without a districts layer).
    renewal : RenewalProgress or None
        None without plans.
    latest_parks : ParkBatch or None
        None when the history has no run that added parks.
    since : SinceRun or None
        None unless an earlier run was chosen.
    inputs : tuple of InputTrace
        Every input layer of the figures.
    run_id : int or None
        The history run whose stored results these figures are (None: no run recorded).
    results_current : bool
        True when the project's layers did not change since that run.
    time_zone : str or None
        ``[project] time_zone``: the zone times are shown in (None: the language's
        default, see :func:`gisrenew.present.formats.local_time`).
    map_layers : dict of str to GeoDataFrame
        What the report's coverage picture draws, in the working CRS: ``boundary``,
        ``parks``, ``covered`` and ``uncovered`` residential land (headline method).
    """

    city: str
    computed_utc: str
    gisrenew_version: str
    rules: dict[str, Any]
    targets: dict[str, Any]
    indicators: tuple[IndicatorRow, ...]
    districts: tuple[DistrictRow, ...] = ()
    renewal: RenewalProgress | None = None
    latest_parks: ParkBatch | None = None
    since: SinceRun | None = None
    inputs: tuple[InputTrace, ...] = ()
    run_id: int | None = None
    results_current: bool = False
    time_zone: str | None = None
    map_layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, compare=False)

    def indicator(self, key: str) -> IndicatorRow | None:
        """The row of indicator `key`, or None when the sheet has none."""
        return next((row for row in self.indicators if row.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready sheet (``gisrenew report --json``): everything but the map layers."""
        return {
            f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "map_layers"
        }


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return asdict(value) if hasattr(value, "__dataclass_fields__") else value
