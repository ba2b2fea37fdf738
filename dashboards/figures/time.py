"""Figures over time: counts by group per period, shares per period; partial periods are marked."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from radpulse.dashboards.figures.style import colours_for, drill_data, empty, finish, safe_text

PERIOD_WORD = {"hour": "hour", "day": "day", "week": "week", "month": "month"}


def period_bounds(day: dt.date, period: str) -> tuple[dt.date, dt.date]:
    """The first day of the period holding `day` and the first day after it."""
    if period == "week":
        first = day - dt.timedelta(days=day.weekday())
        return first, first + dt.timedelta(days=7)
    if period == "month":
        first = day.replace(day=1)
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        return first, nxt
    return day, day + dt.timedelta(days=1)


def partial_periods(start: dt.date, end: dt.date, period: str) -> list[tuple[dt.date, int, int]]:
    """The first and last periods of [start, end] (inclusive) that the window covers only partly:
    (period start, days covered, days in the period)."""
    if period in ("day", "hour") or start > end:
        return []
    out = []
    for day in dict.fromkeys((start, end)):
        first, nxt = period_bounds(day, period)
        covered = (min(nxt - dt.timedelta(days=1), end) - max(first, start)).days + 1
        total = (nxt - first).days
        if covered < total:
            out.append((first, covered, total))
    return out


def over_time(frame: pd.DataFrame, *, y: str, title: str, unit: str, period: str, colour: str | None = "platform",
              window: tuple[dt.date, dt.date] | None = None, fixed_colours: dict[str, str] | None = None,
              empty_message: str = "No posts in this selection.") -> go.Figure:
    """`y` per period (lines with markers), one line per value of `colour`. Periods the window
    covers only partly are shaded and labelled, so a short last week never reads as a drop."""
    if frame.empty:
        return empty(title, empty_message)
    word = PERIOD_WORD.get(period, period)
    partial = {pd.Timestamp(first): (covered, total)
               for first, covered, total in (partial_periods(window[0], window[1], period) if window else [])}
    frame = frame.assign(_when=pd.to_datetime(frame["period"]))  # once, not per line
    frame = frame.assign(_partial=frame["_when"].isin(list(partial)))
    groups = [(None, frame)] if colour is None else list(frame.groupby(colour, sort=True))
    palette = colours_for([str(g) for g, _ in groups], fixed_colours)
    traces = []  # added at once: one add_trace per line re-validates the figure's whole data each time
    for name, part in groups:
        label = "all" if name is None else safe_text(name)
        colour_of = palette.get(str(name), "#0072B2")
        full = part[~part["_partial"]]
        traces.append(go.Scatter(_validate=False,
            x=full["period"], y=full[y], name=label, mode="lines+markers", legendgroup=label,
            line={"color": colour_of, "width": 2}, marker={"size": 6}, customdata=drill_data(full),
            hovertemplate=f"{label}<br>%{{x|%Y-%m-%d}}: %{{y:,.0f}} {unit}<extra></extra>"))
        for ts, (covered, total) in partial.items():
            point = part[part["_when"] == ts]
            if point.empty:
                continue
            # a partial period is drawn apart (dotted, hollow marker) from its full neighbour: never a drop
            neighbour = full.iloc[[0]] if ts <= part["_when"].min() and not full.empty else (
                full.iloc[[-1]] if not full.empty else full)
            joined = pd.concat([neighbour, point]).sort_values("period")
            traces.append(go.Scatter(_validate=False,
                x=joined["period"], y=joined[y], mode="lines+markers", legendgroup=label, showlegend=False,
                line={"color": colour_of, "width": 1.5, "dash": "dot"},
                marker={"size": 8, "symbol": "circle-open"}, customdata=drill_data(joined),
                hovertemplate=f"{label}<br>%{{x|%Y-%m-%d}}: %{{y:,.0f}} {unit} "
                              f"(partial {word}: {covered} of {total} days)<extra></extra>"))
    fig = go.Figure(data=traces, _validate=False)
    # each partial period shaded and labelled (what add_vrect draws, written at once: add_vrect
    # re-resolves the figure's axes for every shape)
    if partial:
        fig.update_layout(
            shapes=[{"fillcolor": "#999999", "opacity": 0.15, "type": "rect", "x0": ts,
                     "x1": ts + pd.Timedelta(days=total), "y0": 0, "y1": 1, "line": {"width": 0}, "xref": "x",
                     "yref": "y domain"} for ts, (_, total) in partial.items()],
            annotations=[{"showarrow": False, "text": f"partial {word}: {covered} of {total} days", "x": ts,
                          "xanchor": "left", "y": 1, "yanchor": "top", "yref": "y domain", "font": {"size": 11},
                          "xref": "x"} for ts, (covered, total) in partial.items()])
    return finish(fig, title, None, f"{unit} per {word}")


def share_over_time(frame: pd.DataFrame, *, by: str, title: str, period: str, value: str = "posts",
                    fixed_colours: dict[str, str] | None = None, empty_message: str = "No posts in this selection.",
                    top: int = 8) -> go.Figure:
    """Each value of `by` as a share (%) of `value` per period, stacked to 100%; the smaller
    values beyond `top` are summed as "other"."""
    if frame.empty:
        return empty(title, empty_message)
    keep = frame.groupby(by)[value].sum().nlargest(top).index
    df = frame.assign(**{by: frame[by].where(frame[by].isin(keep), "other")})
    df = df.groupby(["period", by], as_index=False)[value].sum()
    df["share"] = 100 * df[value] / df.groupby("period")[value].transform("sum")
    word = PERIOD_WORD.get(period, period)
    order = [*sorted(keep), "other"] if (df[by] == "other").any() else sorted(keep)
    palette = colours_for(order, fixed_colours)
    parts = dict(list(df.groupby(by, sort=False)))
    traces = []
    for name in order:
        part = parts[name]
        label = safe_text(name)
        traces.append(go.Scatter(_validate=False,
            x=part["period"], y=part["share"], name=label, mode="lines", stackgroup="one",
            line={"color": palette[name], "width": 0.5}, customdata=part[value],
            hovertemplate=f"{label}<br>%{{x|%Y-%m-%d}}: %{{y:.1f}}% (%{{customdata:,}} {value})<extra></extra>"))
    fig = go.Figure(data=traces, _validate=False)
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    return finish(fig, title, None, f"share of {value} per {word} (%)")
