"""A paper's attention jump as a spike subject (`paper:<article id>`).

A paper's attention on a day is radpulse/literature/attention.py's score of that day's public
mentions (held and deleted posts left out by the read layer). The day's score is compared with
its daily scores over the `[alerts] baseline_days` before by the same robust z-score as volumes
(radpulse/alerts/spikes.py); a paper jumps when z >= `threshold` and at least `min_posts` public
posts cited it that day. Like every subject, a subscriber hears of it at most once a day.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from radpulse.alerts.spikes import Spike, robust_z
from radpulse.config import Settings
from radpulse.db.engine import Database
from radpulse.db.models import Article

PREFIX = "paper:"


def find_attention_jumps(db: Database, settings: Settings, day: dt.date) -> list[Spike]:
    """Every paper whose attention on `day` (UTC) jumped against its daily attention before."""
    from radpulse.literature.attention import mention_frame, score_mentions  # pandas: only when alerts run

    conf = settings.alerts
    start = dt.datetime.combine(day - dt.timedelta(days=conf.baseline_days), dt.time(), dt.timezone.utc)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    with db.engine.connect() as conn:
        frame = mention_frame(conn, since=start, until=end)
    if frame.empty:
        return []
    frame["day"] = frame["created_at"].dt.date
    today = frame[frame["day"] == day]
    posts_today = today.groupby("article_id")["post_id"].nunique()
    candidates = [int(a) for a, n in posts_today.items() if n >= conf.min_posts]
    if not candidates:
        return []
    frame = frame[frame["article_id"].isin(candidates)]
    per_day = {d: score_mentions(part) for d, part in frame.groupby("day")}
    days = [day - dt.timedelta(days=k) for k in range(conf.baseline_days, 0, -1)]
    jumps = []
    for article in candidates:
        score = float(per_day[day].get(article, 0.0))
        history = [float(per_day[d].get(article, 0.0)) if d in per_day else 0.0 for d in days]
        z, median, mad = robust_z(score, history)
        if z >= conf.threshold:
            ids = sorted(int(i) for i in today.loc[today["article_id"] == article, "post_id"].unique())
            jumps.append(Spike(f"{PREFIX}{article}", day, len(ids), median, mad, round(z, 2), ids,
                               score=round(score, 2)))
    return sorted(jumps, key=lambda s: (-s.z, s.subject))


def paper_label(db: Database, subject: str) -> str:
    """'Title (doi:...)' of a `paper:<id>` subject, for the alert's subject line and text."""
    with db.engine.connect() as conn:
        row = conn.execute(select(Article.title, Article.doi, Article.key)
                           .where(Article.id == int(subject.removeprefix(PREFIX)))).one_or_none()
    if row is None:
        return subject
    title = " ".join((row.title or "").split())[:120] or "untitled paper"
    ident = f"doi:{row.doi}" if row.doi else row.key
    return f"{title} ({ident})"
