"""The shipped life-circle rule sets 社区生活圈 (gisrenew/rulesets/lifecircle-*.toml).

A small checker of the shared rule-set format, written here so the data files are tested
without the engine's parser: every file parses as TOML, every entry has the format's
fields with the right types, clauses are non-empty, each facility's circle is listed,
distances are positive and finite, ``unconfirmed`` names fields of its entry, and no type
name (after trimming, case-insensitive for latin letters) belongs to two types.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest

from gisrenew.rules import available_rules

RULESETS = Path(__file__).resolve().parents[1] / "gisrenew" / "rulesets"
SHIPPED = ("lifecircle-gb50180-2018.toml", "lifecircle-tdt1062-2021.toml")

TOP = {"name": str, "version": str, "title": str, "source": str, "notes": str}
CIRCLE = {"minutes": int, "distance_m": (int, float), "clause": str, "unconfirmed": list}
FACILITY = {
    "type": str,
    "label_zh": str,
    "label_en": str,
    "names": list,
    "circle": int,
    "radius_m": (int, float),
    "required": bool,
    "clause": str,
    "unconfirmed": list,
}
OPTIONAL = {"radius_m"}
CONTRACT_TYPES = {
    "kindergarten",
    "primary_school",
    "middle_school",
    "health_station",
    "health_centre",
    "elderly_day_care",
    "market",
    "sports_field",
    "culture_station",
}


def _fits(value, kind) -> bool:
    if isinstance(value, bool) and kind is not bool:
        return False  # TOML true is not a number
    return isinstance(value, kind)


def _entry_problems(entry: dict, fields: dict, where: str) -> list[str]:
    problems = [f"{where}: unknown key {key!r}" for key in entry if key not in fields]
    for key, kind in fields.items():
        if key not in entry:
            if key not in OPTIONAL:
                problems.append(f"{where}: {key} missing")
        elif not _fits(entry[key], kind):
            problems.append(f"{where}: {key} = {entry[key]!r} has the wrong type")
    for key in ("distance_m", "radius_m"):
        value = entry.get(key)
        if _fits(value, (int, float)) and not (math.isfinite(value) and value > 0):
            problems.append(f"{where}: {key} = {value!r} is not a positive finite distance")
    if isinstance(entry.get("clause"), str) and not entry["clause"].strip():
        problems.append(f"{where}: empty clause")
    for field in entry.get("unconfirmed", []):
        if field not in entry or field == "unconfirmed":
            problems.append(f"{where}: unconfirmed names {field!r}, not a field of the entry")
    return problems


def _key(name: str) -> str:
    """A type-column value as matched: trimmed, latin letters case-insensitive."""
    return name.strip().casefold()


def rule_set_problems(data: dict) -> list[str]:
    """Every problem of one parsed life-circle rule set (empty when it is sound)."""
    top = {k: v for k, v in data.items() if k not in ("circles", "facilities")}
    problems = _entry_problems(top, TOP, "top level")
    circles = data.get("circles", [])
    facilities = data.get("facilities", [])
    if not circles or not facilities:
        problems.append("no [[circles]] or no [[facilities]]")
    for k, circle in enumerate(circles):
        problems += _entry_problems(circle, CIRCLE, f"circles[{k}]")
    minutes = [c.get("minutes") for c in circles]
    if len(set(minutes)) != len(minutes):
        problems.append(f"circles listed twice: {minutes}")
    owner: dict[str, str] = {}
    for k, fac in enumerate(facilities):
        where = f"facilities[{k}] ({fac.get('type')})"
        problems += _entry_problems(fac, FACILITY, where)
        if fac.get("circle") not in minutes:
            problems.append(f"{where}: circle {fac.get('circle')!r} is not one of {minutes}")
        accepted = {fac.get("type", ""), fac.get("label_zh", ""), fac.get("label_en", "")}
        for name in accepted | set(fac.get("names", [])):
            if not isinstance(name, str) or not name.strip():
                problems.append(f"{where}: empty or non-text name {name!r}")
                continue
            other = owner.setdefault(_key(name), str(fac.get("type")))
            if other != fac.get("type"):
                problems.append(f"{where}: name {name!r} also names type {other!r}")
    types = [f.get("type") for f in facilities]
    if len(set(types)) != len(types):
        problems.append("a facility type is listed twice")
    return problems


def load(name: str) -> dict:
    return tomllib.loads((RULESETS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_rule_set_is_sound(name):
    data = load(name)
    assert rule_set_problems(data) == []
    assert name == f"lifecircle-{data['name']}.toml"
    types = {f["type"] for f in data["facilities"]}
    assert CONTRACT_TYPES <= types
    assert all(t.isascii() and t == t.lower() and " " not in t for t in types)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_entry_cites_its_source_document(name):
    data = load(name)
    document = "GB 50180-2018" if "gb50180" in name else "TD/T 1062-2021"
    for entry in data["circles"] + data["facilities"]:
        assert entry["clause"].startswith(document), entry
    assert document in data["source"]


@pytest.mark.parametrize("name", SHIPPED)
def test_unconfirmed_values_are_declared(name):
    """What could not be checked against the standard's text says so, in the file."""
    data = load(name)
    assert "UNCONFIRMED" in data["notes"]
    for entry in data["facilities"]:
        assert {"radius_m", "required"} <= set(entry["unconfirmed"]), entry["type"]
    # GB 50180-2018 defines the circles' walking distances (第2.0.2–2.0.4条, 表3.0.4); the
    # levels of TD/T 1062-2021 could not be read.
    circles = [] if "gb50180" in name else ["distance_m"]
    for entry in data["circles"]:
        assert entry["unconfirmed"] == circles


