"""A planner's project: mappings at the door, settings kept, reload, the sample read-only.

Findings of issue 13 reproduced here: ``init`` had no way to take a column mapping; a
hand-written ``gisrenew.toml`` was refused, and with ``--force`` silently replaced; a
mapping added afterwards did not restore the ids already stored; a GeoPackage with
Chinese layer names passed ``validate`` but ``init`` refused it; the README's example
rewrote the bundled sample and left a lock file behind.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner
from planner_files import planner_layers, to_planner, write_gbk_shapefile

from gisrenew.cli import main
from gisrenew.config import ProjectConfig
from gisrenew.project import LOCK_FILE, Project, copy_project

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "geo" / "taicang_sample"


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def coded_parks(tmp_path):
    """Parks whose ids are under 公园标识码 — a header no alias knows."""
    layers = planner_layers()
    parks = to_planner(layers["parks"], "parks").rename(columns={"编号": "公园标识码"})
    residential = to_planner(layers["residential"], "residential")
    files = tmp_path / "files"
    write_gbk_shapefile(parks, files / "公园.shp")
    pyogrio.write_dataframe(residential, files / "现状.gpkg", layer="居住用地", driver="GPKG")
    return files


def test_init_takes_column_mappings(tmp_path, coded_parks):
    run = _run("init", tmp_path / "p", coded_parks, "--column", "parks:公园标识码=park_id")
    assert run.exit_code == 0, run.output
    project = Project.open(tmp_path / "p")
    assert project.read("parks")["park_id"].tolist()[:2] == ["GY01", "GY02"]
    assert project.config.column_map("parks") == {"公园标识码": "park_id"}
    record = project.config.layers["residential"]
    assert record["layer"] == "居住用地" and record["source"].endswith("现状.gpkg")


def test_a_bad_column_mapping_is_a_usage_error(tmp_path, coded_parks):
    run = _run("init", tmp_path / "p", coded_parks, "--column", "parks:公园标识码")
    assert run.exit_code == 2 and "LAYER:HEADER=FIELD" in run.output
    run = _run("init", tmp_path / "p", coded_parks, "--column", "park:公园标识码=park_id")
    assert run.exit_code == 2 and "not a layer" in run.output


HAND_WRITTEN = """\
# our bureau's settings — keep this comment
[project]
name = "太仓市"   # the city
rules = "garden-city-500"

[columns.parks]
"公园标识码" = "park_id"

