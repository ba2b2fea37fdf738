"""The board pack: one self-contained HTML file (plotly.js embedded, no network) for a window.

Headline numbers with the change against the previous period of the same length, the main
figures (the same figure functions as the dashboard), top papers and accounts, an optional
congress section, and a methods note: sources, collection gaps, the models and their measured
accuracy (analysis/EVALUATION.md). Every value from the database is escaped by Jinja2.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from jinja2 import Environment
from sqlalchemy import func, select

from radpulse.dashboards import data, figures
from radpulse.dashboards.state import _drill_clauses, period_for
from radpulse.db.engine import Database
from radpulse.db.models import Annotation, Meta, Source
from radpulse.db.queries import PostFilters

def measured_accuracy(path: Path | None = None) -> list[str]:
    """The summary bullets of the analysis evaluation (sentiment, topics, author types)."""
    from radpulse.exports.dataset import evaluation_path  # the one place that locates it

    try:
        body = (path or evaluation_path()).read_text(encoding="utf-8")
    except OSError:
        return ["The evaluation summary (analysis/EVALUATION.md) is not installed with this copy."]
    bullets = re.findall(r"^- ((?:Sentiment|Topics|Author types):.*?)(?=^\S|^- |\Z)", body, flags=re.M | re.S)
    return [" ".join(b.split()) for b in bullets]


def _html(fig: go.Figure, first: bool) -> str:
    return fig.to_html(include_plotlyjs=True if first else False, full_html=False,
                       config={"displaylogo": False, "responsive": True}, default_width="100%")


def _congress(db: Database, f: PostFilters, tag: str) -> dict[str, Any]:
    problems: list[str] = []
    clause = _drill_clauses({"hashtag": tag}, problems)
    if problems:
        return {"tag": tag, "problem": problems[0]}
    base = dataclasses.replace(f, extra=clause)
    span = f.end - f.start
    days = max(1, span.days)
    rows = []
    for phase, (a, b) in {"before": (f.start - span, f.start), "during": (f.start, f.end), "after": (f.end, f.end + span)}.items():
        t = data.hashtag_totals(db, dataclasses.replace(f, start=a, end=b), tag)
        rows.append({"phase": f"{phase} ({a:%Y-%m-%d} to {(b - dt.timedelta(days=1)):%Y-%m-%d})", "posts": t["posts"],
                     "accounts": t["accounts"], "posts_per_day": t["posts"] / days, "accounts_per_day": t["accounts"] / days})
    hourly = data.volume_by(db, base, period="hour" if days <= 14 else "day", dims=("platform",))
    return {"tag": tag, "phases": pd.DataFrame(rows), "hourly": hourly, "hourly_period": "hour" if days <= 14 else "day",
            "accounts": data.top_accounts(db, base, limit=10), "papers": data.top_articles_of(db, base, limit=10)}


def build_report(db: Database, start: dt.date, end: dt.date, *, congress: str | None = None) -> str:
    """The report for [start, end] (inclusive days) as one HTML document."""
    f = PostFilters(start=dt.datetime.combine(start, dt.time(), tzinfo=dt.timezone.utc),
                    end=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc))
    span = f.end - f.start
    before = dataclasses.replace(f, start=f.start - span, end=f.start)
    now, prev = data.totals(db, f), data.totals(db, before)
    period = period_for((end - start).days + 1)
    window = (start, end)
    figs: list[go.Figure] = []
    volume = data.volume_by(db, f, period=period, dims=("platform",))
    figs.append(figures.over_time(volume, y="posts", title="Posts by platform", unit="posts", period=period,
                                  window=window, fixed_colours=figures.PLATFORM_COLOURS))
    figs.append(figures.over_time(data.accounts_by(db, f, period=period, dims=("platform",)), y="accounts",
                                  title="Active accounts by platform", unit="accounts", period=period, window=window,
                                  fixed_colours=figures.PLATFORM_COLOURS))
    annotated = data.annotated_posts(db, f)
    if annotated:
        subs = data.volume_by(db, f, period=period, dims=("subspecialty",))
        figs.append(figures.share_over_time(subs[subs["subspecialty"] != "not annotated"], by="subspecialty",
                                            title="Subspecialties: share of posts", period=period))
        sent = data.volume_by(db, f, period=period, dims=("sentiment",))
        figs.append(figures.share_over_time(sent[sent["sentiment"] != "not annotated"], by="sentiment",
                                            title="Sentiment: share of posts", period=period,
                                            fixed_colours=figures.SENTIMENT_COLOURS))
    figs.append(figures.hashtag_figure(data.hashtags(db, f, limit=15)))
    papers = data.article_attention(db, f, limit=15)
    figs.append(figures.platform_breakdown(papers))
    meeting = _congress(db, f, congress.lstrip("#").lower()) if congress else None
    if meeting and "phases" in meeting:
        figs.append(figures.phases_figure(meeting["phases"], title=f"#{meeting['tag']}: before, during and after"))
        figs.append(figures.over_time(meeting["hourly"], y="posts", title=f"#{meeting['tag']} per {meeting['hourly_period']} (UTC)",
                                      unit="posts", period=meeting["hourly_period"], fixed_colours=figures.PLATFORM_COLOURS))
    with db.engine.connect() as conn:
        demo = conn.execute(select(Meta.value).where(Meta.key == "demo")).scalar() is not None
        sources = conn.execute(select(Source.platform, func.count()).group_by(Source.platform).order_by(Source.platform)).all()
        models = conn.execute(select(Annotation.model_name, Annotation.model_version, func.count())
                              .group_by(Annotation.model_name, Annotation.model_version)).all()
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(TEMPLATE).render(
        start=start, end=end, generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), demo=demo,
        kpis=[("Posts", now["posts"], prev["posts"]), ("Accounts", now["accounts"], prev["accounts"]),
              ("Engagement", now["engagement"], prev["engagement"])],
        charts=[_html(fig, i == 0) for i, fig in enumerate(figs)],
        papers=papers.head(10).to_dict("records"), accounts=data.top_accounts(db, f, limit=10).to_dict("records"),
        meeting=meeting, sources=sources, models=models, annotated=annotated,
        runs=data.runs_summary(db, f).to_dict("records"), gaps=data.collection_gaps(db, f).head(20).to_dict("records"),
        accuracy=measured_accuracy(), change=_change)


def _change(now: int, before: int) -> str:
    if before == 0:
        return "none in the previous period" if not now else "new: none in the previous period"
    return f"{100 * (now - before) / before:+.0f}% vs the previous {before:,}"


TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>radpulse report {{ start }} to {{ end }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font-family: -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1d2433; max-width: 1000px; margin: 24px auto; padding: 0 16px; }
h1 { margin-bottom: 4px; } .sub { color: #5a6478; margin-top: 0; }
.banner { background: #fff3cd; border: 1px solid #e0c060; padding: 8px 12px; border-radius: 6px; font-weight: 600; }
.kpis { display: flex; gap: 12px; } .kpi { flex: 1; border: 1px solid #e3e6ec; border-radius: 8px; padding: 10px 14px; }
.kpi b { display: block; font-size: 26px; } .kpi small { color: #5a6478; }
.chart { margin: 16px 0; page-break-inside: avoid; }
table { border-collapse: collapse; width: 100%; font-size: 13px; } th, td { border-bottom: 1px solid #e3e6ec; padding: 5px 6px; text-align: left; vertical-align: top; }
.methods { font-size: 13px; color: #3a4456; }
</style></head><body>
<h1>radpulse: radiology's conversation, {{ start }} to {{ end }}</h1>
<p class="sub">Generated {{ generated }} · public posts only (posts held for privacy review and deleted posts are left out)</p>
{% if demo %}<p class="banner">SYNTHETIC DEMO DATA: every post, author and paper here is invented.</p>{% endif %}
<div class="kpis">{% for label, now, before in kpis %}<div class="kpi">{{ label }}<b>{{ "{:,}".format(now) }}</b><small>{{ change(now, before) }}</small></div>{% endfor %}</div>
{% for chart in charts %}<div class="chart">{{ chart | safe }}</div>{% endfor %}
<h2>Most-discussed papers</h2>
{% if papers %}<table><tr><th>Paper</th><th>Journal</th><th>Attention</th><th>Mentions</th><th>Accounts</th></tr>
{% for p in papers %}<tr><td>{{ p.title or p.doi or p.key }}</td><td>{{ p.journal or "" }}</td><td>{{ p.score }}</td><td>{{ p.mentions }}</td><td>{{ p.unique_authors }}</td></tr>{% endfor %}</table>
{% else %}<p>No public post of this period cites a paper.</p>{% endif %}
<h2>Most engaging accounts</h2>
{% if accounts %}<table><tr><th>Account</th><th>Platform</th><th>Type</th><th>Posts</th><th>Engagement</th></tr>
{% for a in accounts %}<tr><td>{{ a.handle or a.author_id }}</td><td>{{ a.platform }}</td><td>{{ a.author_type or "unknown" }}</td><td>{{ "{:,}".format(a.posts) }}</td><td>{{ "{:,}".format(a.engagement) }}</td></tr>{% endfor %}</table>
{% else %}<p>No public posts in this period.</p>{% endif %}
{% if meeting %}<h2>Congress #{{ meeting.tag }}</h2>
{% if meeting.problem %}<p>{{ meeting.problem }}</p>{% else %}
<table><tr><th>Top accounts of the meeting</th><th>Posts</th></tr>{% for a in meeting.accounts.to_dict("records") %}<tr><td>{{ a.handle or a.author_id }} ({{ a.platform }})</td><td>{{ a.posts }}</td></tr>{% endfor %}</table>
<table><tr><th>Top papers of the meeting</th><th>Posts</th></tr>{% for p in meeting.papers.to_dict("records") %}<tr><td>{{ p.title }}</td><td>{{ p.posts }}</td></tr>{% endfor %}</table>
{% endif %}{% endif %}
<h2>Methods</h2>
<div class="methods">
<p><b>Sources.</b> {% for platform, n in sources %}{{ platform }}: {{ n }} source{{ "s" if n != 1 }}{{ "; " if not loop.last }}{% else %}none recorded{% endfor %}.
Engagement is counted once per interaction (X, Bluesky, Mastodon: likes + reposts + replies + quotes; Reddit: score + comments). Accounts are platform accounts. Papers are ranked by attention score (radpulse/literature/README.md).</p>
<p><b>Collection in this period.</b> {% for r in runs %}{{ r.source }} {{ r.status }} × {{ r.runs }}{{ "; " if not loop.last }}{% else %}No collection run is recorded in this period (imported or demo data).{% endfor %}</p>
{% if gaps %}<p><b>Gaps</b> (runs that did not finish cleanly):</p><table><tr><th>Source</th><th>Started</th><th>Status</th><th>Error</th></tr>
{% for g in gaps %}<tr><td>{{ g.source }}</td><td>{{ g.started_at }}</td><td>{{ g.status }}</td><td>{{ (g.error or "")[:200] }}</td></tr>{% endfor %}</table>{% endif %}
<p><b>Models.</b> {{ "{:,}".format(annotated) }} posts of the period were annotated. {% for name, version, n in models %}{{ name }} {{ version }} ({{ "{:,}".format(n) }} posts){{ "; " if not loop.last }}{% endfor %}</p>
<p><b>Measured accuracy</b> (held-out labelled sets, analysis/EVALUATION.md):</p><ul>{% for line in accuracy %}<li>{{ line }}</li>{% endfor %}</ul>
</div></body></html>
"""
