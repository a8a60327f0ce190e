"""Targets (达标线) of the indicators of the 城市体检 — thresholds as data, with their sources.

A target says which indicators it checks (by the keys of :data:`INDICATORS`, the
``IndicatorRow.key`` of :mod:`gisrenew.checkup`), how (``>``, ``>=``, ``<``, ``<=``)
and against what value, in what unit (``%`` for a ratio indicator: 80 means 0.8;
``m2_per_person``), and where the threshold comes from (source, clause, note, and
whether the authors could confirm it). The national targets ship as
``gisrenew/rulesets/targets-national.toml``; a project adds its own in a file of the
same shape (``[report] targets`` in ``gisrenew.toml``):

* a target whose ``id`` is a national one's replaces it; other ids are added;
* ``builtin = false`` at the top of the file drops the national targets.

Every key is checked like a setting (:mod:`gisrenew.settings`): unknown keys, wrong
types, non-finite numbers, unknown indicator keys and operators, a unit that is not the
indicator's, duplicate ids — all reported at once, naming the file and the target.
"""

from __future__ import annotations

import hashlib
import math
import operator
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from gisrenew.checksums import file_sha256
from gisrenew.checkup import Check
from gisrenew.errors import RuleSetError
from gisrenew.settings import problems_message, read_section, section_problems, setting

__all__ = [
    "BUILTIN_TARGETS",
    "INDICATORS",
    "OPERATORS",
    "IndicatorInfo",
    "Target",
    "TargetSet",
    "load_targets",
    "parse_targets",
]

#: The preset file of the national targets (in ``gisrenew/rulesets/``).
BUILTIN_TARGETS = "targets-national"

#: Comparisons a target may use, and how each reads in a table.
OPERATORS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    ">": (operator.gt, ">"),
    ">=": (operator.ge, "≥"),
    "<": (operator.lt, "<"),
    "<=": (operator.le, "≤"),
}

#: Units of a target, by the unit of the indicator it checks.
TARGET_UNITS = {"ratio": "%", "m2_per_person": "m2_per_person"}


@dataclass(frozen=True)
class IndicatorInfo:
    """One indicator of the sheet: its names and unit (``ratio`` or ``m2_per_person``)."""

    name_zh: str
    name_en: str
    unit: str


#: Every indicator of the 城市体检 sheet gisrenew computes, in display order.
INDICATORS: dict[str, IndicatorInfo] = {
    "park_coverage_buffer": IndicatorInfo(
        "公园绿地服务半径覆盖率（直线距离）",
        "park green-space service-radius coverage (straight line)",
        "ratio",
    ),
    "park_coverage_network": IndicatorInfo(
        "公园绿地服务半径覆盖率（沿路网步行）",
        "park green-space service-radius coverage (walking along streets)",
        "ratio",
    ),
    "park_area_per_capita": IndicatorInfo(
        "人均公园绿地面积", "park green space per person", "m2_per_person"
    ),
    "comprehensive_park_per_capita": IndicatorInfo(
        "人均综合公园面积", "comprehensive-park area per person", "m2_per_person"
    ),
    "community_park_per_capita": IndicatorInfo(
        "人均社区公园面积", "community-park area per person", "m2_per_person"
    ),
    "greenway_coverage": IndicatorInfo(
        "城市绿道服务半径覆盖率", "greenway service-radius coverage", "ratio"
    ),
    "life_circle_completeness": IndicatorInfo(
        "社区生活圈设施完善率", "community life-circle completeness", "ratio"
    ),
}


