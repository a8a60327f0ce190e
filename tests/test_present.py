"""Tests for gisrenew.present: widths, table alignment, cleaning, formatters, labels.

Every expected string is written out by hand.
"""

from __future__ import annotations

import math
import unicodedata

import numpy as np
import pandas as pd
import pytest

from gisrenew import present
from gisrenew.present import formats as fmt
from gisrenew.present import labels
from gisrenew.present.tables import display_width, join_lines, render_table, sanitize, table_lines
from gisrenew.webmap import labels as map_labels

# ------------------------------------------------------------------ display width


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("abc", 3),
        ("全市", 4),  # two wide characters
        ("西 (w)", 6),
        ("娄东街道 (D02)", 14),
        ("e\u0301", 1),  # e + combining acute accent: one column
        ("Cafe\u0301 公园", 9),
        ("👍", 2),  # emoji: two columns
        ("公园👍ok", 8),
        ("亩", 2),
        ("m²", 2),
        ("", 0),
        ("\x1b", 1),  # measured as its visible stand-in ␛
    ],
)
def test_display_width(text, width):
    assert display_width(text) == width


def test_table_with_chinese_district_names_lines_up():
    lines = table_lines(
        ["区域", "覆盖率"],
        [["全市", "81.14%"], ["娄东街道 (D02)", "88.63%"], ["港区", "7.5%"]],
    )
    # column 1 is 14 columns wide (娄东街道 (D02)), column 2 six (覆盖率 / 81.14%)
    assert lines == [
        "区域" + " " * 10 + "  " + "覆盖率",
        "-" * 14 + "  " + "-" * 6,
        "全市" + " " * 10 + "  " + "81.14%",
        "娄东街道 (D02)" + "  " + "88.63%",
        "港区" + " " * 10 + "  " + "  7.5%",
    ]
    assert {display_width(line) for line in lines} == {22}


def test_numbers_are_right_aligned_and_text_left_by_default():
    text = render_table(
        ["名称", "户数", "面积"], [["甲", "5", "1,234.5"], ["乙乙乙", "1,260", "-"]]
    )
    assert text.splitlines()[2:] == [
        "甲          5  1,234.5",
        "乙乙乙  1,260        -",
    ]


def test_explicit_alignment_and_a_rule_before_the_total():
    lines = table_lines(["id", "n"], [["a", "1"], ["total", "12"]], align="rl", rule_before=[1])
    assert lines == ["   id  n", "-----  --", "    a  1", "-----  --", "total  12"]


def test_rows_must_match_the_headers():
    with pytest.raises(ValueError, match="row 0 has 1 cells for 2 columns"):
        table_lines(["a", "b"], [["x"]])


# ------------------------------------------------------------------ cleaning


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("东园\x1b[2J", "东园␛[2J"),  # ESC: clear screen
        ("a\rb", "a␍b"),  # carriage return: overwrite the line
        ("a\x00b", "a␀b"),  # NUL
        ("a\nb", "a␊b"),
        ("a\tb", "a␉b"),
        ("a\x7fb", "a␡b"),
        ("abc\u202edef", "abc\\u202edef"),  # right-to-left override
        ("x\u2066y\u2069", "x\\u2066y\\u2069"),  # bidi isolates
        ("csi\x9b2J", "csi\\x9b2J"),  # C1 control sequence introducer
        ("line\u2028sep", "line\\u2028sep"),
        ("bad\udcff", "bad\\udcff"),  # lone surrogate from an undecodable name
        ("古松弄 👨\u200d👩\u200d👧 e\u0301", "古松弄 👨\u200d👩\u200d👧 e\u0301"),  # untouched
        (None, ""),
    ],
)
def test_sanitize(raw, shown):
    assert sanitize(raw) == shown


def test_sanitize_can_keep_line_feeds_of_a_message():
    assert sanitize("first\nsecond\r\x1b[2J", keep_newlines=True) == "first\nsecond␍␛[2J"


def _controls(text: str) -> list[str]:
    return [ch for ch in text if ch != "\n" and unicodedata.category(ch) == "Cc"]


