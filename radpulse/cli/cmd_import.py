"""`radpulse import`: bring existing X datasets (twarc2 JSONL, X account exports) into the database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from radpulse.cli.output import console, echo_json, progress, table


@click.group("import")
def import_group() -> None:
    """Import X datasets you already hold: twarc2 JSONL files and X account data exports.

    Imports are idempotent: importing the same file twice stores each post once (the latest
    metrics win). Lines or items that cannot be read are quarantined and listed; the rest of
    the file is stored. Exit codes: 0 all imported, 1 some items quarantined, 2 unusable input.
    """


def _run(app, path: Path, as_json: bool, label: str, importer: Callable) -> None:  # type: ignore[no-untyped-def]
    from radpulse.collection import after_batch_steps

    db = app.db()
    with progress() as bar:
        task = bar.add_task(f"importing {path.name}", total=None)

        def on_progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = importer(db, path, progress=on_progress, after_batch=after_batch_steps())
    data = summary.as_dict()
    data["quarantined"] = summary.failed
    data["file"] = str(path)
    if as_json:
        echo_json(data)
    else:
        console.print(table(
            f"{label} import: {path.name}",
            ["status", "fetched", "new", "updated", "failed", "quarantined"],
            [(summary.status, summary.fetched, summary.new, summary.updated, summary.failed, summary.failed)],
        ))
        for warning in summary.warnings:
            click.echo(warning, err=True)
        if summary.failed:
            click.echo(f"{summary.failed} line(s)/item(s) could not be read and were quarantined "
                       "(see the quarantine table); everything else was stored.", err=True)
    if summary.failed:
        raise SystemExit(1)


@import_group.command("twarc")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def import_twarc_cmd(app, file: Path, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Import a twarc2 JSONL FILE: raw response pages ({"data": [...], "includes": {...}} per line,
    as written by `twarc2 search`) and/or flattened tweets (`twarc2 flatten`), mixed freely."""
    from radpulse.collectors.archive import import_twarc

    _run(app, file, as_json, "twarc", import_twarc)


@import_group.command("x-archive")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def import_x_archive_cmd(app, file: Path, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Import the tweets FILE of an X account data export (data/tweets.js, or tweets-part1.js).

    The account's id and handle are read from account.js beside FILE when it is there.
    """
    from radpulse.collectors.archive import import_x_archive

    _run(app, file, as_json, "X archive", import_x_archive)