@dataclass(frozen=True)
class Target:
    """One threshold an indicator is checked against (see the module docs).

    Attributes
    ----------
    id : str
        Unique within the targets in use; a project's target replaces a national one
        of the same id.
    indicators : tuple of str
        The indicator keys it checks (:data:`INDICATORS`).
    op : {">", ">=", "<", "<="}
    value : float
        As written: a percentage for ``unit = "%"`` (80), else in the indicator's unit.
    unit : {"%", "m2_per_person"}
    source, clause, note : str
        The standard or document, its clause, a remark (scope, caveat).
    confirmed : bool
        False when the authors could not confirm the figure from the source's text.
    """

    id: str
    indicators: tuple[str, ...]
    op: str
    value: float
    unit: str
    source: str = ""
    clause: str = ""
    note: str = ""
    confirmed: bool = True

    @property
    def threshold(self) -> float:
        """The value in the indicator's own unit (80 % → 0.8)."""
        return self.value / 100.0 if self.unit == "%" else self.value

    @property
    def label(self) -> str:
        """How the target reads in a table: ``> 80%``, ``≥ 8.0 m²/人``."""
        sign = OPERATORS[self.op][1]
        if self.unit == "%":
            return f"{sign} {self.value:g}%"
        return f"{sign} {self.value:.1f} m²/人"

    def check(self, value: float | None) -> bool | None:
        """Whether `value` (in the indicator's unit: a ratio 0–1) meets the target.

        None when there is no value (None or nan): the check cannot be made.

        Examples
        --------
        >>> t = Target("t", ("park_coverage_buffer",), ">=", 80, "%")
        >>> t.check(0.8), t.check(0.79), t.check(80.0 / 100), t.check(None)
        (True, False, True, None)
        """
        if value is None or not math.isfinite(float(value)):
            return None
        return bool(OPERATORS[self.op][0](float(value), self.threshold))

    def as_check(self, value: float | None) -> Check:
        """The :class:`~gisrenew.checkup.Check` of `value` against this target."""
        return Check(
            target_id=self.id, label=self.label, op=self.op, threshold=self.threshold,
            source=self.source, clause=self.clause, passed=self.check(value),
            confirmed=self.confirmed, note=self.note,
        )  # fmt: skip


@dataclass(frozen=True)
class TargetSet:
    """The targets in use and the files they came from.

    ``files`` holds ``{"path", "sha256"}`` per file read (the national file as
    ``preset:targets-national``).
    """

    targets: tuple[Target, ...]
    files: tuple[dict[str, str], ...] = ()

    def for_indicator(self, key: str) -> tuple[Target, ...]:
        """Every target naming indicator `key`, in file order."""
        return tuple(t for t in self.targets if key in t.indicators)

    def checks(self, key: str, value: float | None) -> tuple[Check, ...]:
        """`value` of indicator `key` checked against each of its targets."""
        return tuple(t.as_check(value) for t in self.for_indicator(key))

    def to_dict(self) -> dict[str, Any]:
        """``{"files": [...], "count": n}`` — :attr:`gisrenew.checkup.Checkup.targets`."""
        return {"files": [dict(f) for f in self.files], "count": len(self.targets)}


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class _TargetTable:
    """One ``[[targets]]`` table of a targets file."""

    id: str | None = setting("text", "the target's id", example='"local-coverage"')
    indicators: tuple[str, ...] | None = setting(
        "text_list", "indicator keys it checks", example='["park_coverage_buffer"]'
    )
    op: str | None = setting("choice", "comparison", choices=tuple(OPERATORS))
    value: float | None = setting("number", "threshold (a percentage for %)", example="85")
    unit: str | None = setting("choice", "unit of value", choices=tuple(TARGET_UNITS.values()))
    source: str = setting("text", "standard or document", default="")
    clause: str = setting("text", "its clause", default="")
    note: str = setting("text", "scope or caveat", default="")
    confirmed: bool = setting("bool", "false: the figure is unconfirmed", default=True)


@dataclass(frozen=True)
class _TargetsFileTable:
    """The top level of a targets file (``targets`` is checked table by table)."""

    title: str = setting("text", "what the file holds", default="")
    builtin: bool = setting(
        "bool", "false: the national targets are not used with this file", default=True
    )


_REQUIRED = ("id", "indicators", "op", "value", "unit")


def _target_problems(number: int, table: Any) -> list[str]:
    """Every problem of the `number`-th ``[[targets]]`` table."""
    name = table.get("id") if isinstance(table, dict) else None
    where = f"target #{number}" + (f" ({name})" if isinstance(name, str) else "")
    problems = section_problems(_TargetTable, table, section=where)
    if not isinstance(table, dict):
        return problems
    problems += [f"[{where}] needs `{key}`" for key in _REQUIRED if key not in table]
    indicators = table.get("indicators")
    if isinstance(indicators, list):
        unknown = [k for k in indicators if isinstance(k, str) and k not in INDICATORS]
        if unknown:
            problems.append(
                f"[{where}] unknown indicator(s) {', '.join(unknown)}; known: "
                f"{', '.join(INDICATORS)}"
            )
        unit = table.get("unit")
        wrong = [
            k
            for k in indicators
            if k in INDICATORS and unit in TARGET_UNITS.values()
            and TARGET_UNITS[INDICATORS[k].unit] != unit
        ]  # fmt: skip
        if wrong:
            problems.append(
                f'[{where}] unit = "{unit}" does not fit {", ".join(wrong)} (unit '
                f'"{TARGET_UNITS[INDICATORS[wrong[0]].unit]}")'
            )
    return problems


