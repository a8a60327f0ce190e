"""Targets as data (gisrenew.targets): the national file, checks in the indicator's unit,
a project's own file (replace, add, drop the national ones), strict validation."""

from __future__ import annotations

import math

import pytest

from gisrenew.config import ProjectConfig
from gisrenew.errors import ProjectError, RuleSetError
from gisrenew.rules import available_rules
from gisrenew.targets import INDICATORS, Target, load_targets


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_the_national_targets_with_their_sources():
    targets = {t.id: t for t in load_targets().targets}
    coverage = targets["gb55014-coverage"]
    assert coverage.threshold == 0.8 and coverage.op == ">" and coverage.clause == "第2.1.3条"
    assert set(coverage.indicators) == {"park_coverage_buffer", "park_coverage_network"}
    assert targets["gb55014-park-per-capita"].threshold == 8.0
    assert targets["gbt51346-coverage"].threshold == 0.9
    assert "老城区" in targets["gbt51346-coverage"].note
    # the figures the authors could not confirm are marked
    assert not targets["gb55014-comprehensive-park-per-capita"].confirmed
    assert not targets["gb55014-community-park-per-capita"].confirmed
    assert not targets["eco-garden-city-coverage"].confirmed
    assert targets["eco-garden-city-coverage"].op == ">="
    # no standard of the issue gives a greenway target
    assert load_targets().for_indicator("greenway_coverage") == ()


def test_the_targets_file_is_not_a_park_rule_set():
    assert not any(name.startswith("targets") for name in available_rules())


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [(">", 0.8, False), (">=", 0.8, True), (">", 0.8000001, True), ("<", 0.8, False),
     ("<=", 0.8, True), (">", 80.0, True)],
)  # fmt: skip
def test_a_ratio_target_compares_in_the_indicator_unit(op, value, expected):
    # 80 % is 0.8 of the ratio: the value is never multiplied by 100 (80.0 is 8000 %)
    target = Target("t", ("park_coverage_buffer",), op, 80, "%")
    assert target.check(value) is expected


def test_no_value_cannot_be_checked():
    target = Target("t", ("park_area_per_capita",), ">", 8.0, "m2_per_person")
    assert target.check(None) is None and target.check(math.nan) is None
    assert target.as_check(None).passed is None
    assert target.label == "> 8.0 m²/人"
    assert Target("t", ("park_coverage_buffer",), ">=", 90, "%").label == "≥ 90%"


def test_a_project_target_replaces_the_national_one_of_its_id(tmp_path):
    own = _write(
        tmp_path / "my-targets.toml",
        """
[[targets]]
id = "gb55014-coverage"
indicators = ["park_coverage_buffer"]
op = ">="
value = 85
unit = "%"
source = "太仓市城市体检工作方案"

[[targets]]
id = "local-per-capita"
indicators = ["park_area_per_capita"]
op = ">="
value = 12
unit = "m2_per_person"
""",
    )
    chosen = load_targets(own)
    ids = [t.id for t in chosen.targets]
    national = [t.id for t in load_targets().targets]
    assert ids == [*national, "local-per-capita"]  # replaced in place, the new one added
    replaced = next(t for t in chosen.targets if t.id == "gb55014-coverage")
    assert replaced.threshold == 0.85 and replaced.indicators == ("park_coverage_buffer",)
    assert [c.passed for c in chosen.checks("park_coverage_buffer", 0.82)] == [False, False, False]
    assert [c.target_id for c in chosen.checks("park_coverage_network", 0.82)] == [
        "gbt51346-coverage", "eco-garden-city-coverage",
    ]  # fmt: skip
    assert chosen.to_dict()["files"][1]["path"] == str(own)
    assert len(chosen.to_dict()["files"][1]["sha256"]) == 64


def test_builtin_false_drops_the_national_targets(tmp_path):
    own = _write(
        tmp_path / "only-mine.toml",
        """builtin = false
[[targets]]
id = "mine"
indicators = ["greenway_coverage"]
op = ">"
value = 50
unit = "%"
""",
    )
    chosen = load_targets(own)
    assert [t.id for t in chosen.targets] == ["mine"]
    assert chosen.checks("greenway_coverage", 0.6)[0].passed is True


def test_an_invalid_targets_file_lists_every_problem(tmp_path):
    bad = _write(
        tmp_path / "bad.toml",
        """colour = "green"
[[targets]]
id = "a"
indicators = ["park_coverage_buffer", "park_happiness"]
op = "=>"
value = "80"
unit = "%"

[[targets]]
id = "b"
indicators = ["park_area_per_capita"]
op = ">"
value = nan
unit = "%"
wrong_key = 1

[[targets]]
indicators = ["park_coverage_buffer"]
op = ">"
value = 1
unit = "%"

[[targets]]
id = "a"
indicators = ["park_coverage_network"]
op = ">"
value = 80
unit = "%"
""",
    )
    with pytest.raises(RuleSetError) as caught:
        load_targets(bad)
    message = str(caught.value)
    assert str(bad) in message
    for expected in (
        "colour",  # unknown key at the top
        "park_happiness",  # unknown indicator
        "=>",  # unknown operator
        'the text "80"',  # wrong type
        "finite",  # nan
        "wrong_key",
        'unit = "%" does not fit park_area_per_capita',
        "target #3] needs `id`",
        "id 'a' is used twice",
    ):
        assert expected in message, expected
    assert "target #1 (a)" in message and "target #2 (b)" in message


def test_a_missing_targets_file_says_so(tmp_path):
    with pytest.raises(RuleSetError, match="does not exist"):
        load_targets(tmp_path / "nope.toml")


def test_every_indicator_unit_has_a_target_unit():
    assert {info.unit for info in INDICATORS.values()} == {"ratio", "m2_per_person"}


def test_report_settings_are_checked_like_every_setting(tmp_path):
    config = ProjectConfig.from_dict(
        {"report": {"targets": "my-targets.toml", "population": 480000}},
        path=tmp_path / "gisrenew.toml",
    )
    assert config.report.population == 480000.0
    assert config.report.greenway_radius_m == 1000.0
    assert config.targets_source() == str((tmp_path / "my-targets.toml").resolve())
    with pytest.raises(ProjectError) as caught:
        ProjectConfig.from_dict(
            {"report": {"population": -5, "greenway_radius_m": float("inf"), "colour": 1}}
        )
    message = str(caught.value)
    assert "population" in message and "greenway_radius_m" in message and "colour" in message
