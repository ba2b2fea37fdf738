"""`radpulse dashboard`: serve the interactive dashboard on the configured database."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default from config: 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default from config: 8050).")
@click.pass_obj
def dashboard(app, host: str | None, port: int | None) -> None:  # type: ignore[no-untyped-def]
    """Serve the Plotly/Dash dashboard: volume, hashtags, topics, engagement, voices, papers."""
    from radpulse.dashboards.app import serve

    app.db()  # fail early with a clear message when the database cannot be used
    serve(app.database_url, host=host or app.settings.dashboard.host, port=port or app.settings.dashboard.port)
