"""The research notebooks run end to end (nbclient, a real Jupyter kernel) on one demo database,
and are stored without outputs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from radpulse.analysis.store import analyze
from radpulse.db.engine import open_database
from radpulse.demo import build_demo

FOLDER = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
PLOTLY = "application/vnd.plotly.v1+json"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """One annotated demo database for every notebook (RSNA 2026 falls a month before its end)."""
    path = tmp_path_factory.mktemp("notebooks") / "demo.db"
    db = open_database(f"sqlite:///{path}")
    build_demo(db, posts=8000, seed=3, end=dt.date(2026, 12, 31))
    analyze(db)
    db.dispose()
    return path


def test_the_six_studies_and_the_quick_start_are_there():
    names = [p.name[:2] for p in NOTEBOOKS]
    assert names == ["00", "01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip the outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_end_to_end(path, demo_db, monkeypatch):
    monkeypatch.setenv("RADPULSE_NOTEBOOK_DB", str(demo_db))
    monkeypatch.delenv("RADPULSE_DATABASE_URL", raising=False)
    nb = nbformat.read(path, as_version=4)
    # a cell that raises fails the test (CellExecutionError names the cell and the traceback)
    NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(FOLDER)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert str(demo_db) in code[0].outputs[0]["data"]["text/plain"]  # the database it was pointed at
    figures = [o for c in code for o in c.outputs if o.get("output_type") in ("execute_result", "display_data")
               and PLOTLY in o.get("data", {})]
    assert figures, f"{path.name} shows no figure"
    assert all(any(trace.get("x") is not None or trace.get("z") is not None for trace in f["data"][PLOTLY]["data"])
               for f in figures), f"{path.name} has an empty figure"
    text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for c in code for o in c.outputs)
    assert "@rad" not in text and "Traceback" not in text
