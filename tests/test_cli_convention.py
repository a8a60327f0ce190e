"""One command-line convention for every command (issue 13): options, messages, exits.

Each test reproduces a finding of the issue on the old code: --headers here and --lang
there, --out a file here and a folder there and overwriting silently, -v/-q refused
after the command, INFO on by default, ``error: ERROR:`` / ``INFO INFO:``, recompute
without --crs/--encoding, ``affected | head`` exiting 1, gisrenew.toml written 0600.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import click
import geopandas as gpd
import pytest
from click.testing import CliRunner
from conftest import square

from gisrenew.cli import COMMANDS, main

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "geo" / "taicang_sample"

#: Which shared options each kind of command has.
WRITES_FILE = {"coverage", "affected", "sites"}
WRITES_FOLDER = {"publish", "recompute", "demo"}
READS_FILES = {"init", "validate", "coverage", "affected", "sites", "recompute", "reload"}
READS_PROJECT = {"validate", "coverage", "affected", "publish", "recompute", "history", "sites",
                 "reload"}  # fmt: skip


def _command(name: str) -> click.Command:
    return main.get_command(click.Context(main), name)


def _options(name: str) -> dict[str, click.Option]:
    """Every option of a command by each of its names (``-o`` and ``--output`` alike)."""
    return {
        opt: param
        for param in _command(name).params
        if isinstance(param, click.Option)
        for opt in (*param.opts, *param.secondary_opts)
    }


def _run(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def test_the_command_listing_is_the_one_click_makes_from_the_commands():
    """``gisrenew --help`` lists each command from its summary without importing it: the
    summary is the first paragraph of the command's own help, and the listing is the
    one click prints from the imported commands, at a narrow and a wide width."""
    for name, listed in COMMANDS.items():
        help_text = inspect.cleandoc(_command(name).help)
        assert listed.summary == help_text.split("\n\n")[0].replace("\n", " "), name
    for width in (60, 200):
        ctx = click.Context(main, terminal_width=width, max_content_width=width)
        ours, clicks = ctx.make_formatter(), ctx.make_formatter()
        main.format_commands(ctx, ours)
        click.Group.format_commands(main, ctx, clicks)  # imports every command
        assert ours.getvalue() == clicks.getvalue()
        assert all(name in ours.getvalue() for name in COMMANDS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_the_shared_options(name):
    options = _options(name)
    shown = _run(name, "--help")
    assert shown.exit_code == 0, shown.output
    expected = {"--lang", "-v", "--verbose", "-q", "--quiet", "--help"}
    if name in WRITES_FILE | WRITES_FOLDER:
        expected |= {"-o", "--output", "--overwrite"}
    if name in READS_FILES:
        expected |= {"--crs", "--override-crs", "--encoding"}
    if name in READS_PROJECT:
        expected |= {"--project"}
    assert expected <= set(options) | {"--help"}, expected - set(options)
    for flag in expected - {"--help", "-o", "-v", "-q"}:
        assert flag in shown.output, flag
    assert list(options["--lang"].type.choices) == ["zh", "en"]
    for hidden in ("--headers", "--out"):
        if hidden in options:
            assert options[hidden].hidden and hidden not in shown.output.split()
    if name in WRITES_FILE | WRITES_FOLDER:
        kind = "file" if name in WRITES_FILE else "folder"
        assert f"Output {kind}:" in options["--output"].help


def test_shared_options_mean_the_same_everywhere():
    for flag in ("--crs", "--override-crs", "--encoding", "--project", "--lang", "--overwrite"):
        helps = {_options(n)[flag].help for n in COMMANDS if flag in _options(n)}
        assert len(helps) == 1 or flag in ("--lang", "--overwrite"), (flag, helps)


@pytest.fixture
def parks_file(tmp_path, parks_gdf):
    path = tmp_path / "公园.gpkg"
    parks_gdf.to_crs(4490).to_file(path)
    return path


def test_verbosity_after_the_command_and_quiet_by_default(parks_file):
    quiet = _run("validate", parks_file)
    assert quiet.exit_code == 0 and "reprojecting" not in quiet.stderr
    for args in (("-v", "validate", parks_file), ("validate", parks_file, "-v")):
        loud = _run(*args)
        assert loud.exit_code == 0, loud.output
        assert loud.stderr.count("reprojecting") == 1
        assert "INFO" not in loud.stderr
    assert _run("validate", parks_file, "-q").exit_code == 0


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # the file without a CRS
def test_one_prefix_per_message(tmp_path, residential_gdf):
    nocrs = tmp_path / "公园.gpkg"
    gpd.GeoDataFrame(geometry=[square(0, 0, 100)]).to_file(nocrs)
    residential = tmp_path / "居住用地.gpkg"
    residential_gdf.to_file(residential)
    run = _run("coverage", "--parks", nocrs, "--residential", residential)
    assert run.exit_code == 1
    assert run.stderr.startswith("error: ") and "ERROR" not in run.stderr


def test_headers_is_a_deprecated_alias_of_lang(tmp_path, parks_file, residential_gdf):
    residential = tmp_path / "居住用地.gpkg"
    residential_gdf.to_file(residential)
    base = ("coverage", "--parks", parks_file, "--residential", residential)
    old = _run(*base, "--headers", "en")
    new = _run(*base, "--lang", "en")
    assert old.exit_code == new.exit_code == 0
    assert old.stdout == new.stdout and "coverage" in new.stdout.lower()
    assert old.stderr.count("--headers is deprecated") == 1


def test_output_is_not_overwritten_without_overwrite(tmp_path, parks_file, residential_gdf):
    residential = tmp_path / "居住用地.gpkg"
    residential_gdf.to_file(residential)
    base = ("coverage", "--parks", parks_file, "--residential", residential)
    out = tmp_path / "cov.xlsx"
    assert _run(*base, "-o", out).exit_code == 0 and out.is_file()
    refused = _run(*base, "--out", out)  # the old name still works
    assert refused.exit_code == 2 and "--overwrite" in refused.output
    assert _run(*base, "--output", out, "--overwrite").exit_code == 0


def test_a_closed_pipe_is_a_normal_end():
    proc = subprocess.Popen(
        [sys.executable, "-m", "gisrenew", "affected", "--project", str(SAMPLE)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    proc.stdout.close()  # like `| head` that has read enough
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_init_writes_settings_with_the_users_umask(tmp_path, parks_file):
    old = os.umask(0o027)
    try:
        run = _run("init", tmp_path / "p", "--parks", parks_file)
    finally:
        os.umask(old)
    assert run.exit_code == 0, run.output
    assert (tmp_path / "p" / "gisrenew.toml").stat().st_mode & 0o777 == 0o640


def test_sites_ranks_five_unless_told():
    run = _run("sites", "--project", SAMPLE, "--json")
    assert run.exit_code == 0, run.output
    assert len(json.loads(run.stdout)["sites"]) == 5


def test_recompute_reads_files_like_every_command(tmp_path):
    from gisrenew.project import copy_project

    project = copy_project(SAMPLE, tmp_path / "copy")
    gpkg = f"{SAMPLE / 'new_pocket_parks.gpkg'}::new_parks"
    run = _run("recompute", "--project", project.folder, "--add-parks", gpkg, "--crs",
               "EPSG:4549", "--encoding", "UTF-8", "--no-publish", "--json")  # fmt: skip
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["changed"]


def test_weight_accepts_the_chinese_header():
    run = _run("coverage", "--project", SAMPLE, "--weight", "户数", "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["weight"]["column"] == "households"


def test_history_speaks_the_language_and_the_local_time(tmp_path, monkeypatch):
    from gisrenew.project import copy_project

    project = copy_project(SAMPLE, tmp_path / "copy")
    add = ("recompute", "--project", project.folder, "--no-publish", "--add-parks")
    assert _run(*add, SAMPLE / "new_pocket_parks.gpkg").exit_code == 0
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        zh = _run("history", "--project", project.folder)
        en = _run("history", "--project", project.folder, "--lang", "en")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert "+08:00" in zh.output and "新增" in zh.output
    assert "added" in en.output and "新增" not in en.output
