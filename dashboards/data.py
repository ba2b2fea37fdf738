"""Every aggregate the dashboard and the report read, in one module: (db, PostFilters, ...) -> DataFrame.

Volumes, accounts, totals, top accounts and hashtag volumes read the rollups
(radpulse/db/queries/rollups.py: public posts per day, refreshed after every collection,
analysis and review), so a panel costs the same at a million posts as at a thousand. What the
rollups cannot answer (hourly buckets of a congress, drill-down clauses) reads public posts through the read layer (`public_where`, `engagement`,
`author_key`), so held and deleted posts never count either way. Lists of posts (drill-down,
examples) are indexed pages from `post_page`, never aggregates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd
from sqlalchemy import Date, String, and_, cast, func, literal, or_, select, true

from radpulse.db.engine import Database
from radpulse.db.models import (
    Annotation,
    Article,
    Author,
    CollectionRun,
    Mention,
    Post,
    PostSource,
    Source,
)
from radpulse.db.queries import PostFilters, author_key, engagement, people, public_where, rollups
from radpulse.db.queries.posts import post_page
from radpulse.db.queries.privacy import ANNOTATOR_NAME

P = Post.__table__.c
PERIODS = ("day", "week", "month", "hour")
DIMENSIONS = ("platform", "source", "subspecialty", "theme", "sentiment", "author_type", "language")
#: what a post without a value of a dimension is shown as
MISSING = {"subspecialty": "not annotated", "sentiment": "not annotated", "theme": "no theme",
           "author_type": "unknown", "language": "unknown", "source": "no source"}


def period_expr(db: Database, period: str, column: Any = P.created_at) -> Any:
    """SQL: the start of the UTC hour, day, ISO week (Monday) or month a time falls in, as text."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, not {period!r}")
    if db.dialect == "sqlite":
        day = func.substr(column, 1, 10)
        return {"hour": func.substr(column, 1, 13) + literal(":00"), "day": day,
                "week": func.date(day, "-6 days", "weekday 1"), "month": func.substr(column, 1, 7) + literal("-01")}[period]
    utc = func.timezone("UTC", column)
    if period == "hour":
        return func.to_char(func.date_trunc("hour", utc), "YYYY-MM-DD HH24:00")
    return cast(cast(func.date_trunc(period, utc), Date), String)


def _frame(db: Database, query: Any, columns: Sequence[str], dates: Sequence[str] = ()) -> pd.DataFrame:
    with db.engine.connect() as conn:
        frame = pd.DataFrame([tuple(r) for r in conn.execute(query)], columns=list(columns))
    for name in dates:
        frame[name] = pd.to_datetime(frame[name])
    return frame


def _json_elements(db: Database, column: Any, name: str) -> Any:
    """The elements of a JSON array column as a table-valued function with a `value` column."""
    fn = func.json_each if db.dialect == "sqlite" else func.jsonb_array_elements_text
    return fn(column).table_valued("value").alias(name)


def _with_dims(db: Database, f: PostFilters, dims: Sequence[str]) -> tuple[Any, list[Any]]:
    """FROM posts joined to what `dims` need, and the labelled dimension columns."""
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension(s) {unknown}; choose from {DIMENSIONS}")
    source: Any = Post.__table__
    cols: list[Any] = []
    a = Annotation.__table__.c
    if {"subspecialty", "theme", "sentiment"} & set(dims):
        source = source.outerjoin(Annotation.__table__, and_(a.post_id == P.id, a.model_name == ANNOTATOR_NAME))
    for d in dims:
        missing = literal(MISSING.get(d, "unknown"))
        if d == "platform":
            cols.append(P.platform.label(d))
        elif d == "language":
            cols.append(func.coalesce(P.language, missing).label(d))
        elif d in ("subspecialty", "sentiment"):
            cols.append(func.coalesce(getattr(a, d), missing).label(d))
        elif d == "author_type":
            au = Author.__table__.c
            source = source.outerjoin(Author.__table__, and_(au.platform == P.platform,
                                                             au.external_id == P.author_external_id))
            cols.append(func.coalesce(au.author_type, missing).label(d))
        elif d == "source":
            ps, s = PostSource.__table__.c, Source.__table__.c
            source = source.outerjoin(PostSource.__table__, ps.post_id == P.id).outerjoin(Source.__table__, s.id == ps.source_id)
            cols.append(func.coalesce(s.name, missing).label(d))
        elif d == "theme":
            elems = _json_elements(db, a.themes, "th")
            source = source.outerjoin(elems, true())
            cols.append(func.coalesce(elems.c.value, missing).label(d))
    return source, cols


