"""Hashtags and congresses: compare up to five hashtags; a meeting's before / during / after.

URL keys of this page: `tags` (comma-separated, at most five), `congress` (a hashtag) with
`cfrom` and `cto` (the meeting's first and last day).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from radpulse.dashboards import data, figures, registry
from radpulse.dashboards.components import empty_state, graph, section, table
from radpulse.dashboards.pages._frame import drill_column, render
from radpulse.dashboards.state import _drill_clauses, as_dict, period_for, with_params

dash.register_page(__name__, path="/hashtags", name="Hashtags & congresses", title="radpulse: hashtags", order=5)
MAX_TAGS = 5


def _tags(raw: str) -> list[str]:
    return [t.strip().lstrip("#").lower() for t in raw.split(",") if t.strip()][:MAX_TAGS]


def compare(state, db):  # type: ignore[no-untyped-def]
    f = state.filters
    choices = data.hashtag_names(db, f, limit=30)
    tags = _tags(state.params.get("tags", "")) or choices[:MAX_TAGS]
    picker = dcc.Dropdown(id="h-tags", options=[{"label": "#" + t, "value": t} for t in dict.fromkeys([*tags, *choices])],
                          value=tags, multi=True, placeholder="compare up to five hashtags", className="dropdown")
    if not tags:
        return [section("Compare hashtags", picker, empty_state("No hashtags.", "No public post of this window carries one."))]
    period = period_for(state.days)
    over, totals = data.hashtag_comparison(db, f, tags, period)
    over = drill_column(over, state, period=period, keys={"hashtag": "hashtag"})
    totals = totals.assign(share=100 * totals["posts"] / max(1, int(totals["posts"].sum())),
                           drill=["hashtag=" + t for t in totals["hashtag"]])
    return [section("Compare hashtags", picker,
                    graph(figures.over_time(over, y="posts", colour="hashtag", title="Posts per hashtag", unit="posts",
                                            period=period, window=(state.start, state.end)), "hashtags-volume", drill=True),
                    html.Div([
                        graph(figures.ranked_bars(totals.assign(label="#" + totals["hashtag"]), label="label", value="accounts",
                                                  title="Accounts per hashtag", unit="accounts", hover={"posts": "posts"}),
                              "hashtags-accounts", drill=True),
                        graph(figures.share_over_time(over, by="hashtag", title="Share of voice (posts among the compared hashtags)",
                                                      period=period), "hashtags-share"),
                    ], className="row"))]


def congress(state, db):  # type: ignore[no-untyped-def]
    p = state.params
    tag = p.get("congress", "").lstrip("#").lower()
    try:
        first = dt.date.fromisoformat(p.get("cfrom", "")[:10]) if p.get("cfrom") else None
        last = dt.date.fromisoformat(p.get("cto", "")[:10]) if p.get("cto") else None
    except ValueError:
        first = last = None
    form = html.Div([
        html.Label("Meeting hashtag"), dcc.Input(id="c-tag", value=tag, placeholder="e.g. rsna2026", debounce=True),
        html.Label("Meeting days"),
        dcc.DatePickerRange(id="c-dates", start_date=first, end_date=last, display_format="YYYY-MM-DD", minimum_nights=0),
    ], className="controls")
    if not tag or first is None or last is None or first > last:
        why = ("Enter a hashtag and the meeting's first and last day (the start on or before the end)."
               if not (first and last and first > last) else f"The meeting's start {first} is after its end {last}.")
        return [section("Congress", form, empty_state("No meeting chosen.", why))]
    problems: list[str] = []
    clause = _drill_clauses({"hashtag": tag}, problems)
    if problems:
        return [section("Congress", form, empty_state("Hashtag not understood.", problems[0]))]
    days = (last - first).days + 1
    at = lambda d: dt.datetime.combine(d, dt.time(), tzinfo=dt.timezone.utc)  # noqa: E731
    base = dataclasses.replace(state.filters, extra=clause)
    rows = []
    windows = {"before": (first - dt.timedelta(days=days), first), "during": (first, last + dt.timedelta(days=1)),
               "after": (last + dt.timedelta(days=1), last + dt.timedelta(days=days + 1))}
    for phase, (a, b) in windows.items():
        t = data.hashtag_totals(db, dataclasses.replace(state.filters, start=at(a), end=at(b)), tag)
        rows.append({"phase": f"{phase} ({a} to {b - dt.timedelta(days=1)})", "posts": t["posts"],
                     "accounts": t["accounts"], "posts_per_day": t["posts"] / days, "accounts_per_day": t["accounts"] / days})
    phases = pd.DataFrame(rows)
    during = dataclasses.replace(base, start=at(first), end=at(last + dt.timedelta(days=1)))
    hourly = data.volume_by(db, during, period="hour", dims=("platform",))
    accounts = data.top_accounts(db, during, limit=10)
    papers = data.top_articles_of(db, during, limit=10)
    return [section(f"Congress: #{tag}, {first} to {last}", form,
                    graph(figures.phases_figure(phases, title=f"#{tag}: before, during and after"), "congress-phases"),
                    graph(figures.over_time(hourly, y="posts", title=f"#{tag} per hour during the meeting (UTC)",
                                            unit="posts", period="hour", fixed_colours=figures.PLATFORM_COLOURS,
                                            empty_message="No post carried this hashtag during the meeting."),
                          "congress-hourly"),
                    html.Div([
                        html.Div([html.H3("Top accounts of the meeting"),
                                  table(accounts, {"handle": "Account", "platform": "Platform", "posts": "Posts",
                                                   "engagement": "Engagement"})]),
                        html.Div([html.H3("Top papers of the meeting"),
                                  table(papers, {"title": "Paper", "journal": "Journal", "posts": "Posts"})]),
                    ], className="row"))]


def build(state, db):  # type: ignore[no-untyped-def]
    return [*compare(state, db), *congress(state, db)]


def layout(**query):  # type: ignore[no-untyped-def]
    return render(query, build, show=("platform",))


@registry.callback(Output("url", "search", allow_duplicate=True), Input("h-tags", "value"), Input("c-tag", "value"),
                   Input("c-dates", "start_date"), Input("c-dates", "end_date"), State("url", "search"),
                   prevent_initial_call=True)
def hashtag_inputs_to_url(tags, tag, start, end, search):  # type: ignore[no-untyped-def]
    params = as_dict(search if isinstance(search, str) else "")
    chosen = [t for t in (tags or []) if isinstance(t, str)][:MAX_TAGS] if isinstance(tags, list) else []
    new = with_params(params, tags=",".join(chosen) or None,
                      congress=str(tag).strip().lstrip("#")[:100] if tag else None,
                      cfrom=str(start)[:10] if start else None, cto=str(end)[:10] if end else None)
    if new == (search or ""):
        raise PreventUpdate
    return new
