"""Review (sign-in required): privacy-flagged posts to confirm or dismiss, recorded with the reviewer."""

from __future__ import annotations

import dash
from dash import MATCH, Input, Output, State, dcc, html

from radpulse.dashboards import auth, registry
from radpulse.dashboards.components import empty_state, section

dash.register_page(__name__, path=auth.REVIEW_PATH, name="Review", title="radpulse: review", order=9, server_auth=True)


def _form(item) -> html.Div:  # type: ignore[no-untyped-def]
    pid = item.post_id
    return html.Div([
        html.Div([html.Span(item.platform, className="pill"), html.Span(item.created_at.strftime("%Y-%m-%d %H:%M UTC")),
                  html.Span("flags: " + ", ".join(item.flags))], className="post-meta"),
        html.P(item.text[:1500], className="post-text"),
        html.Div([
            dcc.Dropdown(id={"type": "r-flag", "post": pid}, options=item.pending or item.flags,
                         value=(item.pending or item.flags)[0], clearable=False, className="dropdown"),
            dcc.RadioItems(id={"type": "r-decision", "post": pid}, options=["dismissed", "confirmed"], value="dismissed",
                           inline=True),
            dcc.Input(id={"type": "r-reason", "post": pid}, placeholder="reason (required)", maxLength=500),
            html.Button("Record", id={"type": "r-submit", "post": pid}, className="record"),
            html.Span(id={"type": "r-result", "post": pid}, role="status"),
        ], className="controls"),
    ], className="post", **{"data-post-id": str(pid)})


def layout(**query):  # type: ignore[no-untyped-def]
    from radpulse.analysis.review import flagged_posts
    from radpulse.dashboards.app import context

    user = auth.reviewer()
    if user is None:
        return html.Div(empty_state("Sign-in required.", "Reviewing needs the credentials set in "
                                    "RADPULSE_DASHBOARD_USER and RADPULSE_DASHBOARD_PASSWORD: open /review directly "
                                    "(a full page load) to sign in."), id="review-refused")
    items = flagged_posts(context().db, limit=50)
    return html.Div([section(f"Flagged posts awaiting review (signed in as {user})",
                             *([_form(i) for i in items] or [empty_state("Nothing to review.", "No flag is undecided.")]))])


@registry.callback(Output({"type": "r-result", "post": MATCH}, "children"), Input({"type": "r-submit", "post": MATCH}, "n_clicks"),
                   State({"type": "r-flag", "post": MATCH}, "value"), State({"type": "r-decision", "post": MATCH}, "value"),
                   State({"type": "r-reason", "post": MATCH}, "value"), State({"type": "r-submit", "post": MATCH}, "id"),
                   prevent_initial_call=True)
def record_decision(clicks, flag, decision, reason, button):  # type: ignore[no-untyped-def]
    from radpulse.analysis.review import decide
    from radpulse.dashboards.app import context
    from radpulse.errors import RadpulseError

    user = auth.reviewer()
    if user is None:
        return "Refused: sign in first (open /review)."
    try:
        decide(context().db, int(button["post"]), str(flag), str(decision), str(reason or ""), reviewer=user)
    except (RadpulseError, ValueError, TypeError) as exc:
        return f"Not recorded: {exc}"
    return f"Recorded: {flag} {decision} by {user}."
