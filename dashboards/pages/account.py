"""An account: its profile, activity, topics, most engaged posts and who it interacts with."""

from __future__ import annotations

import dataclasses

import dash
from dash import html

from radpulse.dashboards import data, figures
from radpulse.dashboards.components import (
    empty_state,
    external_link,
    graph,
    post_list,
    section,
    table,
)
from radpulse.dashboards.pages._frame import drill_column, render
from radpulse.dashboards.state import period_for
from radpulse.db.queries import network

dash.register_page(__name__, path="/account", name="Account", title="radpulse: account", nav=False)


def interactions(db, platform: str, author_id: str, f):  # type: ignore[no-untyped-def]
    frame = network.account_interactions(db, platform, author_id, f, limit=20)
    if frame is None or frame.empty:
        return empty_state("No interactions.", "This account has no replies, mentions, reposts or quotes with others.")
    return table(frame.head(20), {c: c.replace("_", " ") for c in frame.columns})


def build(state, db):  # type: ignore[no-untyped-def]
    key = state.drill.get("account")
    if not key:
        return [empty_state("No account chosen.", "Open an account from the People page.")]
    platform, _, author_id = key.partition(":")
    profile = data.account(db, platform, author_id)
    # the account is passed to each reader; other drill-down clauses (a hashtag, a paper) stay
    f = state.filters if set(state.drill) - {"account"} else dataclasses.replace(state.filters, extra=())
    header = section(
        (profile or {}).get("display_name") or (profile or {}).get("handle") or author_id,
        html.P([html.Span(f"{platform} · "), html.Span((profile or {}).get("handle") or author_id), html.Span(" · "),
                html.Span(f"{(profile or {}).get('followers') or 0:,} followers · type: "
                          f"{(profile or {}).get('author_type') or 'unknown'} · "),
                external_link((profile or {}).get("url"), "profile")]),
        html.P((profile or {}).get("bio") or "", className="post-text"), id_="account-profile")
    period = period_for(state.days)
    activity = drill_column(data.account_volume(db, f, platform, author_id, period=period, dims=("platform",)), state,
                            period=period)
    topics = (data.account_volume(db, f, platform, author_id, period="month", dims=("subspecialty",))
              .groupby("subspecialty", as_index=False)["posts"].sum())
    topics = drill_column(topics.sort_values("posts", ascending=False), state, keys={"subspecialty": "subspecialty"})
    rows = data.account_top_posts(db, f, platform, author_id, limit=10)
    return [
        header,
        html.Div([
            graph(figures.over_time(activity, y="posts", title="Activity", unit="posts", period=period,
                                    window=(state.start, state.end), fixed_colours=figures.PLATFORM_COLOURS),
                  "account-activity", drill=True),
            graph(figures.ranked_bars(topics, label="subspecialty", value="posts", title="Topics", unit="posts"),
                  "account-topics", drill=True),
        ], className="row"),
        section("Most engaged posts", post_list(rows) if rows else empty_state("No public posts.", "None in this window.")),
        section("Who they interact with", interactions(db, platform, author_id, dataclasses.replace(f, extra=()))),
    ]


def layout(**query):  # type: ignore[no-untyped-def]
    return render(query, build)
