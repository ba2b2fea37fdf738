"""`radpulse export dataset --out DIR`: a citable, de-identified Parquet dataset for deposit.

DIR holds posts, authors, mentions, articles, annotations, daily and edges as Parquet files,
DATA_DICTIONARY.md (every column, from `radpulse.exports.dictionary`), MODELS.md (the model
versions that labelled the posts and their measured accuracy, with EVALUATION.md beside it),
COLLECTION.md and collection_windows.csv / collection_gaps.csv (when each source was collected
and where the record has holes), README.md for a data repository (licence placeholder, citation,
what de-identification does not guarantee) and manifest.json (files, rows, sha256). Everything
is written into a temporary folder renamed to DIR at the end: a failed export leaves nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from sqlalchemy import func, select

from radpulse import __version__
from radpulse.db.models import Annotation, Author, CollectionRun
from radpulse.errors import InputError
from radpulse.exports import dictionary
from radpulse.exports.dataset_docs import collection_markdown, models_markdown, readme_markdown

TABLES = ("posts", "authors", "mentions", "articles", "annotations", "daily", "edges")
#: a stretch longer than this between the ends of two successful runs of a source is a gap
DEFAULT_GAP = dt.timedelta(hours=48)


def evaluation_path() -> Path:
    import radpulse.analysis

    return Path(radpulse.analysis.__file__).with_name("EVALUATION.md")


def measured_accuracy(text: str = "") -> dict[str, dict[str, float]]:
    """The held-out figures the models were published with (analysis/data/models/evaluation.json,
    the file EVALUATION.md is rendered from); `text` is accepted for older callers and unused."""
    path = evaluation_path().with_name("data") / "models" / "evaluation.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, dict[str, float]] = {}
    names = {"sentiment": "sentiment (radiology, held out)", "subspecialty": "subspecialty (held out)",
             "themes": "themes (held out)"}
    for task, label in names.items():
        figures = data.get("corpus", {}).get("all", {}).get(task, {}).get("trained")
        if figures:
            low, high = figures.get("macro_f1_ci95", [None, None])
            out[label] = {"n": int(figures["n"]), "macro_f1": float(figures["macro_f1"]),
                          "ci95_low": low, "ci95_high": high}
    both = data.get("authors", {}).get("both")
    if both:
        out["author type (held out)"] = {"n": int(both["n"]), "accuracy": float(both["accuracy"]),
                                         "macro_f1": float(both["macro_f1"])}
    return out


def model_versions(ds: Any) -> pd.DataFrame:
    """Which model versions labelled the stored posts and authors, with counts."""
    a, au = Annotation.__table__.c, Author.__table__.c
    with ds.db.engine.connect() as conn:
        rows = [("posts", n, v, c) for n, v, c in conn.execute(
            select(a.model_name, a.model_version, func.count()).group_by(a.model_name, a.model_version))]
        rows += [("authors", "author type", v, c) for v, c in conn.execute(
            select(au.author_type_model, func.count()).where(au.author_type_model.is_not(None))
            .group_by(au.author_type_model))]
    return pd.DataFrame(rows, columns=["labels", "model", "version", "stored_rows"])


def collection_windows(ds: Any, gap: dt.timedelta = DEFAULT_GAP) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per source: its collection window and runs; and the gaps (failed runs, long silences)."""
    r = CollectionRun.__table__.c
    with ds.db.engine.connect() as conn:
        runs = pd.DataFrame(conn.execute(
            select(r.source_name, r.task, r.started_at, r.finished_at, r.status, r.error)
            .order_by(r.source_name, r.started_at)).all(),
            columns=["source", "task", "started_at", "finished_at", "status", "error"])
    windows, gaps = [], []
    for source, group in runs.groupby("source", sort=True):
        ok = group[group["status"].isin(["success", "warning"])]
        windows.append({"source": source, "first_run": group["started_at"].min(),
                        "last_run": group["finished_at"].max(), "runs": len(group), "successful_runs": len(ok),
                        "failed_runs": int((group["status"] == "failed").sum())})
        for row in group[group["status"] == "failed"].itertuples():
            gaps.append({"source": source, "start": row.started_at, "end": row.finished_at,
                         "reason": f"run failed: {(row.error or '').splitlines()[0][:200] if row.error else 'failed'}"})
        ends = sorted(t for t in ok["finished_at"] if t is not None)
        for before, after in zip(ends, ends[1:]):
            if after - before > gap:
                gaps.append({"source": source, "start": before, "end": after,
                             "reason": f"no successful run for {(after - before) / dt.timedelta(hours=1):.0f} h"})
    return (pd.DataFrame(windows, columns=["source", "first_run", "last_run", "runs", "successful_runs", "failed_runs"]),
            pd.DataFrame(gaps, columns=["source", "start", "end", "reason"]))


