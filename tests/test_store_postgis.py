"""The PostGIS project store (issue #16): the sample city, kills, locks, edits, copies, passwords.

Every test runs against the throwaway PostgreSQL + PostGIS cluster of ``tests/postgis.py``
(the ``postgis`` fixture); in CI (``CI=true``) the tests fail rather than skip when it
cannot start. Each test works in its own schema.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from gisrenew.cli import main
from gisrenew.coverage import coverage_layers
from gisrenew.errors import LockError, ProjectError
from gisrenew.indicators import compute_indicators
from gisrenew.inputs import gather_inputs
from gisrenew.project import Project, copy_project
from gisrenew.recompute import recompute

pytestmark = pytest.mark.postgis

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "geo" / "taicang_sample"
NEW_PARKS = SAMPLE / "new_pocket_parks.gpkg"


@pytest.fixture
def url(postgis):
    """The test database as a store URL (no password: the cluster trusts local users)."""
    if postgis.port is None:
        pytest.skip("an external server: the URL of its database is not known")
    return f"postgresql://postgres@127.0.0.1:{postgis.port}/gisrenew"


@pytest.fixture
def schema(postgis):
    """A fresh schema name, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    yield name
    with postgis.connect() as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture
def pg_project(tmp_path, url, schema) -> Project:
    """The sample city copied into the test database."""
    return copy_project(SAMPLE, tmp_path / "pg", store=url, schema=schema)


def _run(*args: str):
    result = CliRunner().invoke(main, ["-q", *args])
    return result


def _json(*args: str) -> dict:
    result = _run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _same_frames(a: pd.DataFrame, b: pd.DataFrame, name: str) -> None:
    assert list(a.columns) == list(b.columns), name
    if isinstance(a, gpd.GeoDataFrame):
        assert isinstance(b, gpd.GeoDataFrame), name
        assert a.crs == b.crs, name
        assert shapely.equals_exact(a.geometry.values, b.geometry.values, 0.0).all(), name
        a, b = pd.DataFrame(a.drop(columns=a.geometry.name)), b.drop(columns=b.geometry.name)
    pd.testing.assert_frame_equal(a, pd.DataFrame(b), obj=name)


def _without_paths(data, folder: Path):
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return json.loads(text.replace(str(folder), "<project>"))


# ---------------------------------------------------------------- the sample city end to end


@pytest.mark.slow
def test_sample_city_on_postgis_gives_the_geopackage_figures(tmp_path, pg_project):
    gpkg = copy_project(SAMPLE, tmp_path / "gpkg")
    runs = {}
    for project in (gpkg, pg_project):
        folder = str(project.folder)
        runs[project.folder] = [
            _json("coverage", "--project", folder),
            _json("coverage", "--project", folder, "--method", "network"),
            _json("affected", "--project", folder),
            _json("recompute", "--project", folder, "--add-parks", str(NEW_PARKS),
                  "--no-publish"),
        ]  # fmt: skip
    on_file, on_database = runs[gpkg.folder], runs[pg_project.folder]
    assert f"{on_file[0]['coverage_ratio']:.2%}" == "81.14%"
    assert f"{on_database[0]['coverage_ratio']:.2%}" == "81.14%"
    after = on_database[3]["indicators"]["buffer"]["after"]["coverage_ratio"]
    assert f"{after:.2%}" == "86.18%"
    for a, b in zip(on_file[:3], on_database[:3], strict=True):
        assert _without_paths(a, gpkg.folder) == _without_paths(b, pg_project.folder)
    a, b = on_file[3]["indicators"], on_database[3]["indicators"]
    assert a == b
    # the run is recorded in the database: history, new parks, results
    stored = Project.open(pg_project.folder)
    assert len(stored.read_table("run_history")) == 1
    assert set(stored.read("parks")["park_id"]) >= {"NP01", "NP02", "NP03", "NP04", "NP05"}


# ---------------------------------------------------------------- layers QGIS can open


