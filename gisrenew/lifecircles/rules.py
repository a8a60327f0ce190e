"""Life-circle rule sets 社区生活圈配套设施规则 — data, not code.

A life-circle rule set lists the life circles 生活圈 (5, 10, 15 minutes and their walking
distance) and, for each facility type 设施类型, its circle, its service radius or walking
distance, whether it is required (应配建) and the clause of the standard it comes from
(GB 50180-2018 城市居住区规划设计标准, TD/T 1062-2021 社区生活圈规划技术指南). A value
that could not be confirmed from the standard's text is listed in the entry's
``unconfirmed``, never invented. Presets ship as ``gisrenew/rulesets/lifecircle-*.toml``;
a user rule set is a TOML file of the same shape::

    name = "gb50180-2018"
    version = "2018.1"
    title = "城市居住区规划设计标准 GB 50180-2018 — 社区生活圈配套设施"
    source = "GB 50180-2018 城市居住区规划设计标准"

    [[circles]]
    minutes = 5
    distance_m = 300
    clause = "GB 50180-2018 第2.0.? 条"
    unconfirmed = []

    [[facilities]]
    type = "kindergarten"            # canonical key, ascii snake_case
    label_zh = "幼儿园"
    label_en = "Kindergarten"
    names = ["幼儿园", "幼稚园"]      # type-column values read as this type
    circle = 5
    radius_m = 300                   # optional: default the circle's distance_m
    required = true
    clause = "GB 50180-2018 附录B"
    unconfirmed = ["radius_m"]

Every key is checked like a setting of ``gisrenew.toml`` (:mod:`gisrenew.settings`):
unknown keys, wrong types, non-finite or non-positive distances, duplicate types or
names, a ``circle`` that is not listed, an ``unconfirmed`` entry naming no field — every
problem of the file is reported at once, naming the file.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gisrenew.errors import Problem, RuleSetError
from gisrenew.rules import LIFE_CIRCLE_PREFIX, read_rule_file
from gisrenew.settings import problems_message, section_problems, setting

__all__ = [
    "DEFAULT_LIFE_CIRCLE_RULES",
    "Circle",
    "FacilityRule",
    "LifeCircleRules",
    "available_life_circle_rules",
    "facility_types",
    "get_life_circle_rules",
    "parse_life_circle_rules",
]

#: The preset used when a project names none.
DEFAULT_LIFE_CIRCLE_RULES = "gb50180-2018"

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Circle:
    """One life circle 生活圈: its minutes and walking distance.

    Attributes
    ----------
    minutes : int
        5, 10 or 15 (the circle's name: 5-minute life circle 五分钟生活圈).
    distance_m : float
        Walking distance of the circle in metres.
    clause : str
        Where the value comes from in the standard.
    unconfirmed : tuple of str
        Fields of this entry not confirmed from the standard's text.
    """

    minutes: int
    distance_m: float
    clause: str = ""
    unconfirmed: tuple[str, ...] = ()


@dataclass(frozen=True)
class FacilityRule:
    """One facility type 设施类型 of a rule set.

    Attributes
    ----------
    type : str
        Canonical key (ascii snake_case), e.g. ``kindergarten``.
    label_zh, label_en : str
        Names for tables and maps (幼儿园 / Kindergarten).
    names : tuple of str
        Values of a facility layer's type column read as this type (besides the key and
        the labels, which always are).
    circle : int
        Minutes of the life circle the type belongs to.
    radius_m : float
        Service radius (straight line) and walking distance (walk) of this type.
    required : bool
        True: 应配建 (counts toward a complete life circle); False: 宜配建.
    clause : str
        Where the entry comes from in the standard.
    unconfirmed : tuple of str
        Fields not confirmed from the standard's text.
    """

    type: str
    label_zh: str
    label_en: str
    names: tuple[str, ...]
    circle: int
    radius_m: float
    required: bool = True
    clause: str = ""
    unconfirmed: tuple[str, ...] = ()

    @property
    def accepted_names(self) -> tuple[str, ...]:
        """Every name read as this type: key, labels, then `names`."""
        return tuple(dict.fromkeys((self.type, self.label_zh, self.label_en, *self.names)))


@dataclass(frozen=True)
class LifeCircleRules:
    """A named, versioned life-circle rule set (see the module notes).

    Attributes
    ----------
    name, version, title : str
        Identity of the rule set; ``title`` names the standard.
    source : str
        The standard (or document) the values come from, as the file says.
    circles : tuple of Circle
        Sorted by minutes.
    facilities : tuple of FacilityRule
        In file order.
    origin : str
        Where the rule set was read from (``preset:<name>`` or a file path).
    notes : str
        Free text.
    """

    name: str
    version: str
    title: str
    circles: tuple[Circle, ...]
    facilities: tuple[FacilityRule, ...]
    source: str = ""
    origin: str = ""
    notes: str = field(default="", compare=False)

    @property
    def types(self) -> tuple[str, ...]:
        """Canonical keys of every facility type, in file order."""
        return tuple(f.type for f in self.facilities)

    def facility(self, type_key: str) -> FacilityRule:
        """The entry of facility type `type_key`."""
        for rule in self.facilities:
            if rule.type == type_key:
                return rule
        raise KeyError(f"{type_key!r} is not a facility type of {self.name}")

    def circle(self, minutes: int) -> Circle:
        """The circle of `minutes`."""
        for circle in self.circles:
            if circle.minutes == minutes:
                return circle
        raise KeyError(f"no {minutes}-minute circle in {self.name}")

    def required_types(self, minutes: int, *, cumulative: bool = False) -> tuple[str, ...]:
        """Required types of the `minutes` circle (with `cumulative`: of every circle ≤ it)."""
        return tuple(
            f.type
            for f in self.facilities
            if f.required and (f.circle <= minutes if cumulative else f.circle == minutes)
        )

    def name_lookup(self) -> dict[str, str]:
        """``{normalized name: type key}`` for every accepted name (see :func:`facility_types`)."""
        return {_norm(n): f.type for f in self.facilities for n in f.accepted_names}

    def describe(self) -> str:
        """One line: ``name vN: 5 min 300 m (3 types); ...``."""
        count = {
            c.minutes: sum(f.circle == c.minutes for f in self.facilities) for c in self.circles
        }
        parts = [
            f"{c.minutes} min {c.distance_m:g} m ({count[c.minutes]} types)" for c in self.circles
        ]
        return f"{self.name} v{self.version}: " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (name, version, circles, every facility entry)."""
        data = dataclasses.asdict(self)
        for entry in (*data["circles"], *data["facilities"]):
            for key, value in entry.items():
                if isinstance(value, tuple):
                    entry[key] = list(value)
        data["circles"] = list(data["circles"])
        data["facilities"] = list(data["facilities"])
        data.pop("notes", None)
        return data


