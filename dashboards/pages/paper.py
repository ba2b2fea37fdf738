"""A paper: its mention timeline, who mentioned it, and the posts."""

from __future__ import annotations

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
from radpulse.dashboards.pages._frame import render
from radpulse.dashboards.state import period_for
from radpulse.db.queries.posts import post_page

dash.register_page(__name__, path="/paper", name="Paper", title="radpulse: paper", nav=False)


def build(state, db):  # type: ignore[no-untyped-def]
    raw = state.drill.get("article")
    meta = data.article(db, int(raw)) if raw else None
    if meta is None:
        return [empty_state("No such paper.", "Open a paper from the Papers page.")]
    f = state.filters
    period = period_for(state.days)
    timeline = data.mentions_by(db, f, article_id=meta["id"], period=period)
    who = data.top_accounts(db, f, limit=20)
    rows = post_page(db, f, limit=25)
    doi = meta.get("doi")
    return [
        section(meta.get("title") or doi or "Untitled paper",
                html.P([html.Span(f"{meta.get('journal') or 'unknown journal'} · {meta.get('published_date') or ''} · "),
                        external_link(f"https://doi.org/{doi}" if doi else meta.get("url"), doi or "link")]), id_="paper-meta"),
        graph(figures.over_time(timeline, y="posts", title="Mentions over time", unit="mentions", period=period,
                                window=(state.start, state.end), fixed_colours=figures.PLATFORM_COLOURS,
                                empty_message="No public post mentioned this paper in the window."), "paper-timeline"),
        section("Who mentioned it", table(who, {"handle": "Account", "platform": "Platform", "author_type": "Type",
                                                "posts": "Posts", "engagement": "Engagement"})),
        section("Posts", post_list(rows) if rows else empty_state("No posts.", "No public post cites it in this window.")),
    ]


def layout(**query):  # type: ignore[no-untyped-def]
    return render(query, build)