def test_layers_are_postgis_tables_with_srid_primary_key_and_gist_index(postgis, pg_project):
    schema = pg_project.config.schema
    with postgis.connect() as conn:
        srid, kind = conn.execute(
            "SELECT srid, type FROM geometry_columns WHERE f_table_schema = %s "
            "AND f_table_name = 'parks'",
            (schema,),
        ).fetchone()
        key = conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
            (f"{schema}.parks",),
        ).fetchone()
        gist = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = %s AND tablename = 'parks' "
            "AND indexdef LIKE '%%USING gist%%'",
            (schema,),
        ).fetchone()
    assert srid == 4549 and kind in ("POLYGON", "MULTIPOLYGON")
    assert key == ("park_id",)
    assert gist == (1,)


# ---------------------------------------------------------------- edits made with SQL (QGIS)


def test_layers_edited_with_sql_get_the_usual_validation_errors(postgis, pg_project):
    schema = pg_project.config.schema
    bow_tie = "POLYGON((0 0, 100 100, 100 0, 0 100, 0 0))"
    with postgis.connect() as conn:
        first = conn.execute(f"SELECT park_id FROM {schema}.parks ORDER BY fid LIMIT 1").fetchone()
        # the primary key on park_id refuses a duplicate id typed in QGIS
        with pytest.raises(Exception, match="duplicate key"):
            conn.execute(
                f"INSERT INTO {schema}.parks (park_id, geom) SELECT park_id, geom "
                f"FROM {schema}.parks WHERE park_id = %s",
                first,
            )
        # a table an analyst imported again (its own key): duplicates and a bow-tie get in
        conn.execute(f"ALTER TABLE {schema}.parks DROP CONSTRAINT parks_pkey")
        conn.execute(f"ALTER TABLE {schema}.parks ADD PRIMARY KEY (fid)")
        conn.execute(
            f"INSERT INTO {schema}.parks (park_id, geom) SELECT park_id, geom "
            f"FROM {schema}.parks WHERE park_id = %s",
            first,
        )
        conn.execute(
            f"INSERT INTO {schema}.parks (park_id, name, geom) VALUES ('BOW1', '蝴蝶结', "
            f"ST_Multi(ST_Translate(ST_GeomFromText(%s, 4549), 500000, 3500000)))",
            (bow_tie,),
        )
    result = _run("validate", "--project", str(pg_project.folder))
    assert result.exit_code == 1, result.output
    assert f"{schema}.parks" in result.output
    assert "duplicate" in result.output.lower() and str(first[0]) in result.output
    _, problems = Project.open(pg_project.folder).load("parks")
    assert any("BOW1" in str(p) for p in problems), [str(p) for p in problems]
    coverage = _run("coverage", "--project", str(pg_project.folder))
    assert coverage.exit_code == 1 and "Traceback" not in coverage.output
    assert str(first[0]) in coverage.output


# ---------------------------------------------------------------- moving between stores


def test_geopackage_to_postgis_to_geopackage_keeps_every_layer_and_table(tmp_path, url, schema):
    start = copy_project(SAMPLE, tmp_path / "start")
    recompute = _run("recompute", "--project", str(start.folder), "--add-parks", str(NEW_PARKS),
                     "--no-publish")  # fmt: skip
    assert recompute.exit_code == 0, recompute.output
    moved = _run("copy-project", str(start.folder), str(tmp_path / "db"), "--store", url,
                 "--schema", schema)  # fmt: skip
    assert moved.exit_code == 0, moved.output
    database = Project.open(tmp_path / "db")
    assert database.config.in_database and not (tmp_path / "db" / "project.gpkg").exists()
    back = copy_project(tmp_path / "db", tmp_path / "back")
    assert sorted(back.layer_kinds()) == sorted(start.layer_kinds())
    for name in start.layer_kinds():
        _same_frames(start.read_result(name), back.read_result(name), name)
        _same_frames(start.read_result(name), database.read_result(name), name)
    for kind in ("parks", "residential"):  # the recorded column mappings travel too
        assert back.store.recorded_columns(kind) == start.store.recorded_columns(kind)


def test_init_from_files_into_postgis_names_the_schema_after_the_folder(tmp_path, url, postgis):
    folder = tmp_path / f"city_{uuid.uuid4().hex[:6]}"
    try:
        result = _run("init", str(folder), str(SAMPLE / "project.gpkg"), "--store", url)
        assert result.exit_code == 0, result.output
        project = Project.open(folder)
        assert project.config.schema == folder.name
        assert "gpkg" not in (folder / "gisrenew.toml").read_text(encoding="utf-8").split(
            "[residential]"
        )[0].replace("project.gpkg", "")
        assert len(project.read("parks")) == len(Project.open(SAMPLE).read("parks"))
        again = _run("init", str(folder), str(SAMPLE / "project.gpkg"), "--store", url)
        assert again.exit_code == 1 and "already holds a project" in again.output
    finally:
        with postgis.connect() as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {folder.name} CASCADE")
    odd = _run("init", str(tmp_path / "Big City"), str(SAMPLE / "project.gpkg"), "--store", url)
    assert odd.exit_code == 1 and "--schema" in odd.output


