import multiprocessing
import os
import time

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from conftest import GK, square

from gisrenew.config import ProjectConfig
from gisrenew.errors import LockError, ProjectError
from gisrenew.project import Project


@pytest.fixture
def project(tmp_path, parks_gdf, residential_gdf):
    return Project.create(tmp_path / "proj", {"parks": parks_gdf, "residential": residential_gdf})


def test_create_and_open(project, tmp_path):
    again = Project.open(tmp_path / "proj")
    assert again.layer_kinds() == ["parks", "residential"]
    assert again.working_crs.to_epsg() == 4549
    parks = again.read("parks")
    assert parks["park_id"].tolist() == ["p1", "p2"] and parks["name"].tolist() == [
        "东园",
        "小游园",
    ]
    assert (tmp_path / "proj" / "gisrenew.toml").is_file()


def test_create_from_degrees_picks_gk_zone(tmp_path):
    parks = gpd.GeoDataFrame(geometry=[shapely.box(121.1, 31.45, 121.101, 31.451)], crs=4490)
    project = Project.create(tmp_path / "p", {"parks": parks})
    assert project.config.working_crs == "EPSG:4549"
    assert Project.open(tmp_path / "p").read("parks").crs.to_epsg() == 4549


def test_create_refuses_to_overwrite(project, tmp_path, parks_gdf):
    with pytest.raises(ProjectError, match="already holds a project"):
        Project.create(tmp_path / "proj", {"parks": parks_gdf})
    Project.create(tmp_path / "proj", {"parks": parks_gdf}, overwrite=True)
    assert Project.open(tmp_path / "proj").layer_kinds() == ["parks"]


def test_open_missing_project(tmp_path):
    with pytest.raises(ProjectError, match="gisrenew init"):
        Project.open(tmp_path)


def test_missing_layer_message(project):
    with pytest.raises(ProjectError, match="no `roads` layer"):
        project.read("roads")


def test_transaction_commits_all_changes(project, parks_gdf):
    more = pd.concat([parks_gdf, parks_gdf.assign(park_id=["p3", "p4"])], ignore_index=True)
    with project.transaction(purpose="test") as tx:
        tx.write_layer("parks", gpd.GeoDataFrame(more, crs=GK))
        tx.append_table("run_history", pd.DataFrame({"run": [1]}))
        tx.append_table("run_history", pd.DataFrame({"run": [2]}))
        tx.delete_layer("residential")
    assert len(project.read("parks")) == 4
    assert project.read_table("run_history")["run"].tolist() == [1, 2]
    assert "residential" not in project.layer_kinds()
    assert not list(project.folder.glob(".txn-*"))


def test_failed_transaction_changes_nothing(project, parks_gdf):
    before = project.gpkg_path.read_bytes()
    with pytest.raises(RuntimeError), project.transaction() as tx:
        tx.write_layer("parks", parks_gdf.iloc[:1])
        raise RuntimeError("boom")
    assert project.gpkg_path.read_bytes() == before
    assert not list(project.folder.glob(".txn-*"))


def _hold_lock(folder, ready, release):
    with Project.open(folder).lock(purpose="holding for a test"):
        ready.set()
        release.wait(10)


def test_second_writer_is_refused_with_a_clear_message(project):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(project.folder), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(LockError, match="another gisrenew run") as info:
            with project.transaction():
                pass
        assert "holding for a test" in str(info.value)
    finally:
        release.set()
        holder.join(10)
    with project.transaction():  # free again once the holder is gone
        pass


def test_killed_holder_leaves_no_stale_lock(project):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(project.folder), ready, release))
    holder.start()
    assert ready.wait(30)
    os.kill(holder.pid, 9)
    holder.join(10)
    with project.lock(timeout_s=5):
        pass


def test_stale_workfile_of_a_dead_run_is_removed(project):
    stale = project.folder / ".txn-999999-1.gpkg"
    stale.write_bytes(b"half written")
    Project.open(project.folder)
    assert stale.exists()  # a reader changes nothing (it cannot know the writer is dead)
    with Project.open(project.folder).transaction(purpose="next writer"):
        pass  # whoever holds the lock knows every other work file is abandoned
    assert not stale.exists()


def test_lock_waits_for_a_short_holder(project):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(project.folder), ready, release))
    holder.start()
    assert ready.wait(30)
    start = time.monotonic()
    ctx_release = ctx.Process(target=_release_later, args=(release,))
    ctx_release.start()
    with project.lock(timeout_s=20):
        waited = time.monotonic() - start
    holder.join(10)
    ctx_release.join(10)
    assert waited > 0.1  # it really waited for the holder instead of failing


def _release_later(release):
    time.sleep(0.5)
    release.set()


def test_config_round_trip_and_unknown_tables(tmp_path):
    config = ProjectConfig(
        name="太仓", working_crs="EPSG:4549", columns={"parks": {"公园名": "name"}},
        sections={"network": {"walk_minutes": 10}},
    )  # fmt: skip
    config.save(tmp_path)
    loaded = ProjectConfig.load(tmp_path)
    assert loaded.name == "太仓" and loaded.column_map("parks") == {"公园名": "name"}
    assert loaded.section("network") == {"walk_minutes": 10}
    (tmp_path / "gisrenew.toml").write_text('[projekt]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(ProjectError, match="unknown settings table"):
        ProjectConfig.load(tmp_path)


def test_layers_are_read_back_valid(project, tmp_path):
    bowtie = shapely.affinity.translate(
        shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100)]), 604_000, 3_481_000
    )
    parks = gpd.GeoDataFrame({"park_id": ["b"]}, geometry=[bowtie], crs=GK)
    p = Project.create(tmp_path / "bow", {"parks": parks, "residential": gpd.GeoDataFrame(
        geometry=[square(0, 0, 10)], crs=GK)})  # fmt: skip
    assert p.read("parks").is_valid.all()


def test_store_keeps_only_the_users_columns(tmp_path):
    """Defaults are filled on read, so analyses can tell absent columns from zeros."""
    parcels = gpd.GeoDataFrame({"name": ["a"]}, geometry=[square(0, 0, 10)], crs=GK)
    project = Project.create(tmp_path / "p", {"parcels": parcels})
    stored = project.read_result("parcels")
    assert "households_residential" not in stored.columns
    loaded = project.read("parcels")
    assert loaded.loc[0, "households_residential"] == 0
    assert "households_residential" in loaded.attrs["defaulted_columns"]
