"""Siting the next facility of a life-circle type (设施选址): hand-checkable layouts.

Rule set: kindergarten (幼儿园) 100 m and market (菜市场) 100 m, straight line from the
site's boundary. Candidates are 10 m squares; residential pieces lie wholly inside the
reach of the candidates listed with them (the park siting's layout, tests/test_siting.py):
P1 600 m² (A, B), P2 400 m² (B), P3 600 m² (A, C), P4 400 m² (C).
"""

from __future__ import annotations

import json
import tomllib

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from gisrenew.cli import main
from gisrenew.errors import InputError
from gisrenew.lifecircles import life_circles, parse_life_circle_rules, rank_facility_sites
from gisrenew.present import format_ranking

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_480_000.0

RULES = parse_life_circle_rules(
    tomllib.loads(
        """
name = "siting-test"
version = "1"
[[circles]]
minutes = 5
distance_m = 100
[[facilities]]
type = "kindergarten"
label_zh = "幼儿园"
label_en = "Kindergarten"
names = ["幼稚园"]
circle = 5
radius_m = 100
[[facilities]]
type = "market"
label_zh = "菜市场"
label_en = "Market"
circle = 5
radius_m = 100
"""
    ),
    origin="test",
)


def _box(cx, cy, w, h):
    return shapely.box(X0 + cx - w / 2, Y0 + cy - h / 2, X0 + cx + w / 2, Y0 + cy + h / 2)


def _candidates(*names):
    where = {"A": 0, "B": -150, "C": 150}
    return gpd.GeoDataFrame(
        {"candidate_id": list(names)},
        geometry=[_box(where[n], 0, 10, 10) for n in names],
        crs=CRS,
    )


def _residential():
    return gpd.GeoDataFrame(
        {"residential_id": ["P1", "P2", "P3", "P4"], "households": [60.0, 10.0, 60.0, 10.0]},
        geometry=[_box(-75, 0, 20, 30), _box(-220, 0, 20, 20), _box(75, 0, 20, 30),
                  _box(220, 0, 20, 20)],
        crs=CRS,
    )  # fmt: skip


def _facilities(*rows):
    """(type, x, y) rows as point facilities."""
    return gpd.GeoDataFrame(
        {
            "facility_id": [f"F{i}" for i in range(len(rows))],
            "facility_type": [t for t, _, _ in rows],
        },
        geometry=[shapely.Point(X0 + x, Y0 + y) for _, x, y in rows],
        crs=CRS,
    )


def test_a_site_closing_a_gap_beats_one_where_the_type_is_reached_already():
    """Kindergartens stand in P1 and P3 already (one named by an alias, 幼稚园): A reaches
    only those, B reaches P1 and P2's gap (400 m²). A market in P2 is another type and
    closes no kindergarten gap."""
    existing = _facilities(("kindergarten", 75, 0), ("幼稚园", -75, 0), ("菜市场", -220, 0))
    ranking = rank_facility_sites(
        _candidates("A", "B"), existing, _residential(), facility_type="kindergarten",
        rules=RULES, count=2,
    )  # fmt: skip
    sites = ranking.sites.set_index("candidate_id")
    assert sites.loc["A", "standalone_gain_m2"] == pytest.approx(0.0)  # P1, P3 reached
    assert sites.loc["B", "standalone_gain_m2"] == pytest.approx(400.0)  # P2's gap
    assert ranking.table()["candidate_id"].tolist() == ["B"]
    assert sites.loc["A", "rank"] == 0
    assert "adds no residential land" in sites.loc["A", "reason"]
    assert ranking.before["coverage_ratio"] == pytest.approx(1200 / 2000)
    assert ranking.after["coverage_ratio"] == pytest.approx(1600 / 2000)
    assert ranking.facility_type == "kindergarten"
    assert ranking.parameters["existing_facilities"] == 2


def test_second_pick_gains_less_because_the_first_covered_part_of_it():
    """No kindergarten yet. A alone brings P1 + P3 (1200 m²), B alone P1 + P2 (1000 m²);
    after A, B brings only P2 (400 m²): P1 is A's already."""
    ranking = rank_facility_sites(
        _candidates("A", "B"), _facilities(("market", 0, 0)), _residential(),
        facility_type="幼儿园", rules=RULES, count=2, weight="households", objective="area",
    )  # fmt: skip
    table = ranking.table()
    assert table["candidate_id"].tolist() == ["A", "B"]
    assert table["standalone_gain_m2"].to_numpy() == pytest.approx([1200.0, 1000.0])
    assert table["gain_m2"].to_numpy() == pytest.approx([1200.0, 400.0])
    assert table["gain_weight"].to_numpy() == pytest.approx([120.0, 10.0])
    assert table["coverage_ratio_after"].to_numpy() == pytest.approx([0.6, 0.8])
    newly = ranking.newly_covered.set_index("candidate_id")["area_m2"]
    assert newly["B"] == pytest.approx(400.0)
    assert ranking.service_areas["radius_m"].tolist() == [100.0, 100.0]