def test_table_cells_and_report_lines_never_carry_raw_controls():
    rows = [["\x1b]0;title\x07", "1"], ["a\r\nb\x00", "22"], ["\u202eevil", "3"]]
    lines = table_lines(["名称\x1b[31m", "n"], rows)
    assert len(lines) == 5 and not any(_controls(line) for line in lines)
    assert "\u202e" not in "".join(lines)
    assert lines[3].startswith("a␍␊b␀")
    # one line stays one line, whatever its content
    assert join_lines(["x\ny", "z\r"]) == "x␊y\nz␍"


# ------------------------------------------------------------------ formatters


def test_area_decimals_and_units_in_both_languages():
    assert fmt.area(12_345.4, "m2") == "12,345 m²"
    assert fmt.area(12_345.4, "ha") == "1.23 公顷"
    assert fmt.area(12_345.4, "ha", lang="en") == "1.23 ha"
    assert fmt.area(10_000, "mu") == "15.0 亩"
    assert fmt.area(10_000, "mu", lang="en") == "15.0 mu"
    assert fmt.area(10_000, "mu", with_unit=False) == "15.0"
    assert fmt.area_summary(10_000, "zh") == "10,000 m²（1.00 公顷，15.0 亩）"
    assert fmt.area_summary(10_000, "en") == "10,000 m² (1.00 ha, 15.0 mu)"
    assert fmt.area_compact(2_000, "zh") == "2,000 m²（3.0 亩）"
    assert fmt.area_compact(10_000, "zh") == "1.00 公顷（15.0 亩）"
    assert fmt.area_compact(10_000, "en") == "1.00 ha (15.0 mu)"
    with pytest.raises(ValueError, match="unit_key"):
        fmt.area(1, "km2")


def test_percentages_and_percentage_points():
    assert fmt.percent(0.81137) == "81.14%"
    assert fmt.percent(1) == "100.00%"
    assert fmt.percent_short(0.81137) == "81.1%"
    assert fmt.points(-0.18034, "zh") == "-18.03 个百分点"
    assert fmt.points(0.05, "en") == "+5.00 pp"
    assert fmt.points(0.0, "en") == "+0.00 pp"
    assert fmt.points(-0.00001, "en") == "+0.00 pp"  # rounds to zero: no "-0.00"


def test_households_are_whole_numbers():
    assert fmt.households(5259.8) == "5,260"
    assert fmt.households(5259.8, "zh", with_unit=True) == "5,260 户"
    assert fmt.households(12.4, "en", with_unit=True) == "12 households"
    assert fmt.households(-0.2) == "0"


def test_counts_distances_and_radii():
    assert fmt.count(1234) == "1,234"
    assert fmt.count(np.int64(7)) == "7"
    assert fmt.distance(812.4) == "812 m"
    assert fmt.radius(300.0) == "300 m"
    assert fmt.radius(250.5, with_unit=False) == "250.5"
    assert fmt.milliseconds(0.0123) == "12.3 ms"


@pytest.mark.parametrize("missing", [None, math.nan, np.nan, pd.NA, "n/a", math.inf])
def test_missing_values_are_one_dash(missing):
    for text in (
        fmt.area(missing),
        fmt.area_summary(missing),
        fmt.percent(missing),
        fmt.points(missing),
        fmt.households(missing),
        fmt.count(missing),
        fmt.distance(missing),
    ):
        assert text == "-"
    assert fmt.area_compact(missing, missing="") == ""


def test_each_formats_a_column():
    assert fmt.each(np.array([0.5, np.nan]), fmt.percent_short, missing="") == ["50.0%", ""]


# ------------------------------------------------------------------ labels


def test_label_in_both_languages():
    assert labels.label("coverage.city", "zh") == "全市"
    assert labels.label("coverage.city", "en") == "city"
    assert labels.label("unit.ha", "zh") == "公顷"
    assert labels.status_label("signing", "zh") == "签约中"
    assert labels.status_label("signing", "en") == "signing under way"