def _on_rollups(f: PostFilters, period: str | None = "day") -> bool:
    """True when the rollups answer for `f` (whole days, public posts, no drill-down clause)."""
    return (period in (None, "day", "week", "month") and not f.extra and not f.include_held
            and not f.include_deleted)


def _labelled(frame: pd.DataFrame, dims: Sequence[str]) -> pd.DataFrame:
    """Rollup frames store a missing value as '': show it as the posts path does. Where that
    label is also a stored value (author type "unknown"), the two rows become one (counts added:
    the posts and accounts of the two are disjoint; `max_*` columns their maximum)."""
    merged = False
    for d in dims:
        label = MISSING.get(d, "unknown")
        empty = frame[d] == ""
        if empty.any():
            merged = merged or bool((frame[d] == label).any())
            frame[d] = frame[d].mask(empty, label)
    if "period" in frame.columns:
        frame["period"] = pd.to_datetime(frame["period"])
    if merged:
        values = [c for c in frame.columns if c not in dims and c != "period" and pd.api.types.is_numeric_dtype(frame[c])]
        keys = [c for c in frame.columns if c not in values]
        frame = frame.groupby(keys, as_index=False, sort=False, dropna=False).agg(
            {c: "max" if c.startswith("max_") else "sum" for c in values})
    return frame


def volume_by(db: Database, f: PostFilters, *, period: str = "day", dims: Sequence[str] = ()) -> pd.DataFrame:
    """Posts and engagement per period (and per value of each of `dims`): period, *dims, posts, engagement."""
    if _on_rollups(f, period):
        out = rollups.volume_by(db, f, period=period, dims=dims)[["period", *dims, "posts", "engagement"]]
        return _labelled(out, dims)
    source, cols = _with_dims(db, f, dims)
    bucket = period_expr(db, period).label("period")
    keys = [bucket, *cols]
    q = (select(*keys, func.count().label("posts"), func.coalesce(func.sum(engagement(P)), 0).label("engagement"))
         .select_from(source).where(public_where(f, P)).group_by(*keys).order_by(*keys))
    out = _frame(db, q, ["period", *dims, "posts", "engagement"], dates=["period"])
    return out.astype({"posts": "int64", "engagement": "int64"})


def accounts_by(db: Database, f: PostFilters, *, period: str = "day", dims: Sequence[str] = ()) -> pd.DataFrame:
    """Distinct accounts (platform + id) per period and per value of `dims`: period, *dims, accounts."""
    if _on_rollups(f, period):
        return _labelled(rollups.accounts_by(db, f, period=period, dims=dims), dims)
    source, cols = _with_dims(db, f, dims)
    bucket = period_expr(db, period).label("period")
    keys = [bucket, *cols]
    q = (select(*keys, func.count(func.distinct(author_key(P))).label("accounts"))
         .select_from(source).where(public_where(f, P)).group_by(*keys).order_by(*keys))
    return _frame(db, q, ["period", *dims, "accounts"], dates=["period"]).astype({"accounts": "int64"})


def totals(db: Database, f: PostFilters) -> dict[str, int]:
    """Posts, distinct accounts and engagement of the window."""
    if _on_rollups(f):
        t = rollups.totals(db, f)
        return {"posts": t["posts"], "accounts": t["accounts"], "engagement": t["engagement"]}
    q = select(func.count(), func.count(func.distinct(author_key(P))), func.coalesce(func.sum(engagement(P)), 0)
               ).select_from(Post.__table__).where(public_where(f, P))
    with db.engine.connect() as conn:
        posts, accounts, eng = conn.execute(q).one()
    return {"posts": int(posts), "accounts": int(accounts), "engagement": int(eng)}


