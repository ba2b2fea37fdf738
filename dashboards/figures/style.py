"""The look every figure shares: a colour-blind-safe palette (Okabe-Ito), titles, axes, hover, empty states.

Okabe & Ito (2008), "Color Universal Design": eight colours distinguishable with every common
colour-vision deficiency. Platforms and sentiments keep one colour everywhere.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
PLATFORM_COLOURS = {"x": "#000000", "reddit": "#D55E00", "mastodon": "#CC79A7", "bluesky": "#0072B2"}
SENTIMENT_COLOURS = {"negative": "#D55E00", "neutral": "#999999", "positive": "#009E73", "not annotated": "#DDDDDD"}
#: the template as an object, not its name: figures are built with `_validate=False`, and an
#: unvalidated name stays a string that plotly.js and Plotly >= 7's to_html do not resolve
TEMPLATE = pio.templates["plotly_white"]
FONT = "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
#: every figure must read at this width (the report and the two-column grid use it)
MIN_WIDTH = 800


def safe_labels(series: pd.Series) -> pd.Series:
    """Escape text from the internet before Plotly renders it (Plotly interprets some HTML tags)."""
    return series.astype(str).map(html.escape)


def safe_text(value: object) -> str:
    return html.escape(str(value))


def colours_for(values: Iterable[str], fixed: dict[str, str] | None = None) -> dict[str, str]:
    """A colour per value: the fixed ones first, then the Okabe-Ito palette in order."""
    fixed = fixed or {}
    out: dict[str, str] = {}
    free = [c for c in OKABE_ITO if c not in fixed.values()] or list(OKABE_ITO)
    i = 0
    for v in dict.fromkeys(values):
        if v in fixed:
            out[v] = fixed[v]
        else:
            out[v] = free[i % len(free)]
            i += 1
    return out


def finish(fig: go.Figure, title: str, x_title: str | None, y_title: str | None, *, height: int = 420,
           legend: bool = True) -> go.Figure:
    """Title, axis titles with units, readable fonts and margins for 800 px and up."""
    fig.update_layout(
        title={"text": safe_text(title), "x": 0.01, "xanchor": "left", "font": {"size": 17}},
        template=TEMPLATE, font={"family": FONT, "size": 13}, height=height,
        margin={"t": 60, "l": 60, "r": 20, "b": 50}, hoverlabel={"font_size": 13},
        legend={"title_text": "", "orientation": "h", "y": -0.18, "x": 0} if legend else None,
        showlegend=legend,
    )
    fig.update_xaxes(title_text=x_title, automargin=True)
    fig.update_yaxes(title_text=y_title, automargin=True, rangemode="tozero")
    return fig


def empty(title: str, message: str = "No posts in this selection.") -> go.Figure:
    """A figure that says what is empty and why, instead of blank axes."""
    fig = go.Figure(_validate=False)
    fig.update_layout(title={"text": safe_text(title), "x": 0.01}, template=TEMPLATE, height=300,
                      font={"family": FONT, "size": 13}, xaxis_visible=False, yaxis_visible=False,
                      annotations=[{"text": safe_text(message), "showarrow": False, "font": {"size": 14}}])
    return fig


def drill_data(frame: pd.DataFrame) -> list | None:
    """The `drill` column (a query fragment per point, set by the pages) as customdata, if any."""
    return frame["drill"].tolist() if "drill" in frame.columns else None
