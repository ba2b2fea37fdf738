"""`radpulse dashboard`: serve the interactive dashboard on the configured database."""

from __future__ import annotations

import errno
import socket

import click

from radpulse.errors import InputError


def check_port(host: str, port: int) -> None:
    """Raise InputError unless the dashboard can listen on (host, port); call before announcing it.

    Binds and closes a socket the way the server will (SO_REUSEADDR, as werkzeug does), so a
    port held by another server is reported here, in one paragraph, rather than as the web
    server's traceback after "Dashboard on ..." has been printed.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"Cannot listen on host {host!r}: {exc.strerror}.",
                         hint="Use an address of this machine, e.g. --host 127.0.0.1 (or 0.0.0.0 for every "
                         "interface), or fix [dashboard] host in the config.") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(
                    f"Port {port} on {host} is already in use (another dashboard or server is running there).",
                    hint=f"Stop that server, or pick a free port with --port (e.g. --port {port + 1}) or "
                    "[dashboard] port in the config.") from None
            raise InputError(f"Cannot listen on {host}:{port}: {exc.strerror}.",
                             hint="Ports below 1024 need privileges: use a port such as 8050 with --port, "
                             "or another --host.") from None


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default from config: 127.0.0.1, this machine only).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Port (default from config: 8050).")
@click.option("--workers", default=0, type=click.IntRange(0, 64), show_default=True,
              help="Serve with the waitress production server and this many threads (0: the Dash development server).")
@click.pass_obj
def dashboard(app, host: str | None, port: int | None, workers: int) -> None:  # type: ignore[no-untyped-def]
    """Serve the dashboard: overview, topics, sentiment, people, papers, hashtags and congresses, posts, review.

    The Review page needs RADPULSE_DASHBOARD_USER and RADPULSE_DASHBOARD_PASSWORD in the
    environment (HTTP basic sign-in); without them it is disabled.
    """
    app.db()  # fail early with a clear message when the database cannot be used
    host = host or app.settings.dashboard.host
    port = port or app.settings.dashboard.port
    check_port(host, port)
    from radpulse.dashboards.app import serve

    user, password = app.settings.secret("RADPULSE_DASHBOARD_USER"), app.settings.secret("RADPULSE_DASHBOARD_PASSWORD")
    if bool(user) != bool(password):
        raise InputError("Only one of RADPULSE_DASHBOARD_USER and RADPULSE_DASHBOARD_PASSWORD is set.",
                         hint="Set both to enable the Review page, or neither to leave it disabled.")
    serve(app.database_url, host=host, port=port, workers=workers,
          credentials=(user, password) if user and password else None)
