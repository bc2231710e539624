"""The notebooks in notebooks/: committed without outputs, and each runs from a clean kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
FIGURES = {  # notebook -> figures it writes (PNG and SVG each), committed in maps/figures/
    "01_membership_over_time.ipynb": ["buendnis_timeline"],
    "02_geography.ipynb": ["buendnis_by_state", "buendnis_coordinators", "buendnis_distance_by_state"],
    "03_directory.ipynb": [],
}
TIMEOUT_S = 300


def test_every_notebook_is_known() -> None:
    assert [p.name for p in NOTEBOOKS] == sorted(FIGURES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip the outputs"
        assert "attachments" not in cell or not cell.attachments
    assert set(nb.metadata) <= {"kernelspec", "language_info"}, f"{path.name}: metadata {sorted(nb.metadata)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_from_a_clean_kernel(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POI_FIGURES_DIR", str(tmp_path))  # the kernel inherits it: the tree stays untouched
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK_DIR)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, when any cell fails
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    written = sorted(p.name for p in tmp_path.iterdir())
    expected = sorted(f"{stem}.{ext}" for stem in FIGURES[path.name] for ext in ("png", "svg"))
    assert written == expected
    for name in expected:
        assert (ROOT / "maps" / "figures" / name).is_file(), f"commit maps/figures/{name}"
