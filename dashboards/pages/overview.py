"""Overview: posts, accounts and engagement over time by platform, with the headline numbers."""

from __future__ import annotations

import dash
from dash import html

from radpulse.dashboards import data, figures
from radpulse.dashboards.components import empty_state, graph, kpi
from radpulse.dashboards.pages._frame import drill_column, render
from radpulse.dashboards.state import period_for

dash.register_page(__name__, path="/", name="Overview", title="radpulse: overview", order=0)


def build(state, db):  # type: ignore[no-untyped-def]
    f = state.filters
    now, before = data.totals(db, f), data.totals(db, state.previous())
    kpis = html.Div([kpi("Posts", now["posts"], before["posts"], "kpi-posts"),
                     kpi("Accounts", now["accounts"], before["accounts"], "kpi-accounts"),
                     kpi("Engagement", now["engagement"], before["engagement"], "kpi-engagement")], className="kpis")
    if now["posts"] == 0:
        return [kpis, empty_state("No posts in this window.", f"Nothing public was posted from {state.start} to "
                                  f"{state.end} with these filters: widen the dates or clear a filter.")]
    period = period_for(state.days)
    window = (state.start, state.end)
    volume = drill_column(data.volume_by(db, f, period=period, dims=("platform",)), state, period=period,
                          keys={"platform": "platform"})
    accounts = drill_column(data.accounts_by(db, f, period=period, dims=("platform",)), state, period=period,
                            keys={"platform": "platform"})
    tags = data.hashtags(db, f, limit=15)
    tags = tags.assign(drill=["hashtag=" + t for t in tags["hashtag"]])
    fixed = figures.PLATFORM_COLOURS
    return [
        kpis,
        graph(figures.over_time(volume, y="posts", title="Posts by platform", unit="posts", period=period,
                                window=window, fixed_colours=fixed), "overview-posts", drill=True),
        html.Div([
            graph(figures.over_time(accounts, y="accounts", title="Active accounts by platform", unit="accounts",
                                    period=period, window=window, fixed_colours=fixed), "overview-accounts", drill=True),
            graph(figures.over_time(volume, y="engagement", title="Engagement by platform", unit="interactions",
                                    period=period, window=window, fixed_colours=fixed), "overview-engagement", drill=True),
        ], className="row"),
        graph(figures.hashtag_figure(tags), "overview-hashtags", drill=True),
    ]


def layout(**query):  # type: ignore[no-untyped-def]
    return render(query, build)
