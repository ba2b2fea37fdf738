"""Pieces every page shares: the filter bar, headline numbers, post lists, tables, empty states, links.

All text from the database reaches Dash as plain strings, which React renders as text (never as
HTML). A URL becomes a link only when `safe_http_url` accepts it (http/https), and then with
rel="noopener nofollow"; anything else is shown as text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from dash import dcc, html

from radpulse.dashboards.state import LIST_KEYS, NONE, ViewState, with_params
from radpulse.safeurl import safe_http_url

LABELS = {"platform": "Platform", "source": "Source", "subspecialty": "Subspecialty", "theme": "Theme",
          "language": "Language", "author_type": "Author type"}
MAX_TEXT = 400


def external_link(url: object, label: str) -> html.A | html.Span:
    """A link to `url` only when it is http(s), opened without access to this page; else plain text."""
    safe = safe_http_url(url)
    if safe is None:
        return html.Span(label, className="nolink")
    return html.A(label, href=safe, target="_blank", rel="noopener nofollow noreferrer")


def internal_link(label: str, path: str, params: dict[str, str], **changes: str | None) -> dcc.Link:
    return dcc.Link(label, href=path + with_params(params, **changes))


def filter_bar(state: ViewState, options: dict[str, tuple[str, ...]], bounds: tuple[dt.date, dt.date] | None,
               *, show: Sequence[str] = LIST_KEYS) -> html.Div:
    """The global filters, set from the URL (the ids are the same on every page)."""
    lo, hi = bounds or (state.start, state.end)
    platforms = state.filters.platforms or (() if state.no_platform else options.get("platform", ()))
    items: list[Any] = [
        html.Div([html.Label("Dates", htmlFor="f-dates"),
                  dcc.DatePickerRange(id="f-dates", start_date=state.start, end_date=state.end,
                                      min_date_allowed=min(lo, state.start), max_date_allowed=max(hi, state.end),
                                      display_format="YYYY-MM-DD", minimum_nights=0, clearable=False)],
                 className="filter"),
        html.Div([html.Label("Platform"),
                  dcc.Checklist(id="f-platform", options=[{"label": p, "value": p} for p in options.get("platform", ())],
                                value=list(platforms), inline=True)], className="filter"),
    ]
    for key in LIST_KEYS[1:]:
        values = getattr(state.filters, {"source": "sources", "subspecialty": "subspecialties", "theme": "themes",
                                         "language": "languages", "author_type": "author_types"}[key])
        items.append(html.Div([html.Label(LABELS[key]),
                               dcc.Dropdown(id=f"f-{key}", options=[{"label": v, "value": v} for v in options.get(key, ())],
                                            value=list(values), multi=True, placeholder="all", className="dropdown")],
                              className="filter" + ("" if key in show else " hidden")))
    items.append(html.Div(id="f-message", className="filter-message", role="status"))
    return html.Div(items, className="controls", id="filters")


def problems_box(state: ViewState) -> html.Div | None:
    """The explained empty state for a URL that asks for something impossible."""
    if state.problems:
        return html.Div([html.Strong("Nothing to show: "), *[html.P(p) for p in state.problems]],
                        className="empty problems", id="problems")
    if state.no_platform:
        return html.Div([html.Strong("No platform chosen: "), "tick at least one platform above to see posts."],
                        className="empty problems", id="problems")
    return None


def empty_state(what: str, why: str) -> html.Div:
    return html.Div([html.Strong(what + " "), why], className="empty")


def kpi(label: str, value: int, previous: int | None, id_: str) -> html.Div:
    """A headline number with its change against the previous period of the same length."""
    if previous is None:
        change = ""
    elif previous == 0:
        change = "new (none in the previous period)" if value else "none in either period"
    else:
        pct = 100 * (value - previous) / previous
        change = f"{pct:+.0f}% vs previous period ({previous:,})"
    return html.Div([html.Div(label, className="kpi-label"), html.Div(f"{value:,}", id=id_, className="kpi-value"),
                     html.Div(change, className="kpi-change")], className="kpi")


def table(frame: pd.DataFrame, columns: dict[str, str], *, links: dict[str, Any] | None = None,
          id_: str | None = None) -> html.Table:
    """A plain table (cell text rendered as text); `links` maps a column to a function row -> component."""
    head = html.Thead(html.Tr([html.Th(label) for label in columns.values()]))
    rows = []
    for row in frame.to_dict("records"):
        cells = []
        for col in columns:
            if links and col in links:
                cells.append(html.Td(links[col](row)))
            else:
                value = row.get(col)
                cells.append(html.Td(_cell(value)))
        rows.append(html.Tr(cells))
    return html.Table([head, html.Tbody(rows)], className="data", **({"id": id_} if id_ else {}))


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)[:MAX_TEXT]


def post_list(rows: Sequence[Any], *, id_: str = "post-list") -> html.Div:
    """Posts as cards: platform, time, text (as text), engagement, and a link to the original."""
    cards = []
    for r in rows:
        body = "\n".join(t for t in (getattr(r, "title", None), getattr(r, "text", None)) if t) or "(no text)"
        if len(body) > 1000:
            body = body[:1000] + "…"
        when = r.created_at.strftime("%Y-%m-%d %H:%M UTC") if getattr(r, "created_at", None) else ""
        cards.append(html.Div([
            html.Div([html.Span(r.platform, className=f"pill p-{r.platform}"), html.Span(when, className="when"),
                      html.Span(f"{int(r.engagement or 0):,} engagement", className="eng")], className="post-meta"),
            html.P(body, className="post-text"),
            external_link(getattr(r, "url", None), "open the original"),
        ], className="post", **{"data-post-id": str(r.id)}))
    return html.Div(cards, id=id_, className="posts")


def section(title: str, *children: Any, id_: str | None = None) -> html.Section:
    return html.Section([html.H2(title), *children], className="card", **({"id": id_} if id_ else {}))


def graph(figure: Any, id_: str, *, drill: bool = False) -> dcc.Graph:
    """A figure; `drill` graphs open the Posts page for the clicked point (see app.py)."""
    gid: Any = {"type": "drill", "name": id_} if drill else id_
    return dcc.Graph(id=gid, figure=figure, config={"displaylogo": False, "responsive": True},
                     className="graph" + (" drill" if drill else ""))


def platform_value(values: Any) -> str | None:
    """The URL value of the platform checklist: None (all), 'none' (nothing ticked) or a list."""
    if not isinstance(values, list):
        return None
    chosen = [v for v in values if isinstance(v, str)]
    return ",".join(chosen) if chosen else NONE