def top_accounts(db: Database, f: PostFilters, *, limit: int = 20) -> pd.DataFrame:
    """The accounts with most engagement: platform, author_id, handle, display_name, author_type, posts, engagement."""
    columns = ["platform", "author_id", "handle", "display_name", "author_type", "posts", "engagement"]
    if _on_rollups(f):
        top = people.top_accounts(db, f, limit=limit)
        if top.empty:
            return pd.DataFrame(columns=columns)
        au = Author.__table__.c
        keys = list(zip(top["platform"], top["author_id"]))
        labels = {}
        with db.engine.connect() as conn:
            for platform in sorted(set(top["platform"])):  # per platform: an index seek per account
                q = select(au.platform, au.external_id, au.handle, au.display_name, au.author_type).where(
                    au.platform == platform, au.external_id.in_([i for p, i in keys if p == platform]))
                labels.update({(r[0], r[1]): r[2:] for r in conn.execute(q)})
        for i, name in enumerate(("handle", "display_name", "author_type")):
            top[name] = [labels.get(k, (None, None, None))[i] for k in keys]
        return top[columns]
    eng = func.sum(engagement(P)).label("engagement")
    inner = (select(P.platform, P.author_external_id.label("author_id"), func.count().label("posts"), eng)
             .select_from(Post.__table__).where(public_where(f, P), P.author_external_id.is_not(None))
             .group_by(P.platform, P.author_external_id).order_by(eng.desc(), func.count().desc(), P.platform,
                                                                  P.author_external_id).limit(limit).subquery())
    au = Author.__table__.c
    q = (select(inner.c.platform, inner.c.author_id, au.handle, au.display_name, au.author_type, inner.c.posts,
                inner.c.engagement)
         .select_from(inner.outerjoin(Author.__table__, and_(au.platform == inner.c.platform,
                                                             au.external_id == inner.c.author_id)))
         .order_by(inner.c.engagement.desc(), inner.c.posts.desc()))
    return _frame(db, q, ["platform", "author_id", "handle", "display_name", "author_type", "posts", "engagement"])


def author_type_mix(db: Database, f: PostFilters) -> pd.DataFrame:
    """Posts per author type in the window and the distinct accounts of its busiest month:
    author_type, posts, accounts; most posts first."""
    if _on_rollups(f) and people.on_accounts(f):
        out = _labelled(people.author_type_mix(db, f), ["author_type"])
    else:
        mix = volume_by(db, f, period="month", dims=("author_type",)).groupby("author_type", as_index=False)["posts"].sum()
        accounts = (accounts_by(db, f, period="month", dims=("author_type",))
                    .groupby("author_type", as_index=False)["accounts"].max())
        out = mix.merge(accounts, on="author_type", how="left")
        out["accounts"] = out["accounts"].fillna(0).astype("int64")
    return out.sort_values(["posts", "author_type"], ascending=[False, True], ignore_index=True)


def _own_posts(platform: str, author_id: str) -> tuple[Any, Any]:
    return (P.platform == platform, P.author_external_id == author_id)


def account_volume(db: Database, f: PostFilters, platform: str, author_id: str, *, period: str = "day",
                   dims: Sequence[str] = ()) -> pd.DataFrame:
    """One account's posts and engagement per period (and per value of each of `dims`):
    period, *dims, posts, engagement. From the account's rows of the rollups when they answer."""
    if _on_rollups(f, period):
        out = people.account_volume(db, f, platform, author_id, period=period, dims=dims)
        return _labelled(out, dims)
    return volume_by(db, replace(f, extra=(*f.extra, *_own_posts(platform, author_id))), period=period, dims=dims)


def account_top_posts(db: Database, f: PostFilters, platform: str, author_id: str, *, limit: int = 10) -> list[Any]:
    """One account's most engaged public posts of the window (ties: the lowest id), as `post_page` rows.

    For whole-day windows the account's daily rollup rows give the engagement of its top post of
    each day: the `limit`-th largest of those is a floor every post of the answer reaches, so
    only the days whose top post reaches it are read (an index range each)."""
    g = replace(f, extra=(*f.extra, *_own_posts(platform, author_id)))
    if not (_on_rollups(f) and f.whole_days() and people.on_accounts(f)):
        return post_page(db, g, limit=limit)
    days = people.account_top_days(db, f, platform, author_id)
    if days.empty:
        return []
    floor = int(days["max_engagement"].nlargest(limit).min()) if len(days) >= limit else 0
    chosen = days.loc[days["max_engagement"] >= floor, "day"].tolist()
    if len(chosen) > 4 * limit:  # many days tie at the floor: one read of the window
        return post_page(db, replace(g, extra=(*g.extra, engagement(P) >= floor)), limit=limit)
    rows = []
    for day in chosen:
        one = replace(g, start=_midnight(day), end=_midnight(day) + dt.timedelta(days=1),
                      extra=(*g.extra, engagement(P) >= floor))
        rows.extend(post_page(db, one, limit=limit))
    return sorted(rows, key=lambda r: (-r.engagement, r.id))[:limit]


