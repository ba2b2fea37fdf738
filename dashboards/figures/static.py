"""Static figures for email and print: an HTML/CSS bar chart (no script, every label escaped).

Email clients run no JavaScript, so the digest cannot carry a Plotly figure; this renders the
same ranked data as inline-styled `<div>` bars that any client shows.
"""

from __future__ import annotations

import html

import pandas as pd

from radpulse.dashboards.figures.style import OKABE_ITO


def html_bars(frame: pd.DataFrame, *, label: str, value: str, title: str, unit: str, colour: str = OKABE_ITO[0],
              width_px: int = 560) -> str:
    """A titled HTML bar chart of `value` by `label` (inline styles only)."""
    head = f'<div style="font:600 15px sans-serif;margin:8px 0">{html.escape(title)}</div>'
    if frame.empty:
        return head + '<div style="font:13px sans-serif;color:#555">Nothing in this period.</div>'
    top = max(float(frame[value].max()), 1.0)
    rows = []
    for name, v in zip(frame[label], frame[value]):
        w = max(1, round(width_px * 0.6 * float(v) / top))
        rows.append(
            '<tr><td style="font:13px sans-serif;padding:2px 8px 2px 0;white-space:nowrap">'
            f"{html.escape(str(name))}</td>"
            f'<td style="padding:2px 0"><div style="background:{colour};height:14px;width:{w}px;display:inline-block">'
            f'</div> <span style="font:12px sans-serif;color:#333">{float(v):,.0f} {html.escape(unit)}</span></td></tr>')
    return head + f'<table role="presentation" style="border-collapse:collapse;max-width:{width_px}px">{"".join(rows)}</table>'
