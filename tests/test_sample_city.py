"""The committed SYNTHETIC Taicang sample city (data/geo/taicang_sample).

Checks the files against gisrenew/schema.py, the report figures the sample
reproduces by construction (docs/SOURCES.md), the coverage band with an
independent plain-shapely oracle, and that the generator is deterministic.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tomllib
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from gisrenew.schema import LAYERS, get_layer_schema

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "data" / "geo" / "taicang_sample"
SCRIPT = ROOT / "scripts" / "make_sample_city.py"
M2_PER_MU = 10000.0 / 15.0
PROJECT_LAYERS = (
    "boundary",
    "districts",
    "residential",
    "parks",
    "parcels",
    "plans",
    "roads",
    "entrances",
    "candidates",
    "facilities",
)
PLOTS = {  # the report: residential, non-residential, shops, signed
    "古松弄": (538, 44, 72),
    "原城厢镇三小": (126, 82, 0),
    "胜利村": (77, 0, 0),
}
HH = ["households_residential", "households_nonresidential", "households_shops"]


def read_all(folder: Path) -> dict[str, gpd.GeoDataFrame]:
    gpkg = folder / "project.gpkg"
    layers = {name: gpd.read_file(gpkg, layer=name) for name in pyogrio.list_layers(gpkg)[:, 0]}
    layers["new_parks"] = gpd.read_file(folder / "new_pocket_parks.gpkg", layer="new_parks")
    layers["candidate_sites"] = gpd.read_file(folder / "candidate_sites.gpkg", layer="candidates")
    return layers


@pytest.fixture(scope="module")
def city() -> dict[str, gpd.GeoDataFrame]:
    if not (FOLDER / "project.gpkg").exists():
        pytest.fail(f"{FOLDER} is missing: run python {SCRIPT.relative_to(ROOT)}")
    return read_all(FOLDER)


def tiered_reach(parks: gpd.GeoDataFrame):
    """Oracle: union of tiered buffers (≥5000 m² → 500 m, 2000–5000 → 300 m), plazas excluded."""
    geoms = parks.geometry.to_numpy()
    area = shapely.area(geoms)
    park = (parks["park_class"] != "G3").to_numpy()
    radius = np.select([park & (area >= 5000), park & (area >= 2000)], [500.0, 300.0], 0.0)
    ok = radius > 0
    return shapely.union_all(shapely.buffer(geoms[ok], radius[ok], quad_segs=16))


def residential_land(city):
    boundary = shapely.union_all(city["boundary"].geometry.to_numpy())
    return shapely.intersection(
        shapely.union_all(city["residential"].geometry.to_numpy()), boundary
    )


def share_covered(land, reach) -> float:
    return shapely.area(shapely.intersection(land, reach)) / shapely.area(land)


# ----------------------------------------------------------------------------- files


def test_files_exist_and_are_small():
    names = [
        "gisrenew.toml",
        "project.gpkg",
        "new_pocket_parks.gpkg",
        "candidate_sites.gpkg",
        "README.md",
    ]
    for name in names:
        assert (FOLDER / name).is_file(), name
    total = sum(p.stat().st_size for p in FOLDER.iterdir() if p.is_file())
    assert total < 10 * 1024 * 1024


def test_project_settings():
    config = tomllib.loads((FOLDER / "gisrenew.toml").read_text(encoding="utf-8"))
    project = config["project"]
    assert "SYNTHETIC" in project["name"]
    assert project["gpkg"] == "project.gpkg"
    assert project["working_crs"] == "EPSG:4549"
    assert project["rules"] == "tijian-2021"
    assert config["residential"]["codes"] == ["R", "07"]
    assert config["network"] == {"snap_distance_m": 30, "connector_limit_m": 200}
    assert config["plans"]["household_rule"] == "whole"
    assert config["maps"] == {"lang": "zh", "basemap": "none", "offline": True}


def test_labelled_synthetic_everywhere():
    assert "SYNTHETIC" in (FOLDER / "README.md").read_text(encoding="utf-8")
    for name in ("project.gpkg", "new_pocket_parks.gpkg", "candidate_sites.gpkg"):
        path = FOLDER / name
        with closing(sqlite3.connect(path)) as con:
            rows = con.execute("SELECT table_name, description FROM gpkg_contents").fetchall()
        assert rows
        assert all("SYNTHETIC" in description for _, description in rows), rows
        for layer, _ in rows:
            assert pyogrio.read_info(path, layer=layer)["layer_metadata"]["SYNTHETIC"] == "yes"


# ----------------------------------------------------------------------------- schema


@pytest.mark.parametrize("kind", [*PROJECT_LAYERS, "new_parks", "candidate_sites"])
def test_layers_follow_the_schema(city, kind):
    gdf = city[kind]
    schema = get_layer_schema("candidates" if kind == "candidate_sites" else kind)
    assert list(gdf.columns) == [*schema.column_names, "geometry"]
    assert gdf.crs.to_epsg() == 4549
    assert len(gdf) > 0
    ids = gdf[schema.id_column]
    assert ids.map(type).eq(str).all() and ids.is_unique
    for col in schema.columns:
        values = gdf[col.name]
        assert values.notna().all(), col.name
        if col.dtype == "str":
            assert values.map(type).eq(str).all(), col.name
        elif col.dtype == "bool":
            assert pd.api.types.is_bool_dtype(values), col.name
        elif col.dtype == "int":
            assert pd.api.types.is_integer_dtype(values), col.name
        else:
            assert pd.api.types.is_float_dtype(values), col.name
        if col.nonnegative:
            assert (values >= 0).all(), col.name
    polygons = {"Polygon", "MultiPolygon"}
    types = {
        "polygon": polygons,
        "line": {"LineString"},
        "point": {"Point"},
        "point_or_polygon": {"Point", *polygons},
    }
    assert set(gdf.geom_type) <= types[schema.geometry]
    assert gdf.is_valid.all() and not gdf.is_empty.any()


def test_every_schema_layer_is_in_the_project(city):
    assert set(LAYERS) <= set(city)


def test_located_near_taicang(city):
    centre = city["boundary"].geometry.iloc[0].centroid
    lon, lat = Transformer.from_crs("EPSG:4549", "EPSG:4490", always_xy=True).transform(
        centre.x, centre.y
    )
    assert abs(lon - 121.1) < 0.03 and abs(lat - 31.45) < 0.03


# ----------------------------------------------------------------------------- content


def test_sizes_and_classes(city):
    assert 2500 <= len(city["residential"]) <= 4000
    assert 2000 <= len(city["roads"]) <= 6000
    assert 60 <= len(city["parks"]) <= 120
    assert 6 <= len(city["districts"]) <= 8
    assert 15 <= len(city["candidates"]) <= 30
    parks = city["parks"]
    area = parks.geometry.area
    assert {"G11", "G12", "G13", "G14", "G3"} <= set(parks.park_class)
    assert (area[parks.park_class == "G11"] >= 100_000).all()
    assert (area[parks.park_class == "G12"] >= 10_000).all()
    pocket = area[parks.is_pocket_park]
    assert pocket.between(400, 10_000).all()
    assert (pocket < 2000).sum() >= 3 and (pocket >= 2000).sum() >= 3
    assert (parks.geometry.apply(lambda g: len(shapely.get_parts(g))) > 1).any()
    assert city["candidates"].geometry.area.between(500, 8000).all()
    assert city["residential"].land_use.str.match(r"^(R|07)").all()


def test_districts_tile_the_boundary(city):
    boundary = city["boundary"].geometry.iloc[0]
    districts = city["districts"].geometry.to_numpy()
    assert shapely.area(districts).sum() == pytest.approx(boundary.area, rel=1e-9)
    assert shapely.area(shapely.union_all(districts)) == pytest.approx(boundary.area, rel=1e-9)
    assert shapely.area(shapely.difference(boundary, shapely.union_all(districts))) < 1e-3


def test_layers_do_not_overlap_where_they_must_not(city):
    res = city["residential"].geometry.to_numpy()
    for other in ("parks", "new_parks", "candidates", "water"):
        geoms = city[other].geometry.to_numpy()
        tree = shapely.STRtree(res)
        i, j = tree.query(geoms, predicate="intersects")
        assert shapely.area(shapely.intersection(geoms[i], res[j])).sum() < 1e-3, other
    # the overlapping residential polygons are the marked duplicates
    tree = shapely.STRtree(res)
    i, j = tree.query(res, predicate="intersects")
    pair = i < j
    overlap = shapely.area(shapely.intersection(res[i[pair]], res[j[pair]])) > 1e-3
    names = city["residential"].name.to_numpy()
    dup = np.char.endswith(names.astype(str), "（重复图斑）")
    assert overlap.any()
    assert (dup[i[pair][overlap]] | dup[j[pair][overlap]]).all()


# ----------------------------------------------------------------------------- plans


def parcels_of(city, plan_name):
    plan = city["plans"].set_index("name").geometry[plan_name]
    parcels = city["parcels"]
    share = shapely.area(shapely.intersection(parcels.geometry.to_numpy(), plan)) / (
        parcels.geometry.area.to_numpy()
    )
    return parcels, share


def test_three_old_town_plots(city):
    plans = city["plans"].set_index("name")
    mu = plans.geometry[list(PLOTS)].area / M2_PER_MU
    assert mu.sum() == pytest.approx(235.0, abs=0.01)
    whole_total = 0
    for name, figures in PLOTS.items():
        parcels, share = parcels_of(city, name)
        inside = parcels[share > 1 - 1e-9]
        assert len(inside) >= 3
        assert tuple(int(inside[c].sum()) for c in HH) == figures
        partly = parcels[(share > 1e-6) & (share < 1 - 1e-9)]
        assert len(partly) >= 1
        touching = parcels[shapely.touches(parcels.geometry.to_numpy(), plans.geometry[name])]
        assert len(touching) >= 1 and (touching[HH].sum(axis=1) > 0).all()
        whole_total += int(parcels.loc[share > 1e-6, HH].to_numpy().sum())
        signed = int(inside.households_signed.sum())
        if name == "原城厢镇三小":
            assert signed == sum(figures) == 208
        elif name == "胜利村":
            assert signed == 74
        else:
            assert 0 < signed < sum(figures)
    assert sum(sum(f) for f in PLOTS.values()) == 939
    assert whole_total == 947  # the report's headline (see the folder README)


def test_old_communities(city):
    plans = city["plans"]
    old = plans[plans.plan_type == "old_community"]
    assert len(old) == 14
    parcels = city["parcels"]
    tree = shapely.STRtree(parcels.geometry.to_numpy())
    _, j = tree.query(old.geometry.to_numpy(), predicate="contains_properly")
    inside = parcels.iloc[np.unique(j)]
    assert int(inside.buildings.sum()) == 449
    assert int(inside.households_residential.sum()) == 1556
    assert inside.floor_area_m2.sum() == pytest.approx(278_000, abs=1e-6)


def test_other_plans(city):
    plans = city["plans"]
    assert "沙溪古镇" in set(plans.name[plans.plan_type == "historic"])
    to_park = plans[plans.target_use == "park"]
    assert len(to_park) == 1
    land = residential_land(city)
    reach_before = tiered_reach(city["parks"])
    gained = shapely.difference(
        shapely.intersection(land, shapely.buffer(to_park.geometry.iloc[0], 500, quad_segs=16)),
        reach_before,
    )
    assert shapely.area(gained) > 10_000  # the plot turned green brings new land into service


# ----------------------------------------------------------------------------- parks, coverage


def test_new_pocket_parks(city):
    new = city["new_parks"]
    assert len(new) == 5
    assert new.geometry.area.sum() == pytest.approx(59_000, abs=500)
    assert new.is_pocket_park.all() and (new.park_class == "G14").all()
    assert (new.geometry.area < 2000).sum() == 1
    assert not set(new.park_id) & set(city["parks"].park_id)


def test_coverage_band_before_and_after_the_new_parks(city):
    land = residential_land(city)
    before = share_covered(land, tiered_reach(city["parks"]))
    both = pd.concat([city["parks"], city["new_parks"]], ignore_index=True)
    after = share_covered(land, tiered_reach(both))
    assert 0.75 <= before <= 0.88
    assert 0.02 <= after - before <= 0.08
    # the small new park adds nothing under the tiered rule
    small = city["new_parks"][city["new_parks"].geometry.area < 2000]
    without_small = pd.concat(
        [city["parks"], city["new_parks"].drop(index=small.index)], ignore_index=True
    )
    assert share_covered(land, tiered_reach(without_small)) == pytest.approx(after, abs=1e-12)


def test_candidates_mostly_where_coverage_lacks(city):
    both = pd.concat([city["parks"], city["new_parks"]], ignore_index=True)
    uncovered = shapely.difference(residential_land(city), tiered_reach(both))
    near = shapely.intersects(
        shapely.buffer(city["candidates"].geometry.to_numpy(), 500, quad_segs=16), uncovered
    )
    assert near.mean() > 0.6
    same = city["candidate_sites"]
    assert same.drop(columns="geometry").equals(city["candidates"].drop(columns="geometry"))


def test_entrances_lie_on_their_parks(city):
    ent = city["entrances"]
    parks = city["parks"].set_index("park_id").geometry
    assert ent.park_id.isin(parks.index).all()
    assert 1 <= ent.park_id.nunique() < len(parks) / 4  # a handful of big parks only
    d = shapely.distance(ent.geometry.to_numpy(), shapely.boundary(parks[ent.park_id].to_numpy()))
    assert (d < 1e-6).all()


# ----------------------------------------------------------------------------- streets


def test_river_crossed_only_on_bridges(city):
    roads = city["roads"]
    water = city["water"].geometry.iloc[0]
    wet = roads.geometry.intersects(water)
    assert wet.any()
    assert (roads.level[wet] == 1).all()
    bridges = roads[wet & roads.walkable]
    assert 3 <= len(bridges) <= 8
    expressway = roads[~roads.walkable]
    assert len(expressway) > 0 and (expressway.level == 1).all()


def test_street_lines_share_vertices_except_a_few_crossings(city):
    roads = city["roads"]
    lines = roads.geometry[roads.walkable & (roads.level == 0)].to_numpy()
    tree = shapely.STRtree(lines)
    i, j = tree.query(lines, predicate="crosses")
    pair = i < j
    i, j = i[pair], j[pair]
    assert 1 <= len(i) <= 10  # noded grid, plus a few crossings without a shared vertex
    points = shapely.intersection(lines[i], lines[j])
    assert (shapely.get_type_id(points) == 0).all()  # single crossing points
    for k in (i, j):  # ... at no vertex of either line
        assert not shapely.intersects(points, shapely.extract_unique_points(lines[k])).any()


def test_park_across_the_river_from_housing(city):
    """Housing within 500 m of 致和塘公园 across the river, with bridges about 1 km away."""
    parks = city["parks"].set_index("name")
    park = parks.geometry["致和塘公园"]
    assert park.area >= 5000
    water = city["water"].geometry.iloc[0]
    res = city["residential"]
    near = res[res.geometry.distance(park) <= 500]
    links = shapely.shortest_line(near.geometry.to_numpy(), park)
    across = near[shapely.intersects(links, water)]
    assert across.geometry.area.sum() > 50_000
    roads = city["roads"]
    bridges = roads.geometry[(roads.level == 1) & roads.walkable]
    assert bridges.distance(park).min() > 800


# ----------------------------------------------------------------------------- determinism


def test_regenerating_gives_the_committed_files(tmp_path):
    subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path), "-q"],
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    committed, fresh = read_all(FOLDER), read_all(tmp_path)
    assert committed.keys() == fresh.keys()
    for name, old in committed.items():
        new = fresh[name]
        pd.testing.assert_frame_equal(
            old.drop(columns="geometry"), new.drop(columns="geometry"), obj=name
        )
        a = shapely.normalize(old.geometry.to_numpy())
        b = shapely.normalize(new.geometry.to_numpy())
        assert shapely.equals_exact(a, b, tolerance=1e-6).all(), name
    for name in ("gisrenew.toml", "README.md"):
        assert (tmp_path / name).read_text(encoding="utf-8") == (FOLDER / name).read_text(
            encoding="utf-8"
        )