def _hashtag_rows(db: Database, f: PostFilters) -> tuple[Any, Any]:
    elems = _json_elements(db, P.hashtags, "j")
    return Post.__table__.join(elems, true()), func.lower(elems.c.value)


def hashtags(db: Database, f: PostFilters, *, tags: Sequence[str] = (), period: str | None = None,
             limit: int = 20) -> pd.DataFrame:
    """Posts and distinct accounts per hashtag (lower case, no '#'): the `limit` busiest, or `tags`;
    per period when `period` is given. Columns: [period,] hashtag, posts, accounts.

    With only dates and platforms chosen, the ranking and the post counts come from the hashtag
    rollups and distinct accounts from the hashtag-account rollup (exact, an index range per tag)."""
    if _on_hashtag_rollups(f, period):
        return _hashtags_on_rollups(db, f, tags, [period], limit)[0]
    src, tag = _hashtag_rows(db, f)
    keys = [tag.label("hashtag")] if period is None else [period_expr(db, period).label("period"), tag.label("hashtag")]
    where = [public_where(f, P)]
    if tags:
        where.append(tag.in_([t.lstrip("#").lower() for t in tags]))
    posts = func.count(func.distinct(P.id)).label("posts")
    q = select(*keys, posts, func.count(func.distinct(author_key(P))).label("accounts")).select_from(src).where(*where)
    q = q.group_by(*keys)
    q = q.order_by(posts.desc(), keys[0]).limit(None if tags else limit) if period is None else q.order_by(*keys)
    names = ["hashtag"] if period is None else ["period", "hashtag"]
    return _frame(db, q, [*names, "posts", "accounts"], dates=[] if period is None else ["period"])