def test_unknown_label_key_or_language_raises():
    with pytest.raises(KeyError, match=r"no label 'coverage\.citty'.*coverage\.city"):
        labels.label("coverage.citty", "zh")
    with pytest.raises(ValueError, match="lang"):
        labels.label("coverage.city", "fr")
    with pytest.raises(KeyError):
        map_labels.label("no_such_map_label", "zh")


def test_every_label_has_both_languages():
    for key in labels.keys():
        zh, en = labels.label(key, "zh"), labels.label(key, "en")
        assert zh and en, key


def test_map_labels_are_the_map_part_of_the_one_vocabulary():
    assert map_labels.label("coverage_title", "zh") == labels.label("map.coverage_title", "zh")
    # the signing legend uses the signing-status wording
    assert map_labels.label("signing_all", "zh") == labels.status_label("signed", "zh")
    assert map_labels.label("signing_none", "en") == labels.status_label("not_started", "en")


def test_column_headers():
    assert labels.column_headers("en") == {}
    general = labels.column_headers("zh")
    assert general["area_mu"] == "面积(亩)" and general["covered_area_ha"] == "覆盖面积(公顷)"
    assert labels.column_headers("zh", "plans")["area_mu"] == "项目面积(亩)"
    with pytest.raises(ValueError, match="subject"):
        labels.column_headers("zh", "nope")


# ------------------------------------------------------------------ reports


def _effects(households: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "plan_id": ["PL19"],
            "name": ["化肥厂\x1b[2J"],
            "park_class": ["G1"],
            "park_area_m2": [18_644.0],
            "radius_m": [500.0],
            "new_covered_m2": [275_421.0],
            "new_covered_mu": [275_421.0 / (10_000 / 15)],
            "new_households": [households],
            "converted_residential_m2": [0.0],
            "reason": [""],
        }
    )


def test_plan_effects_show_households_as_whole_numbers():
    text = present.format_coverage_effects(_effects(5259.8))
    assert "5,260" in text and "5,259.8" not in text
    assert "413.1" in text  # 275 421 m² in 亩
    assert "化肥厂␛[2J" in text and "\x1b" not in text
    english = present.format_coverage_effects(
        _effects(5259.8).assign(radius_m=[math.nan]), lang="en"
    )
    assert "not counted" in english and "不计入" not in english


def test_recompute_report_shows_closed_households_as_whole_numbers():
    report = {
        "project": "p",
        "changed": True,
        "message": "run 1",
        "rules": {"name": "tijian-2021", "version": "1"},
        "blind_spots_closed": {
            "closed_count": 1,
            "fully_closed_count": 0,
            "closed_area_m2": 1_000.0,
            "closed_households": 12.6,
            "rows": [
                {"residential_id": "r1", "district_id": "d1", "closed_m2": 1_000.0,
                 "closed_households": 12.6, "fully_closed": False},
            ],
        },
    }  # fmt: skip
    text = present.format_recompute_report(report, lang="zh")
    assert "12.6" not in text
    # every number with its unit, blind spots in 亩 too (issue #14)
    assert "  r1（d1）：1,000 m²（1.5 亩），13 户" in text
    assert "1,000 m²（0.10 公顷，1.5 亩），13 户" in text
    assert "13 households" in present.format_recompute_report(report, lang="en")


def test_reports_refuse_an_unknown_language():
    with pytest.raises(ValueError, match="lang"):
        present.format_coverage_effects(_effects(1.0), lang="fr")
    with pytest.raises(ValueError, match="lang"):
        present.format_recompute_report({}, lang="de")


# ------------------------------------------------------------------ issue #14: one language


@pytest.mark.parametrize(
    ("walk", "zh", "en"),
    [
        (
            {"basis": "tier_radius", "distance_m": None, "tier_radii_m": [500.0, 300.0],
             "minutes": None, "speed_kmh": None},
            "沿路网步行 500/300 m（按服务半径）",
            "walking 500/300 m along streets (each park's service radius)",
        ),
        (
            {"basis": "minutes", "distance_m": 800.0, "tier_radii_m": [500.0, 300.0],
             "minutes": 10.0, "speed_kmh": 4.8},
            "步行 10 分钟（800 m，4.8 km/h）",
            "a 10-minute walk (800 m at 4.8 km/h)",
        ),
        (
            {"basis": "distance", "distance_m": 600.0, "tier_radii_m": [500.0],
             "minutes": None, "speed_kmh": None},
            "沿路网步行 600 m",
            "walking 600 m along streets",
        ),
        (None, "直线服务半径", "straight-line service radius"),
    ],
)  # fmt: skip
def test_every_walk_names_its_distance(walk, zh, en):
    assert fmt.walk(walk, "zh") == zh and fmt.walk(walk, "en") == en