def test_exact_selection_for_a_facility_type():
    pytest.importorskip("pulp")
    ranking = rank_facility_sites(
        _candidates("A", "B", "C"), _facilities(), _residential(),
        facility_type="Kindergarten", rules=RULES, count=2, method="exact",
    )  # fmt: skip
    assert sorted(ranking.table()["candidate_id"]) == ["B", "C"]
    assert ranking.exact_objective == pytest.approx(2000.0)


def test_before_equals_the_life_circle_share_of_the_type():
    """The siting's starting figure is the life-circle analysis' reached share."""
    existing = _facilities(("kindergarten", -20, 0), ("market", 200, 0))
    ranking = rank_facility_sites(
        _candidates("A"), existing, _residential(), facility_type="market", rules=RULES
    )
    result = life_circles(_residential(), existing, rules=RULES)
    share = result.types.set_index("facility_type").loc["market", "reached_share"]
    assert 0 < share < 1
    assert ranking.before["coverage_ratio"] == pytest.approx(share, rel=1e-12)


def test_unknown_type_and_bad_radius_are_refused():
    with pytest.raises(InputError, match="幼儿园"):
        rank_facility_sites(
            _candidates("A"), _facilities(), _residential(), facility_type="游泳馆", rules=RULES
        )
    with pytest.raises(InputError, match="radius"):
        rank_facility_sites(
            _candidates("A"), _facilities(), _residential(), facility_type="market",
            rules=RULES, radius_m=-1,
        )  # fmt: skip


def test_radius_override_and_min_area():
    candidates = _candidates("A", "B")
    candidates.loc[1, "geometry"] = _box(-150, 0, 4, 4)  # 16 m²
    ranking = rank_facility_sites(
        candidates, _facilities(), _residential(), facility_type="market", rules=RULES,
        radius_m=10, min_area_m2=50,
    )  # fmt: skip
    sites = ranking.sites.set_index("candidate_id")
    assert not sites.loc["B", "qualifies"] and "min-area" in sites.loc["B", "reason"]
    assert sites.loc["A", "radius_m"] == 10.0
    # 10 m from A's square (x ±5) does not reach P1 (x from −85 to −65): nothing gained
    assert sites.loc["A", "standalone_gain_m2"] == pytest.approx(0.0)


def test_cli_sites_for_a_facility_type(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _candidates("A", "B").to_file(folder / "candidates.gpkg")
    _residential().to_file(folder / "residential.gpkg")
    _facilities(("kindergarten", 220, 0), ("market", -220, 0)).to_file(folder / "fac.gpkg")
    rule_file = tmp_path / "circles.toml"
    rule_file.write_text(RULES_TEXT, encoding="utf-8")
    args = [
        "sites", "--candidates", str(folder / "candidates.gpkg"),
        "--residential", str(folder / "residential.gpkg"),
        "--facilities", str(folder / "fac.gpkg"), "--facility-type", "幼儿园",
        "--rules", str(rule_file), "--count", "2",
    ]  # fmt: skip
    runner = CliRunner()
    result = runner.invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["facility_type"] == "kindergarten"
    # the kindergarten in P4 reaches P4 only: A brings P1 + P3, then B only P2
    assert [s["candidate_id"] for s in data["sites"]] == ["A", "B"]
    assert [s["gain_m2"] for s in data["sites"]] == pytest.approx([1200.0, 400.0])
    text = runner.invoke(main, args)
    assert text.exit_code == 0, text.output
    assert "幼儿园" in text.output and "B" in text.output
    out = tmp_path / "ranking.gpkg"
    written = runner.invoke(main, [*args, "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert len(gpd.read_file(out, layer="site_newly_covered")) == 2
    wrong = runner.invoke(main, [*args, "--park-class", "G14"])
    assert wrong.exit_code != 0 and "--park-class" in wrong.output


def test_format_ranking_names_the_facility_type():
    ranking = rank_facility_sites(
        _candidates("A"), _facilities(), _residential(), facility_type="market", rules=RULES
    )
    assert "菜市场" in format_ranking(ranking, "zh").splitlines()[0]
    assert "Market" in format_ranking(ranking, "en").splitlines()[0]
    assert np.isfinite(ranking.total_gain_m2)


RULES_TEXT = """
name = "siting-test"
version = "1"
[[circles]]
minutes = 5
distance_m = 100
[[facilities]]
type = "kindergarten"
label_zh = "幼儿园"
label_en = "Kindergarten"
circle = 5
radius_m = 100
[[facilities]]
type = "market"
label_zh = "菜市场"
label_en = "Market"
circle = 5
radius_m = 100
"""
