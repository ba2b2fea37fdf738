"""`radpulse collect`: run the collectors of the tracked sources."""

from __future__ import annotations

import click

from radpulse.cli.output import console, echo_json, progress, table
from radpulse.cli.params import COLLECTOR_PLATFORM


@click.command()
@click.option("--source", "-s", "names", multiple=True, metavar="NAME",
              help="Only this source (repeatable), e.g. 'x:#Radiology' or 'r/Radiology'.")
@click.option("--platform", "-p", "platforms", multiple=True, type=COLLECTOR_PLATFORM,
              help="Only sources of this platform (repeatable), e.g. x, reddit, mastodon, bluesky, feeds, pubmed.")
@click.option("--refresh/--no-refresh", default=False, show_default=True,
              help="Also re-read engagement of recent posts and apply deletions.")
@click.option("--deletion-sweep", is_flag=True,
              help="Also re-check one batch of older posts for deletion at the source ([refresh] deletion_batch).")
@click.option("--enrich/--no-enrich", default=None,
              help="Crossref enrichment of articles after the collectors ([crossref] enabled): "
                   "by default on a full collect, not when --source or --platform is given.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def collect(app, names: tuple[str, ...], platforms: tuple[str, ...], refresh: bool, deletion_sweep: bool,  # type: ignore[no-untyped-def]
            enrich: bool | None, as_json: bool) -> None:
    """Collect new items from the tracked sources into the database.

    Prints a summary per source (fetched, new, updated, errors; --json adds each source's next
    cursor). Exits 1 when
    any source failed; the others are collected and stored all the same.
    """
    from radpulse.collectors.registry import known_hint
    from radpulse.collectors.registry import platforms as known_platforms
    from radpulse.collection import collect as collect_all
    from radpulse.collection import refresh as refresh_all
    from radpulse.errors import InputError
    from radpulse.sources import select_sources, sync_sources

    unknown = sorted(set(platforms) - set(known_platforms()))
    if unknown:
        raise InputError(f"Unknown platform(s): {', '.join(unknown)}.",
                         hint=known_hint("platforms", known_platforms(), unknown[0]))
    db = app.db()
    specs = select_sources(sync_sources(db, app.settings), names, platforms)
    # Crossref enrichment is a job after the collectors (its own run), not a source
    enrich = app.settings.crossref.enabled and (enrich if enrich is not None else not (names or platforms))
    if not specs and not enrich:
        raise InputError("No tracked source matches.", hint="See `radpulse sources list`.")
    with progress() as bar:
        task = bar.add_task("collecting", total=len(specs) + enrich)

        def on_source(summary):  # type: ignore[no-untyped-def]
            bar.update(task, advance=1, description=summary.source)

        results = collect_all(db, app.settings, specs, enrich=enrich, on_source=on_source)
    if refresh:
        results += refresh_all(db, app.settings, sorted({s.platform for s in specs}))
    if deletion_sweep:
        from radpulse.collection import after_batch_steps
        from radpulse.collectors.deletion_sweep import sweep_deletions

        results += sweep_deletions(db, app.settings, sorted({s.platform for s in specs}),
                                   after_batch=after_batch_steps())
    if as_json:
        echo_json([r.as_dict() for r in results])
    else:
        # the cursors are internal state: in --json only
        console.print(table("Collection", ["source", "status", "fetched", "new", "updated", "errors"],
                            [(r.source, r.status, r.fetched, r.new, r.updated, r.failed) for r in results]))
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
