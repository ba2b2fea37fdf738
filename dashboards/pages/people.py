"""People: top accounts by engagement and by influence on the conversation network; author-type mix.

Influence comes from radpulse/db/queries/network.py (PageRank on the window's reply / mention /
repost / quote edges, cached per window). It is computed by its own callback once the page is
shown, so the rest of the page never waits for the ranking of a long window.
"""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, dcc, html
from dash.exceptions import PreventUpdate

from radpulse.dashboards import data, figures, registry
from radpulse.dashboards.components import empty_state, graph, section, table
from radpulse.dashboards.pages._frame import drill_column, render
from radpulse.dashboards.state import with_params
from radpulse.db.queries import network

dash.register_page(__name__, path="/people", name="People", title="radpulse: people", order=3)


def account_link(row: dict, params: dict[str, str]) -> dcc.Link:
    key = row.get("account") or f"{row['platform']}:{row['author_id']}"
    name = row.get("handle") or row.get("display_name") or key.partition(":")[2]
    return dcc.Link(str(name), href="/account" + with_params(params, account=key))


def influence(db, f, limit: int = 20) -> tuple[pd.DataFrame | None, str]:  # type: ignore[no-untyped-def]
    """PageRank per account from the network module, or (None, why not)."""
    frame = network.influence(db, f, limit=limit)
    if frame is None or frame.empty:
        return None, "No replies, mentions, reposts or quotes link accounts in this window."
    return frame, ""


def influence_part(state, db):  # type: ignore[no-untyped-def]
    """The influence table of a view, or why there is none."""
    ranked, why = influence(db, state.filters)
    if ranked is None:
        return empty_state("No influence ranking.", why)
    ranked = ranked.assign(pagerank=(ranked["pagerank"] * 1000).round(2))
    return table(ranked.head(20), {"handle": "Account", "platform": "Platform", "pagerank": "PageRank (per mille)",
                                   "interactions_in": "Interactions in", "posts": "Posts"},
                 links={"handle": lambda r: account_link(r, state.params)}, id_="influence")


def build(state, db):  # type: ignore[no-untyped-def]
    f = state.filters
    params = state.params
    top = data.top_accounts(db, f, limit=20)
    if top.empty:
        return [empty_state("No accounts in this window.", "Nothing public was posted with these filters.")]
    mix = drill_column(data.author_type_mix(db, f), state, keys={"author_type": "author_type"})
    return [
        html.Div([
            section("Top accounts by engagement",
                    table(top, {"handle": "Account", "platform": "Platform", "author_type": "Type", "posts": "Posts",
                                "engagement": "Engagement"}, links={"handle": lambda r: account_link(r, params)},
                          id_="top-accounts")),
            section("Top accounts by influence on the conversation network",
                    dcc.Loading(html.Div(html.P("Ranking the accounts of this window…"), id="people-influence"),
                                type="dot")),
        ], className="row"),
        dcc.Store(id="people-influence-view", data=dict(params)),
        graph(figures.ranked_bars(mix, label="author_type", value="posts", title="Who is talking: posts by author type",
                                  unit="posts", hover={"accounts": "accounts (busiest month)"}), "people-types", drill=True),
    ]


@registry.callback(Output("people-influence", "children"), Input("people-influence-view", "data"))
def influence_table(params):  # type: ignore[no-untyped-def]
    """The influence table for the view the page was built for (its URL parameters, parsed again)."""
    from radpulse.dashboards.app import context, view

    if not isinstance(params, dict):
        raise PreventUpdate
    state = view({str(k): v for k, v in params.items() if isinstance(v, str)})
    if state.problems:
        raise PreventUpdate
    return influence_part(state, context().db)


def layout(**query):  # type: ignore[no-untyped-def]
    return render(query, build)
