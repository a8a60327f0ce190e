"""The coverage engine against PostGIS as an independent oracle.

PostGIS decides everything on its own from the raw layers: which parks qualify and
their radius (tijian-2021 tiers in SQL), the buffers (``ST_Buffer(geom, r,
'quad_segs=16')``), the unions (``ST_Union``), the boundary clip and the district split
(``ST_Intersection``) and the areas (``ST_Area``). The cluster is started by the
``postgis`` fixture (tests/postgis.py); in CI these tests fail rather than skip when
PostGIS is missing.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gisrenew import coverage as cov

pytestmark = pytest.mark.postgis

GK = "EPSG:4549"
SRID = 4549
X0, Y0 = 604_000.0, 3_481_000.0

TIER_SQL = """
CASE WHEN cls = 'G3' THEN NULL
     WHEN ST_Area(geom) >= 5000 THEN 500.0
     WHEN ST_Area(geom) >= 2000 THEN 300.0 END
"""


def _layers(seed: int):
    rng = np.random.default_rng(seed)
    n_parks, n_res = 30, 400
    px, py = rng.uniform(0, 4000, n_parks), rng.uniform(0, 4000, n_parks)
    side = np.sqrt(rng.uniform(1000, 15_000, n_parks))
    parks = [
        shapely.affinity.rotate(shapely.box(X0 + a, Y0 + b, X0 + a + s, Y0 + b + s * 0.6), r)
        for a, b, s, r in zip(px, py, side, rng.uniform(0, 90, n_parks), strict=True)
    ]
    parks[0] = shapely.MultiPolygon(
        [shapely.box(X0, Y0, X0 + 40, Y0 + 40), shapely.box(X0 + 900, Y0, X0 + 940, Y0 + 40)]
    )
    classes = rng.choice(["G11", "G12", "G14", "G3"], n_parks, p=[0.2, 0.4, 0.3, 0.1])
    x, y = rng.uniform(0, 4000, n_res), rng.uniform(0, 4000, n_res)
    w, h = rng.uniform(20, 150, n_res), rng.uniform(20, 150, n_res)
    blocks = [
        shapely.affinity.rotate(shapely.box(X0 + a, Y0 + b, X0 + a + c, Y0 + b + d), r)
        for a, b, c, d, r in zip(x, y, w, h, rng.uniform(0, 90, n_res), strict=True)
    ]  # overlapping freely
    parks_gdf = gpd.GeoDataFrame(
        {"park_id": [f"p{i}" for i in range(n_parks)], "park_class": classes},
        geometry=parks,
        crs=GK,
    )
    res_gdf = gpd.GeoDataFrame(
        {
            "residential_id": [f"r{i}" for i in range(n_res)],
            "households": rng.integers(0, 300, n_res).astype(float),
        },
        geometry=blocks,
        crs=GK,
    )
    boundary = shapely.Polygon(
        [(X0 + 200, Y0 - 100), (X0 + 3900, Y0 + 300), (X0 + 3600, Y0 + 3800), (X0 + 100, Y0 + 3500)]
    )
    districts = [
        shapely.box(X0 - 500, Y0 - 500, X0 + 2000, Y0 + 2000),
        shapely.box(X0 + 2000, Y0 - 500, X0 + 4500, Y0 + 2000),
        shapely.box(X0 - 500, Y0 + 2000, X0 + 4500, Y0 + 4500),
    ]
    districts_gdf = gpd.GeoDataFrame({"district_id": ["a", "b", "c"]}, geometry=districts, crs=GK)
    boundary_gdf = gpd.GeoDataFrame(geometry=[boundary], crs=GK)
    return parks_gdf, res_gdf, boundary_gdf, districts_gdf


def _load(conn, name: str, frame: gpd.GeoDataFrame, extra: str = "") -> None:
    conn.execute(
        f"CREATE TEMP TABLE {name} (id text, {extra + ', ' if extra else ''}geom geometry)"
    )
    rows = []
    for i, geom in enumerate(frame.geometry):
        values = [str(i)]
        if extra:
            values.append(str(frame.iloc[i][extra.split()[0]]))
        rows.append((*values, shapely.to_wkb(geom)))
    placeholders = ", ".join(["%s"] * (len(rows[0]) - 1))
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {name} VALUES ({placeholders}, ST_SetSRID(ST_GeomFromWKB(%s), {SRID}))",
            rows,
        )


@pytest.fixture
def conn(postgis):
    with postgis.connect() as connection:
        yield connection


@pytest.mark.parametrize("seed", [1, 2])
def test_city_figures_match_postgis(conn, seed):
    parks, residential, boundary, _ = _layers(seed)
    _load(conn, "parks", parks.rename(columns={"park_class": "cls"}), extra="cls text")
    _load(conn, "res", residential)
    _load(conn, "bua", boundary)
    conn.execute(
        f"CREATE TEMP TABLE reach AS SELECT ST_Buffer(geom, {TIER_SQL}, 'quad_segs=16') AS geom "
        f"FROM parks WHERE ({TIER_SQL}) IS NOT NULL"
    )
    covered_pg, total_pg = conn.execute(
        """
        WITH land AS (SELECT ST_Union(geom) AS g FROM res),
             reach_u AS (SELECT ST_Union(geom) AS g FROM reach)
        SELECT ST_Area(ST_Intersection(land.g, reach_u.g)), ST_Area(land.g) FROM land, reach_u
        """
    ).fetchone()
    result = cov.compute_coverage(parks, residential)
    assert result.residential_area_m2 == pytest.approx(total_pg, rel=1e-6)
    assert result.covered_area_m2 == pytest.approx(covered_pg, rel=1e-6)
    assert 0.05 < result.ratio < 0.95
    # the same inside the built-up boundary
    covered_b, total_b = conn.execute(
        """
        WITH land AS (SELECT ST_Intersection(ST_Union(r.geom), (SELECT ST_Union(geom) FROM bua))
                             AS g FROM res r),
             reach_u AS (SELECT ST_Union(geom) AS g FROM reach)
        SELECT ST_Area(ST_Intersection(land.g, reach_u.g)), ST_Area(land.g) FROM land, reach_u
        """
    ).fetchone()
    clipped = cov.compute_coverage(parks, residential, boundary=boundary)
    assert clipped.residential_area_m2 == pytest.approx(total_b, rel=1e-6)
    assert clipped.covered_area_m2 == pytest.approx(covered_b, rel=1e-6)
    # qualifying parks and radii
    n_qualifying = conn.execute(
        f"SELECT count(*) FROM parks WHERE ({TIER_SQL}) IS NOT NULL"
    ).fetchone()[0]
    assert int(result.parks["qualifies"].sum()) == n_qualifying


def test_districts_match_postgis(conn):
    parks, residential, boundary, districts = _layers(3)
    _load(conn, "parks", parks.rename(columns={"park_class": "cls"}), extra="cls text")
    _load(conn, "res", residential)
    _load(conn, "bua", boundary)
    _load(conn, "dist", districts.rename(columns={"district_id": "did"}), extra="did text")
    rows = conn.execute(
        f"""
        WITH land AS (SELECT ST_Intersection(ST_Union(r.geom), (SELECT ST_Union(geom) FROM bua))
                             AS g FROM res r),
             reach_u AS (SELECT ST_Union(ST_Buffer(geom, {TIER_SQL}, 'quad_segs=16')) AS g
                         FROM parks WHERE ({TIER_SQL}) IS NOT NULL),
             piece AS (SELECT d.did, ST_Intersection(land.g, d.geom) AS g FROM dist d, land)
        SELECT piece.did, ST_Area(piece.g), ST_Area(ST_Intersection(piece.g, reach_u.g))
        FROM piece, reach_u ORDER BY piece.did
        """
    ).fetchall()
    result = cov.compute_coverage(parks, residential, boundary=boundary, districts=districts)
    table = result.districts.set_index("district_id")
    for did, total, covered in rows:
        assert table.loc[did, "residential_area_m2"] == pytest.approx(total, rel=1e-6)
        assert table.loc[did, "covered_area_m2"] == pytest.approx(covered, rel=1e-6, abs=1e-3)


def test_unique_contribution_matches_postgis(conn):
    parks, residential, _, _ = _layers(4)
    _load(conn, "parks", parks.rename(columns={"park_class": "cls"}), extra="cls text")
    _load(conn, "res", residential)
    rows = conn.execute(
        f"""
        WITH reach AS (SELECT id, ST_Buffer(geom, {TIER_SQL}, 'quad_segs=16') AS g
                       FROM parks WHERE ({TIER_SQL}) IS NOT NULL),
             land AS (SELECT ST_Union(geom) AS g FROM res)
        SELECT a.id,
               ST_Area(ST_Intersection(land.g, a.g)),
               ST_Area(ST_Intersection(land.g, ST_Difference(a.g,
                   COALESCE((SELECT ST_Union(b.g) FROM reach b WHERE b.id <> a.id),
                            'POLYGON EMPTY'::geometry))))
        FROM reach a, land
        """
    ).fetchall()
    table = cov.park_contribution(parks, residential).set_index("park_id")
    assert len(rows) == int(table["qualifies"].sum())
    for park_index, covered, unique in rows:
        park_id = parks.loc[int(park_index), "park_id"]
        assert table.loc[park_id, "covered_m2"] >= table.loc[park_id, "unique_covered_m2"]
        assert table.loc[park_id, "unique_covered_m2"] == pytest.approx(unique, rel=1e-6, abs=1e-3)
        # covered_m2 counts each residential piece once: the land union within the buffer
        assert table.loc[park_id, "covered_m2"] == pytest.approx(covered, rel=1e-6, abs=1e-3)
    assert not math.isnan(table["unique_covered_m2"].sum())
