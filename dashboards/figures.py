"""Figures as functions of data returning `go.Figure`: shared by dashboard, reports, digests, notebooks."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

PLATFORM_COLOURS = {"x": "#6b7280", "reddit": "#ff4500", "mastodon": "#6364ff", "bluesky": "#1185fe"}
TEMPLATE = "plotly_white"


def safe_labels(series: pd.Series) -> pd.Series:
    """Escape text from the internet before Plotly renders it (Plotly interprets some HTML tags)."""
    return series.astype(str).map(html.escape)


def _empty(title: str, message: str = "No posts in this selection") -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, template=TEMPLATE, xaxis_visible=False, yaxis_visible=False,
                      annotations=[{"text": message, "showarrow": False, "font": {"size": 14}}])
    return fig


def volume_figure(daily: pd.DataFrame, weekly: bool = True) -> go.Figure:
    """Posts over time by platform (weekly sums by default), conference spikes visible."""
    title = "Posts per week by platform" if weekly else "Posts per day by platform"
    if daily.empty:
        return _empty(title)
    df = daily
    if weekly:
        df = (daily.assign(day=daily["day"].dt.to_period("W-SUN").dt.start_time)
              .groupby(["day", "platform"], as_index=False)["posts"].sum())
    fig = px.area(df, x="day", y="posts", color="platform", color_discrete_map=PLATFORM_COLOURS, template=TEMPLATE,
                  title=title, labels={"day": "", "posts": "posts"})
    fig.update_layout(legend_title_text="", hovermode="x unified", margin={"t": 50, "l": 40, "r": 10, "b": 30})
    return fig


def hashtag_figure(tags: pd.DataFrame) -> go.Figure:
    """Top hashtags by posts (bars) with the number of distinct authors in the hover."""
    if tags.empty:
        return _empty("Top hashtags")
    df = tags.sort_values("posts").assign(tag=lambda d: safe_labels("#" + d["tag"]))
    fig = px.bar(df, x="posts", y="tag", orientation="h", hover_data=["authors"], template=TEMPLATE,
                 title="Top hashtags", labels={"tag": "", "posts": "posts"})
    fig.update_traces(marker_color="#2a6f97")
    fig.update_layout(margin={"t": 50, "l": 10, "r": 10, "b": 30}, height=520)
    return fig


def engagement_figure(sample: pd.DataFrame) -> go.Figure:
    """Distribution of likes per post on a log scale: a few posts get most of the attention."""
    if sample.empty:
        return _empty("Engagement per post")
    df = sample.assign(log_likes=np.log10(sample["likes"].clip(lower=0) + 1))
    top = max(1, int(np.ceil(df["log_likes"].max())))
    fig = px.histogram(df, x="log_likes", color="platform", nbins=40, barmode="overlay", log_y=True, opacity=0.7,
                       color_discrete_map=PLATFORM_COLOURS, template=TEMPLATE,
                       title="Engagement per post (likes, log scale)", labels={"log_likes": "likes"})
    fig.update_xaxes(tickvals=list(range(top + 1)), ticktext=["0"] + [f"{10 ** k:,}" for k in range(1, top + 1)])
    fig.update_layout(legend_title_text="", yaxis_title="posts", margin={"t": 50, "l": 40, "r": 10, "b": 30})
    return fig


def topic_figure(topics: pd.DataFrame) -> go.Figure:
    """Posts per radiology subspecialty, coloured by mean sentiment."""
    if topics.empty:
        return _empty("Subspecialties", "No annotations yet: run `radpulse analyze`")
    topics = topics.assign(subspecialty=safe_labels(topics["subspecialty"]))
    fig = px.bar(topics, x="subspecialty", y="posts", color="sentiment", color_continuous_scale="RdYlGn",
                 range_color=(-0.5, 0.5), template=TEMPLATE, title="Posts by subspecialty (colour: mean sentiment)")
    fig.update_layout(margin={"t": 50, "l": 40, "r": 10, "b": 30})
    return fig


def author_figure(authors: pd.DataFrame) -> go.Figure:
    """Who is talking: posts by author type."""
    if authors.empty:
        return _empty("Who is talking")
    authors = authors.assign(author_type=safe_labels(authors["author_type"]))
    fig = px.pie(authors, names="author_type", values="posts", hole=0.45, template=TEMPLATE, title="Who is talking")
    fig.update_layout(margin={"t": 50, "l": 10, "r": 10, "b": 10})
    return fig
