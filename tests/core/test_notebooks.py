"""The example notebooks run top to bottom against a demo database."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import plotly.graph_objects as go
import pytest

from radpulse.db.engine import open_database
from radpulse.demo import build_demo

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    build_demo(open_database(url), posts=1500, seed=2, end=dt.date(2026, 11, 27))
    monkeypatch.setenv("RADPULSE_DATABASE_URL", url)
    namespace: dict = {}
    results = []
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        *body, last = source.rstrip().splitlines()
        exec(compile("\n".join(body), str(path), "exec"), namespace)  # noqa: S102 - our own notebook
        results.append(eval(compile(last, str(path), "eval"), namespace))  # noqa: S307
    assert namespace["posts"].shape[0] == 1500
    assert any(isinstance(r, go.Figure) and len(r.data) > 0 for r in results)
    assert namespace["posts"]["author"].dropna().str.startswith("a_").all()