def hashtag_comparison(db: Database, f: PostFilters, tags: Sequence[str], period: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`hashtags(tags=tags, period=period)` and `hashtags(tags=tags)` at once: on the rollups the
    distinct accounts of both come from one read (`rollups.hashtag_accounts_per`)."""
    if tags and _on_hashtag_rollups(f, period):
        over, totals = _hashtags_on_rollups(db, f, tags, [period, None])
        return over, totals
    return hashtags(db, f, tags=tags, period=period), hashtags(db, f, tags=tags)


def _on_hashtag_rollups(f: PostFilters, period: str | None = "day") -> bool:
    """True when the hashtag rollups answer for `f`: only dates and platforms chosen (they have no
    other facet)."""
    return _on_rollups(f, period) and not (f.sources or f.subspecialties or f.themes or f.sentiments
                                           or f.languages or f.author_types)


def _hashtags_on_rollups(db: Database, f: PostFilters, tags: Sequence[str], periods: Sequence[str | None],
                         limit: int = 20) -> list[pd.DataFrame]:
    """`hashtags` on the rollups for each of `periods`: the ranking and post counts from the
    hashtag rollup, distinct accounts from the hashtag-account rollup."""
    ranked = [rollups.hashtags(db, f, tags=tags, period=period, limit=limit) for period in periods]
    chosen = sorted({t for frame in ranked for t in frame["hashtag"]})
    accounts = rollups.hashtag_accounts_per(db, f, chosen, periods) if chosen else []
    out = []
    for i, period in enumerate(periods):
        if ranked[i].empty:
            out.append(pd.DataFrame(columns=(["hashtag"] if period is None else ["period", "hashtag"]) + ["posts", "accounts"]))
            continue
        keys = ["hashtag"] if period is None else ["period", "hashtag"]
        frame = _labelled(ranked[i], []).drop(columns=["account_days"]).merge(_labelled(accounts[i], []), on=keys, how="left")
        frame["accounts"] = frame["accounts"].fillna(0).astype("int64")
        out.append(frame)
    return out


def hashtag_names(db: Database, f: PostFilters, *, limit: int = 20) -> list[str]:
    """The `limit` busiest hashtags of the window (names only: no account counts to compute)."""
    if _on_hashtag_rollups(f):
        return rollups.hashtags(db, f, limit=limit)["hashtag"].tolist()
    return hashtags(db, f, limit=limit)["hashtag"].tolist()


def hashtag_totals(db: Database, f: PostFilters, tag: str) -> dict[str, int]:
    """Public posts carrying `tag` (any case) and their distinct accounts in the window of `f`.

    With only dates and platforms chosen, from the hashtag rollups (exact, an index range on the
    tag); otherwise from the posts."""
    tag = tag.lstrip("#").lower()
    if _on_hashtag_rollups(f) and f.whole_days():
        ranked = rollups.hashtags(db, f, tags=[tag])
        accounts = rollups.hashtag_accounts(db, f, [tag])
        return {"posts": int(ranked["posts"].sum()), "accounts": int(accounts["accounts"].sum())}
    src, value = _hashtag_rows(db, f)
    q = (select(func.count(func.distinct(P.id)), func.count(func.distinct(author_key(P))))
         .select_from(src).where(public_where(f, P), value == tag))
    with db.engine.connect() as conn:
        posts, accounts = conn.execute(q).one()
    return {"posts": int(posts), "accounts": int(accounts)}


def drill_posts(db: Database, f: PostFilters, drill: dict[str, str], *, order: str = "engagement", limit: int = 25,
                offset: int = 0) -> list[Any]:
    """The page of posts behind a chart (`post_page`), read in engagement-index order when the
    selection holds enough of all posts that the first pages come after a short walk (the
    rollups count the selection), else by the window's date index and a sort."""
    from radpulse.db.queries.posts import post_page

    walk = False
    if order == "engagement" and db.dialect == "sqlite" and not {"account", "article"} & drill.keys() \
            and _on_rollups(dataclasses.replace(f, extra=())):
        base = dataclasses.replace(f, extra=())
        matching = (hashtag_totals(db, base, drill["hashtag"])["posts"] if "hashtag" in drill
                    else rollups.post_count(db, base))
        window = rollups.post_count(db, PostFilters(start=f.start, end=f.end))
        everything = rollups.post_count(db, PostFilters())
        walk = (offset + limit) * everything / max(matching, 1) < window
    return post_page(db, f, order=order, limit=limit, offset=offset, by_engagement_index=walk)


def example_posts(db: Database, f: PostFilters, *, by: str = "subspecialty", per_cell: int = 1,
                  cells: int = 4) -> pd.DataFrame:
    """The most engaged post per (sentiment, `by`) cell for the `cells` busiest values of `by`
    (ties: the lowest id): sentiment, <by>, id, platform, text, url, engagement.

    For whole-day windows the rollups' `max_engagement` names the day(s) holding each cell's top
    post, so each cell reads one day of posts instead of ranking every post of the window."""
    columns = ["sentiment", by, "id", "platform", "text", "url", "engagement"]
    busiest = volume_by(db, f, period="month", dims=(by,)).groupby(by)["posts"].sum().nlargest(cells).index.tolist()
    if not busiest:
        return pd.DataFrame(columns=columns)
    if per_cell == 1 and _on_rollups(f) and f.whole_days() and by in rollups.ROLLUP_DIMENSIONS:
        return _example_posts_by_day(db, f, by, busiest, columns)
    source, cols = _with_dims(db, f, ("sentiment", by))
    eng = engagement(P)
    rank = func.row_number().over(partition_by=[cols[0], cols[1]], order_by=[eng.desc(), P.id]).label("rank")
    inner = (select(*cols, P.id, P.platform, func.coalesce(P.title, P.text).label("text"), P.url, eng.label("engagement"),
                    rank).select_from(source).where(public_where(f, P), cols[1].in_(busiest)).subquery())
    q = select(inner.c.sentiment, inner.c[by], inner.c.id, inner.c.platform, inner.c.text, inner.c.url,
               inner.c.engagement).where(inner.c.rank <= per_cell).order_by(inner.c.sentiment, inner.c[by])
    return _frame(db, q, columns)


def _example_posts_by_day(db: Database, f: PostFilters, by: str, busiest: list[str], columns: list[str]) -> pd.DataFrame:
    tops = rollups.cell_top_days(db, f, ("sentiment", by))
    tops = _labelled(tops, ["sentiment", by])
    tops = tops[tops[by].isin(busiest)]
    source, cols = _with_dims(db, f, ("sentiment", by))
    eng = engagement(P)
    rows = []
    with db.engine.connect() as conn:
        for (sentiment, value), cell in tops.groupby(["sentiment", by], sort=True):
            best = int(cell["max_engagement"].max())
            days = [and_(P.created_at >= _midnight(d), P.created_at < _midnight(d) + dt.timedelta(days=1))
                    for d in cell.loc[cell["max_engagement"] == best, "day"]]
            q = (select(cols[0], cols[1], P.id, P.platform, func.coalesce(P.title, P.text), P.url, eng)
                 .select_from(source).where(public_where(f, P), or_(*days), cols[0] == str(sentiment), cols[1] == str(value),
                                            eng == best).order_by(P.id).limit(1))
            rows.extend(conn.execute(q).all())
    return pd.DataFrame(rows, columns=columns)


def _midnight(day: Any) -> dt.datetime:
    day = pd.Timestamp(day)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def article_attention(db: Database, f: PostFilters, *, limit: int = 20, article_ids: Sequence[int] = ()) -> pd.DataFrame:
    """Papers by attention score (the one "most-discussed" ranking) with mentions per platform.
    The window and platforms of `f` apply."""
    from radpulse.literature.attention import article_attention as attention
    from radpulse.literature.attention import mention_frame_of

    mentions = mention_frame_of(db, since=f.start, until=f.end, platforms=f.platforms)  # Arrow on SQLite
    out = attention(db, since=f.start, until=f.end, platforms=f.platforms, limit=None if article_ids else limit,
                    mentions=mentions)
    if article_ids:
        out = out[out["article_id"].isin(list(article_ids))].reset_index(drop=True)
    return out


def article(db: Database, article_id: int) -> dict[str, Any] | None:
    """One paper's stored metadata (title, journal, doi, pmid, url, published_date, authors)."""
    a = Article.__table__.c
    with db.engine.connect() as conn:
        row = conn.execute(select(a.id, a.title, a.journal, a.doi, a.pmid, a.url, a.published_date, a.authors)
                           .where(a.id == article_id)).mappings().first()
    return dict(row) if row else None


def mentions_by(db: Database, f: PostFilters, *, article_id: int, period: str = "day") -> pd.DataFrame:
    """Public posts citing one paper per period and platform: period, platform, posts."""
    m = Mention.__table__.c
    bucket = period_expr(db, period).label("period")
    q = (select(bucket, P.platform, func.count().label("posts")).select_from(Post.__table__.join(Mention.__table__, m.post_id == P.id))
         .where(public_where(f, P), m.article_id == article_id).group_by(bucket, P.platform).order_by(bucket))
    return _frame(db, q, ["period", "platform", "posts"], dates=["period"])


def new_articles(db: Database, f: PostFilters, *, limit: int = 15) -> pd.DataFrame:
    """Papers first seen in the window (from the feeds, PubMed and links) per journal: journal, articles."""
    a = Article.__table__.c
    journal = func.coalesce(a.journal, literal("unknown journal")).label("journal")
    day = func.coalesce(a.published_date, a.entrez_date)
    seen = and_(day.is_(None), a.first_seen_at >= f.start, a.first_seen_at < f.end)
    published = and_(day >= f.start.date(), day < f.end.date())
    q = (select(journal, func.count().label("articles")).where(published | seen)
         .group_by(journal).order_by(func.count().desc(), journal).limit(limit))
    return _frame(db, q, ["journal", "articles"])


def account(db: Database, platform: str, author_id: str) -> dict[str, Any] | None:
    """One account's stored profile (handle, display name, bio, followers, type, url)."""
    au = Author.__table__.c
    with db.engine.connect() as conn:
        row = conn.execute(select(au.platform, au.external_id, au.handle, au.display_name, au.bio, au.followers,
                                  au.author_type, au.url)
                           .where(au.platform == platform, au.external_id == author_id)).mappings().first()
    return dict(row) if row else None


def top_articles_of(db: Database, f: PostFilters, *, limit: int = 10) -> pd.DataFrame:
    """The papers cited most by the posts `f` selects (all its filters apply): article_id, title, journal, posts."""
    m, a = Mention.__table__.c, Article.__table__.c
    posts = func.count(func.distinct(P.id)).label("posts")
    q = (select(a.id, a.title, a.journal, posts)
         .select_from(Post.__table__.join(Mention.__table__, m.post_id == P.id).join(Article.__table__, a.id == m.article_id))
         .where(public_where(f, P)).group_by(a.id, a.title, a.journal).order_by(posts.desc(), a.id).limit(limit))
    return _frame(db, q, ["article_id", "title", "journal", "posts"])


def date_bounds(db: Database) -> tuple[dt.date, dt.date] | None:
    """The first and last day holding a post (None for an empty database)."""
    with db.engine.connect() as conn:
        lo, hi = conn.execute(select(func.min(P.created_at), func.max(P.created_at))).one()
    if lo is None:
        return None
    as_day = lambda v: (v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(str(v))).date()  # noqa: E731
    return as_day(lo), as_day(hi)


def options(db: Database) -> dict[str, tuple[str, ...]]:
    """The values each global filter offers: stored platforms, sources and languages, the models' labels."""
    from radpulse.analysis.authors import AUTHOR_TYPES
    from radpulse.analysis.lexicon import GENERAL, SUBSPECIALTIES, THEMES

    with db.engine.connect() as conn:
        platforms = tuple(sorted(conn.execute(select(P.platform).distinct()).scalars()))
        sources = tuple(sorted(conn.execute(select(Source.name)).scalars()))
        languages = tuple(sorted(v for v in conn.execute(select(P.language).distinct().limit(200)).scalars() if v))
    return {"platform": platforms, "source": sources, "subspecialty": (*SUBSPECIALTIES, GENERAL),
            "theme": THEMES, "language": languages, "author_type": AUTHOR_TYPES,
            "sentiment": ("positive", "neutral", "negative")}


def annotated_posts(db: Database, f: PostFilters) -> int:
    """How many of the window's public posts the analysis has annotated (0: "run radpulse analyze").

    On the rollups: the posts whose annotation gave a sentiment or a subspecialty (a post the
    annotator left without either reads as not annotated, as in every chart)."""
    if _on_rollups(f):
        cells = rollups.volume_by(db, f, period="month", dims=("sentiment", "subspecialty"))
        return int(cells.loc[(cells["sentiment"] != "") | (cells["subspecialty"] != ""), "posts"].sum())
    a = Annotation.__table__.c
    q = (select(func.count()).select_from(Post.__table__.join(Annotation.__table__, a.post_id == P.id))
         .where(public_where(f, P), a.model_name == ANNOTATOR_NAME))
    with db.engine.connect() as conn:
        return int(conn.execute(q).scalar_one())


def collection_gaps(db: Database, f: PostFilters) -> pd.DataFrame:
    """Collection runs of the window that did not finish cleanly: source, started_at, status, error."""
    r = CollectionRun.__table__.c
    q = (select(r.source_name, r.started_at, r.status, r.error)
         .where(r.started_at >= f.start, r.started_at < f.end, r.status.not_in(("ok", "success", "completed", "running")))
         .order_by(r.started_at))
    return _frame(db, q, ["source", "started_at", "status", "error"])


def runs_summary(db: Database, f: PostFilters) -> pd.DataFrame:
    """Collection runs per source and status in the window: source, status, runs."""
    r = CollectionRun.__table__.c
    q = (select(r.source_name, r.status, func.count()).where(r.started_at >= f.start, r.started_at < f.end)
         .group_by(r.source_name, r.status).order_by(r.source_name, r.status))
    return _frame(db, q, ["source", "status", "runs"])


def _last_day(f: PostFilters) -> dt.date:
    return (f.end - dt.timedelta(microseconds=1)).astimezone(dt.timezone.utc).date()


def emerging_terms(db: Database, f: PostFilters, *, top: int = 15) -> pd.DataFrame:
    """Terms and hashtags bursting in the window's last 7 days against the 4 weeks before, from
    the windows the analysis job stores (analysis/trends.py; the dates and platforms of `f`
    apply): term, kind, authors, baseline, posts, score, new, folded."""
    from radpulse.analysis.trends import stored_emerging

    return stored_emerging(db, _last_day(f), f.platforms, top=top)


def discovered_topics(db: Database, f: PostFilters, *, n_topics: int = 8) -> pd.DataFrame:
    """Topics discovered (NMF) in each week of the window, as the analysis job stores them
    (analysis/trends.py), merged by label (the dates and platforms of `f` apply):
    topic, terms, posts, weeks, examples."""
    from radpulse.analysis.trends import stored_topics

    return stored_topics(db, f.start.astimezone(dt.timezone.utc).date(), _last_day(f), f.platforms, limit=n_topics)
