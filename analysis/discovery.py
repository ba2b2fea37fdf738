"""Unsupervised topics for a time window and emerging terms ("new this week").

- `TopicDiscovery`: NMF (default) or LDA on TF-IDF of normalised posts; each topic is labelled
  by its top terms; `topic_volume` counts posts per topic per period.
- `emerging_terms`: burst detection of words, bigrams and hashtags in a window against a
  trailing baseline of equal windows. Counts are *distinct authors*, not posts, so one account
  posting a term fifty times counts once.
- `plot_topic_volume` / `plot_emerging` return plotly figures (dashboards, reports, notebooks).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import NMF, LatentDirichletAllocation
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfVectorizer

from radpulse.analysis.text import NormalisedText, segment_hashtag, strip_html, tokenize

_HASHTAG_RE = re.compile(r"(?<![\w&])#(\w+)")

#: words too common in radiology posts to name a topic or an emerging theme
DOMAIN_STOP_WORDS = frozenset(
    ["radiology", "radiologist", "radiologists", "rad", "rads", "amp", "just", "like", "today", "new", "im", "dont", "get", "got", "one", "case", "cases", "great", "good", "really", "thanks", "thank", "via", "see", "know", "think", "people", "day", "time", "year", "years", "rt", "http", "https", "www", "com"]
)
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | DOMAIN_STOP_WORDS


#: a phrase never runs across these: sentence punctuation, brackets, quotes, dashes, line breaks
_BOUNDARY_RE = re.compile(r"[.,;:!?()\[\]{}\"“”«»|/\\…—–\n\r]+|\s-\s")
_SKIP_RE = re.compile(r"(?:https?://|www\.)\S+|(?<![\w@])@[\w.\-]+(?:@[\w.\-]+)?|(?<![\w&])#\w+",
                      re.IGNORECASE)


def _is_content(tok: str) -> bool:
    return len(tok) > 2 and tok not in STOP_WORDS and not tok.isdigit()


def term_runs(text: str) -> list[list[str]]:
    """Runs of adjacent content words: phrases never cross a hashtag, link, @mention,
    punctuation or a removed (stop) word, so "#HealthPolicy #RSNA2026" gives no words at all and
    "policy of the RSNA" gives "policy" and "rsna", never "policy rsna"."""
    runs: list[list[str]] = []
    for piece in _SKIP_RE.split(strip_html(text or "")):
        for chunk in _BOUNDARY_RE.split(piece):
            run: list[str] = []
            for tok in tokenize(chunk):
                if _is_content(tok):
                    run.append(tok)
                elif run:
                    runs.append(run)
                    run = []
            if run:
                runs.append(run)
    return runs


def post_terms(text: str) -> list[str]:
    """Words and within-run bigrams of a post (the tokenisation of topics and emerging terms)."""
    out: list[str] = []
    for run in term_runs(text):
        out.extend(run)
        out.extend(f"{a} {b}" for a, b in pairwise(run))
    return out


def _identity(terms: list[str]) -> list[str]:
    return terms


class TopicDiscovery(BaseEstimator, TransformerMixin):
    """NMF or LDA topics over TF-IDF (NMF) or counts (LDA) of normalised posts."""

    name = "radpulse-discovery"
    version = "1.0.0"

    def __init__(self, n_topics: int = 10, method: str = "nmf", n_top_terms: int = 8,
                 max_features: int = 20_000, min_df: int = 2, random_state: int = 0,
                 n_examples: int = 3):
        self.n_topics = n_topics
        self.method = method
        self.n_top_terms = n_top_terms
        self.max_features = max_features
        self.min_df = min_df
        self.random_state = random_state
        self.n_examples = n_examples

    def _tokens(self, X) -> list[list[str]]:
        return [post_terms(d.raw if isinstance(d, NormalisedText) else d) for d in X]

    def fit(self, X, y=None) -> TopicDiscovery:
        """Learn topics from posts (texts or NormalisedText); returns self."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None) -> np.ndarray:
        """Learn topics and return the post × topic weights."""
        if self.method not in ("nmf", "lda"):
            raise ValueError("method must be 'nmf' or 'lda'")
        tokens = self._tokens(X)
        vec_cls = TfidfVectorizer if self.method == "nmf" else CountVectorizer
        self.vectorizer_ = vec_cls(analyzer=_identity, max_features=self.max_features,
                                   min_df=min(self.min_df, max(1, len(tokens) // 2)))
        matrix = self.vectorizer_.fit_transform(tokens)
        k = max(1, min(self.n_topics, matrix.shape[0], matrix.shape[1]))
        if self.method == "nmf":
            self.model_ = NMF(n_components=k, init="nndsvda", random_state=self.random_state,
                              max_iter=400)
        else:
            self.model_ = LatentDirichletAllocation(n_components=k, random_state=self.random_state,
                                                    learning_method="batch")
        weights = self.model_.fit_transform(matrix)
        vocab = self.vectorizer_.get_feature_names_out()
        self.top_terms_ = [_top_terms(row, vocab, self.n_top_terms) for row in self.model_.components_]
        self.labels_ = [", ".join(terms[:3]) for terms in self.top_terms_]
        # example posts of each topic: the indexes of the posts it weighs most
        self.examples_ = [
            [int(i) for i in np.argsort(-weights[:, k], kind="stable")[: self.n_examples]
             if weights[i, k] > 0] for k in range(weights.shape[1])
        ]
        return weights

    def describe(self, texts: Sequence[str]) -> pd.DataFrame:
        """One row per topic: label, top terms and example posts (of the fitted `texts`)."""
        return pd.DataFrame({
            "topic": range(1, len(self.labels_) + 1), "label": self.labels_,
            "terms": self.top_terms_,
            "examples": [[texts[i] for i in ex] for ex in self.examples_],
        })

    def transform(self, X) -> np.ndarray:
        """Post × topic weights for new posts."""
        return self.model_.transform(self.vectorizer_.transform(self._tokens(X)))

    def visualize_volume(self, dates: Sequence, weights: np.ndarray, freq: str = "W"):
        """Thin wrapper: `plot_topic_volume(topic_volume(...))`."""
        return plot_topic_volume(topic_volume(dates, weights, self.labels_, freq=freq))


def _top_terms(row: np.ndarray, vocab: Sequence[str], n: int) -> list[str]:
    """The `n` heaviest terms of a topic; equal weights (to 6 significant digits of the
    heaviest) in alphabetical order, so another seed scaling the weights gives the same terms."""
    peak = float(row.max()) if len(row) else 0.0
    if peak <= 0:
        return []
    rounded = np.round(row / peak, 6)
    order = np.lexsort((np.asarray(vocab, dtype=object).astype(str), -rounded))
    return [str(vocab[i]) for i in order[:n] if row[i] > 0]


def topic_volume(dates: Sequence, weights: np.ndarray, labels: Sequence[str],
                 freq: str = "W", min_weight: float = 1e-6) -> pd.DataFrame:
    """Posts per period per topic (each post counted once, in its strongest topic)."""
    weights = np.asarray(weights)
    best = weights.argmax(axis=1) if len(weights) else np.array([], dtype=int)
    keep = weights.max(axis=1) > min_weight if len(weights) else np.array([], dtype=bool)
    frame = pd.DataFrame({
        "period": pd.to_datetime(pd.Series(list(dates)), utc=True).dt.tz_convert(None).dt.to_period(freq).dt.start_time,
        "topic": [labels[i] for i in best],
    })[keep]
    return frame.groupby(["period", "topic"]).size().rename("posts").reset_index()


#: a term key: ("term", "word" or "two words") or ("hashtag", "#tag")
TermKey = tuple[str, str]


def post_keys(text: str | None, hashtags: Sequence[str] | None = None) -> set[TermKey]:
    """The distinct terms of one post: its words and bigrams (`post_terms`) and its hashtags
    (the stored ones, else those in the text), lower case with '#'."""
    keys: set[TermKey] = {("term", t) for t in post_terms(text or "")}
    found = hashtags if hashtags is not None and len(hashtags) else _HASHTAG_RE.findall(text or "")
    keys |= {("hashtag", "#" + str(h).lower().lstrip("#")) for h in found}
    return keys


def hashtag_words(tag: str) -> set[str]:
    """The words a hashtag ('#tag') covers: its segmentation and itself."""
    return set(segment_hashtag(tag[1:]).split()) | {tag[1:]}


def emerging_attrs(end: dt.datetime, window: dt.timedelta, baseline_windows: int) -> dict[str, Any]:
    """The window and the baseline of an emerging-terms result (its ``attrs``)."""
    end_ts = pd.Timestamp(end).tz_convert("UTC") if pd.Timestamp(end).tzinfo else pd.Timestamp(end, tz="UTC")
    start = end_ts - window
    return {"window_start": start.isoformat(), "window_end": end_ts.isoformat(),
            "baseline_start": (start - window * baseline_windows).isoformat(),
            "baseline_windows": baseline_windows, "window_days": window / dt.timedelta(days=1)}


def emerging_terms(
    posts: pd.DataFrame,
    end: dt.datetime,
    *,
    window: dt.timedelta = dt.timedelta(days=7),
    baseline_windows: int = 4,
    min_authors: int = 3,
    top: int = 20,
) -> pd.DataFrame:
    """Terms and hashtags bursting in the window [end - window, end) against a baseline.

    The baseline is the `baseline_windows` windows of the same length just before it.
    `posts` needs columns ``created_at``, ``author`` and ``text`` (``hashtags`` optional).
    Words and bigrams come from `post_terms` (no phrase across a hashtag, link, mention,
    punctuation or removed word). Score: (authors now - mean authors per baseline window) /
    sqrt(mean + 1), a Poisson-style z-score on distinct authors. A word or bigram whose words
    all appear in a hashtag's segmentation and whose accounts in the window are all accounts of
    that hashtag is folded into the hashtag (listed in its ``folded`` column), so one topic is
    not listed twice. The result has columns term, kind, authors, baseline, posts, score, new,
    folded; its ``attrs`` state the window and the baseline. `rank_emerging` does the scoring,
    here and for the stored per-day windows (analysis/trends.py).
    """
    attrs = emerging_attrs(end, window, baseline_windows)
    if posts.empty:
        return _empty_emerging(attrs)
    end_ts = pd.Timestamp(attrs["window_end"])
    start, base_start = pd.Timestamp(attrs["window_start"]), pd.Timestamp(attrs["baseline_start"])
    created = pd.to_datetime(posts["created_at"], utc=True)
    now_authors: dict[TermKey, set] = defaultdict(set)
    now_posts: dict[TermKey, int] = defaultdict(int)
    base_authors: dict[TermKey, set] = defaultdict(set)
    mask = (created >= base_start) & (created < end_ts)
    for ts, author, text, tags in zip(
        created[mask], posts["author"][mask], posts["text"][mask],
        posts["hashtags"][mask] if "hashtags" in posts else [None] * int(mask.sum()),
    ):
        current = ts >= start
        # baseline authors are counted per window: key includes the window index (window i is
        # [start - (i + 1) * window, start - i * window): a post at a boundary is in the later one)
        window_idx = None if current else math.ceil((start - ts) / window) - 1
        for key in post_keys(text, tags):
            if current:
                now_authors[key].add(author)
                now_posts[key] += 1
            else:
                base_authors[key].add((window_idx, author))
    counts = {key: (len(authors), now_posts[key], len(base_authors.get(key, ())))
              for key, authors in now_authors.items()}
    return rank_emerging(counts, lambda term, tag: now_authors[term] <= now_authors[tag], attrs,
                         baseline_windows=baseline_windows, min_authors=min_authors, top=top)


def rank_emerging(
    counts: dict[TermKey, tuple[int, int, int]],
    covers: Any,
    attrs: dict[str, Any],
    *,
    baseline_windows: int = 4,
    min_authors: int = 3,
    top: int = 20,
) -> pd.DataFrame:
    """The emerging-terms table from counts: key -> (authors in the window, posts in the window,
    authors summed over the baseline windows). `covers(term_key, hashtag_key)` tells whether
    the hashtag's accounts in the window include all the term's (the fold rule)."""
    rows = {}
    for key, (n, n_posts, base_sum) in counts.items():
        if n < min_authors:
            continue
        base_mean = base_sum / baseline_windows
        score = (n - base_mean) / math.sqrt(base_mean + 1.0)
        if score <= 0:
            continue
        rows[key] = {"term": key[1], "kind": key[0], "authors": n, "baseline": round(base_mean, 2),
                     "posts": n_posts, "score": round(score, 3), "new": base_mean == 0,
                     "folded": []}
    _fold_into_hashtags(rows, covers)
    if not rows:
        return _empty_emerging(attrs)
    frame = pd.DataFrame(list(rows.values())).sort_values(
        ["score", "authors", "term"], ascending=[False, False, True])
    frame = frame.head(top).reset_index(drop=True)
    frame.attrs.update(attrs)
    return frame


def _fold_into_hashtags(rows: dict, covers: Any) -> None:
    """Drop word terms covered by a hashtag with the same accounts; note them on the hashtag.
    A term folds into the first such hashtag in ranking order (score, accounts, name)."""
    tags = sorted((k for k in rows if k[0] == "hashtag"),
                  key=lambda k: (-rows[k]["score"], -rows[k]["authors"], k[1]))
    tag_words = {k: hashtag_words(k[1]) for k in tags}
    for term in sorted(k for k in rows if k[0] == "term"):
        parts = set(term[1].split())
        for tag in tags:
            if parts <= tag_words[tag] and covers(term, tag):
                rows[tag]["folded"].append(term[1])
                del rows[term]
                break


def discovery_frame(
    conn: Any, start: dt.datetime, end: dt.datetime, *, platforms: Sequence[str] = (), post_ids: Any = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Stored posts created in [start, end) for discovery: created_at, author, text, hashtags.

    Deleted posts and posts held for review are left out; `post_ids` (a subquery of post ids)
    narrows further; `limit` keeps the newest.
    """
    from sqlalchemy import select

    from radpulse.db.models import Post
    from radpulse.db.queries import PostFilters, public_where

    p = Post.__table__.c
    query = (select(p.created_at, p.author_external_id.label("author"), p.text, p.hashtags)
             .where(public_where(PostFilters(start=start, end=end), p), p.text.is_not(None)))
    if platforms:
        query = query.where(p.platform.in_(list(platforms)))
    if post_ids is not None:
        query = query.where(p.id.in_(post_ids))
    if limit:
        query = query.order_by(p.created_at.desc()).limit(limit)
    return pd.DataFrame(conn.execute(query).all(), columns=["created_at", "author", "text", "hashtags"])


def _empty_emerging(attrs: dict | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(columns=["term", "kind", "authors", "baseline", "posts", "score", "new",
                                  "folded"])
    frame.attrs.update(attrs or {})
    return frame


def plot_topic_volume(volume: pd.DataFrame, title: str = "Topic volume"):
    """Stacked area chart of posts per topic per period."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for topic, part in volume.groupby("topic", sort=False):
        fig.add_trace(go.Scatter(x=part["period"], y=part["posts"], name=str(topic),
                                 mode="lines", stackgroup="one"))
    fig.update_layout(title=title, xaxis_title="period", yaxis_title="posts")
    return fig


def plot_emerging(emerging: pd.DataFrame, title: str = "New this week"):
    """Horizontal bars of emerging terms by burst score."""
    import plotly.graph_objects as go

    part = emerging.iloc[::-1]
    fig = go.Figure(go.Bar(x=part["score"], y=part["term"], orientation="h",
                           customdata=np.stack([part["authors"], part["baseline"]], axis=-1)
                           if len(part) else None,
                           hovertemplate="%{y}: %{customdata[0]} authors "
                                         "(baseline %{customdata[1]})<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="burst score (distinct authors)")
    return fig


def posts_frame(db, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Posts created in [start, end) as a frame for `TopicDiscovery` and `emerging_terms`."""
    from sqlalchemy import select

    from radpulse.db.models import Post

    stmt = (
        select(Post.id, Post.created_at, Post.platform, Post.author_external_id, Post.title,
               Post.text, Post.hashtags)
        .where(Post.created_at >= start, Post.created_at < end, Post.is_deleted.is_(False))
        .order_by(Post.created_at)
    )
    with db.session() as session:
        rows = session.execute(stmt).all()
    return pd.DataFrame(
        {
            "id": [r.id for r in rows],
            "created_at": [r.created_at for r in rows],
            "author": [f"{r.platform}:{r.author_external_id}" for r in rows],
            "text": ["\n".join(t for t in (r.title, r.text) if t) for r in rows],
            "hashtags": [r.hashtags or [] for r in rows],
        }
    )