# ---------------------------------------------------------------- kills and locks

_RUNNER = """
import datetime as dt, pathlib, sys, time
from gisrenew.recompute import recompute
folder, parks, timeout_s, stop_at, marker = sys.argv[1:6]
def on_step(name):
    if name == stop_at:
        pathlib.Path(marker).write_text(name, encoding="utf-8")
        time.sleep(60)
recompute(folder, add_parks=[parks], now=dt.datetime(2024, 5, 1, 8, tzinfo=dt.UTC),
          timeout_s=float(timeout_s), on_step=on_step)
"""


def _start(folder: Path, *, stop_at: str = "", marker: Path | None = None, timeout_s=0.0):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    args = [str(folder), str(NEW_PARKS), str(timeout_s), stop_at, str(marker)]
    return subprocess.Popen([sys.executable, "-c", _RUNNER, *args], env=env, stderr=subprocess.PIPE)


def _wait_for(marker: Path, proc, timeout=180.0) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"runner ended early: {proc.stderr.read().decode()}")
        if time.monotonic() > deadline:
            raise AssertionError("runner never reached its checkpoint")
        time.sleep(0.05)


def _snapshot(postgis, schema: str) -> dict:
    """Every table of the schema as a digest of its rows."""
    with postgis.connect() as conn:
        names = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (schema,)
        )]  # fmt: skip
        return {
            name: conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f'FROM {schema}."{name}" t'
            ).fetchone()
            for name in names
        }