def test_gb50180_circles_and_key_radii():
    """The circle distances and radii the issue quotes (about 300 m, 500 m, 800–1000 m)."""
    data = load("lifecircle-gb50180-2018.toml")
    assert {c["minutes"]: c["distance_m"] for c in data["circles"]} == {5: 300, 10: 500, 15: 1000}
    fac = {f["type"]: f for f in data["facilities"]}
    assert (fac["kindergarten"]["circle"], fac["kindergarten"]["radius_m"]) == (5, 300)
    assert (fac["primary_school"]["circle"], fac["primary_school"]["radius_m"]) == (10, 500)
    assert (fac["middle_school"]["circle"], fac["middle_school"]["radius_m"]) == (15, 1000)
    assert fac["nursery"]["required"] is False


def test_both_rule_sets_share_one_vocabulary():
    """A planner's type value means the same type under either rule set."""
    gb, tdt = (load(name) for name in SHIPPED)
    vocab = [{f["type"]: sorted(f["names"]) for f in d["facilities"]} for d in (gb, tdt)]
    assert vocab[0] == vocab[1]


def test_life_circle_files_are_not_park_presets():
    assert not [name for name in available_rules() if name.startswith("lifecircle-")]


# ---------------------------------------------------------------- the checker itself


def _minimal() -> dict:
    return {
        "name": "x",
        "version": "1",
        "title": "t",
        "source": "s",
        "notes": "n",
        "circles": [{"minutes": 5, "distance_m": 300, "clause": "c", "unconfirmed": []}],
        "facilities": [
            {
                "type": "kindergarten",
                "label_zh": "幼儿园",
                "label_en": "Kindergarten",
                "names": ["幼稚园"],
                "circle": 5,
                "required": True,
                "clause": "c",
                "unconfirmed": [],
            }
        ],
    }


def test_checker_accepts_a_minimal_rule_set():
    assert rule_set_problems(_minimal()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["circles"][0].update(distance_m=0), "positive finite"),
        (lambda d: d["circles"][0].update(distance_m=math.inf), "positive finite"),
        (lambda d: d["facilities"][0].update(radius_m=-1), "positive finite"),
        (lambda d: d["facilities"][0].update(circle=15), "not one of"),
        (lambda d: d["facilities"][0].update(clause=" "), "empty clause"),
        (lambda d: d["facilities"][0].update(required="yes"), "wrong type"),
        (lambda d: d["facilities"][0].update(unconfirmed=["radius"]), "not a field"),
        (lambda d: d["facilities"][0].update(colour="red"), "unknown key"),
        (lambda d: d["facilities"][0].pop("label_en"), "label_en missing"),
        (
            lambda d: d["facilities"].append(
                {
                    **d["facilities"][0],
                    "type": "nursery",
                    "label_zh": "托儿所",
                    "label_en": "Nursery",
                    "names": [" 幼稚园 "],
                }
            ),
            "also names type 'kindergarten'",
        ),
        (
            lambda d: d["facilities"].append(
                {
                    **d["facilities"][0],
                    "type": "nursery",
                    "label_zh": "托儿所",
                    "label_en": "KINDERGARTEN",
                    "names": [],
                }
            ),
            "also names type 'kindergarten'",
        ),
    ],
)
def test_checker_finds_each_problem(change, expected):
    data = _minimal()
    change(data)
    problems = rule_set_problems(data)
    assert any(expected in p for p in problems), problems
