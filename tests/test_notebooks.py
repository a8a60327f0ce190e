"""The planner notebooks: committed without outputs, and they run top to bottom."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = {"01_coverage_analysis.ipynb", "02_renewal_plans.ipynb", "03_new_pocket_parks.ipynb"}


def test_all_three_notebooks_exist():
    assert EXPECTED <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert not cell.get("outputs"), f"{path.name} cell {index} has committed outputs"
        assert cell.get("execution_count") is None, f"{path.name} cell {index} has a count"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    # notebooks write their outputs under GISRENEW_OUT, never into the repository
    env_before = os.environ.get("GISRENEW_OUT")
    os.environ["GISRENEW_OUT"] = str(tmp_path)
    try:
        client = NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.execute()
    finally:
        if env_before is None:
            os.environ.pop("GISRENEW_OUT", None)
        else:
            os.environ["GISRENEW_OUT"] = env_before
    kinds = {
        output.get("output_type")
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    }
    assert "error" not in kinds
    # each notebook shows, not just computes: tables, a chart and a map
    data = [
        output.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    ]
    assert any("image/png" in d for d in data), "no chart (matplotlib figure)"
    assert any("text/html" in d and "leaflet" in d["text/html"].lower() for d in data), "no map"
    assert any("text/html" in d and "<table" in d["text/html"] for d in data), "no table"