@pytest.mark.slow
def test_a_killed_recompute_leaves_the_tables_before_or_after(postgis, pg_project, tmp_path):
    schema = pg_project.config.schema
    before = _snapshot(postgis, schema)
    for step in ("loaded", "tx-parks", "tx-results", "tx-history"):
        marker = tmp_path / f"marker-{step}"
        proc = _start(pg_project.folder, stop_at=step, marker=marker)
        _wait_for(marker, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert _snapshot(postgis, schema) == before, f"killed at {step}: tables changed"
    # the lock died with each process; killed after its commit, the run stays
    marker = tmp_path / "marker-committed"
    proc = _start(pg_project.folder, stop_at="committed", marker=marker)
    _wait_for(marker, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    after = _snapshot(postgis, schema)
    assert after != before and after["run_history"][0] == 1
    # and the next run succeeds (re-adding the same parks changes nothing)
    proc = _start(pg_project.folder)
    assert proc.wait(timeout=600) == 0, proc.stderr.read().decode()
    assert _snapshot(postgis, schema)["parks"] == after["parks"]


def test_a_second_writer_is_refused_naming_the_holder_or_waits(pg_project):
    holder = Project.open(pg_project.folder)
    with holder.lock(purpose="recompute 2 parks"):
        with pytest.raises(LockError, match="another gisrenew run is changing this project") as e:
            with Project.open(pg_project.folder).lock(timeout_s=0.3, purpose="other"):
                pass
        assert f"gisrenew recompute 2 parks pid {os.getpid()}" in str(e.value)
        assert pg_project.describe() in str(e.value)
        result = _run("recompute", "--project", str(pg_project.folder), "--add-parks",
                      str(NEW_PARKS), "--no-publish")  # fmt: skip
        assert result.exit_code == 1 and "another gisrenew run" in result.output
    with Project.open(pg_project.folder).lock(timeout_s=0):  # released with its session
        pass


# ---------------------------------------------------------------- no password anywhere

SECRET = "Zq7-distinctive-pw-41"


@pytest.fixture
def password_role(postgis):
    """A role that must give a password (scram-sha-256) to the test cluster."""
    if postgis.folder is None:
        pytest.skip("an external server: its authentication cannot be changed")
    hba = postgis.folder / "data" / "pg_hba.conf"
    rules = hba.read_text()
    hba.write_text("host all analyst 127.0.0.1/32 scram-sha-256\n" + rules)
    with postgis.connect() as conn:
        conn.execute("SET password_encryption = 'scram-sha-256'")
        conn.execute(f"CREATE ROLE analyst LOGIN PASSWORD '{SECRET}'")
        conn.execute("GRANT CREATE ON DATABASE gisrenew TO analyst")
        conn.execute("SELECT pg_reload_conf()")
    yield "analyst"
    hba.write_text(rules)
    with postgis.connect() as conn:
        conn.execute("SELECT pg_reload_conf()")
        for (name,) in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspowner = 'analyst'::regrole"
        ).fetchall():
            conn.execute(f"DROP SCHEMA {name} CASCADE")
        conn.execute("REVOKE CREATE ON DATABASE gisrenew FROM analyst")
        conn.execute("DROP ROLE analyst")


@pytest.mark.slow
def test_no_password_in_any_file_or_message(tmp_path, postgis, password_role, monkeypatch):
    store = f"postgresql://{password_role}@127.0.0.1:{postgis.port}/gisrenew"
    outputs = []
    monkeypatch.delenv("PGPASSWORD", raising=False)
    refused = _run("init", str(tmp_path / "nopw"), str(SAMPLE / "project.gpkg"), "--store", store)
    outputs.append(refused.output)  # no password given: the server refuses, politely
    assert refused.exit_code == 1 and "cannot connect" in refused.output
    monkeypatch.setenv("PGPASSWORD", SECRET)
    folder = tmp_path / "bureau"
    for args in (
        ("init", str(folder), str(SAMPLE / "project.gpkg"), "--store", store),
        ("coverage", "--project", str(folder), "--out", str(tmp_path / "coverage.gpkg")),
        ("recompute", "--project", str(folder), "--add-parks", str(NEW_PARKS), "-v"),
        ("history", "--project", str(folder)),
        ("init", str(tmp_path / "x"), str(SAMPLE / "project.gpkg"), "--store",
         store.replace("analyst@", f"analyst:{SECRET}@")),
    ):  # fmt: skip
        result = _run(*args)
        outputs.append(result.output + repr(result.exception))
    assert "never writes one" in outputs[-1]
    settings = folder / "gisrenew.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("analyst@", f"analyst:{SECRET}@"),
        encoding="utf-8",
    )
    with pytest.raises(ProjectError) as bad:
        Project.open(folder)
    outputs.append(str(bad.value))
    assert "never writes one" in str(bad.value)
    for text in outputs:
        assert SECRET not in text
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != settings:
            assert SECRET.encode() not in path.read_bytes(), path
    with postgis.connect() as conn:  # nor in the tables the project wrote
        dump = conn.execute("SELECT string_agg(h::text, '') FROM bureau.run_history h").fetchone()[
            0
        ]
    assert SECRET not in dump


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("project", "message"),
    [
        ({"gpkg": "a.gpkg", "store": "b.gpkg"}, "gpkg and store both"),
        ({"store": "postgresql://u:hunter2@db/city", "schema": "c"}, "never writes one"),
        ({"store": "host=db dbname=city password=hunter2", "schema": "c"}, "never writes one"),
        ({"store": "service=bureau"}, "schema must name"),
        ({"store": "service=bureau", "schema": "Big City"}, "schema must name"),
        ({"store": "project.gpkg", "schema": "c"}, "schema is for a PostgreSQL store only"),
    ],
)
def test_store_settings_are_checked_without_quoting_a_password(project, message):
    from gisrenew.config import ProjectConfig

    with pytest.raises(ProjectError, match=message) as error:
        ProjectConfig.from_dict({"project": project})
    assert "hunter2" not in str(error.value)


def test_the_old_gpkg_key_and_a_store_path_name_the_same_geopackage():
    from gisrenew.config import ProjectConfig

    assert ProjectConfig.from_dict({"project": {"gpkg": "city.gpkg"}}).gpkg == "city.gpkg"
    config = ProjectConfig.from_dict({"project": {"store": "city.gpkg"}})
    assert config.gpkg == "city.gpkg" and not config.in_database
    config = ProjectConfig.from_dict({"project": {"store": "service=bureau", "schema": "city"}})
    assert config.in_database


