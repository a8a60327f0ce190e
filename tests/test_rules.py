"""Tests of rule sets (gisrenew.rules): presets, user TOML, the flat rule, tier matching."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gisrenew.errors import RuleSetError
from gisrenew.rules import (
    DEFAULT_RULES,
    RuleSet,
    Tier,
    available_rules,
    flat_rules,
    get_rules,
    parse_rules,
)


def test_presets_are_listed_and_versioned():
    names = available_rules()
    assert {"tijian-2021", "garden-city-500", "gbt51346-2019"} <= set(names)
    for name in names:
        rules = get_rules(name)
        assert rules.name == name
        assert rules.version
        assert rules.source == f"preset:{name}"
    assert get_rules(None).name == DEFAULT_RULES == "tijian-2021"


def test_tijian_tiers_at_their_edges():
    rules = get_rules("tijian-2021")
    area = np.array([5000.0, 4999.999, 2000.0, 1999.999, 100_000.0, 0.0])
    radius, tier, reason = rules.assign(area)
    np.testing.assert_array_equal(radius[:3], [500.0, 300.0, 300.0])
    assert math.isnan(radius[3]) and math.isnan(radius[5])
    assert tier.tolist() == [0, 1, 1, -1, 0, -1]
    assert reason[0] == "" and "below 2000" in reason[3]


def test_garden_city_single_tier():
    radius, _, _ = get_rules("garden-city-500").assign([999.0, 1000.0, 50_000.0])
    assert math.isnan(radius[0])
    assert radius[1:].tolist() == [500.0, 500.0]


def test_plazas_count_only_where_the_rule_set_says():
    area = [3000.0, 3000.0]
    classes = ["G3", "G14"]
    r_tijian, _, reason = get_rules("tijian-2021").assign(area, classes)
    assert math.isnan(r_tijian[0]) and r_tijian[1] == 300
    assert "class G3 does not count" in reason[0]
    r_gbt, _, _ = get_rules("gbt51346-2019").assign(area, classes)
    assert r_gbt.tolist() == [500.0, 500.0]


def test_class_specific_tier_wins_when_listed_first():
    rules = parse_rules(
        {
            "name": "t",
            "version": "1",
            "tiers": [
                {"park_classes": ["G11"], "min_area_m2": 0, "radius_m": 1000},
                {"min_area_m2": 400, "radius_m": 300},
            ],
        }
    )
    radius, tier, _ = rules.assign([500.0, 500.0, 300.0], ["G11", "G12", "G11"])
    assert radius.tolist() == [1000.0, 300.0, 1000.0]
    assert tier.tolist() == [0, 1, 0]


def test_user_toml_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        'name = "mine"\nversion = "2024.2"\ntitle = "区级口径"\nmin_width_m = 30\n'
        'residential_codes = ["R2", "0701"]\ncount_plazas = true\n'
        "[[tiers]]\nmin_area_m2 = 1000\nmax_area_m2 = 10000\nradius_m = 300\n"
        "[[tiers]]\nmin_area_m2 = 10000\nradius_m = 800\n",
        encoding="utf-8",
    )
    rules = get_rules(path)
    assert (rules.name, rules.version, rules.title) == ("mine", "2024.2", "区级口径")
    assert rules.min_width_m == 30
    assert rules.residential_codes == ("R2", "0701")
    assert rules.count_plazas and "G3" in rules.counted_classes
    assert rules.max_radius_m == 800
    radius, _, _ = rules.assign([9999.0, 10_000.0, 999.0])
    assert radius[:2].tolist() == [300.0, 800.0] and math.isnan(radius[2])
    data = json.loads(json.dumps(rules.to_dict()))
    assert data["tiers"][1]["max_area_m2"] is None
    assert data["source"] == str(path)
    assert get_rules(str(path)) == rules


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\nversion = "1"\n', "tiers"),
        ('name = "x"\nversion = "1"\ntiers = []\n', "at least one"),
        (
            'name = "x"\nversion = "1"\nradius = 3\n[[tiers]]\nradius_m = 1\n',
            "unknown rule-set keys",
        ),
        ('name = "x"\nversion = "1"\n[[tiers]]\nradius_m = -5\n', "positive"),
        ('name = "x"\nversion = "1"\n[[tiers]]\nmin_area_m2 = 10\n', "radius_m"),
        (
            'name = "x"\nversion = "1"\n[[tiers]]\nradius_m = 5\n'
            "min_area_m2 = 10\nmax_area_m2 = 5\n",
            "exceed",
        ),
        ("name = \n", "TOML"),
    ],
)
def test_malformed_rule_files(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleSetError, match=message):
        get_rules(path)


def test_unknown_rule_set_name_lists_presets(tmp_path):
    with pytest.raises(RuleSetError, match="tijian-2021"):
        get_rules("no-such-rules")
    with pytest.raises(RuleSetError, match="does not exist"):
        get_rules(tmp_path / "missing.toml")


def test_flat_rule():
    rules = flat_rules(400, 1000)
    assert isinstance(rules, RuleSet)
    assert rules.name == "flat" and "400" in rules.version
    radius, _, _ = rules.assign([999.0, 1000.0])
    assert math.isnan(radius[0]) and radius[1] == 400
    with pytest.raises(RuleSetError, match="positive"):
        flat_rules(0)


def test_tier_description():
    assert Tier(radius_m=500, min_area_m2=5000).describe() == "≥5000 m² → 500 m"
    assert (
        Tier(radius_m=300, min_area_m2=2000, max_area_m2=5000).describe() == "2000–5000 m² → 300 m"
    )
    assert "tijian-2021" in get_rules().describe()