def _norm(name: str) -> str:
    """A type name as compared: trimmed, case-folded (latin letters only change)."""
    return str(name).strip().casefold()


# --------------------------------------------------------------------------- the file


@dataclass(frozen=True)
class _Top:
    name: str | None = setting("text", "rule-set name", example='"my-city-2024"')
    version: str | None = setting("text", "rule-set version", example='"1"')
    title: str = setting("text", "the standard it follows", default="")
    source: str = setting("text", "the standard or document the values come from", default="")
    notes: str = setting("text", "free text", default="")


@dataclass(frozen=True)
class _CircleTable:
    minutes: int | None = setting("integer", "minutes of the circle", above=0, example="5")
    distance_m: float | None = setting("number", "walking distance (m)", above=0, example="300")
    clause: str = setting("text", "clause of the standard", default="")
    unconfirmed: tuple[str, ...] = setting(
        "text_list", "fields not confirmed", default=(), example='["distance_m"]'
    )


@dataclass(frozen=True)
class _FacilityTable:
    type: str | None = setting("text", "canonical key (ascii snake_case)", example='"kindergarten"')
    label_zh: str = setting("text", "Chinese name", default="")
    label_en: str = setting("text", "English name", default="")
    names: tuple[str, ...] = setting(
        "text_list", "type-column values read as this type", default=(), example='["幼儿园"]'
    )
    circle: int | None = setting("integer", "minutes of its life circle", above=0, example="5")
    radius_m: float | None = setting("number", "service radius / walk (m)", above=0)
    required: bool = setting("bool", "应配建 (true) or 宜配建 (false)", default=True)
    clause: str = setting("text", "clause of the standard", default="")
    unconfirmed: tuple[str, ...] = setting(
        "text_list", "fields not confirmed", default=(), example='["radius_m"]'
    )


_TABLES = {"circles": _CircleTable, "facilities": _FacilityTable}


