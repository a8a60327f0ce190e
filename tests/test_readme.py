"""The README stays true: its layer table and its commands match the code."""

import re
from pathlib import Path

from gisrenew.schema import alias_table_markdown, layer_table_markdown
from gisrenew.settings import settings_table_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_layer_table_matches_schema():
    block = re.search(
        r"<!-- layer-table:start.*?-->\n(.*?)\n<!-- layer-table:end -->", README, re.S
    )
    assert block, "layer table markers missing from README"
    assert block.group(1).strip() == layer_table_markdown().strip()


def test_ci_runs_the_readme_test_command():
    assert "bash scripts/test.sh" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in ci


def test_readme_commands_exist():
    from gisrenew.cli import main

    for name in re.findall(r"`gisrenew (\w[\w-]*)", README):
        command = main.get_command(None, name)
        assert command is not None, (
            f"README mentions `gisrenew {name}` but the CLI has no such command"
        )


def test_settings_table_matches_the_settings_reader():
    block = re.search(
        r"<!-- settings-table:start.*?-->\n(.*?)\n<!-- settings-table:end -->", README, re.S
    )
    assert block, "settings table markers missing from README"
    assert block.group(1).strip() == settings_table_markdown().strip()


def test_alias_table_matches_schema():
    block = re.search(
        r"<!-- alias-table:start.*?-->\n(.*?)\n<!-- alias-table:end -->", README, re.S
    )
    assert block, "alias table markers missing from README"
    assert block.group(1).strip() == alias_table_markdown().strip()