[plans]
household_rule = "largest"
"""


def test_init_keeps_a_hand_written_gisrenew_toml(tmp_path, coded_parks):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "gisrenew.toml").write_text(HAND_WRITTEN, encoding="utf-8")
    run = _run("init", folder, coded_parks)
    assert run.exit_code == 0, run.output
    text = (folder / "gisrenew.toml").read_text(encoding="utf-8")
    assert text.startswith(HAND_WRITTEN.split("\n[columns")[0])  # comments and order kept
    config = ProjectConfig.load(folder)
    assert (config.name, config.rules, config.plans.household_rule) == (
        "太仓市", "garden-city-500", "largest",
    )  # fmt: skip
    assert config.working_crs == "EPSG:4549" and "parks" in config.layers
    assert Project.open(folder).read("parks")["park_id"].iloc[0] == "GY01"
    # --force makes the store again and keeps every setting
    again = _run("init", folder, coded_parks, "--force")
    assert again.exit_code == 0, again.output
    assert (folder / "gisrenew.toml").read_text(encoding="utf-8") == text


def test_init_refuses_what_contradicts_the_settings_with_the_fix(tmp_path, coded_parks):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "gisrenew.toml").write_text(HAND_WRITTEN, encoding="utf-8")
    run = _run("init", folder, coded_parks, "--rules", "tijian-2021",
               "--column", "parks:公园标识码=name")  # fmt: skip
    assert run.exit_code == 1
    assert "rules = 'garden-city-500'" in run.output and "'tijian-2021'" in run.output
    assert "公园标识码 = 'park_id'" in run.output and "Fix:" in run.output
    assert (folder / "gisrenew.toml").read_text(encoding="utf-8") == HAND_WRITTEN
    assert not (folder / "project.gpkg").exists()


def test_a_changed_mapping_warns_and_reload_applies_it(tmp_path, coded_parks):
    folder = tmp_path / "p"
    assert _run("init", folder, coded_parks).exit_code == 0
    assert Project.open(folder).read("parks")["park_id"].iloc[0] == "1"  # generated
    settings = folder / "gisrenew.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8") + '\n[columns.parks]\n"公园标识码" = "park_id"\n',
        encoding="utf-8",
    )
    stale = _run("coverage", "--project", folder, "--json")
    assert stale.exit_code == 0, stale.output
    assert "changed since this layer was stored" in stale.stderr
    assert "gisrenew reload" in stale.stderr
    run = _run("reload", "--project", folder, "parks")
    assert run.exit_code == 0, run.output
    assert Project.open(folder).read("parks")["park_id"].iloc[0] == "GY01"
    fresh = _run("coverage", "--project", folder, "--json")
    assert "changed since" not in fresh.stderr
    assert not (folder / LOCK_FILE).exists()


def test_reload_keeps_park_changes_unless_told(tmp_path, planner_data):
    folder, files = planner_data
    project = tmp_path / "p"
    assert _run("init", project, folder).exit_code == 0
    run = _run("recompute", "--project", project, "--no-publish", "--add-parks",
               files["new_parks"])  # fmt: skip
    assert run.exit_code == 0, run.output
    assert len(Project.open(project).read("parks")) == 87
    refused = _run("reload", "--project", project, "parks")
    assert refused.exit_code == 1 and "recompute run(s) changed the parks" in refused.output
    assert _run("reload", "--project", project, "residential").exit_code == 0
    assert len(Project.open(project).read("parks")) == 87
    forced = _run("reload", "--project", project, "parks", "--discard-park-changes")
    assert forced.exit_code == 0, forced.output
    assert len(Project.open(project).read("parks")) == 82


def test_reload_needs_recorded_sources(tmp_path):
    project = copy_project(SAMPLE, tmp_path / "copy")
    refused = _run("reload", "--project", project.folder)
    assert refused.exit_code == 1 and "records no source file" in refused.output


def test_init_reads_a_geopackage_with_chinese_layer_names(tmp_path, planner_data):
    folder, _files = planner_data
    gpkg = folder / "城市现状.gpkg"
    assert _run("validate", gpkg).exit_code == 0
    run = _run("init", tmp_path / "p", gpkg)
    assert run.exit_code == 0, run.output
    kinds = set(Project.open(tmp_path / "p").layer_kinds())
    assert kinds == {"residential", "boundary", "districts", "water"}


def test_init_refuses_what_validate_reports_as_unknown(tmp_path, planner_data):
    folder, _files = planner_data
    odd = tmp_path / "数据"
    shutil.copytree(folder, odd)
    for path in odd.glob("公园.*"):
        path.rename(path.with_name("绿化" + path.suffix))
    assert "kind unknown" in _run("validate", odd).output
    run = _run("init", tmp_path / "p", odd)
    assert run.exit_code == 2 and "绿化.shp" in run.output and "--parks" in run.output


# --------------------------------------------------------------------------- read-only


@pytest.mark.parametrize(
    "args",
    [
        ("recompute", "--project", "{p}", "--add-parks", "{p}/new_pocket_parks.gpkg"),
        ("publish", "--project", "{p}"),
        ("init", "{p}", "--parks", "{p}/new_pocket_parks.gpkg", "--force"),
        ("reload", "--project", "{p}"),
    ],
)
def test_the_sample_is_read_only(tmp_path, args):
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder)  # an exact copy: read-only like the original
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    run = _run(*(a.format(p=folder) for a in args))
    assert run.exit_code == 1, run.output
    assert "read-only" in run.output and "gisrenew demo" in run.output
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_copy_is_writable_and_leaves_no_lock_file(tmp_path):
    project = copy_project(SAMPLE, tmp_path / "copy")
    assert not project.read_only
    assert "read_only = false" in (project.folder / "gisrenew.toml").read_text(encoding="utf-8")
    run = _run("recompute", "--project", project.folder, "--add-parks",
               SAMPLE / "new_pocket_parks.gpkg", "--no-publish")  # fmt: skip
    assert run.exit_code == 0, run.output
    assert not (project.folder / LOCK_FILE).exists()
    assert ".gisrenew.lock" in (ROOT / ".gitignore").read_text()


# --------------------------------------------------------------------------- README


def _readme_sample_commands() -> list[list[str]]:
    """The README's commands that run on the bundled sample (no placeholders)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    commands = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#")[0].strip()
            if "data/geo/taicang_sample" in line and re.match(r"(\.venv/bin/)?gisrenew ", line):
                commands.append(shlex.split(line)[1:])
    return commands


@pytest.mark.slow
def test_the_readme_examples_leave_git_status_clean(tmp_path, monkeypatch):
    commands = _readme_sample_commands()
    assert len(commands) >= 5
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    for name in ("README.md", ".gitignore"):  # this checkout's, committed or not
        shutil.copy(ROOT / name, clone / name)
    shutil.rmtree(clone / "data" / "geo" / "taicang_sample")
    shutil.copytree(SAMPLE, clone / "data" / "geo" / "taicang_sample")
    git = ["git", "-C", str(clone)]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "now",
                    "--allow-empty"], check=True)  # fmt: skip
    monkeypatch.chdir(clone)
    for args in commands:
        run = CliRunner().invoke(main, args)
        assert run.exit_code in (0, 1), (args, run.output)
    also = ["recompute", "--project", "data/geo/taicang_sample", "--add-parks",
            "data/geo/taicang_sample/new_pocket_parks.gpkg"]  # fmt: skip
    assert CliRunner().invoke(main, also).exit_code == 1
    status = subprocess.run([*git, "status", "--porcelain", "--ignored=no"], capture_output=True,
                            text=True, check=True)  # fmt: skip
    assert status.stdout == "", status.stdout
    leftovers = [p.name for p in (clone / "data" / "geo" / "taicang_sample").iterdir()]
    assert LOCK_FILE not in leftovers and not any(n.startswith(".txn-") for n in leftovers)
    assert os.listdir(clone / "data" / "geo" / "taicang_sample")


def test_system_packages_follow_the_debian_release():
    script = (ROOT / "scripts" / "ci-system-deps.sh").read_text()
    assert not re.search(r"postgresql-\d+-", script)  # no hard-coded major version
    assert "apt-cache policy postgresql" in script and "/usr/lib/postgresql" in script
