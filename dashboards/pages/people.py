"""People: top accounts by engagement and by influence on the conversation network; author-type mix.

Influence comes from radpulse/db/queries/network.py (PageRank on the window's reply / mention /
repost / quote edges, cached per window). Until that module is installed the table explains why
it is empty.
"""

from __future__ import annotations

import dash
import pandas as pd
from dash import dcc, html

from radpulse.dashboards import data, figures
from radpulse.dashboards.components import empty_state, graph, section, table
from radpulse.dashboards.pages._frame import drill_column, render
from radpulse.dashboards.state import with_params

dash.register_page(__name__, path="/people", name="People", title="radpulse: people", order=3)


def account_link(row: dict, params: dict[str, str]) -> dcc.Link:
    key = row.get("account") or f"{row['platform']}:{row['author_id']}"
    name = row.get("handle") or row.get("display_name") or key.partition(":")[2]
    return dcc.Link(str(name), href="/account" + with_params(params, account=key))


def influence(db, f, limit: int = 20) -> tuple[pd.DataFrame | None, str]:  # type: ignore[no-untyped-def]
    """PageRank per account from the network module, or (None, why not)."""
    try:
        from radpulse.db.queries import network  # type: ignore[attr-defined]
    except ImportError:
        return None, ("The influence ranking needs the conversation network (radpulse/db/queries/network.py), "
                      "which is not installed in this version.")
    frame = network.influence(db, f, limit=limit)
    if frame is None or frame.empty:
        return None, "No replies, mentions, reposts or quotes link accounts in this window."
    return frame, ""


def build(state, db):  # type: ignore[no-untyped-def]
    f = state.filters
    params = state.params
    top = data.top_accounts(db, f, limit=20)
    if top.empty:
        return [empty_state("No accounts in this window.", "Nothing public was posted with these filters.")]
    ranked, why = influence(db, f)
    if ranked is not None:
        score = next((c for c in ("pagerank", "influence", "score") if c in ranked.columns), ranked.columns[-1])
        ranked = ranked.assign(**{score: (ranked[score] * 1000).round(2)})
        influence_part = table(ranked.head(20), {"handle": "Account", "platform": "Platform",
                                                 score: "PageRank (per mille)", "interactions_in": "Interactions in",
                                                 "posts": "Posts"},
                               links={"handle": lambda r: account_link(r, params)}, id_="influence")
    else:
        influence_part = empty_state("No influence ranking.", why)
    mix = data.volume_by(db, f, period="month", dims=("author_type",)).groupby("author_type", as_index=False)["posts"].sum()
    accounts = data.accounts_by(db, f, period="month", dims=("author_type",)).groupby("author_type", as_index=False)["accounts"].max()
    mix = mix.merge(accounts, on="author_type", how="left").sort_values("posts", ascending=False)
    mix = drill_column(mix, state, keys={"author_type": "author_type"})
    return [
        html.Div([
            section("Top accounts by engagement",
                    table(top, {"handle": "Account", "platform": "Platform", "author_type": "Type", "posts": "Posts",
                                "engagement": "Engagement"}, links={"handle": lambda r: account_link(r, params)},
                          id_="top-accounts")),
            section("Top accounts by influence on the conversation network", influence_part),
        ], className="row"),
        graph(figures.ranked_bars(mix, label="author_type", value="posts", title="Who is talking: posts by author type",
                                  unit="posts", hover={"accounts": "accounts (busiest month)"}), "people-types", drill=True),
    ]


def layout(**query):  # type: ignore[no-untyped-def]
    return render(query, build)