def _entry_problems(kind: str, entries: Any) -> list[str]:
    """Problems of every ``[[circles]]`` or ``[[facilities]]`` table."""
    if not isinstance(entries, list) or not entries:
        return [f"a life-circle rule set needs at least one [[{kind}]] table"]
    cls = _TABLES[kind]
    fields = [f.name for f in dataclasses.fields(cls)]
    needed = ("minutes", "distance_m") if kind == "circles" else ("type", "circle")
    problems = []
    for number, entry in enumerate(entries, start=1):
        section = f"{kind} #{number}"
        found = section_problems(cls, entry, section=section)
        if isinstance(entry, dict):
            found += [f"[{section}] needs `{key}`" for key in needed if key not in entry]
            unconfirmed = entry.get("unconfirmed", [])
            if isinstance(unconfirmed, list):
                found += [
                    f"[{section}] unconfirmed names {name!r}, which is no field of the entry "
                    f"(fields: {', '.join(f for f in fields if f != 'unconfirmed')})"
                    for name in unconfirmed
                    if name not in fields or name == "unconfirmed"
                ]
        problems += found
    return problems


def _cross_problems(circles: list, facilities: list) -> list[str]:
    """Duplicates, unknown circles and bad keys (once every table is well-typed)."""
    problems = []
    minutes = [c["minutes"] for c in circles]
    problems += [
        f"circle {m} min is listed twice"
        for m in sorted({m for m in minutes if minutes.count(m) > 1})
    ]
    owner: dict[str, str] = {}
    for number, entry in enumerate(facilities, start=1):
        key = entry["type"].strip()
        where = f"[facilities #{number}] ({key})"
        if not _KEY.match(key):
            problems.append(f"{where} type must be an ascii snake_case key such as kindergarten")
        if entry["circle"] not in minutes:
            problems.append(
                f"{where} circle = {entry['circle']} is not a listed circle "
                f"({', '.join(str(m) for m in minutes)})"
            )
        names = [key, entry.get("label_zh", ""), entry.get("label_en", "")]
        if isinstance(entry.get("names"), list):
            names += entry["names"]
        texts = (_norm(n) for n in names if isinstance(n, str) and n.strip())
        for name in dict.fromkeys(texts):
            if name in owner and owner[name] != key:
                problems.append(f"{where} name {name!r} is also a name of {owner[name]}")
            elif name in owner:
                problems.append(f"{where} type {key!r} is listed twice")
            owner[name] = key
    return problems


def _file_problems(data: dict) -> list[str]:
    """Every problem of a parsed life-circle rule-set file."""
    top = {k: v for k, v in data.items() if k not in _TABLES}
    problems = [
        p.replace("unknown key(s) in [life_circles]:", "unknown rule-set keys:").replace(
            "[life_circles] ", ""
        )
        for p in section_problems(_Top, top, section="life_circles")
    ]
    problems = [p.replace("; known:", "; known: circles, facilities,", 1) for p in problems]
    problems += [f"a rule set needs `{key}`" for key in ("name", "version") if key not in data]
    for kind in _TABLES:
        problems += _entry_problems(kind, data.get(kind))
    circles = [c for c in _listed(data, "circles") if _is_int(c.get("minutes"))]
    facilities = [
        f
        for f in _listed(data, "facilities")
        if isinstance(f.get("type"), str) and _is_int(f.get("circle"))
    ]
    return problems + _cross_problems(circles, facilities)


def _listed(data: dict, kind: str) -> list[dict]:
    """The ``[[kind]]`` tables of a file (whatever else is wrong with them)."""
    entries = data.get(kind)
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_life_circle_rules(data: dict, *, origin: str = "<dict>") -> LifeCircleRules:
    """Build :class:`LifeCircleRules` from a parsed TOML document (see the module notes).

    Raises
    ------
    RuleSetError
        With every problem of the file, naming `origin`.
    """
    problems = _file_problems(data)
    if problems:
        raise RuleSetError(problems_message(origin, problems))
    circles = tuple(
        sorted(
            (
                Circle(
                    int(c["minutes"]),
                    float(c["distance_m"]),
                    c.get("clause", ""),
                    tuple(c.get("unconfirmed", ())),
                )
                for c in data["circles"]
            ),
            key=lambda c: c.minutes,
        )
    )
    distance = {c.minutes: c.distance_m for c in circles}
    facilities = tuple(
        FacilityRule(
            type=f["type"].strip(),
            label_zh=f.get("label_zh", "").strip(),
            label_en=f.get("label_en", "").strip(),
            names=tuple(n.strip() for n in f.get("names", ()) if n.strip()),
            circle=int(f["circle"]),
            radius_m=float(f.get("radius_m", distance[int(f["circle"])])),
            required=f.get("required", True),
            clause=f.get("clause", ""),
            unconfirmed=tuple(f.get("unconfirmed", ())),
        )
        for f in data["facilities"]
    )
    return LifeCircleRules(
        name=data["name"],
        version=data["version"],
        title=data.get("title", ""),
        circles=circles,
        facilities=facilities,
        source=data.get("source", ""),
        origin=origin,
        notes=data.get("notes", ""),
    )