@pytest.mark.parametrize(
    ("reason", "zh"),
    [
        ("area below 2000 m²", "面积小于 2000 m²"),
        (
            "no tier matches (area below 1000 m² or class not in a tier)",
            "无匹配档位（面积小于 1000 m² 或类别不在任一档位）",
        ),
        ("class G3 does not count under tijian-2021", "类别 G3 在 tijian-2021 规则下不计入"),
        ("narrower than 8 m (width 3.2 m)", "宽度 3.2 m，窄于 8 m"),
        ("adds no residential land to the existing coverage", "不能新增覆盖的居住用地"),
        ("area below --min-area 500 m²", "面积小于设定的最小面积 500 m²"),
        ("no park with this id in the project", "项目中没有此编号的公园"),
        (
            "already in the project as park P001 (same geometry)",
            "已在项目中，即公园 P001（形状相同）",
        ),
        ("a reason written by hand", "a reason written by hand"),  # not gisrenew's: as written
    ],
)
def test_the_engines_reasons_in_chinese(reason, zh):
    assert labels.reason_text(reason, "zh") == zh
    assert labels.reason_text(reason, "en") == reason


def test_the_reasons_the_engines_give_are_all_worded():
    """Every reason the rule sets give (too small, no tier, class not counted) has its words."""
    from gisrenew.rules import flat_rules, get_rules

    for rules in (get_rules("tijian-2021"), get_rules("gbt51346-2019"), flat_rules(300, 1000)):
        _, _, reasons = rules.assign(
            np.array([500.0, 1500.0, 9000.0]), np.array(["G14", "G9", "G12"], dtype=object)
        )
        for reason in filter(None, reasons):
            assert labels.reason_text(reason, "zh") != reason, reason


def test_weights_plan_types_and_walk_statuses_are_words():
    assert labels.weight_name("households", "zh") == "户数"
    assert labels.weight_name("人口数", "zh") == "人口数"  # a column of the data: as named
    assert labels.plan_type_name("old_community", "zh") == "老旧小区改造"
    assert labels.plan_type_name("旧改", "en") == "旧改"
    assert labels.walk_status_name("too_far", "zh") == "超出步行距离"


@pytest.mark.parametrize(
    ("lang", "zone", "shown"),
    [
        ("zh", None, "2024-05-01 16:00+08:00"),  # Asia/Shanghai for Chinese output
        ("en", "Europe/London", "2024-05-01 09:00+01:00"),
        ("zh", "UTC", "2024-05-01 08:00+00:00"),
    ],
)
def test_times_in_the_users_zone(lang, zone, shown):
    assert fmt.local_time("2024-05-01T08:00:00+00:00", lang, zone=zone) == shown
    assert fmt.local_time("2024-05-01T08:00:00", lang, zone=zone) == shown  # naive: UTC


def test_a_time_zone_setting_is_checked():
    from gisrenew.config import ProjectConfig
    from gisrenew.errors import ProjectError

    config = ProjectConfig.from_dict({"project": {"time_zone": "Asia/Urumqi"}})
    assert config.time_zone == "Asia/Urumqi" and 'time_zone = "Asia/Urumqi"' in config.to_toml()
    with pytest.raises(ProjectError, match="not a known time zone"):
        ProjectConfig.from_dict({"project": {"time_zone": "Mars/Olympus"}})


def test_chart_fonts_cover_windows_macos_and_linux():
    fonts = present.chart_style()["font.sans-serif"]
    for font in ("Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Noto Sans CJK SC"):
        assert font in fonts
    assert any(font.startswith("WenQuanYi") for font in fonts)
    assert present.chart_style()["axes.unicode_minus"] is False


