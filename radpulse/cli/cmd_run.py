"""`radpulse run`: the scheduler (collect, refresh, analyze at the configured intervals)."""

from __future__ import annotations

import click

from radpulse.cli.output import echo_json


@click.command()
@click.option("--once", is_flag=True, help="Run each job once and exit (for cron); prints the outcome as JSON.")
@click.option("--job", "jobs", multiple=True, type=click.Choice(["collect", "refresh", "analyze", "digest", "sweep"]),
              help="With --once: only these jobs (repeatable; the digest and the deletion sweep run only when named).")
@click.pass_obj
def run(app, once: bool, jobs: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    """Run radpulse on its schedule ([schedule] in the config) until interrupted.

    Jobs: collect every `collect_every_minutes`, refresh engagement every `refresh_every_hours`,
    analyze every `analyze_every_minutes`, send the weekly digest at `digest_cron` (when
    [digest] enabled) and, daily, re-check a batch of older posts for deletion at the source
    ([refresh] deletion_sweep_days, deletion_batch). A failed run is logged and retried at the next
    interval; runs of one job never overlap.
    """
    from radpulse.scheduler import build_scheduler, run_once

    app.db()  # fail early with a clear message when the database cannot be used
    if once:
        echo_json(run_once(app.settings, app.database_url, list(jobs) or None))
        return
    scheduler = build_scheduler(app.settings, app.database_url, blocking=True)
    s = app.settings.schedule
    click.echo(f"radpulse scheduler: collect every {s.collect_every_minutes} min, refresh every "
               f"{s.refresh_every_hours} h, analyze every {s.analyze_every_minutes} min"
               + (f", digest at '{s.digest_cron}' ({s.timezone})" if app.settings.digest.enabled else "")
               + " (Ctrl+C to stop)")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)
