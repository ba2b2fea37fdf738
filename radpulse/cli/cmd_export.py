"""`radpulse export posts|articles`: research exports in CSV, Parquet or JSON Lines."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from radpulse.cli.params import POST_PLATFORM, SOURCE_NAME, WHEN
from radpulse.exports.writers import FORMATS


def _write(frames, fmt: str, out: str | None, total: int | None = None) -> int:  # type: ignore[no-untyped-def]
    """Write the chunks, with a progress bar on the terminal when writing to a file."""
    from radpulse.exports.writers import write_frames

    if out is None or total is None or not sys.stderr.isatty():
        return write_frames(frames, fmt, out)
    with click.progressbar(length=total, label=f"Exporting to {Path(out).name}", file=sys.stderr) as bar:
        return write_frames(frames, fmt, out, progress=bar.update)


def _common(f):  # type: ignore[no-untyped-def]
    f = click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)(f)
    f = click.option("--out", "-o", type=click.Path(dir_okay=False), help="Output file (default: stdout).")(f)
    f = click.option("--since", type=WHEN, help="From this time on: a date (2026-11-01), an ISO time, or 7d / 12h / 4w ago.")(f)
    f = click.option("--until", type=WHEN, help="Before this time (same forms as --since).")(f)
    return f


@click.group()
def export() -> None:
    """Export posts or articles for research (de-identified by default)."""


@export.command("posts")
@_common
@click.option("--platform", "-p", "platforms", multiple=True, type=POST_PLATFORM, help="Only this platform (repeatable).")
@click.option("--source", "-s", "sources", multiple=True, type=SOURCE_NAME,
              help="Only posts matched by this source (repeatable; see `radpulse sources list`).")
@click.option("--identified", is_flag=True,
              help="Keep author ids and handles (default: keyed pseudonyms, no handles or @mentions).")
@click.option("--include-deleted", is_flag=True, help="Include posts deleted at the source (text is purged).")
@click.pass_obj
def export_posts(app, fmt, out, since, until, platforms, sources, identified, include_deleted) -> None:  # type: ignore[no-untyped-def]
    """Export posts with their engagement metrics."""
    from radpulse.dataset import post_filters
    from radpulse.exports.posts import count_posts, iter_post_frames
    from radpulse.timewindow import parse_window

    since, until = parse_window(since, until)
    db = app.db()
    f = post_filters(since=since, until=until, platforms=platforms, sources=sources, include_deleted=include_deleted)
    key = app.settings.secret("RADPULSE_EXPORT_KEY")
    frames = iter_post_frames(db, f, deidentify=not identified, key=key)
    n = _write(frames, fmt, out, total=count_posts(db, f) if out and sys.stderr.isatty() else None)
    if out:
        click.echo(f"Wrote {n} posts to {Path(out)}", err=True)


@export.command("articles")
@_common
@click.pass_obj
def export_articles(app, fmt, out, since, until) -> None:  # type: ignore[no-untyped-def]
    """Export articles (first seen in the date range)."""
    from radpulse.dataset_frames import iter_article_frames
    from radpulse.timewindow import parse_window

    since, until = parse_window(since, until)
    n = _write(iter_article_frames(app.db(), since=since, until=until), fmt, out)
    if out:
        click.echo(f"Wrote {n} articles to {Path(out)}", err=True)


@export.command("dataset")
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="A new (or empty) folder.")
@click.option("--since", type=WHEN, help="Posts from this time on (a date, an ISO time, or 7d / 12h / 4w ago).")
@click.option("--until", type=WHEN, help="Posts before this time (same forms as --since).")
@click.option("--platform", "-p", "platforms", multiple=True, type=POST_PLATFORM, help="Only this platform (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest (files, rows, checksums) as JSON.")
@click.pass_obj
def export_dataset(app, out, since, until, platforms, as_json) -> None:  # type: ignore[no-untyped-def]
    """Write a de-identified Parquet dataset for a data repository: posts, authors, mentions,
    articles, annotations, daily and edges, with a data dictionary, the models' versions and
    accuracy, the collection windows and gaps, and a README (licence and citation to fill in)."""
    from radpulse.cli.output import echo_json, progress
    from radpulse.dataset import Dataset
    from radpulse.exports.dataset import TABLES, write_dataset
    from radpulse.timewindow import parse_window

    since, until = parse_window(since, until)
    ds = Dataset(app.db(), key=app.settings.secret("RADPULSE_EXPORT_KEY"))
    filters = {k: v for k, v in {"since": since, "until": until, "platforms": list(platforms)}.items() if v}
    with progress() as bar:
        task = bar.add_task("exporting", total=len(TABLES))
        manifest = write_dataset(ds, out, filters=filters, progress=lambda name: bar.update(task, advance=1,
                                                                                            description=name))
    if as_json:
        echo_json(manifest)
        return
    rows = ", ".join(f"{n:,} {name}" for name, n in manifest["rows"].items())
    click.echo(f"Wrote {Path(out)}: {rows}. Fill in the licence and citation in its README.md before depositing.")
