"""`radpulse export posts|articles`: research exports in CSV, Parquet or JSON Lines."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from radpulse.errors import InputError
from radpulse.export_safety import neutralise_formulas

FORMATS = ("csv", "parquet", "jsonl")


def _write(frames, fmt: str, out: str | None) -> int:  # type: ignore[no-untyped-def]
    """Write DataFrame chunks to `out` (stdout for csv/jsonl when None); returns rows written."""
    if fmt == "parquet" and out is None:
        raise InputError("Parquet is binary and cannot go to the terminal.", hint="Pass --out FILE.parquet.")
    rows = 0
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        try:
            for frame in frames:
                tbl = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(out, tbl.schema)
                writer.write_table(tbl.cast(writer.schema))
                rows += len(frame)
        finally:
            if writer is not None:
                writer.close()
        return rows
    handle = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        first = True
        for frame in frames:
            if fmt == "csv":
                neutralise_formulas(frame).to_csv(handle, index=False, header=first)  # formula injection
            elif len(frame):
                text = frame.to_json(orient="records", lines=True, date_format="iso", force_ascii=False)
                handle.write(text if text.endswith("\n") else text + "\n")
            first = False
            rows += len(frame)
    finally:
        if out:
            handle.close()
    return rows


def _common(f):  # type: ignore[no-untyped-def]
    f = click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)(f)
    f = click.option("--out", "-o", type=click.Path(dir_okay=False), help="Output file (default: stdout).")(f)
    f = click.option("--since", help="From this date (YYYY-MM-DD, ISO time, or 7d / 12h / 4w ago).")(f)
    f = click.option("--until", help="Before this date.")(f)
    return f


@click.group()
def export() -> None:
    """Export posts or articles for research (de-identified by default)."""


@export.command("posts")
@_common
@click.option("--platform", "-p", "platforms", multiple=True, help="Only this platform (repeatable).")
@click.option("--source", "-s", "sources", multiple=True, help="Only posts matched by this source (repeatable).")
@click.option("--identified", is_flag=True,
              help="Keep author ids and handles (default: keyed pseudonyms, no handles or @mentions).")
@click.option("--include-deleted", is_flag=True, help="Include posts deleted at the source (text is purged).")
@click.pass_obj
def export_posts(app, fmt, out, since, until, platforms, sources, identified, include_deleted) -> None:  # type: ignore[no-untyped-def]
    """Export posts with their engagement metrics."""
    from radpulse.api import iter_posts

    frames = iter_posts(app.db(), since=since, until=until, platforms=platforms, sources=sources,
                        deidentify=not identified, include_deleted=include_deleted)
    n = _write(frames, fmt, out)
    if out:
        click.echo(f"Wrote {n} posts to {Path(out)}", err=True)


@export.command("articles")
@_common
@click.pass_obj
def export_articles(app, fmt, out, since, until) -> None:  # type: ignore[no-untyped-def]
    """Export articles (first seen in the date range)."""
    from radpulse.api import iter_articles

    n = _write(iter_articles(app.db(), since=since, until=until), fmt, out)
    if out:
        click.echo(f"Wrote {n} articles to {Path(out)}", err=True)
