"""Ranked and grouped bars: hashtags, accounts, papers by platform, shares by label, phases of a meeting."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from radpulse.dashboards.figures.style import (
    PLATFORM_COLOURS,
    SENTIMENT_COLOURS,
    colours_for,
    drill_data,
    empty,
    finish,
    safe_labels,
    safe_text,
)


def ranked_bars(frame: pd.DataFrame, *, label: str, value: str, title: str, unit: str,
                hover: dict[str, str] | None = None, colour: str = "#0072B2",
                empty_message: str = "No posts in this selection.") -> go.Figure:
    """Horizontal bars, largest on top; `hover` maps extra columns to their words."""
    if frame.empty:
        return empty(title, empty_message)
    df = frame.iloc[::-1]
    extra = "".join(f"<br>%{{customdata[{i + 1}]:,.0f}} {word}" for i, word in enumerate((hover or {}).values()))
    custom = list(zip(drill_data(df) or [""] * len(df), *(df[c] for c in (hover or {}))))
    fig = go.Figure(_validate=False, data=go.Bar(_validate=False, 
        x=df[value], y=safe_labels(df[label]), orientation="h", marker_color=colour, customdata=custom,
        hovertemplate=f"%{{y}}: %{{x:,.0f}} {unit}{extra}<extra></extra>"))
    return finish(fig, title, unit, None, height=max(320, 28 * len(df) + 110), legend=False)


def hashtag_figure(tags: pd.DataFrame) -> go.Figure:
    """Top hashtags by posts, with distinct accounts in the hover (`tag` or `hashtag` column)."""
    name = "hashtag" if "hashtag" in tags.columns else "tag"
    df = tags.assign(label="#" + tags[name].astype(str).str.lstrip("#"))
    other = "accounts" if "accounts" in df.columns else "authors"
    return ranked_bars(df, label="label", value="posts", title="Top hashtags", unit="posts",
                       hover={other: "accounts"} if other in df.columns else None)


def grouped_shares(frame: pd.DataFrame, *, x: str, by: str, title: str, value: str = "posts",
                   fixed_colours: dict[str, str] | None = None, empty_message: str = "No posts in this selection.",
                   top: int = 12) -> go.Figure:
    """For each value of `x` (the `top` busiest), the share of `value` in each value of `by`,
    as stacked horizontal bars that add to 100%."""
    if frame.empty:
        return empty(title, empty_message)
    df = frame.groupby([x, by], as_index=False)[value].sum()
    busiest = df.groupby(x)[value].sum().nlargest(top)
    df = df[df[x].isin(busiest.index)]
    df["share"] = 100 * df[value] / df.groupby(x)[value].transform("sum")
    order = list(busiest.index[::-1])
    fixed = fixed_colours or (SENTIMENT_COLOURS if by == "sentiment" else PLATFORM_COLOURS if by == "platform" else None)
    names = sorted(df[by].unique(), key=lambda v: (list((fixed or {}).keys()).index(v) if v in (fixed or {}) else 99, v))
    palette = colours_for(names, fixed)
    fig = go.Figure(_validate=False)
    for name in names:
        part = df[df[by] == name].set_index(x).reindex(order).reset_index()
        drill = part["drill"].tolist() if "drill" in part.columns else [""] * len(part)
        fig.add_trace(go.Bar(_validate=False, 
            x=part["share"], y=safe_labels(part[x]), name=safe_text(name), orientation="h",
            marker_color=palette[name], customdata=list(zip(drill, part[value].fillna(0))),
            hovertemplate=f"%{{y}} · {safe_text(name)}: %{{x:.1f}}% (%{{customdata[1]:,.0f}} {value})<extra></extra>"))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(range=[0, 100], ticksuffix="%")
    return finish(fig, title, f"share of {value} (%)", None, height=max(340, 30 * len(order) + 140))


def platform_breakdown(attention: pd.DataFrame, *, title: str = "Most-discussed papers by attention score",
                       top: int = 10) -> go.Figure:
    """Papers (by attention score, highest on top) with their mentions split by platform."""
    cols = [c for c in attention.columns if c.startswith("mentions_")]
    if attention.empty or not cols:
        return empty(title, "No paper was cited by public posts in this selection.")
    df = attention.head(top).iloc[::-1]
    labels = safe_labels(df["title"].fillna(df.get("doi", "")).astype(str).str.slice(0, 60))
    fig = go.Figure(_validate=False)
    for col in cols:
        platform = col.removeprefix("mentions_")
        fig.add_trace(go.Bar(_validate=False, 
            x=df[col], y=labels, name=safe_text(platform), orientation="h",
            marker_color=PLATFORM_COLOURS.get(platform, "#999999"),
            customdata=list(zip(df["article_id"].astype(str), df["score"])),
            hovertemplate=f"%{{y}}<br>{safe_text(platform)}: %{{x:,.0f}} mentions · attention %{{customdata[1]:.1f}}"
                          "<extra></extra>"))
    fig.update_layout(barmode="stack")
    return finish(fig, title, "mentions (posts citing the paper)", None, height=max(340, 32 * len(df) + 140))


def phases_figure(phases: pd.DataFrame, *, title: str) -> go.Figure:
    """A meeting's before / during / after: posts and accounts per day in each phase."""
    if phases.empty or phases["posts"].sum() == 0:
        return empty(title, "No post carried this hashtag around the meeting.")
    fig = go.Figure(_validate=False)
    for col, colour, word in (("posts_per_day", "#0072B2", "posts per day"), ("accounts_per_day", "#E69F00", "accounts per day")):
        fig.add_trace(go.Bar(_validate=False, x=phases["phase"], y=phases[col], name=word, marker_color=colour,
                             hovertemplate=f"%{{x}}: %{{y:,.1f}} {word}<extra></extra>"))
    fig.update_layout(barmode="group")
    return finish(fig, title, None, "per day (average over the phase)")