# ------------------------------------------------------------------ run history


def test_the_run_history_reads_in_one_language_with_damage_shown():
    from gisrenew.present.recompute import format_history
    from gisrenew.recompute import history_records

    history = pd.DataFrame(
        {
            "run_id": [1, 2],
            "time_utc": ["2026-05-01T00:00:00+00:00", None],
            "rules_name": ["tijian-2021", "tijian-2021"],
            "rules_version": ["2021.1", "2021.1"],
            "ratio_before": [0.5, "bad"],
            "ratio_after": [0.625, 0.7],
            "added_parks": ['["P9"]', "{not json"],
            "removed_parks": ["[]", "[]"],
            "inputs": [
                '[{"source": "new.gpkg", "features": 1, "sha256": "ab' + "c" * 30 + '"}]',
                None,
            ],
        }
    )
    records, problems = history_records(history, "p.gpkg table run_history")
    assert problems == [
        "p.gpkg table run_history row 2 (run 2): column `added_parks` is not valid JSON; "
        "shown as text"
    ]
    text = format_history(records, "zh", where="/p", zone="Asia/Shanghai", kept_runs={1})
    assert text.splitlines() == [
        "/p: 2 次运行",
        "#1  2026-05-01 08:00+08:00  tijian-2021 v2021.1  50.00% → 62.50%  [前后对比地图已保存]",
        "    新增: P9; 移除: —",
        "    输入 new.gpkg (1 个要素) 校验值 SHA-256 abcccccccccccccc…",
        "#2  ?  tijian-2021 v2021.1  - → 70.00%",
        "    新增: {not json; 移除: —",
    ]
    english = format_history([], "en", where="/p")
    assert english == "/p: no runs recorded yet (gisrenew recompute records one per change)"


def test_every_layer_kind_has_a_name_in_both_languages():
    from gisrenew.schema import LAYERS

    for kind in LAYERS:
        assert labels.label(f"layer.{kind}", "zh") and labels.label(f"layer.{kind}", "en")


def test_area_compact_column_words_every_value_as_area_compact_does():
    """Issue #15: maps word a column of areas at once — the same text as one call each."""
    rng = np.random.default_rng(7)
    values = np.concatenate(
        [
            [0.0, -0.0, -0.4, -0.5, -0.6, 0.5, 1.5, 2.5, 9999.4, 9999.5, 9999.9999, 10000.0],
            [-10000.0, -12345.678, 666.65, 666.75, 0.05, -0.05, 1e12, -1e-9, 123456789.125],
            [np.nan, np.inf, -np.inf],
            rng.uniform(0, 50_000, 500),
            rng.lognormal(8, 3, 500) * rng.choice([-1, 1], 500),
        ]
    )
    for lang in ("zh", "en"):
        for missing in ("-", ""):
            expected = [fmt.area_compact(v, lang, missing=missing) for v in values.tolist()]
            got = fmt.area_compact_column(values, lang, missing=missing)
            assert got == expected
            # `each` takes the column path, for distinct values and for repeated ones
            assert fmt.each(values, fmt.area_compact, lang=lang, missing=missing) == expected
            twice = np.concatenate([values, values])
            assert fmt.each(twice, fmt.area_compact, lang=lang, missing=missing) == expected * 2
    ints = np.array([0, 5, 10_000, 123_456], dtype=np.int64)
    assert fmt.area_compact_column(ints) == [fmt.area_compact(int(v)) for v in ints]
    assert fmt.area_compact_column(np.empty(0)) == []


def test_distance_column_words_every_value_as_distance_does():
    values = np.array([0.0, -0.0, -0.4, 0.5, 1.5, 812.4, 1234.5, 1e7, np.nan, np.inf, -3.6])
    for lang in ("zh", "en"):
        for with_unit in (True, False):
            expected = [fmt.distance(v, lang, with_unit=with_unit, missing="") for v in values]
            got = fmt.distance_column(values, lang, with_unit=with_unit, missing="")
            assert got == expected
            assert fmt.each(values, fmt.distance, lang=lang, with_unit=with_unit, missing="") == (
                expected
            )
