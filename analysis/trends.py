"""Stored trends: emerging terms per day and discovered topics per week, computed by the analysis job.

The dashboard's Topics page cannot tokenise a month of posts per request at a million posts, so
the analysis job (`store.analyze`, after the annotation batches) keeps two tables up to date:

- `trend_terms`: for every day D (the last day of a 7-day window) and platform, the distinct
  accounts and the posts of each term and hashtag in the window (`discovery.post_keys`: no
  bigram across a hashtag, link, mention, punctuation or removed word), the accounts summed
  over the four 7-day windows before (the baseline of `discovery.emerging_terms`), and the
  hashtags whose accounts in the window include all the term's (the fold rule). Accounts are
  platform accounts, so counts of several platforms add up exactly, and so does the fold rule
  (a hashtag covers a term on the chosen platforms when it covers it on each). Only terms with
  at least `MIN_AUTHORS` accounts over all platforms in the window are stored: no selection
  of platforms can list another. `stored_emerging` reads one day's rows and ranks them with
  `discovery.rank_emerging`: the same table as `emerging_terms` on the window's posts.
- `trend_topics`: the NMF topics (`discovery.TopicDiscovery`) of each ISO week's public posts,
  for all platforms and per platform, with their top terms, posts and example post ids;
  `stored_topics` merges the weeks of a window by label.

Only public posts count (`public_where`). Which days to recompute comes from
`trend_stale_days`, marked in the same transactions as the rollups' stale days (collection,
analysis, review): a changed day D changes the windows ending D to D + 34 (as window or as
baseline) and the topics of its week.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, insert, literal, select

from radpulse.analysis.discovery import (
    TermKey,
    TopicDiscovery,
    emerging_attrs,
    hashtag_words,
    post_keys,
    rank_emerging,
)
from radpulse.db.engine import Database
from radpulse.db.models import Post, TrendStaleDay, TrendTerm, TrendTopic
from radpulse.db.queries import PostFilters, public_where
from radpulse.db.queries.posts import stream_posts
from radpulse.db.days import day_of, day_ranges, day_start

P = Post.__table__.c
#: a term is stored for a window when it has at least this many accounts there (all platforms)
MIN_AUTHORS = 3
WINDOW_DAYS = 7
BASELINE_WINDOWS = 4
#: the days of posts one window end reads: the window and its baseline windows
SPAN = WINDOW_DAYS * (BASELINE_WINDOWS + 1)
N_TOPICS = 8
#: posts a week's topic model is fitted on (evenly spaced in time when the week has more)
TOPIC_SAMPLE = 3000
MIN_TOPIC_POSTS = 50
_DAYS_PER_WRITE = 31
_UTC = dt.timezone.utc

#: (platform, kind, term)
Key = tuple[str, str, str]


def post_text_expr() -> Any:
    """SQL: the text a post is read by for trends (title and body)."""
    return func.coalesce(P.title + literal("\n") + P.text, P.text, P.title)


# --- emerging terms ------------------------------------------------------------------------


class _Rolling:
    """Distinct accounts and posts of each (platform, kind, term) over the last WINDOW_DAYS days,
    fed one day at a time."""

    def __init__(self) -> None:
        self.last: dict[Key, dict[Any, int]] = {}  # key -> account -> the last day it used it
        self.bucket: dict[int, list[tuple[Key, Any]]] = {}
        self.day_posts: dict[int, dict[Key, int]] = {}
        self.posts: dict[Key, int] = defaultdict(int)

    def add(self, day: int, posts: Iterable[tuple[str, Any, str | None, Any]]) -> None:
        gone = day - WINDOW_DAYS
        for key, author in self.bucket.pop(gone, ()):
            seen = self.last.get(key)
            if seen is not None and seen.get(author) == gone:
                del seen[author]
                if not seen:
                    del self.last[key]
        for key, n in self.day_posts.pop(gone, {}).items():
            self.posts[key] -= n
            if not self.posts[key]:
                del self.posts[key]
        today: dict[Key, int] = defaultdict(int)
        bucket = []
        for platform, author, text, tags in posts:
            for kind, term in post_keys(text, tags):
                key = (platform, kind, term)
                today[key] += 1
                self.last.setdefault(key, {})[author] = day
                bucket.append((key, author))
        self.bucket[day] = bucket
        self.day_posts[day] = today
        for key, n in today.items():
            self.posts[key] += n

    def authors(self) -> dict[Key, int]:
        return {key: len(seen) for key, seen in self.last.items()}


def term_windows(days: Iterable[tuple[dt.date, Sequence[tuple[str, Any, str | None, Any]]]],
                 ends: set[dt.date]) -> Iterator[tuple[dt.date, list[dict[str, Any]]]]:
    """The `trend_terms` rows of each window end in `ends`, from consecutive days of posts
    (day, [(platform, account, text, hashtags)]) starting SPAN - 1 days before the first end."""
    rolling = _Rolling()
    snapshots: dict[int, dict[Key, int]] = {}
    for day, posts in days:
        n = day.toordinal()
        rolling.add(n, posts)
        snapshots[n] = rolling.authors()
        snapshots.pop(n - WINDOW_DAYS * BASELINE_WINDOWS - 1, None)
        if day in ends:
            yield day, _window_rows(day, rolling, snapshots)


def _window_rows(day: dt.date, rolling: _Rolling, snapshots: dict[int, dict[Key, int]]) -> list[dict[str, Any]]:
    n = day.toordinal()
    now = snapshots[n]
    totals: dict[TermKey, int] = defaultdict(int)
    for (_, kind, term), count in now.items():
        totals[(kind, term)] += count
    chosen = {k for k, count in totals.items() if count >= MIN_AUTHORS}
    base = [snapshots.get(n - WINDOW_DAYS * i, {}) for i in range(1, BASELINE_WINDOWS + 1)]
    platforms = sorted({p for p, _, _ in now}.union(*({p for p, _, _ in b} for b in base)))
    by_word: dict[str, set[str]] = defaultdict(set)
    for kind, tag in chosen:
        if kind == "hashtag":
            for word in hashtag_words(tag):
                by_word[word].add(tag)
    rows = []
    for kind, term in chosen:
        parts = term.split() if kind == "term" else []
        covering = set.intersection(*(by_word.get(w, set()) for w in parts)) if parts else set()
        for p in platforms:
            key = (p, kind, term)
            authors = now.get(key, 0)
            base_authors = sum(b.get(key, 0) for b in base)
            if not authors and not base_authors:
                continue
            covered: list[str] = []
            if authors and covering:
                mine = rolling.last[key].keys()
                covered = sorted(t for t in covering
                                 if (p, "hashtag", t) in rolling.last and mine <= rolling.last[(p, "hashtag", t)].keys())
            rows.append({"day": day, "platform": p, "kind": kind, "term": term, "authors": authors,
                         "posts": rolling.posts.get(key, 0), "base_authors": base_authors, "covered_by": covered})
    return rows


def _posts_by_day(db: Database, first: dt.date, last: dt.date) -> Iterator[tuple[dt.date, list[tuple[Any, ...]]]]:
    """Every day from `first` to `last` with its public posts (platform, account, text, hashtags)."""
    columns = [P.platform, P.author_external_id, post_text_expr().label("text"), P.hashtags]
    f = PostFilters(start=day_start(first), end=day_start(last + dt.timedelta(days=1)))
    day, todo = first, []
    for chunk in stream_posts(db, f, columns, in_time_order=True):
        for row in chunk:
            stored = row._created_at  # as stored: SQLite's naive UTC text, PostgreSQL's datetime
            d = dt.date.fromisoformat(stored[:10]) if isinstance(stored, str) else day_of(stored)
            while day < d:
                yield day, todo
                day, todo = day + dt.timedelta(days=1), []
            todo.append((row[0], row[1], row[2], row[3]))
    while day <= last:
        yield day, todo
        day, todo = day + dt.timedelta(days=1), []


def _write_terms(db: Database, ends: list[dt.date], rows: list[dict[str, Any]]) -> None:
    with db.engine.begin() as conn:
        for start in range(0, len(ends), 500):
            conn.execute(delete(TrendTerm).where(TrendTerm.day.in_(ends[start : start + 500])))
        for start in range(0, len(rows), 5000):
            conn.execute(insert(TrendTerm), rows[start : start + 5000])


def refresh_term_windows(db: Database, ends: Iterable[dt.date]) -> int:
    """Recompute the stored windows ending on `ends`; the number of rows written."""
    written = 0
    for first, last in day_ranges(ends):
        wanted = {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}
        pending_days: list[dt.date] = []
        pending: list[dict[str, Any]] = []
        for day, rows in term_windows(_posts_by_day(db, first - dt.timedelta(days=SPAN - 1), last), wanted):
            pending_days.append(day)
            pending.extend(rows)
            if len(pending_days) >= _DAYS_PER_WRITE:
                _write_terms(db, pending_days, pending)
                written += len(pending)
                pending_days, pending = [], []
        if pending_days:
            _write_terms(db, pending_days, pending)
            written += len(pending)
    return written


def stored_emerging(db: Database, end: dt.date, platforms: Sequence[str] = (), *, top: int = 15,
                    min_authors: int = MIN_AUTHORS) -> pd.DataFrame:
    """Emerging terms of the 7 days ending `end` (inclusive) against the 4 weeks before, on
    `platforms` (all when empty), from the stored windows: the columns and `attrs` of
    `discovery.emerging_terms`."""
    t = TrendTerm
    q = select(t.platform, t.kind, t.term, t.authors, t.posts, t.base_authors, t.covered_by).where(t.day == end)
    if platforms:
        q = q.where(t.platform.in_(list(platforms)))
    counts: dict[TermKey, list[int]] = {}
    covering: dict[TermKey, set[str]] = {}
    with db.engine.connect() as conn:
        for platform, kind, term, authors, posts, base, covered in conn.execute(q):
            key = (kind, term)
            c = counts.setdefault(key, [0, 0, 0])
            c[0] += authors
            c[1] += posts
            c[2] += base
            if authors and kind == "term":
                mine = set(covered or ())
                covering[key] = covering[key] & mine if key in covering else mine
    attrs = emerging_attrs(day_start(end + dt.timedelta(days=1)), dt.timedelta(days=WINDOW_DAYS), BASELINE_WINDOWS)
    return rank_emerging({k: (a, p, b) for k, (a, p, b) in counts.items()},
                         lambda term, tag: tag[1] in covering.get(term, ()), attrs,
                         baseline_windows=BASELINE_WINDOWS, min_authors=max(min_authors, MIN_AUTHORS), top=top)


# --- discovered topics -----------------------------------------------------------------------


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_topics(posts: pd.DataFrame, *, n_topics: int = N_TOPICS, sample: int = TOPIC_SAMPLE) -> list[dict[str, Any]]:
    """Topics of one week's posts (columns id, text, in time order): topic, label, terms, posts,
    sample_posts, week_posts, examples (post ids). None below MIN_TOPIC_POSTS posts with text."""
    posts = posts[posts["text"].fillna("").str.strip() != ""]
    if len(posts) < MIN_TOPIC_POSTS:
        return []
    picked = posts.iloc[np.unique(np.linspace(0, len(posts) - 1, sample).astype(int))] if len(posts) > sample else posts
    model = TopicDiscovery(n_topics=n_topics, random_state=0)
    weights = model.fit_transform(list(picked["text"]))
    strongest = weights.argmax(axis=1)[weights.max(axis=1) > 1e-6]
    counts = np.bincount(strongest, minlength=len(model.labels_))
    ids = picked["id"].tolist()
    return [{"topic": i, "label": model.labels_[i][:300], "terms": list(model.top_terms_[i]), "posts": int(counts[i]),
             "sample_posts": len(picked), "week_posts": len(posts), "examples": [int(ids[j]) for j in model.examples_[i]]}
            for i in range(len(model.labels_))]


def refresh_topics(db: Database, weeks: Iterable[dt.date]) -> int:
    """Refit and store the topics of the ISO weeks starting on `weeks` (Mondays); rows written."""
    written = 0
    for week in sorted(set(weeks)):
        q = (select(P.id, P.platform, post_text_expr().label("text"))
             .where(public_where(PostFilters(start=day_start(week), end=day_start(week + dt.timedelta(days=7))), P))
             .order_by(P.created_at, P.id))
        with db.engine.connect() as conn:
            posts = pd.DataFrame(conn.execute(q).all(), columns=["id", "platform", "text"])
        rows = []
        for platform in ["", *sorted(posts["platform"].unique())]:
            part = posts if not platform else posts[posts["platform"] == platform]
            rows.extend({"week": week, "platform": platform, **r} for r in week_topics(part))
        with db.engine.begin() as conn:
            conn.execute(delete(TrendTopic).where(TrendTopic.week == week))
            if rows:
                conn.execute(insert(TrendTopic), rows)
        written += len(rows)
    return written


def stored_topics(db: Database, start: dt.date, end: dt.date, platforms: Sequence[str] = (), *,
                  limit: int = N_TOPICS, examples: int = 2) -> pd.DataFrame:
    """The topics of the ISO weeks overlapping [start, end] (inclusive days) on `platforms` (all
    when empty), merged by label: topic, terms, posts (of the fitted samples), weeks, examples
    (texts of public posts). Ordered by posts."""
    t = TrendTopic
    q = select(t.week, t.platform, t.label, t.terms, t.posts, t.examples).where(
        t.week >= monday(start), t.week <= end, t.platform.in_(list(platforms)) if platforms else t.platform == "")
    with db.engine.connect() as conn:
        rows = pd.DataFrame(conn.execute(q).all(), columns=["week", "platform", "label", "terms", "posts", "examples"])
    columns = ["topic", "terms", "posts", "weeks", "examples"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows.sort_values(["posts", "week", "platform"], ascending=[False, True, True])
    merged = []
    for label, part in rows.groupby("label", sort=False):
        merged.append({"topic": label, "terms": ", ".join(part.iloc[0]["terms"]), "posts": int(part["posts"].sum()),
                       "weeks": part["week"].nunique(), "ids": [i for ex in part["examples"] for i in ex]})
    out = pd.DataFrame(merged).sort_values(["posts", "topic"], ascending=[False, True]).head(limit)
    texts = _public_texts(db, [i for ids in out["ids"] for i in ids])
    out["examples"] = [[texts[i] for i in ids if i in texts][:examples] for ids in out["ids"]]
    return out[columns].reset_index(drop=True)


def _public_texts(db: Database, ids: list[int]) -> dict[int, str]:
    """Texts of those of `ids` that are public now (a post held since is never shown)."""
    found: dict[int, str] = {}
    with db.engine.connect() as conn:
        for start in range(0, len(ids), 500):
            q = select(P.id, post_text_expr()).where(P.id.in_(ids[start : start + 500]), public_where(PostFilters(), P))
            found.update({i: (text or "")[:280] for i, text in conn.execute(q)})
    return found


# --- keeping them fresh ----------------------------------------------------------------------


def _post_days(db: Database) -> tuple[dt.date, dt.date] | None:
    with db.engine.connect() as conn:
        lo, hi = conn.execute(select(func.min(P.created_at), func.max(P.created_at))).one()
    if lo is None:
        return None
    as_day = lambda v: day_of(v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(str(v)).replace(tzinfo=_UTC))  # noqa: E731
    return as_day(lo), as_day(hi)


def refresh_trends(db: Database, days: Iterable[dt.date], *,
                   progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Recompute what changed posts on `days` change: the windows ending on each day to SPAN - 1
    days later (and any window after the newest one stored), and the topics of their weeks."""
    days = set(days)
    bounds = _post_days(db)
    if not days or bounds is None:
        return {"windows": 0, "term_rows": 0, "topic_rows": 0}
    first, last = bounds
    with db.engine.connect() as conn:
        newest = conn.execute(select(func.max(TrendTerm.day))).scalar()
    newest = dt.date.fromisoformat(newest) if isinstance(newest, str) else newest
    ends = {d + dt.timedelta(days=i) for d in days for i in range(SPAN)}
    if newest is not None:
        ends |= {newest + dt.timedelta(days=i) for i in range(1, (last - newest).days + 1)}
    ends = {d for d in ends if first <= d <= last}
    if progress:
        progress(f"emerging terms: {len(ends)} windows")
    term_rows = refresh_term_windows(db, ends)
    weeks = {monday(d) for d in days if first - dt.timedelta(days=6) <= d <= last}
    if progress:
        progress(f"topics: {len(weeks)} weeks")
    topic_rows = refresh_topics(db, weeks)
    return {"windows": len(ends), "term_rows": term_rows, "topic_rows": topic_rows}


