"""`radpulse export dataset`: de-identified Parquet files, every column described, models and their
accuracy, collection windows and gaps, a README for deposit; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from radpulse.cli.main import cli
from radpulse.db.models import CollectionRun
from radpulse.exports import dictionary
from radpulse.exports.dataset import TABLES, evaluation_path, measured_accuracy
from tests.core.test_dataset import T, seed


def add_runs(db) -> None:  # type: ignore[no-untyped-def]
    h = dt.timedelta(hours=1)
    runs = [("x:#radiology", T, "success", None), ("x:#radiology", T + 6 * h, "failed", "HTTP 503\nbody"),
            ("x:#radiology", T + 80 * h, "success", None), ("reddit:r/radiology", T, "success", None)]
    with db.engine.begin() as conn:
        conn.execute(insert(CollectionRun), [
            {"source_name": name, "task": "collect", "started_at": start, "finished_at": start + 0.1 * h,
             "status": status, "error": error} for name, start, status, error in runs])


def test_export_dataset_writes_described_deidentified_files(db, tmp_path):
    seed(db)
    add_runs(db)
    out = tmp_path / "deposit"
    result = CliRunner().invoke(cli, ["--database-url", db.url, "export", "dataset", "--out", str(out), "--json"],
                                env={"RADPULSE_EXPORT_KEY": "k"})
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.output)
    assert manifest["rows"]["posts"] == 29 and manifest["rows"]["annotations"] == 29  # the held post left out
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    described = (out / "DATA_DICTIONARY.md").read_text()
    for table in TABLES:
        frame = pd.read_parquet(out / f"{table}.parquet")
        assert len(frame) == manifest["rows"][table]
        assert list(frame.columns) and not dictionary.undescribed(table, list(frame.columns))
        for column in frame.columns:
            assert f"| `{column}` |" in described
    posts = pd.read_parquet(out / "posts.parquet")
    assert posts["author"].str.startswith("a_").all() and not posts["text"].str.contains("@rad").any()
    edges = pd.read_parquet(out / "edges.parquet")
    assert len(edges) and set(edges["source"]) <= set(pd.read_parquet(out / "authors.parquet")["author"]) | set(
        posts["author"])
    assert "handle" not in pd.read_parquet(out / "authors.parquet").columns

    gaps = pd.read_csv(out / "collection_gaps.csv")
    x_gaps = gaps[gaps["source"] == "x:#radiology"]
    assert any(r.startswith("run failed: HTTP 503") for r in x_gaps["reason"])
    assert any(r.startswith("no successful run for 80 h") for r in x_gaps["reason"])
    assert (gaps["source"] != "reddit:r/radiology").all()
    windows = pd.read_csv(out / "collection_windows.csv").set_index("source")
    assert windows.loc["x:#radiology", "runs"] == 3 and windows.loc["x:#radiology", "failed_runs"] == 1

    models = (out / "MODELS.md").read_text()
    assert "radpulse-annotator" in models and "| v1 |" in models
    evaluation = evaluation_path().read_text()
    accuracy = manifest["accuracy"]
    assert len(accuracy) == 4 and accuracy == measured_accuracy(evaluation)
    for figures in accuracy.values():
        assert f"{figures['macro_f1']:.3f}" in evaluation and f"{figures['macro_f1']:.3f}" in models
    readme = (out / "README.md").read_text()
    assert "does not guarantee" in readme and "LICENCE PLACEHOLDER" in readme and "CITATION PLACEHOLDER" in readme
    assert "| `posts.parquet` | 29 |" in readme
    assert not list(tmp_path.glob(".deposit.*"))  # no temporary folder left


def test_export_dataset_never_overwrites_and_leaves_nothing_on_failure(sqlite_db, tmp_path, monkeypatch):
    seed(sqlite_db)
    out = tmp_path / "deposit"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    result = CliRunner().invoke(cli, ["--database-url", sqlite_db.url, "export", "dataset", "--out", str(out)])
    assert result.exit_code == 2 and "not an empty folder" in result.output
    assert (out / "mine.txt").read_text() == "keep"

    from radpulse.exports import dataset as module

    monkeypatch.setattr(module, "collection_windows", lambda ds: (_ for _ in ()).throw(RuntimeError("disk full")))
    fresh = tmp_path / "fresh"
    with pytest.raises(RuntimeError):
        CliRunner().invoke(cli, ["--database-url", sqlite_db.url, "export", "dataset", "--out", str(fresh)],
                           catch_exceptions=False)
    assert not fresh.exists() and not list(tmp_path.glob(".fresh.*"))
