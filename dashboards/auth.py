"""Who may review: HTTP basic authentication on /review, then a signed session cookie.

Credentials come from the environment through the settings' secret mechanism
(RADPULSE_DASHBOARD_USER and RADPULSE_DASHBOARD_PASSWORD). Without them the Review page is
disabled. Opening /review asks the browser for the user and password (401 + WWW-Authenticate);
once given, the signed Flask session names the reviewer, and the Review page's layout and its
decision callback check it on every request (so a client-side navigation or a hand-made
callback request without it changes nothing).
"""

from __future__ import annotations

import hmac
from typing import Any

import flask

REVIEW_PATH = "/review"
REALM = 'Basic realm="radpulse review", charset="UTF-8"'


def _credentials() -> tuple[str, str] | None:
    return flask.current_app.config["radpulse"].credentials


def _valid(user: str | None, password: str | None) -> bool:
    creds = _credentials()
    if not creds or user is None or password is None:
        return False
    ok_user = hmac.compare_digest(user.encode(), creds[0].encode())
    ok_password = hmac.compare_digest(password.encode(), creds[1].encode())
    return ok_user and ok_password


def reviewer() -> str | None:
    """The signed-in reviewer of this request, or None."""
    creds = _credentials()
    if not creds:
        return None
    auth = flask.request.authorization
    if auth is not None and _valid(auth.username, auth.password):
        return auth.username
    name = flask.session.get("reviewer")
    return name if name == creds[0] else None


def protect(app: Any) -> None:
    """Ask for credentials when /review is opened; refuse when review is not configured."""

    @app.server.before_request
    def require_review_credentials() -> flask.Response | None:
        if flask.request.path.rstrip("/") != REVIEW_PATH:
            return None
        if not _credentials():
            return flask.Response(
                "Review is disabled: set RADPULSE_DASHBOARD_USER and RADPULSE_DASHBOARD_PASSWORD in the "
                "environment of the dashboard process, then restart it.", status=403, mimetype="text/plain")
        auth = flask.request.authorization
        if auth is None or not _valid(auth.username, auth.password):
            return flask.Response("Sign-in required to review flagged posts.", status=401, mimetype="text/plain",
                                  headers={"WWW-Authenticate": REALM})
        flask.session["reviewer"] = auth.username
        return None