def test_a_missing_driver_is_a_message_naming_the_extra(tmp_path, monkeypatch):
    from gisrenew.config import ProjectConfig

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    folder = tmp_path / "p"
    folder.mkdir()
    ProjectConfig.from_dict(
        {"project": {"store": "postgresql://db.example:5432/city", "schema": "city"}}
    ).save(folder)
    with pytest.raises(ProjectError, match=r"pip install 'gisrenew\[postgis\]'"):
        Project.open(folder)


# ---------------------------------------------------------------- what analysts built on the tables


def test_a_recompute_keeps_the_views_and_grants_analysts_made_on_the_tables(postgis, pg_project):
    schema = pg_project.config.schema
    with postgis.connect() as conn:
        conn.execute(f"CREATE VIEW {schema}.大公园 AS SELECT park_id, geom FROM {schema}.parks")
        conn.execute(f"CREATE ROLE viewer_{schema} NOLOGIN")
        conn.execute(f"GRANT SELECT ON {schema}.parks TO viewer_{schema}")
        before = conn.execute(f"SELECT count(*) FROM {schema}.大公园").fetchone()[0]
    try:
        run = _run("recompute", "--project", str(pg_project.folder), "--add-parks",
                   str(NEW_PARKS), "--no-publish")  # fmt: skip
        assert run.exit_code == 0, run.output
        with postgis.connect() as conn:
            after = conn.execute(f"SELECT count(*) FROM {schema}.大公园").fetchone()[0]
            granted = conn.execute(
                "SELECT has_table_privilege(%s, %s, 'SELECT')",
                (f"viewer_{schema}", f"{schema}.parks"),
            ).fetchone()[0]
        assert after == before + 5  # the view shows the five new pocket parks
        assert granted
    finally:
        with postgis.connect() as conn:
            conn.execute(f"REVOKE ALL ON {schema}.parks FROM viewer_{schema}")
            conn.execute(f"DROP VIEW IF EXISTS {schema}.大公园")
            conn.execute(f"DROP ROLE viewer_{schema}")


def test_a_table_whose_columns_change_under_a_view_stops_the_run_unchanged(postgis, pg_project):
    schema = pg_project.config.schema
    with postgis.connect() as conn:
        conn.execute(f"CREATE VIEW {schema}.规划 AS SELECT * FROM {schema}.parks")
        parks = conn.execute(f"SELECT count(*) FROM {schema}.parks").fetchone()[0]
    project = Project.open(pg_project.folder)
    reshaped = project.read_result("parks").iloc[:3].copy()
    reshaped["备注"] = "新增列"  # a column the stored table does not have: it must be made anew
    with pytest.raises(ProjectError, match="depend") as raised:
        with project.transaction() as tx:
            tx.write_table("run_notes", pd.DataFrame({"note": ["first change of the run"]}))
            tx.write_layer("parks", reshaped)
    assert f"{schema}.parks" in str(raised.value) and "规划" in str(raised.value)
    with postgis.connect() as conn:
        assert conn.execute(f"SELECT count(*) FROM {schema}.规划").fetchone()[0] == parks
        notes = conn.execute("SELECT to_regclass(%s)", (f"{schema}.run_notes",)).fetchone()[0]
    assert notes is None  # the whole transaction was rolled back


# ---------------------------------------------------------------- results current (change counter)

_CRS = "EPSG:4549"
_X0, _Y0 = 500_000.0, 3_480_000.0


def _box(x: float, y: float, w: float, h: float = 0.0):
    return shapely.box(_X0 + x, _Y0 + y, _X0 + x + w, _Y0 + y + (h or w))