def refresh_stale_trends(db: Database, *, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Refresh the trends of every day marked stale, then clear those marks (marks made
    meanwhile stay for the next run)."""
    with db.engine.connect() as conn:
        stale = {d if isinstance(d, dt.date) else dt.date.fromisoformat(d)
                 for d in conn.execute(select(TrendStaleDay.day)).scalars()}
    done = refresh_trends(db, stale, progress=progress)
    with db.engine.begin() as conn:
        for chunk in _chunks(sorted(stale), 500):
            conn.execute(delete(TrendStaleDay).where(TrendStaleDay.day.in_(chunk)))
    return {"days": len(stale), **done}


def rebuild_trends(db: Database, *, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Recompute every stored window and week from the posts (and clear the stale marks)."""
    with db.engine.begin() as conn:
        conn.execute(delete(TrendTerm))
        conn.execute(delete(TrendTopic))
        stale = list(conn.execute(select(TrendStaleDay.day)).scalars())
    bounds = _post_days(db)
    all_days: set[dt.date] = set()
    if bounds is not None:
        first, last = bounds
        all_days = {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}
    done = refresh_trends(db, all_days, progress=progress)
    with db.engine.begin() as conn:
        for chunk in _chunks(stale, 500):
            conn.execute(delete(TrendStaleDay).where(TrendStaleDay.day.in_(chunk)))
    return {"days": len(all_days), **done}


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def filters_apply(f: PostFilters) -> bool:
    """True when the stored trends answer `f` exactly (only dates and platforms chosen)."""
    return not (f.sources or f.subspecialties or f.themes or f.sentiments or f.languages or f.author_types
                or f.extra or f.include_held or f.include_deleted)

