"""Issue #11, item 16: nothing hangs — a pipe given as a data file is refused at once.

Each run happens in a subprocess with a time limit, so a regression fails the test
instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "gisrenew", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.fixture
def fifo_folder(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    os.mkfifo(folder / "parks.gpkg")
    return folder


def test_validate_a_folder_holding_a_pipe_does_not_hang(fifo_folder):
    run = _run("validate", str(fifo_folder), cwd=fifo_folder.parent)
    assert run.returncode == 1, run.stderr
    assert "not a file (a pipe" in run.stdout + run.stderr
    assert "Traceback" not in run.stderr


def test_a_pipe_as_an_input_layer_is_refused(fifo_folder, tmp_path):
    run = _run("coverage", "--parks", str(fifo_folder / "parks.gpkg"), "--residential",
               str(fifo_folder / "parks.gpkg"), cwd=tmp_path)  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert "not a file (a pipe" in run.stdout + run.stderr
