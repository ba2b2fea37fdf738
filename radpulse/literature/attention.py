"""Per-article attention: who talks about which paper, where, when, and a weighted score.

The score (weights and how they compare with Altmetric's in radpulse/literature/README.md):

    social(article)     = sum over distinct (platform, author) of
                          PLATFORM_WEIGHTS[platform] * KIND_FACTORS[kind] * account_modifier(author)
    engagement(article) = sum over those counted posts of
                          min(ENGAGEMENT_CAP, ENGAGEMENT_WEIGHT * log2(1 + engagement)) * post weight
    score               = social + min(engagement, social * ENGAGEMENT_SHARE / (1 - ENGAGEMENT_SHARE))

`kind` is the author's strongest mention (original > reply > repost); engagement is likes +
reposts + replies of that post. An account repeating a link counts once. The account modifier
lowers accounts that post (nearly) every paper of the window, as journals and bots do; the
engagement part is at most ENGAGEMENT_SHARE of an article's score, however viral a post.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from radpulse.db.engine import Database
from radpulse.db.models import Annotation, Article
from radpulse.db.queries import PostFilters, mentions

#: an original post's weight per source, after Altmetric's defaults (news 8, blogs 5, X 1,
#: Reddit 0.25): Reddit below X, news and blogs above; Bluesky and Mastodon as X
PLATFORM_WEIGHTS: dict[str, float] = {"x": 1.0, "bluesky": 1.0, "mastodon": 1.0, "reddit": 0.25,
                                      "news": 8.0, "blog": 5.0}
DEFAULT_PLATFORM_WEIGHT = 0.5
#: how much a mention counts by what it is: an original post, a reply in a thread, a bare repost
KIND_FACTORS: dict[str, float] = {"original": 1.0, "reply": 0.5, "repost": 0.25}
ENGAGEMENT_WEIGHT = 0.25
ENGAGEMENT_CAP = 1.0
#: the engagement part is at most this share of an article's score
ENGAGEMENT_SHARE = 0.25
#: an account mentioning at least PROLIFIC_MIN papers of the window is weighted by
#: max(PROLIFIC_FLOOR, 1 - share of the window's papers it mentions): one posting every paper
#: (a journal's feed, a bot) counts PROLIFIC_FLOOR, like Altmetric's most common tweet weight
PROLIFIC_MIN = 5
PROLIFIC_FLOOR = 0.25
PLATFORMS = ("x", "reddit", "mastodon", "bluesky")

COLUMNS = ["article_id", "key", "doi", "pmid", "title", "journal", "score", "mentions", "unique_authors",
           *[f"mentions_{p}" for p in PLATFORMS], "first_mention", "latest_mention"]


def mention_frame(
    conn: Connection, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
    platforms: tuple[str, ...] = (),
) -> pd.DataFrame:
    """One row per mention with the citing post's platform, author, time, kind and engagement."""
    query = mentions.from_posts(conn.dialect.name, PostFilters(start=since, end=until, platforms=tuple(platforms)))
    rows = [tuple(r) for r in conn.execute(query)]
    return _mentions(pd.DataFrame(rows, columns=list(mentions.POST_COLUMNS)))


def mention_frame_of(
    db: Database, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
    platforms: tuple[str, ...] = (),
) -> pd.DataFrame:
    """`mention_frame` for a process that serves reads (the dashboard, the report): for a window
    of whole UTC days read from `rollup_mention_daily` (the window's mentions only, public
    already), else from the posts; on SQLite into Arrow by the helper process
    (`radpulse.db.arrow_read.read_statement_in_helper`), else, or when that cannot be done, as
    rows. The helper reads what is committed; the rollup is as fresh as the dashboard's others."""
    from radpulse.db.arrow_read import read_statement_in_helper

    f = PostFilters(start=since, end=until, platforms=tuple(platforms))
    if f.whole_days():
        query, kinds = mentions.from_rollup(db.dialect, f), mentions.ROLLUP_COLUMNS
    else:
        query, kinds = mentions.from_posts(db.dialect, f), mentions.POST_COLUMNS
    table = read_statement_in_helper(db, query, kinds)
    if table is not None:
        return _mentions(table.to_pandas())
    with db.engine.connect() as conn:
        return _mentions(pd.DataFrame([tuple(r) for r in conn.execute(query)], columns=list(kinds)))


def _mentions(frame: pd.DataFrame) -> pd.DataFrame:
    """A mention frame as read (its kind told in SQL: `mentions.kind_of`), with its times parsed
    and a key for posts without a known author."""
    if frame.empty:
        return frame
    # in one order whatever read it (a tie between an account's mentions goes to the later post)
    frame = frame.sort_values(["article_id", "post_id"], kind="stable", ignore_index=True)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
    frame["author"] = frame["author"].fillna("post:" + frame["post_id"].astype(str))
    return frame


def posts_with_topic(conn: Connection, post_ids: list[int], topic: str) -> set[int]:
    """The posts among `post_ids` annotated with `topic` (subspecialty or theme, any model)."""
    want = topic.strip().lower()
    a = Annotation.__table__.c
    hits: set[int] = set()
    for i in range(0, len(post_ids), 900):
        chunk = post_ids[i:i + 900]
        for post_id, sub, subs, themes in conn.execute(
            select(a.post_id, a.subspecialty, a.subspecialties, a.themes).where(a.post_id.in_(chunk))
        ):
            labels = {str(x).lower() for x in [sub, *(subs or []), *(themes or [])] if x}
            if want in labels:
                hits.add(post_id)
    return hits


