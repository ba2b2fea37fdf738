"""`radpulse collect`: run the collectors of the tracked sources."""

from __future__ import annotations

import click

from radpulse.cli.output import console, echo_json, progress, table
from radpulse.cli.params import COLLECTOR_PLATFORM


@click.command()
@click.option("--source", "-s", "names", multiple=True, metavar="NAME",
              help="Only this source (repeatable), e.g. 'x:#Radiology' or 'r/Radiology'.")
@click.option("--platform", "-p", "platforms", multiple=True, type=COLLECTOR_PLATFORM,
              help="Only sources of this platform (repeatable): x, reddit, mastodon, bluesky, feeds, pubmed, crossref.")
@click.option("--refresh/--no-refresh", default=False, show_default=True,
              help="Also re-read engagement of recent posts and apply deletions.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def collect(app, names: tuple[str, ...], platforms: tuple[str, ...], refresh: bool, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Collect new items from the tracked sources into the database.

    Prints a summary per source (fetched, new, updated, errors, next cursor). Exits 1 when
    any source failed; the others are collected and stored all the same.
    """
    from radpulse.collectors.registry import platforms as known_platforms
    from radpulse.collectors.runner import collect_sources, refresh_platforms
    from radpulse.errors import InputError
    from radpulse.sources import select_sources, sync_sources

    unknown = sorted(set(platforms) - set(known_platforms()))
    if unknown:
        raise InputError(f"Unknown platform(s): {', '.join(unknown)}.",
                         hint=f"Known platforms: {', '.join(known_platforms())}.")
    db = app.db()
    specs = select_sources(sync_sources(db, app.settings), names, platforms)
    if not specs:
        raise InputError("No tracked source matches.", hint="See `radpulse sources list`.")
    with progress() as bar:
        task = bar.add_task("collecting", total=len(specs))

        def on_source(summary):  # type: ignore[no-untyped-def]
            bar.update(task, advance=1, description=summary.source)

        results = collect_sources(db, app.settings, specs, on_source=on_source)
    if refresh:
        results += refresh_platforms(db, app.settings, sorted({s.platform for s in specs}))
    if as_json:
        echo_json([r.as_dict() for r in results])
    else:
        summary = table(
            "Collection",
            ["source", "status", "fetched", "new", "updated", "errors", "next cursor"],
            [(r.source, r.status, r.fetched, r.new, r.updated, r.failed, _cursor_text(r.cursor)) for r in results],
        )
        for column in summary.columns[:2]:
            column.no_wrap = True
        console.print(summary)
        print_problems(results)
    failed = [r for r in results if not r.ok]
    if failed:
        click.echo(f"{len(failed)} of {len(results)} source(s) did not complete; see the messages above.", err=True)
        raise SystemExit(1)


def print_problems(results) -> None:  # type: ignore[no-untyped-def]
    """Each distinct problem once, with the sources it hit (ten sources short of one token
    read as one line, not ten)."""
    problems: dict[str, list[str]] = {}
    for r in results:
        for text in ([r.error] if r.error else []) + list(r.warnings):
            message = text.removeprefix(f"{r.source}: ")
            problems.setdefault(message, []).append(r.source)
    for message, sources in problems.items():
        who = sources[0] if len(sources) == 1 else f"{sources[0]} and {len(sources) - 1} more"
        console.print(f"- {who}: {message}", markup=False, highlight=False)


def _cursor_text(cursor) -> str:  # type: ignore[no-untyped-def]
    if not cursor:
        return ""
    return ", ".join(f"{k}={v}" for k, v in cursor.items() if not isinstance(v, (dict, list)))[:80]
