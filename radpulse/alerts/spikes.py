"""Spikes: a subject's public volume today against the days before, as a robust z-score.

A subject is a hashtag (`#radiology`), a subspecialty (`topic:neuro`) or a theme (`theme:ai`).
For each, the daily count of public posts (the read layer's privacy rules: no held or deleted
posts) over the `[alerts] baseline_days` before the day is summarised by its median and its
median absolute deviation (MAD); z = (today - median) / (1.4826 x MAD), the scale never below one
post so a quiet subject does not "spike" from 0 to 2. A subject spikes when z >= `threshold` and
today has at least `min_posts` posts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import and_, select

from radpulse.config import Settings
from radpulse.db.engine import Database
from radpulse.db.models import Annotation, Post
from radpulse.db.queries.filters import PostFilters, public_where
from radpulse.db.queries.privacy import ANNOTATOR_NAME

MAD_SCALE = 1.4826


@dataclass
class Spike:
    """One subject that spiked on `day`, with the posts behind it."""

    subject: str
    day: dt.date
    count: int
    median: float
    mad: float
    z: float
    post_ids: list[int] = field(default_factory=list)
    #: a paper's attention score on `day` (median and MAD are then of scores); None for volumes
    score: float | None = None


def robust_z(today: float, history: list[float] | np.ndarray) -> tuple[float, float, float]:
    """(z, median, MAD) of `today` against `history`."""
    values = np.asarray(history, dtype=float)
    median = float(np.median(values)) if values.size else 0.0
    mad = float(np.median(np.abs(values - median))) if values.size else 0.0
    scale = max(MAD_SCALE * mad, 1.0)
    return (today - median) / scale, median, mad


def subjects_of(hashtags: list[str] | None, subspecialties: list[str] | None, themes: list[str] | None) -> set[str]:
    return ({f"#{h.lstrip('#').lower()}" for h in hashtags or [] if h}
            | {f"topic:{s}" for s in subspecialties or [] if s} | {f"theme:{t}" for t in themes or [] if t})


def find_spikes(db: Database, settings: Settings, day: dt.date) -> list[Spike]:
    """Every subject whose public volume on `day` (UTC) is a spike against the days before."""
    conf = settings.alerts
    start = dt.datetime.combine(day - dt.timedelta(days=conf.baseline_days), dt.time(), dt.timezone.utc)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    query = (select(Post.id, Post.created_at, Post.hashtags, Annotation.subspecialties, Annotation.themes)
             .outerjoin(Annotation, and_(Annotation.post_id == Post.id, Annotation.model_name == ANNOTATOR_NAME))
             .where(public_where(PostFilters(start=start, end=end))))
    counts: dict[str, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    today_posts: dict[str, list[int]] = defaultdict(list)
    with db.engine.connect() as conn:
        for row in conn.execute(query):
            when = row.created_at.astimezone(dt.timezone.utc).date()
            for subject in subjects_of(row.hashtags, row.subspecialties, row.themes):
                counts[subject][when] += 1
                if when == day:
                    today_posts[subject].append(row.id)
    days = [day - dt.timedelta(days=k) for k in range(conf.baseline_days, 0, -1)]
    spikes = []
    for subject, per_day in counts.items():
        today = per_day.get(day, 0)
        if today < conf.min_posts:
            continue
        z, median, mad = robust_z(today, [per_day.get(d, 0) for d in days])
        if z >= conf.threshold:
            spikes.append(Spike(subject, day, today, median, mad, round(z, 2), sorted(today_posts[subject])))
    return sorted(spikes, key=lambda s: (-s.z, s.subject))
