"""Sentiment: share positive / neutral / negative over time and by subspecialty, theme and platform."""

from __future__ import annotations

import dash
from dash import html

from radpulse.dashboards import data, figures
from radpulse.dashboards.components import external_link, graph, section, table
from radpulse.dashboards.pages._frame import drill_column, not_annotated, render
from radpulse.dashboards.state import period_for

dash.register_page(__name__, path="/sentiment", name="Sentiment", title="radpulse: sentiment", order=2)


def build(state, db):  # type: ignore[no-untyped-def]
    f = state.filters
    missing = not_annotated(data.annotated_posts(db, f))
    if missing is not None:
        return [missing]
    period = period_for(state.days)
    over = data.volume_by(db, f, period=period, dims=("sentiment",))
    over = over[over["sentiment"] != "not annotated"]
    parts = [graph(figures.share_over_time(over, by="sentiment", title="Sentiment: share of posts over time",
                                           period=period, fixed_colours=figures.SENTIMENT_COLOURS), "sentiment-time")]
    row = []
    for dim, title in (("subspecialty", "by subspecialty"), ("theme", "by theme"), ("platform", "by platform")):
        frame = data.volume_by(db, f, period="month", dims=(dim, "sentiment"))
        frame = frame[frame["sentiment"] != "not annotated"].groupby([dim, "sentiment"], as_index=False)["posts"].sum()
        frame = drill_column(frame, state, keys={dim: dim, "sentiment": "sentiment"})
        row.append(graph(figures.grouped_shares(frame, x=dim, by="sentiment", title=f"Sentiment {title}"),
                         f"sentiment-{dim}", drill=True))
    parts.append(html.Div(row[:2], className="row"))
    parts.append(row[2])
    examples = data.example_posts(db, f, by="subspecialty")
    parts.append(section("Example posts per cell (the most engaged post of each sentiment and subspecialty)",
                         table(examples, {"sentiment": "Sentiment", "subspecialty": "Subspecialty", "platform": "Platform",
                                          "text": "Post", "engagement": "Engagement", "url": "Link"},
                               links={"url": lambda r: external_link(r["url"], "original")}, id_="sentiment-examples")))
    return parts


def layout(**query):  # type: ignore[no-untyped-def]
    return render(query, build)
