"""Tests for gisrenew.siting: greedy maximal covering vs the exact MILP, on hand-made layouts."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from gisrenew.errors import InputError
from gisrenew.present import format_ranking
from gisrenew.rules import flat_rules
from gisrenew.siting import rank_sites

pytest.importorskip("pulp")

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_480_000.0
RULES = flat_rules(100.0)  # every candidate serves 100 m from its boundary


def _box(cx, cy, w, h):
    return shapely.box(X0 + cx - w / 2, Y0 + cy - h / 2, X0 + cx + w / 2, Y0 + cy + h / 2)


def _frame(geoms, id_col, ids, **columns):
    return gpd.GeoDataFrame({id_col: ids, **columns}, geometry=list(geoms), crs=CRS)


def _geoms(frame):
    return np.asarray(frame.geometry.array, dtype=object)


def _far_park():
    # an existing park far from everything (covers nothing of interest)
    return _frame([_box(5000, 5000, 100, 100)], "park_id", ["far"])


@pytest.fixture
def trap():
    """A layout where greedy is not optimal for two picks.

    Candidates A (centre), B (left), C (right), each a 10 m square serving 100 m.
    Residential pieces (wholly inside the service areas they are listed under):
    P1 600 m² in A and B; P2 400 m² in B only; P3 600 m² in A and C; P4 400 m² in C only.
    Alone: A 1200, B 1000, C 1000. Greedy for 2: A, then B (+400) = 1600. Best: B + C = 2000.
    """
    candidates = _frame(
        [_box(0, 0, 10, 10), _box(-150, 0, 10, 10), _box(150, 0, 10, 10)],
        "candidate_id",
        ["A", "B", "C"],
    )
    residential = _frame(
        [_box(-75, 0, 20, 30), _box(-220, 0, 20, 20), _box(75, 0, 20, 30), _box(220, 0, 20, 20)],
        "residential_id",
        ["P1", "P2", "P3", "P4"],
        households=[60.0, 10.0, 60.0, 10.0],
    )
    return candidates, residential


def test_layout_is_as_described(trap):
    candidates, residential = trap
    buffers = shapely.buffer(_geoms(candidates), 100.0, quad_segs=16)
    inside = shapely.contains(buffers[:, None], _geoms(residential)[None, :])
    meets = shapely.intersects(buffers[:, None], _geoms(residential)[None, :])
    expected = np.array([[1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=bool)
    assert (inside == expected).all() and (meets == expected).all()


def test_greedy_gains_and_order(trap):
    candidates, residential = trap
    ranking = rank_sites(candidates, _far_park(), residential, count=2, rules=RULES)
    table = ranking.table()
    assert table["candidate_id"].tolist() == ["A", "B"]
    assert table["gain_m2"].to_numpy() == pytest.approx([1200.0, 400.0])
    assert table["cumulative_gain_m2"].to_numpy() == pytest.approx([1200.0, 1600.0])
    sites = ranking.sites.set_index("candidate_id")
    assert sites.loc[["A", "B", "C"], "standalone_gain_m2"].to_numpy() == pytest.approx(
        [1200, 1000, 1000]
    )
    assert sites.loc["C", "rank"] == 0
    # ratio after: the existing park covers nothing; total residential 2000 m²
    assert ranking.before["covered_area_m2"] == pytest.approx(0.0)
    assert ranking.after["covered_area_m2"] == pytest.approx(1600.0)
    assert table["coverage_ratio_after"].to_numpy() == pytest.approx([0.6, 0.8])
    # newly covered land per pick: A brings P1 and P3, B brings P2
    newly = ranking.newly_covered.set_index("candidate_id")["area_m2"]
    assert newly["A"] == pytest.approx(1200.0) and newly["B"] == pytest.approx(400.0)


def test_exact_beats_greedy_where_greedy_is_suboptimal(trap):
    candidates, residential = trap
    greedy = rank_sites(candidates, _far_park(), residential, count=2, rules=RULES)
    exact = rank_sites(candidates, _far_park(), residential, count=2, rules=RULES, method="exact")
    assert sorted(exact.table()["candidate_id"]) == ["B", "C"]
    assert exact.exact_objective == pytest.approx(2000.0)
    assert exact.total_gain_m2 == pytest.approx(2000.0)
    assert greedy.total_gain_m2 == pytest.approx(1600.0)
    assert greedy.total_gain_m2 >= (1 - 1 / math.e) * exact.exact_objective


def test_weight_objective_changes_the_pick(trap):
    candidates, residential = trap
    # by households, P1 and P3 dominate: A alone brings 120 households, B or C 70
    ranking = rank_sites(
        candidates, _far_park(), residential, count=1, rules=RULES, weight="households"
    )
    assert ranking.objective == "weight"
    row = ranking.table().iloc[0]
    assert row["candidate_id"] == "A"
    assert row["gain_weight"] == pytest.approx(120.0)
    exact = rank_sites(
        candidates,
        _far_park(),
        residential,
        count=2,
        rules=RULES,
        weight="households",
        method="exact",
    )
    # by households the best pair is A + either: 120 + 10 = 130 vs B + C = 140
    assert sorted(exact.table()["candidate_id"]) == ["B", "C"]
    assert exact.exact_objective == pytest.approx(140.0)


def test_existing_parks_are_fixed(trap):
    candidates, residential = trap
    # an existing park covering P1 and P3 entirely (a strip through the middle)
    existing = _frame([_box(0, 0, 170, 60)], "park_id", ["old"])
    ranking = rank_sites(candidates, existing, residential, count=3, rules=RULES)
    sites = ranking.sites.set_index("candidate_id")
    assert sites.loc["A", "standalone_gain_m2"] == pytest.approx(0.0)
    assert sites.loc["A", "rank"] == 0
    assert "adds no residential land" in sites.loc["A", "reason"]
    assert sorted(ranking.table()["candidate_id"]) == ["B", "C"]
    assert ranking.total_gain_m2 == pytest.approx(800.0)


def test_disjoint_candidates_greedy_equals_exact():
    # three candidates each covering their own pieces: greedy is optimal
    cands = _frame([_box(x, 0, 10, 10) for x in (0, 400, 800)], "candidate_id", ["a", "b", "c"])
    res = _frame(
        [_box(0, 60, 40, 20), _box(400, 60, 30, 20), _box(800, 60, 50, 20)],
        "residential_id",
        ["r1", "r2", "r3"],
    )
    greedy = rank_sites(cands, _far_park(), res, count=2, rules=RULES)
    exact = rank_sites(cands, _far_park(), res, count=2, rules=RULES, method="exact")
    assert greedy.table()["candidate_id"].tolist() == ["c", "a"]
    assert sorted(exact.table()["candidate_id"]) == ["a", "c"]
    assert greedy.total_gain_m2 == pytest.approx(exact.exact_objective) == pytest.approx(1800.0)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_greedy_within_bound_of_exact(seed):
    rng = np.random.default_rng(seed)
    n_res, n_cand = 40, 8
    cx, cy = rng.uniform(0, 800, n_res), rng.uniform(0, 800, n_res)
    res = _frame(
        [
            _box(x, y, w, h)
            for x, y, w, h in zip(
                cx, cy, rng.uniform(20, 60, n_res), rng.uniform(20, 60, n_res), strict=True
            )
        ],
        "residential_id",
        [f"r{i}" for i in range(n_res)],
    )
    cands = _frame(
        [
            _box(x, y, 20, 20)
            for x, y in zip(rng.uniform(0, 800, n_cand), rng.uniform(0, 800, n_cand), strict=True)
        ],
        "candidate_id",
        [f"c{i}" for i in range(n_cand)],
    )
    parks = _frame([_box(400, 400, 30, 30)], "park_id", ["p"])
    greedy = rank_sites(cands, parks, res, count=3, rules=RULES)
    exact = rank_sites(cands, parks, res, count=3, rules=RULES, method="exact")
    # the exact objective (atoms) equals the engine's evaluation of the chosen set
    assert exact.total_gain_m2 == pytest.approx(exact.exact_objective, rel=1e-6)
    assert greedy.total_gain_m2 <= exact.exact_objective * (1 + 1e-9)
    assert greedy.total_gain_m2 >= (1 - 1 / math.e) * exact.exact_objective
    # independent oracle for the greedy total: brute-force unions
    land = shapely.union_all(_geoms(res))
    existing = shapely.buffer(_geoms(parks)[0], 100.0, quad_segs=16)
    picked = _geoms(cands.set_index("candidate_id").loc[greedy.table()["candidate_id"]])
    with_picks = shapely.union_all([existing, *shapely.buffer(picked, 100.0, quad_segs=16)])
    oracle = shapely.area(shapely.intersection(land, with_picks)) - shapely.area(
        shapely.intersection(land, existing)
    )
    assert greedy.total_gain_m2 == pytest.approx(oracle, rel=1e-6)


def test_rule_set_tiers_and_min_area():
    # tijian-2021: ≥5000 m² → 500 m, 2000–5000 → 300 m, smaller parks do not count
    cands = _frame(
        [_box(0, 0, 40, 40), _box(1000, 0, 60, 60), _box(2000, 0, 80, 80)],
        "candidate_id",
        ["small", "mid", "big"],
    )
    res = _frame([_box(x, 200, 50, 50) for x in (0, 1000, 2000)], "residential_id", ["a", "b", "c"])
    ranking = rank_sites(cands, _far_park(), res, count=3, rules="tijian-2021")
    sites = ranking.sites.set_index("candidate_id")
    assert not sites.loc["small", "qualifies"]
    assert "2000" in sites.loc["small", "reason"]
    assert sites.loc["mid", "radius_m"] == 300 and sites.loc["big", "radius_m"] == 500
    assert sites.loc["small", "rank"] == 0
    assert set(ranking.table()["candidate_id"]) == {"mid", "big"}
    # --min-area leaves out the mid-sized site too
    ranking = rank_sites(cands, _far_park(), res, count=3, rules="tijian-2021", min_area_m2=5000)
    sites = ranking.sites.set_index("candidate_id")
    assert "min-area" in sites.loc["mid", "reason"]
    assert ranking.table()["candidate_id"].tolist() == ["big"]
    # a forced radius gives even the small site a service area
    ranking = rank_sites(cands, _far_park(), res, count=3, rules="tijian-2021", radius_m=250.0)
    assert set(ranking.table()["candidate_id"]) == {"small", "mid", "big"}


def test_bad_arguments(trap):
    candidates, residential = trap
    with pytest.raises(InputError, match="method"):
        rank_sites(candidates, _far_park(), residential, method="best")
    with pytest.raises(InputError, match="count"):
        rank_sites(candidates, _far_park(), residential, count=0)
    with pytest.raises(InputError, match="weight"):
        rank_sites(candidates, _far_park(), residential, objective="weight")


def test_inputs_not_mutated(trap):
    candidates, residential = trap
    c0, r0 = candidates.copy(), residential.copy()
    rank_sites(candidates, _far_park(), residential, count=2, rules=RULES)
    assert candidates.equals(c0) and residential.equals(r0)


def test_cli_sites_writes_ranking_and_map_layers(trap, tmp_path):
    from click.testing import CliRunner

    from gisrenew.cli import main
    from gisrenew.project import Project

    candidates, residential = trap
    folder = tmp_path / "proj"
    Project.create(
        folder,
        {"parks": _far_park(), "residential": residential, "candidates": candidates},
        working_crs=CRS,
    )
    out = tmp_path / "sites.gpkg"
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "sites",
            "--project",
            str(folder),
            "--count",
            "2",
            "--radius",
            "100",
            "--json",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [s["candidate_id"] for s in data["sites"]] == ["A", "B"]
    layers = set(pyogrio.list_layers(out)[:, 0])
    assert {"sites", "site_service_areas", "site_newly_covered"} <= layers
    result = runner.invoke(
        main,
        ["sites", "--project", str(folder), "--count", "2", "--radius", "100", "--exact",
         "--out", str(out), "--overwrite", "--lang", "en"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "exact optimum objective: 2,000.0" in result.stdout
    lines = result.stdout.splitlines()
    assert lines[2].split()[:2] == ["rank", "candidate"]
    assert {lines[3].split()[1], lines[4].split()[1]} == {"B", "C"}


def test_format_ranking(trap):
    candidates, residential = trap
    ranking = rank_sites(
        candidates, _far_park(), residential, count=2, rules=RULES, weight="households"
    )
    text = format_ranking(ranking, lang="zh")
    assert "口袋公园选址" in text and "贪心排序" in text
    assert "0.00% → 80.00%" in text
    rows = [line.split() for line in text.splitlines()[3:5]]
    assert [r[1] for r in rows] == ["A", "B"] and rows[0][5] == "1,200" and rows[1][5] == "400"
    english = format_ranking(ranking, lang="en")
    assert "greedy" in english and "+households" in english
