"""Posts: the public posts behind any chart (the filters and the clicked facets carry over), paged."""

from __future__ import annotations

import dash
from dash import dcc, html

from radpulse.dashboards import data
from radpulse.dashboards.components import empty_state, post_list, section
from radpulse.dashboards.pages._frame import render
from radpulse.dashboards.state import DRILL_KEYS, with_params

dash.register_page(__name__, path="/posts", name="Posts", title="radpulse: posts", order=6)
PAGE_SIZE = 25
MAX_PAGE = 400


def build(state, db):  # type: ignore[no-untyped-def]
    p = state.params
    page = int(p["page"]) if p.get("page", "").isdigit() and int(p["page"]) < MAX_PAGE else 0
    order = "newest" if p.get("order") == "newest" else "engagement"
    rows = data.drill_posts(db, state.filters, state.drill | {k: p[k] for k in DRILL_KEYS if p.get(k)}, order=order,
                            limit=PAGE_SIZE + 1, offset=page * PAGE_SIZE)
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    chips = [html.Span([f"{k}: {p[k]} ", dcc.Link("×", href="/posts" + with_params(p, **{k: None, "page": None}),
                                                  title=f"remove the {k} filter")], className="chip")
             for k in DRILL_KEYS if p.get(k)]
    pager = html.Div([
        dcc.Link("← previous", href="/posts" + with_params(p, page=str(page - 1) if page > 1 else None)) if page else None,
        html.Span(f"page {page + 1}", id="posts-page"),
        dcc.Link("next →", href="/posts" + with_params(p, page=str(page + 1))) if more else None,
        html.Span(" · order: "),
        dcc.Link("most engaged", href="/posts" + with_params(p, order=None, page=None)),
        html.Span(" | "),
        dcc.Link("newest", href="/posts" + with_params(p, order="newest", page=None)),
    ], className="pager")
    body = post_list(rows) if rows else empty_state("No posts.", "No public post matches these filters "
                                                    "(posts held for privacy review are never shown).")
    return [section("Posts", html.Div(chips, className="chips", id="posts-chips"), pager, body)]


def layout(**query):  # type: ignore[no-untyped-def]
    return render(query, build)
