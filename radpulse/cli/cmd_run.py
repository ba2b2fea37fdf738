"""`radpulse run`: the scheduler (each source on its interval, analysis, digest, alerts), with health."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import click

from radpulse.cli.output import echo_json

#: how long a stop waits for the running jobs to finish their batch before exiting anyway
STOP_WAIT_SECONDS = 8.0


@click.command()
@click.option("--once", is_flag=True, help="Run each job once and exit (for cron); prints the outcome as JSON.")
@click.option("--job", "jobs", multiple=True,
              type=click.Choice(["collect", "refresh", "analyze", "digest", "sweep", "alerts"]),
              help="With --once: only these jobs (repeatable; the digest, sweep and alerts run only when named).")
@click.pass_obj
def run(app, once: bool, jobs: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    """Run radpulse on its schedule until stopped (SIGTERM or Ctrl+C).

    Each source is collected on its own interval ([schedule] source_intervals, else its
    platform's default: X, Mastodon, Bluesky 15 min, Reddit 30, feeds and Crossref hourly,
    PubMed daily), a little jittered; analysis runs after collections that add posts and every
    `analyze_every_minutes`; engagement is refreshed every `refresh_every_hours`; older posts
    are re-checked for deletion daily; the digest goes out at `digest_cron` and spike alerts at
    [alerts] alerts_cron. /healthz and /metrics are served on [health] host:port.

    On PostgreSQL any number of `radpulse run` share the work (each job has one holder at a
    time); on SQLite a second one is refused. A stop ends collection after the batch being
    stored and exits within 10 s; the next start continues from the cursors.
    """
    from radpulse import scheduler as sched
    from radpulse.health import serve_health
    from radpulse.locks import process_lock

    db = app.db()  # fail early with a clear message when the database cannot be used
    lock = process_lock(db)
    if lock is not None:
        lock.acquire()
    sched.STOP.clear()
    previous = {sig: signal.signal(sig, lambda *_: sched.STOP.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if once:
            echo_json(sched.run_once(app.settings, app.database_url, list(jobs) or None))
            return
        sources = sched.synced_sources(db, app.settings)
        scheduler = sched.build_scheduler(app.settings, app.database_url, blocking=False, sources=sources)
        scheduler.start()
        server = serve_health(db, app.settings, scheduler)
        where = f"; health on http://{app.settings.health.host}:{app.settings.health.port}/healthz" if server else ""
        click.echo(f"radpulse scheduler: {len(sources)} sources on their own intervals, analysis, refresh"
                   + (", weekly digest" if app.settings.digest.enabled else "")
                   + (", daily alerts" if app.settings.alerts.spike_enabled else "") + where + " (Ctrl+C to stop)")
        sched.STOP.wait()
        click.echo("radpulse: stopping (the batch being stored is finished, then locks are released)", err=True)
        scheduler.shutdown(wait=False)
        if server is not None:
            server.shutdown()
        _wait_for_jobs(STOP_WAIT_SECONDS)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sched.close_databases()
        if lock is not None:
            lock.release()


def _wait_for_jobs(seconds: float) -> None:
    """Wait up to `seconds` for the scheduler's worker threads (they end after their batch); a job
    still running then (a request without an answer) is abandoned: its open transaction is rolled
    back by the database when the process exits, and its locks go with the process."""
    end = time.monotonic() + seconds
    workers = [t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon]
    for thread in workers:
        thread.join(max(end - time.monotonic(), 0.0))
    if any(t.is_alive() for t in workers):
        click.echo("radpulse: a job did not stop in time; exiting without it", err=True)
        sys.stdout.flush()
        os._exit(1)