def _small_city() -> dict[str, gpd.GeoDataFrame]:
    """A 1 km square: streets every 200 m, one 60 m home block inside each street block,
    four parks; two districts (west, east of x = 500 m)."""
    ticks = [0.0, 200.0, 400.0, 600.0, 800.0, 1000.0]
    lines = [shapely.LineString([(_X0 + t, _Y0), (_X0 + t, _Y0 + 1000)]) for t in ticks]
    lines += [shapely.LineString([(_X0, _Y0 + t), (_X0 + 1000, _Y0 + t)]) for t in ticks]
    blocks = [(x + 70, y + 70) for x in ticks[:-1] for y in ticks[:-1]]
    return {
        "roads": gpd.GeoDataFrame({"road_id": [f"s{i}" for i in range(len(lines))]},
                                  geometry=lines, crs=_CRS),
        "residential": gpd.GeoDataFrame(
            {"residential_id": [f"r{i}" for i in range(len(blocks))],
             "households": [10 + i for i in range(len(blocks))]},
            geometry=[_box(x, y, 60) for x, y in blocks], crs=_CRS),
        "parks": gpd.GeoDataFrame(
            {"park_id": ["p1", "p2", "p3", "p4"], "park_class": ["G12"] * 4},
            geometry=[_box(220, 220, 60), _box(620, 220, 50), _box(220, 620, 70),
                      _box(820, 820, 40)], crs=_CRS),
        "districts": gpd.GeoDataFrame({"district_id": ["west", "east"], "name": ["城西", "城东"]},
                                      geometry=[_box(-50, -50, 550, 1100),
                                                _box(500, -50, 550, 1100)], crs=_CRS),
        "boundary": gpd.GeoDataFrame({"boundary_id": ["b"]}, geometry=[_box(5, 5, 990)],
                                     crs=_CRS),
    }  # fmt: skip


def _park(pid: str, x: float, y: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"park_id": [pid], "park_class": ["G14"]},
                            geometry=[_box(x, y, 50)], crs=_CRS)  # fmt: skip


@pytest.fixture
def db_city(tmp_path, url, schema) -> Project:
    """The small city in the test database, with the results of one recompute stored."""
    files = Project.create(tmp_path / "files", _small_city(), working_crs=_CRS,
                           rules="tijian-2021")  # fmt: skip
    project = copy_project(files.folder, tmp_path / "db", store=url, schema=schema)
    first = recompute(project, add_parks=[_park("n1", 420, 20)]).report
    assert first["stored_results"]["current"] is False  # a copy holds no current results
    return project


def _from_scratch(project: Project):
    return compute_indicators(gather_inputs(Project.open(project.folder)), plans=False)


def _assert_figures(side: dict, result) -> None:
    assert side["covered_area_m2"] == pytest.approx(result.covered_area_m2, rel=1e-9)
    assert side["coverage_ratio"] == pytest.approx(result.ratio, rel=1e-9)
    assert (side.get("weight_covered") or 0.0) == pytest.approx(
        result.weight_covered or 0.0, rel=1e-9
    )


def _assert_run_equals_scratch(report: dict, before, after) -> None:
    for method in ("buffer", "network"):
        _assert_figures(report["indicators"][method]["before"], getattr(before, method))
        _assert_figures(report["indicators"][method]["after"], getattr(after, method))


def _assert_stored_equal(project: Project, ind) -> None:
    """The stored per-piece layers hold the values of a computation from scratch."""
    stored_project = Project.open(project.folder)
    for layer, result in (
        ("coverage_residential", ind.buffer),
        ("network_coverage_residential", ind.network),
    ):
        stored = stored_project.read_result(layer)
        full = coverage_layers(result)["coverage_residential"]
        assert len(stored) == len(full)
        for column in ("covered_m2", "covered_share", "covered_weight"):
            np.testing.assert_allclose(stored[column], full[column], rtol=1e-9, atol=1e-6)


def _row_versions(postgis, schema: str, table: str) -> dict[int, str]:
    with postgis.connect() as conn:
        rows = conn.execute(f'SELECT fid, xmin::text FROM {schema}."{table}"').fetchall()
    return dict(rows)


def test_the_next_recompute_uses_the_stored_results_and_changes_rows_in_place(postgis, db_city):
    schema = db_city.config.schema
    after_first = _from_scratch(db_city)
    versions = _row_versions(postgis, schema, "coverage_residential")
    report = recompute(db_city, add_parks=[_park("n2", 820, 420)], verify=True).report
    assert report["stored_results"] == {
        "current": True, "reason": "current", "run_id": 1, "used_for": ["buffer", "network"],
    }  # fmt: skip
    assert report["incremental_check"]["agrees"]
    latest = _from_scratch(db_city)
    _assert_run_equals_scratch(report, after_first, latest)
    _assert_stored_equal(db_city, latest)
    # only the rows the new park changed were written, in place (same fids, same table)
    now = _row_versions(postgis, schema, "coverage_residential")
    assert now.keys() == versions.keys()
    rewritten = sum(now[fid] != versions[fid] for fid in now)
    assert rewritten == report["rows_written"]["coverage_residential"]
    assert 0 < rewritten < len(versions)