def _modifier(per_account: np.ndarray, papers: int) -> np.ndarray:
    """Each account's weight from how many of the window's `papers` it mentions."""
    share = per_account / max(1, papers)
    return np.where(per_account >= PROLIFIC_MIN, np.clip(1.0 - share, PROLIFIC_FLOOR, 1.0), 1.0)


def account_modifiers(frame: pd.DataFrame) -> pd.Series:
    """Weight of each (platform, author): lower for accounts that mention most of the window's papers."""
    per_account = frame.groupby(["platform", "author"])["article_id"].nunique()
    return pd.Series(_modifier(per_account.to_numpy(), frame["article_id"].nunique()), index=per_account.index,
                     name="modifier")


def score_components(frame: pd.DataFrame) -> pd.DataFrame:
    """Per article_id of a `mention_frame`: social, engagement (bounded) and score.

    Whole columns at once: each mention's weight and engagement bonus, then per (article,
    platform, author) its best mention (the highest value; of equal ones the later row) by one
    sort of group numbers and values, summed per article."""
    engagement = frame[["likes", "reposts", "replies"]].fillna(0).sum(axis=1).to_numpy(dtype=float)
    accounts = frame.groupby(["platform", "author"], sort=False)
    account = accounts.ngroup().to_numpy()
    per_account = accounts["article_id"].nunique().to_numpy()  # in ngroup order (sort=False: first seen)
    modifier = _modifier(per_account, frame["article_id"].nunique())[account]  # as `account_modifiers`
    weight = (frame["platform"].map(PLATFORM_WEIGHTS).fillna(DEFAULT_PLATFORM_WEIGHT).to_numpy(dtype=float)
              * frame["kind"].map(KIND_FACTORS).to_numpy(dtype=float) * modifier)
    bonus = np.minimum(np.log2(1.0 + engagement) * ENGAGEMENT_WEIGHT, ENGAGEMENT_CAP)
    value = weight * (1.0 + bonus)
    # each (article, platform, author) counts once: its best mention
    group = frame.groupby(["article_id", "platform", "author"], sort=False).ngroup().to_numpy()
    order = np.lexsort((value, group))  # by group, then value; equal values keep the rows' order
    last = np.ones(len(order), dtype=bool)
    last[:-1] = group[order][1:] != group[order][:-1]
    best = order[last]
    out = pd.DataFrame({"article_id": frame["article_id"].to_numpy()[best], "social": weight[best],
                        "engagement": (bonus * weight)[best]}).groupby("article_id")[["social", "engagement"]].sum()
    out["engagement"] = out["engagement"].clip(
        upper=out["social"] * ENGAGEMENT_SHARE / (1 - ENGAGEMENT_SHARE))
    out["score"] = out["social"] + out["engagement"]
    return out


def score_mentions(frame: pd.DataFrame) -> pd.Series:
    """The attention score per article_id of a `mention_frame`."""
    return score_components(frame)["score"]


def article_attention(
    db: Database | Connection,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    topic: str | None = None,
    limit: int | None = None,
    platforms: tuple[str, ...] = (),
    mentions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Articles by attention (highest first) with mention counts per platform and dates.

    `mentions`: the window's `mention_frame` already read (`mention_frame_of`), else read here."""
    if isinstance(db, Database):
        with db.engine.connect() as conn:
            return article_attention(conn, since=since, until=until, topic=topic, limit=limit, platforms=platforms,
                                     mentions=mentions)
    conn = db
    frame = mentions if mentions is not None else mention_frame(conn, since=since, until=until,
                                                                platforms=tuple(platforms))
    if not frame.empty and topic:
        keep = posts_with_topic(conn, sorted(frame["post_id"].unique().tolist()), topic)
        frame = frame[frame["post_id"].isin(keep)]
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    grouped = frame.groupby("article_id")
    out = pd.DataFrame({
        "score": score_mentions(frame),
        "mentions": grouped["post_id"].nunique(),
        "unique_authors": frame.drop_duplicates(["article_id", "platform", "author"]).groupby("article_id").size(),
        "first_mention": grouped["created_at"].min(),
        "latest_mention": grouped["created_at"].max(),
    })
    per_platform = frame.groupby(["article_id", "platform"])["post_id"].nunique().unstack("platform")
    for platform in PLATFORMS:
        out[f"mentions_{platform}"] = (per_platform[platform].reindex(out.index).fillna(0).astype(int)
                                       if platform in per_platform.columns else 0)
    # ranked on the score rounded to 1e-9 (the same whatever order its parts were summed in), then
    # mentions, latest mention, and the newest article first
    out = (out.assign(rank=out["score"].round(9), article=out.index)
           .sort_values(["rank", "mentions", "latest_mention", "article"], ascending=False).drop(columns=["rank", "article"]))
    if limit:
        out = out.head(limit)
    a = Article.__table__.c
    ids = [int(i) for i in out.index]
    meta: dict[int, tuple] = {}
    for i in range(0, len(ids), 900):
        for row in conn.execute(select(a.id, a.key, a.doi, a.pmid, a.title, a.journal).where(a.id.in_(ids[i:i + 900]))):
            meta[row[0]] = tuple(row[1:])
    out = out.reset_index().rename(columns={"index": "article_id"})
    for j, name in enumerate(("key", "doi", "pmid", "title", "journal")):
        out[name] = [meta.get(int(i), (None,) * 5)[j] for i in out["article_id"]]
    out["score"] = out["score"].round(2)
    return out[COLUMNS].reset_index(drop=True)


__all__ = ["ENGAGEMENT_CAP", "ENGAGEMENT_SHARE", "ENGAGEMENT_WEIGHT", "KIND_FACTORS", "PLATFORM_WEIGHTS",
           "account_modifiers", "article_attention", "mention_frame", "mention_frame_of", "score_components", "score_mentions"]
