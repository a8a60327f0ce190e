"""Per-capita park green space, greenway coverage and old-community figures (gisrenew.greenspace),
on cases checked by hand, and through the orchestrator with the greenways layer."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from conftest import GK, X0, Y0, square

from gisrenew import greenspace
from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs


def _frame(geoms, **columns):
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=GK)


def _land(population, district="D1"):
    """One residential piece far from the parks, with its residents."""
    return _frame([square(5000, 5000, 100)], population=[float(population)], district_id=[district])


def test_a_100_m_park_and_1000_residents_make_10_m2_per_person():
    parks = _frame([square(0, 0, 100)], park_class=["G12"])
    found = greenspace.per_capita_green_space(parks, _land(1000))
    figure = found.figures["park_area_per_capita"]
    assert figure.park_area_m2 == pytest.approx(100 * 100)
    assert figure.value == pytest.approx(100 * 100 / 1000)  # 10 m² per person
    assert found.figures["community_park_per_capita"].value == pytest.approx(10.0)
    assert found.figures["comprehensive_park_per_capita"].value == 0.0
    assert found.population_source == "residential"


def test_the_city_population_given_wins_over_the_residential_layer():
    parks = _frame([square(0, 0, 100)], park_class=["G11"])
    found = greenspace.per_capita_green_space(parks, _land(1000), population=2000)
    assert found.figures["park_area_per_capita"].value == pytest.approx(10_000 / 2000)
    assert found.figures["comprehensive_park_per_capita"].value == pytest.approx(5.0)
    assert found.population_source == "settings"


def test_plazas_do_not_count_and_overlaps_count_once_inside_the_boundary():
    parks = _frame(
        [square(0, 0, 100), square(50, 0, 100), square(1000, 0, 100)],
        park_class=["G14", "G1", "G3"],  # the plaza G3 is not park green space
    )
    whole = greenspace.per_capita_green_space(parks, _land(1000))
    # two 100 m squares overlapping by 50 m × 100 m: 150 m × 100 m once
    assert whole.figures["park_area_per_capita"].park_area_m2 == pytest.approx(15_000)
    boundary = _frame([shapely.box(X0 - 10, Y0 - 10, X0 + 75, Y0 + 200)])
    inside = greenspace.per_capita_green_space(parks, _land(1000), boundary=boundary)
    assert inside.figures["park_area_per_capita"].park_area_m2 == pytest.approx(75 * 100)


def test_without_population_there_is_no_value_and_a_reason():
    parks = _frame([square(0, 0, 100)], park_class=["G12"])
    found = greenspace.per_capita_green_space(parks, _land(0))
    figure = found.figures["park_area_per_capita"]
    assert figure.value is None and "population" in figure.reason
    assert found.population is None


def test_per_district_parks_and_residents():
    parks = _frame([square(0, 0, 100), square(1000, 0, 50)], park_class=["G12", "G14"])
    districts = _frame(
        [shapely.box(X0 - 100, Y0 - 100, X0 + 500, Y0 + 6000),
         shapely.box(X0 + 500, Y0 - 100, X0 + 6000, Y0 + 6000)],
        district_id=["D1", "D2"], name=["一区", "二区"],
    )  # fmt: skip
    land = _frame(
        [square(0, 1000, 100), square(5000, 5000, 100)],
        population=[500.0, 250.0], district_id=["D1", "D2"],
    )  # fmt: skip
    table = greenspace.per_capita_green_space(parks, land, districts=districts).districts
    table = table.set_index("district_id")
    assert table.loc["D1", "park_area_per_capita"] == pytest.approx(10_000 / 500)
    assert table.loc["D2", "park_area_per_capita"] == pytest.approx(2_500 / 250)
    assert table.loc["D2", "community_park_per_capita"] == 0.0


def _greenway_case():
    line = shapely.LineString([(X0, Y0), (X0 + 1000, Y0)])
    greenways = _frame([line], greenway_id=["g1"], name=["滨河绿道"])
    # 200 m × 200 m of land from 50 m to 250 m north of the line: 100 m radius covers 50 m
    residential = _frame([shapely.box(X0 + 400, Y0 + 50, X0 + 600, Y0 + 250)], population=[100.0])
    return greenways, residential


def test_greenway_coverage_by_hand():
    greenways, residential = _greenway_case()
    land = residential.assign(
        residential_id=["r1"], district_id=[""], area_m2=residential.area.to_numpy()
    )
    found = greenspace.greenway_coverage(greenways, land, radius_m=100)
    assert found.residential_area_m2 == pytest.approx(200 * 200)
    assert found.covered_area_m2 == pytest.approx(200 * 50)
    assert found.ratio == pytest.approx(0.25)
    assert greenspace.greenway_coverage(greenways, land, radius_m=40).ratio == 0.0


def test_the_orchestrator_reads_greenways_and_the_report_settings():
    greenways, residential = _greenway_case()
    parks = _frame([square(5000, 5000, 100)], park_class=["G12"])
    files = {"parks": parks, "residential": residential, "greenways": greenways}
    settings = {"report": {"greenway_radius_m": 100}}
    found = compute_indicators(gather_inputs(files=files, settings=settings), methods=["buffer"])
    assert found.greenspace.greenway.ratio == pytest.approx(0.25)
    # the greenway's denominator is the park coverage's
    assert found.greenspace.greenway.residential_area_m2 == found.buffer.residential_area_m2
    assert found.greenspace.per_capita.figures["park_area_per_capita"].value == pytest.approx(100)
    assert found.to_dict()["greenspace"]["greenway"]["coverage_ratio"] == pytest.approx(0.25)
    default = compute_indicators(gather_inputs(files=files), methods=["buffer"])
    assert default.greenspace.greenway.radius_m == 1000.0
    assert default.greenspace.greenway.ratio == pytest.approx(1.0)


def test_old_community_figures_count_each_parcel_once():
    plans = pd.DataFrame(
        {"plan_id": ["A", "B", "C"], "plan_type": ["old_community", "old_community", "renewal"],
         "investment_wan": [1200.0, 800.0, 5000.0]}
    )  # fmt: skip
    pairs = pd.DataFrame(
        {
            "plan_id": ["A", "A", "B", "C"],
            "parcel_id": ["p1", "p2", "p2", "p3"],  # p2 is in both communities
            "buildings": [10, 5, 5, 99],
            "households_residential": [100, 40, 40, 999],
            "households_nonresidential": [2, 0, 0, 0],
            "households_shops": [3, 1, 1, 0],
            "floor_area_m2": [8000.0, 3000.0, 3000.0, 1.0],
        }
    )
    found = greenspace.old_community_figures(plans, pairs)
    assert found["communities"] == 2 and found["parcels"] == 2
    assert found["buildings"] == 10 + 5
    assert found["households"] == (100 + 2 + 3) + (40 + 0 + 1)
    assert found["households_residential"] == 140
    assert found["floor_area_m2"] == 11_000.0
    assert found["investment_wan"] == 2000.0
    unknown = greenspace.old_community_figures(plans, pairs, investment_known=False)
    assert "investment_wan" not in unknown
    assert greenspace.old_community_figures(plans[plans.plan_type == "renewal"], pairs) == {}
