"""Figures are functions of query results returning `go.Figure` (BERTopic's plotting style).

One family shared by the dashboard pages, `radpulse report`, the digest (`static.html_bars`,
an HTML/CSS chart for email) and the notebooks. Every figure has a title, axis titles with
units, rounded hover text with dates, the Okabe-Ito colour-blind-safe palette, and reads at
800 px wide. Text from the internet is escaped before Plotly sees it. Figures and traces are
built with `_validate=False`: the properties are fixed here, so Plotly's per-property validation
(deep copies of every array, ~0.1 s a line chart) buys nothing on a dashboard request.

Modules: `style` (palette, layout, empty states), `time` (over time, shares over time,
partial periods), `bars` (ranked and grouped bars, papers by platform, meeting phases),
`static` (HTML bars for email).
"""

from radpulse.dashboards.figures.bars import (
    grouped_shares,
    hashtag_figure,
    phases_figure,
    platform_breakdown,
    ranked_bars,
)
from radpulse.dashboards.figures.static import html_bars
from radpulse.dashboards.figures.style import (
    OKABE_ITO,
    PLATFORM_COLOURS,
    SENTIMENT_COLOURS,
    colours_for,
    empty,
    finish,
    safe_labels,
)
from radpulse.dashboards.figures.time import (
    over_time,
    partial_periods,
    period_bounds,
    share_over_time,
)

__all__ = ["OKABE_ITO", "PLATFORM_COLOURS", "SENTIMENT_COLOURS", "colours_for", "empty", "finish", "grouped_shares",
           "hashtag_figure", "html_bars", "over_time", "partial_periods", "period_bounds", "phases_figure",
           "platform_breakdown", "ranked_bars", "safe_labels", "share_over_time"]