def _file_problems(data: dict) -> list[str]:
    """Every problem of a parsed targets file (empty when it is valid)."""
    top = {k: v for k, v in data.items() if k != "targets"}
    problems = [
        p.replace("unknown key(s) in [file]:", "unknown keys at the top:").replace("[file] ", "")
        for p in section_problems(_TargetsFileTable, top, section="file")
    ]
    tables = data.get("targets", [])
    if not isinstance(tables, list):
        return [*problems, "`targets` must be [[targets]] tables"]
    seen: set[str] = set()
    for number, table in enumerate(tables, start=1):
        problems += _target_problems(number, table)
        name = table.get("id") if isinstance(table, dict) else None
        if isinstance(name, str) and name in seen:
            problems.append(f"[target #{number} ({name})] id {name!r} is used twice")
        if isinstance(name, str):
            seen.add(name)
    return problems


def parse_targets(data: dict, *, source: str = "<dict>") -> tuple[bool, tuple[Target, ...]]:
    """The targets of a parsed targets file, and whether it keeps the national ones.

    Raises
    ------
    RuleSetError
        With every problem of the file (naming `source` and each target).
    """
    problems = _file_problems(data)
    if problems:
        raise RuleSetError(problems_message(source, problems))
    top = read_section(
        _TargetsFileTable, {k: v for k, v in data.items() if k != "targets"}, section="file"
    )
    targets = []
    for table in data.get("targets", []):
        row = read_section(_TargetTable, table, section="targets")
        targets.append(
            Target(
                id=row.id,
                indicators=tuple(row.indicators),
                op=row.op,
                value=row.value,
                unit=row.unit,
                source=row.source,
                clause=row.clause,
                note=row.note,
                confirmed=row.confirmed,
            )
        )
    return top.builtin, tuple(targets)


def _builtin() -> tuple[tuple[Target, ...], dict[str, str]]:
    resource = resources.files("gisrenew") / "rulesets" / f"{BUILTIN_TARGETS}.toml"
    text = resource.read_text(encoding="utf-8")
    _, targets = parse_targets(tomllib.loads(text), source=f"preset:{BUILTIN_TARGETS}")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return targets, {"path": f"preset:{BUILTIN_TARGETS}", "sha256": digest}


def _read_file(path: Path) -> dict:
    if not path.is_file():
        raise RuleSetError(
            f"targets file {path} does not exist. Fix: check `[report] targets` in "
            "gisrenew.toml (a path relative to the project folder) or the file name given"
        )
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RuleSetError(f"{path}: not a valid UTF-8 TOML targets file: {exc}") from None


def load_targets(paths: str | Path | Sequence[str | Path] | None = None) -> TargetSet:
    """The targets in use: the national ones with a project's own files applied.

    Parameters
    ----------
    paths : path or sequence of paths, optional
        Targets files (TOML, UTF-8), applied in order: a target replaces one of the
        same id, new ids are added; a file with ``builtin = false`` drops the national
        targets. None: the national targets only.

    Raises
    ------
    RuleSetError
        A file that does not exist, is not TOML, or has problems (all listed).

    Examples
    --------
    >>> [t.id for t in load_targets().for_indicator("park_area_per_capita")]
    ['gb55014-park-per-capita']
    """
    national, record = _builtin()
    paths = [] if paths is None else [paths] if isinstance(paths, (str, Path)) else list(paths)
    own: dict[str, Target] = {}
    files = [record]
    keep_builtin = True
    for path in map(Path, paths):
        builtin, found = parse_targets(_read_file(path), source=str(path))
        keep_builtin &= builtin
        own.update({t.id: t for t in found})
        files.append({"path": str(path), "sha256": file_sha256(path)})
    if not keep_builtin:
        return TargetSet(tuple(own.values()), tuple(files[1:]))
    chosen = [own.pop(t.id, t) for t in national]
    return TargetSet((*chosen, *own.values()), tuple(files))
