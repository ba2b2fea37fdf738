"""Papers: most-discussed articles by attention score with the breakdown by platform; new articles by journal."""

from __future__ import annotations

import dash
from dash import dcc, html

from radpulse.dashboards import data, figures
from radpulse.dashboards.components import empty_state, graph, section, table
from radpulse.dashboards.pages._frame import render
from radpulse.dashboards.state import with_params

dash.register_page(__name__, path="/papers", name="Papers", title="radpulse: papers", order=4)


def build(state, db):  # type: ignore[no-untyped-def]
    f = state.filters
    top = data.article_attention(db, f, limit=20)
    params = state.params
    link = lambda r: dcc.Link(str(r["title"] or r["doi"] or r["key"])[:140],  # noqa: E731
                              href="/paper" + with_params(params, article=str(r["article_id"])))
    new = data.new_articles(db, f).assign(drill="")
    return [
        graph(figures.platform_breakdown(top), "papers-attention"),
        section("Most-discussed papers (attention score; mentions beside it)",
                table(top, {"title": "Paper", "journal": "Journal", "score": "Attention", "mentions": "Mentions",
                            "unique_authors": "Accounts"}, links={"title": link}, id_="papers-table")
                if not top.empty else empty_state("No paper discussed.", "No public post of this window cites a paper.")),
        html.Div(graph(figures.ranked_bars(new, label="journal", value="articles", title="New articles by journal",
                                           unit="articles", empty_message="No new article was published or found in this window."),
                       "papers-new")),
    ]


def layout(**query):  # type: ignore[no-untyped-def]
    return render(query, build, show=("platform",))