def _frames(ds: Any, filters: dict[str, Any]) -> dict[str, Callable[[], pd.DataFrame]]:
    return {"authors": ds.authors, "mentions": lambda: ds.mentions(**filters), "articles": ds.articles,
            "annotations": lambda: ds.annotations(**filters), "daily": lambda: ds.daily(by=["platform"], **filters),
            "edges": lambda: ds.edges(**filters)}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def arrow_type(type_: Any) -> str:
    """A reader's name for a Parquet column type."""
    name = str(type_)
    if name.startswith("dictionary"):
        return "category (text)"
    if name.startswith("timestamp"):
        return "timestamp (UTC)"
    if name.startswith("list"):
        return "list of text"
    return {"string": "text", "large_string": "text", "int64": "integer", "double": "number", "bool": "boolean",
            "date32[day]": "date"}.get(name, name)


def write_dataset(ds: Any, out: str | Path, *, filters: dict[str, Any] | None = None,
                  progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write the dataset to `out` (a new or empty folder); returns the manifest."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} already exists and is not an empty folder.",
                         hint="Pass --out with a new folder name: an export never overwrites files.")
    filters = dict(filters or {})
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        rows: dict[str, int] = {"posts": ds.to_parquet(work / "posts.parquet", **filters)}
        if progress:
            progress("posts")
        for name, make in _frames(ds, filters).items():
            frame = make()
            frame.to_parquet(work / f"{name}.parquet", index=False)
            rows[name] = len(frame)
            if progress:
                progress(name)
        schemas = {t: pq.read_schema(work / f"{t}.parquet") for t in TABLES}
        missing = {t: dictionary.undescribed(t, s.names) for t, s in schemas.items() if dictionary.undescribed(t, s.names)}
        if missing:  # a new column must be described before it is published
            raise InputError(f"Columns without a description in the data dictionary: {missing}.",
                             hint="Describe them in radpulse/exports/dictionary.py.")
        types = {t: {f.name: arrow_type(f.type) for f in s} for t, s in schemas.items()}
        (work / "DATA_DICTIONARY.md").write_text(dictionary.render(types, rows), encoding="utf-8")
        evaluation = evaluation_path().read_text(encoding="utf-8") if evaluation_path().exists() else ""
        accuracy = measured_accuracy(evaluation)
        versions = model_versions(ds)
        (work / "MODELS.md").write_text(models_markdown(versions, accuracy), encoding="utf-8")
        if evaluation:
            (work / "EVALUATION.md").write_text(evaluation, encoding="utf-8")
        windows, gaps = collection_windows(ds)
        windows.to_csv(work / "collection_windows.csv", index=False)
        gaps.to_csv(work / "collection_gaps.csv", index=False)
        posts_daily = pd.read_parquet(work / "daily.parquet")
        (work / "COLLECTION.md").write_text(collection_markdown(windows, gaps, posts_daily), encoding="utf-8")
        created = dt.datetime.now(dt.UTC).replace(microsecond=0)
        (work / "README.md").write_text(readme_markdown(rows, filters, created, __version__, posts_daily),
                                        encoding="utf-8")
        manifest = {
            "created_at": created.isoformat(), "radpulse_version": __version__,
            "filters": {k: (list(v) if isinstance(v, list | tuple) else str(v)) for k, v in filters.items()},
            "rows": rows, "models": versions.to_dict("records"), "accuracy": accuracy,
            "files": {p.name: _sha256(p) for p in sorted(work.iterdir())},
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        work.chmod(0o777 & ~umask)  # mkdtemp makes it private; the folder gets the user's umask
        if out.exists():
            out.rmdir()
        work.rename(out)
        return manifest
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