_OUTSIDE_EDITS = {
    "update": ["UPDATE {s}.residential SET households = households + 500 "
               "WHERE residential_id = 'r6'"],
    "insert": ["INSERT INTO {s}.residential (residential_id, households, geom) "
               "SELECT 'r99', 40, ST_Translate(geom, 0, 65) FROM {s}.residential "
               "WHERE residential_id = 'r6'"],
    "delete": ["DELETE FROM {s}.residential WHERE residential_id = 'r6'"],
    "result edited": ["UPDATE {s}.network_coverage_residential SET covered_m2 = 0"],
    "trigger disabled": [
        "ALTER TABLE {s}.residential DISABLE TRIGGER gisrenew_changes",
        "UPDATE {s}.residential SET geom = ST_Translate(geom, 0, 100) "
        "WHERE residential_id = 'r6'",
    ],
    "table made anew": [
        "CREATE TABLE {s}.copied (LIKE {s}.residential INCLUDING ALL)",
        "INSERT INTO {s}.copied SELECT * FROM {s}.residential",
        "UPDATE {s}.copied SET households = 1",
        "DROP TABLE {s}.residential",
        "ALTER TABLE {s}.copied RENAME TO residential",
    ],
}  # fmt: skip


@pytest.mark.parametrize("edit", list(_OUTSIDE_EDITS))
def test_a_write_by_another_program_makes_the_stored_results_stale(postgis, db_city, edit):
    schema = db_city.config.schema
    with postgis.connect() as conn:
        for statement in _OUTSIDE_EDITS[edit]:
            conn.execute(statement.format(s=schema))
    before = _from_scratch(db_city)
    report = recompute(db_city, add_parks=[_park("n2", 820, 420)]).report
    assert report["stored_results"]["current"] is False
    assert report["stored_results"]["reason"] == "none_current"
    latest = _from_scratch(db_city)
    _assert_run_equals_scratch(report, before, latest)
    _assert_stored_equal(db_city, latest)
    # the run put the trigger back: the next run finds its results current again
    again = recompute(db_city, add_parks=[_park("n3", 20, 820)]).report
    assert again["stored_results"]["current"] is True


def test_a_write_by_another_session_during_a_run_leaves_no_current_state(postgis, db_city):
    schema = db_city.config.schema
    for outside in (False, True):
        with db_city.transaction() as tx:
            state = tx.results_state()
            assert state is not None and state["run_id"] == 1
            if outside:  # committed while the run works: it may have read either version
                with postgis.connect() as conn:
                    conn.execute(f"UPDATE {schema}.parks SET name = '改名' WHERE park_id = 'p1'")
            tx.record_results_state(state)
        with db_city.transaction() as tx:
            assert (tx.results_state() is None) is outside


def test_a_reader_sees_the_results_state_a_run_would_see(postgis, db_city):
    """``Project.results_state`` (the indicator sheet's, no lock) vouches as a run would."""
    state = db_city.results_state()
    assert state is not None and state["run_id"] == 1
    with db_city.transaction() as tx:
        assert tx.results_state() == state
    assert Project.open(db_city.folder).results_state()["run_id"] == 1
    with postgis.connect() as conn:
        conn.execute(f"UPDATE {db_city.config.schema}.parks SET name = '改名' WHERE park_id = 'p1'")
    assert db_city.results_state() is None


def test_column_names_postgresql_would_cut_are_refused_naming_the_mapping(tmp_path, url, schema):
    city = _small_city()
    long_name = "居住用地规划人口与现状户数之差额说明文字备注"  # 22 characters, 66 bytes
    city["residential"][long_name] = "备注"
    with pytest.raises(ProjectError) as raised:
        Project.create(tmp_path / "a", city, working_crs=_CRS, store=url, schema=schema)
    message = str(raised.value)
    assert long_name in message and "63" in message and "[columns.residential]" in message
    project = Project.create(
        tmp_path / "b", city, working_crs=_CRS, store=url, schema=schema,
        columns={"residential": {long_name: "差额备注"}},
    )  # fmt: skip
    assert project.read("residential")["差额备注"].eq("备注").all()
