"""What every page does around its content: the filter bar, the explained empty states, drill links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
from dash import html

from radpulse.dashboards.components import empty_state, filter_bar, problems_box
from radpulse.dashboards.figures.time import period_bounds
from radpulse.dashboards.state import LIST_KEYS, ViewState, to_query
from radpulse.db.engine import Database


def render(query: dict[str, Any], build: Callable[[ViewState, Database], list[Any]], *,
           show: Sequence[str] = LIST_KEYS) -> html.Div:
    """The page for `query`: the filter bar, then `build(state, db)` or why there is nothing to show."""
    from radpulse.dashboards.app import context, view

    state = view(query)
    c = context()
    bar = filter_bar(state, c.options, c.bounds, show=show)
    problem = problems_box(state)
    if problem is not None:
        return html.Div([bar, problem])
    if c.bounds is None:
        return html.Div([bar, empty_state("No posts yet.", "The database holds no posts: collect some with "
                                                            "`radpulse collect`, or try `radpulse demo`.")])
    return html.Div([bar, *build(state, c.db)])


def drill_column(frame: pd.DataFrame, state: ViewState, *, period: str | None = None,
                 keys: dict[str, str] | None = None) -> pd.DataFrame:
    """`frame` with a `drill` column: the query fragment that selects each row's posts (its period,
    clipped to the window, and its values of `keys`: URL key -> frame column)."""
    if frame.empty:
        return frame.assign(drill=pd.Series(dtype=str))
    out = []
    for row in frame.to_dict("records"):
        params: dict[str, str] = {}
        if period is not None and period != "hour":
            first, nxt = period_bounds(pd.Timestamp(row["period"]).date(), period)
            params["from"] = max(first, state.start).isoformat()
            params["to"] = min(nxt - dt.timedelta(days=1), state.end).isoformat()
        for key, col in (keys or {}).items():
            value = str(row[col])
            if value not in ("not annotated", "no theme", "unknown", "no source", "other"):
                params[key] = value
        out.append(to_query(params))
    return frame.assign(drill=out)


def not_annotated(count: int) -> html.Div | None:
    if count == 0:
        return empty_state("Nothing annotated yet.", "No post of this selection has been through the analysis: "
                                                     "run `radpulse analyze`, then reload.")
    return None
