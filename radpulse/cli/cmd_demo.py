"""`radpulse demo`: build the synthetic offline dataset and serve the dashboard on it."""

from __future__ import annotations

import datetime as dt
import time

import click

from radpulse.cli.output import progress


def demo_database_url(app) -> str:  # type: ignore[no-untyped-def]
    """The demo's own SQLite file, so synthetic data never mixes with collected data."""
    from radpulse.config import default_data_dir

    return app.database_url_override or f"sqlite:///{default_data_dir() / 'demo.db'}"


@click.command()
@click.option("--posts", "-n", default=20_000, show_default=True, type=click.IntRange(min=1),
              help="Number of synthetic posts (1000000 builds the benchmark dataset).")
@click.option("--seed", default=42, show_default=True, type=int, help="Random seed; same seed and end date, same data.")
@click.option("--end", "end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of the synthetic year (default: today).")
@click.option("--analyze/--no-analyze", "analyze", default=None,
              help="Annotate the posts (topics, sentiment, flags) [default: when --posts <= 100000].")
@click.option("--serve/--no-serve", default=True, show_default=True, help="Serve the dashboard afterwards.")
@click.option("--host", default=None, help="Dashboard host (default from config: 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Dashboard port (default from config: 8050).")
@click.pass_obj
def demo(app, posts: int, seed: int, end, analyze: bool | None, serve: bool, host: str | None, port: int | None) -> None:  # type: ignore[no-untyped-def]
    """Build a realistic, clearly SYNTHETIC year of radiology posts and papers, offline.

    The data goes to its own SQLite file (~/.local/share/radpulse/demo.db) unless
    --database-url is given (before or after `demo`); every row is marked synthetic. A
    database that holds anything else (collected posts, subscribers, ...) is refused: the
    demo never mixes into real data.
    """
    from radpulse.db.engine import open_database
    from radpulse.demo import build_demo, refuse_foreign_data

    url = demo_database_url(app)
    if serve:
        from radpulse.cli.cmd_dashboard import check_port

        host, port = host or app.settings.dashboard.host, port or app.settings.dashboard.port
        check_port(host, port)  # before minutes of building, not after
    db = open_database(url, create=True)
    refuse_foreign_data(db)
    started = time.perf_counter()
    with progress() as bar:
        task = bar.add_task("synthetic posts", total=posts)
        summary = build_demo(db, posts=posts, seed=seed, end=end.date() if end else dt.date.today(),
                             progress=lambda n: bar.update(task, advance=n))
    took = time.perf_counter() - started
    click.echo(
        f"Demo database ready: {summary.posts:,} synthetic posts, {summary.authors:,} authors, "
        f"{summary.articles:,} articles, {summary.mentions:,} citations "
        f"({summary.start} to {summary.end}, seed {summary.seed}) in {took:.1f}s."
    )
    if analyze if analyze is not None else posts <= 100_000:
        from radpulse.analysis.store import analyze as run_analysis

        started = time.perf_counter()
        with progress() as bar:
            task = bar.add_task("annotating", total=posts)
            result = run_analysis(db, on_batch=lambda n: bar.update(task, advance=n))
        click.echo(f"Annotated {result.new + result.changed + result.outdated:,} posts and typed "
                   f"{result.authors:,} authors in {time.perf_counter() - started:.1f}s.")
    click.echo(f"Database: {db.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"Inspect it with: radpulse --database-url '{url}' status")
    if serve:
        try:
            from radpulse.dashboards.app import serve as serve_dashboard
        except ImportError:
            click.echo("The dashboard is not part of this install; use `radpulse export` or the pandas API.")
            return
        check_port(host, port)  # still free after the build?
        serve_dashboard(url, host=host, port=port)