def _preset_folder():
    return resources.files("gisrenew") / "rulesets"


def available_life_circle_rules() -> list[str]:
    """Names of the life-circle presets shipped with gisrenew (``lifecircle-<name>.toml``)."""
    return sorted(
        p.name.removeprefix(LIFE_CIRCLE_PREFIX).removesuffix(".toml")
        for p in _preset_folder().iterdir()
        if p.name.startswith(LIFE_CIRCLE_PREFIX) and p.name.endswith(".toml")
    )


def get_life_circle_rules(rules: str | Path | LifeCircleRules | None = None) -> LifeCircleRules:
    """A life-circle rule set by preset name or TOML path (a rule set passes through).

    Parameters
    ----------
    rules : str, Path, LifeCircleRules or None
        ``None`` gives the default preset (:data:`DEFAULT_LIFE_CIRCLE_RULES`); a name with
        or without the ``lifecircle-`` prefix names a preset.

    Raises
    ------
    RuleSetError
        Unknown preset, missing file, a file that is not UTF-8 TOML, or invalid content.
    """
    if isinstance(rules, LifeCircleRules):
        return rules
    text = DEFAULT_LIFE_CIRCLE_RULES if rules is None else str(rules)
    preset = text.removeprefix(LIFE_CIRCLE_PREFIX)
    if preset in available_life_circle_rules():
        resource = _preset_folder() / f"{LIFE_CIRCLE_PREFIX}{preset}.toml"
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
        return parse_life_circle_rules(data, origin=f"preset:{preset}")
    path = Path(text)
    if path.suffix.lower() == ".toml" or path.exists():
        data = read_rule_file(path, "life-circle rule-set")
        return parse_life_circle_rules(data, origin=str(path))
    raise RuleSetError(
        f"unknown life-circle rule set {text!r}; presets: "
        f"{', '.join(available_life_circle_rules()) or '-'}, or a path to a .toml file"
    )


def facility_types(
    frame: pd.DataFrame, rules: LifeCircleRules, *, source: str = "", layer: str = "facilities"
) -> tuple[np.ndarray, list[Problem]]:
    """The canonical type of every facility row, and a warning for values no entry names.

    Values of the ``facility_type`` column are matched after trimming, case-insensitively
    for latin letters, against every entry's key, labels and ``names``.

    Returns
    -------
    types : numpy.ndarray of str
        Canonical key per row; ``""`` where the value names no type (the row is left out).
    problems : list of Problem
        One warning per unknown value, naming it and its rows (numbered from 1).
    """
    values = frame["facility_type"].fillna("").astype(str).to_numpy(dtype=object)
    codes, uniques = pd.factorize(pd.Series(values).map(_norm))
    lookup = rules.name_lookup()
    known = np.array([lookup.get(u, "") for u in uniques] + [""], dtype=object)
    types = known[codes]
    problems = []
    for code in np.flatnonzero(known[:-1] == ""):
        rows = np.flatnonzero(codes == code)
        shown = values[rows[0]].strip()
        problems.append(
            Problem(
                "warning",
                f"facility type {shown!r} is not a type of the life-circle rule set "
                f"{rules.name}: {len(rows)} row(s) left out",
                source=source,
                layer=layer,
                rows=tuple(int(r) + 1 for r in rows[:20]),
                column="facility_type",
                fix="use one of the rule set's names ("
                + ", ".join(f.label_zh or f.type for f in rules.facilities)
                + ") or add the value to an entry's `names` in a rule-set file of your own",
                category="schema",
            )
        )
    return types.astype(str), problems
