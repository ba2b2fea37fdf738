"""Importing X datasets people already hold: twarc2 JSONL and X account data exports.

Each import is a collection run of task "import": batches are written by the runner's
`consume`/`write_batch` (so an import is idempotent exactly as collection is: each post once,
latest metrics kept) and counted into a RunSummary that the CLI prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from radpulse.collectors.archive.readers import Progress, read_twarc, read_x_archive
from radpulse.collectors.runner import AfterBatch, RunSummary, consume, finish_run, start_run
from radpulse.db.engine import Database
from radpulse.db.rollups import refresh_stale_rollups
from radpulse.errors import InputError, RadpulseError
from radpulse.records import Batch

__all__ = ["import_twarc", "import_x_archive", "run_import"]


def _check_file(path: Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file.", hint="Pass the path of the file to import.")
    return path


def run_import(
    db: Database,
    name: str,
    batches: Iterable[Batch],
    *,
    on_batch: Callable[[RunSummary], None] | None = None,
    after_batch: Sequence[AfterBatch] = (),
) -> RunSummary:
    """Write `batches` as one collection run of task "import"; bad input ends the run as failed."""
    summary = RunSummary(source=name, platform="x")
    summary.run_id = start_run(db, name, None, "import")
    try:
        consume(db, batches, summary, on_batch=on_batch, after_batch=after_batch)
    except RadpulseError as exc:
        summary.status, summary.error = "failed", str(exc)
        finish_run(db, summary)
        raise
    except BaseException as exc:
        summary.status, summary.error = "failed", f"{type(exc).__name__}: {exc}"
        finish_run(db, summary)
        raise
    finish_run(db, summary)
    refresh_stale_rollups(db)  # the days the imported batches marked
    return summary


def import_twarc(
    db: Database, path: str | Path, *, progress: Progress | None = None, after_batch: Sequence[AfterBatch] = ()
) -> RunSummary:
    """Import a twarc2 JSONL file (response pages and/or flattened tweets)."""
    path = _check_file(Path(path))
    return run_import(db, f"import:twarc:{path.name}", read_twarc(path, progress), after_batch=after_batch)


def import_x_archive(
    db: Database, path: str | Path, *, progress: Progress | None = None, after_batch: Sequence[AfterBatch] = ()
) -> RunSummary:
    """Import the tweets file (data/tweets.js) of an X account data export."""
    path = _check_file(Path(path))
    return run_import(db, f"import:x-archive:{path.name}", read_x_archive(path, progress), after_batch=after_batch)
