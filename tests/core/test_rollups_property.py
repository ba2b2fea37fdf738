"""Rollups equal a from-scratch aggregation of the public posts after any sequence of writes.

Random sequences of collection batches (new posts, engagement updates, deletions at the
source, through the runner's real `consume` with linking), re-annotations (through
`analysis.store.analyze` with a stand-in annotator) and review decisions (`review.decide`) are
applied; after each step the rollup tables must hold exactly what a Python aggregation of
the posts selected by `public_where` gives (the edge rollup: of their stored interactions,
whose replies arrive before or after the post they answer, on other days). SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from types import SimpleNamespace

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from radpulse.analysis.pipeline import ANNOTATOR_NAME
from radpulse.analysis.review import decide
from radpulse.analysis.store import analyze
from radpulse.collection import after_batch_steps
from radpulse.collectors.runner import RunSummary, consume
from radpulse.db.models import (
    Annotation,
    Article,
    Author,
    Base,
    Mention,
    Post,
    PostSource,
    Interaction,
    RollupAccountDaily,
    RollupAccountTotal,
    RollupArticleDaily,
    RollupAuthorDaily,
    RollupAuthorTypeDaily,
    RollupAuthorTypeMonthly,
    RollupDaily,
    RollupEdgeDaily,
    RollupHashtagAuthorDaily,
    RollupMentionDaily,
    RollupHashtagDaily,
    RollupStaleDay,
    Source,
)
from radpulse.db.queries import PostFilters, public_where
from radpulse.db.queries.metrics import engagement_of
from radpulse.db.rollups import refresh_stale_rollups
from radpulse.records import AuthorRecord, Batch, PostRecord, SourceSpec

STEPS = after_batch_steps()  # what the CLI and the scheduler pass the runner

START = dt.datetime(2026, 11, 28, tzinfo=dt.timezone.utc)
SOURCES = ("tag:rsna", "tag:radiology")
SUBS = ("", "neuro", "chest")
THEMES = ("ai", "education", "workforce")
TAGS = ("RSNA2026", "rsna2026", "AI", "Radiology")


def created_at(k: int) -> dt.datetime:
    """Post k always has the same time: three days, crossing midnight."""
    return START + dt.timedelta(hours=11 * k + 5)


def post_record(k: int, likes: int, tags: tuple[str, ...], cite: int | None, read: int, deleted: bool = False) -> PostRecord:
    """Post k of account a(k mod 6) on platform k mod 3; it replies to post k+3 (another account of
    its platform, stored before or after it) and mentions two handles."""
    platform = ("x", "reddit", "bluesky")[k % 3]
    text = f"post {k} about imaging" + (f" https://doi.org/10.1148/radiol.2026{cite:04d}" if cite is not None else "")
    return PostRecord(
        platform=platform, external_id=f"p{k}", text=text, created_at=created_at(k),
        author_external_id=None if k == 7 else f"a{k % 6}", language=("en", "de")[k % 2],
        in_reply_to_id=f"p{(k + 3) % 9}", mentions=[f"h{(k + 3) % 6}", "someone"],
        like_count=likes, reply_count=k % 2, repost_count=likes // 2 if platform != "reddit" else None,
        score=likes if platform == "reddit" else None, quote_count=1 if platform == "x" else None,
        hashtags=list(tags), is_deleted=deleted, metrics_read_at=START + dt.timedelta(days=read),
    )


class StandInAnnotator:
    """The analysis pipeline's interface, with labels chosen by the test."""

    name = ANNOTATOR_NAME

    def __init__(self, version: int, labels: dict[int, tuple], types: dict[str, str]) -> None:
        self.version, self.labels, self.types = f"v{version}", labels, types
        self.author_model = f"stand-in@{version}"

    def models(self) -> dict[str, str]:
        return {"stand-in": self.version}

    def annotate(self, texts, ids, has_media):  # type: ignore[no-untyped-def]
        out = []
        for post_id in ids:
            sub, sentiment, themes, flagged = self.labels.get(post_id, ("", "neutral", (), False))
            out.append(SimpleNamespace(
                sentiment=sentiment, sentiment_score=0.0, subspecialty=sub or None,
                subspecialties=[sub] if sub else [], themes=list(themes),
                flags=["privacy_risk"] if flagged else [], language="en", flag_reasons={}))
        return out

    def author_types(self, profiles):  # type: ignore[no-untyped-def]
        return [self.types.get(handle, "other") for handle, _, _ in profiles]


keys = st.integers(0, 8)
collect = st.tuples(st.just("collect"), st.lists(
    st.tuples(keys, st.integers(0, 50), st.sampled_from(SOURCES), st.lists(st.sampled_from(TAGS), max_size=2, unique=True).map(tuple),
              st.one_of(st.none(), st.integers(0, 1))), min_size=1, max_size=5))
engage = st.tuples(st.just("engage"), keys, st.integers(0, 500))
remove = st.tuples(st.just("delete"), keys)
label = st.tuples(st.sampled_from(SUBS), st.sampled_from(("positive", "neutral", "negative")),
                  st.lists(st.sampled_from(THEMES), max_size=2, unique=True).map(tuple), st.booleans())
annotate = st.tuples(st.just("annotate"), st.dictionaries(keys, label, max_size=9),
                     st.dictionaries(st.sampled_from(("h0", "h1", "h2")), st.sampled_from(("radiologist", "organisation")), max_size=3))
review = st.tuples(st.just("decide"), keys, st.sampled_from(("confirmed", "dismissed")))
operations = st.lists(st.one_of(collect, engage, remove, annotate, review), min_size=1, max_size=7)


def _reset(db) -> list[int]:  # type: ignore[no-untyped-def]
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in ("alembic_version",):
                conn.execute(delete(table))
        ids = []
        for name in SOURCES:
            ids.append(conn.execute(insert(Source).values(
                name=name, platform="x", kind="hashtag", value=name, created_at=START).returning(Source.id)).scalar_one())
    return ids


def expected(db) -> dict[str, set]:  # type: ignore[no-untyped-def]
    """Every rollup table, aggregated in Python from the posts `public_where` selects."""
    daily: dict[tuple, list[int]] = defaultdict(lambda: [0] * 7)
    top: dict[tuple, int] = {}  # the most engaged post of each daily row
    authors: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    tags: dict[tuple, list] = defaultdict(lambda: [0, set()])
    arts: dict[tuple, list] = defaultdict(lambda: [0, set()])
    accounts: dict[tuple, list] = defaultdict(lambda: [0, 0, 0])  # (platform, author, day) -> posts, engagement, max
    by_type: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    edges: dict[tuple, int] = defaultdict(int)
    mentions: set[tuple] = set()
    with db.engine.connect() as conn:
        posts = conn.execute(select(*Post.__table__.c).where(public_where(PostFilters(), Post.__table__.c))).all()
        ann = {r.post_id: r for r in conn.execute(
            select(Annotation.post_id, Annotation.subspecialty, Annotation.sentiment, Annotation.themes)
            .where(Annotation.model_name == ANNOTATOR_NAME))}
        types = dict(((platform, ext), kind) for platform, ext, kind in
                     conn.execute(select(Author.platform, Author.external_id, Author.author_type)))
        srcs: dict[int, list[str]] = defaultdict(list)
        for post_id, name in conn.execute(select(PostSource.post_id, Source.name).join(Source, Source.id == PostSource.source_id)):
            srcs[post_id].append(name)
        cites: dict[int, list[int]] = defaultdict(list)
        for post_id, article_id in conn.execute(select(Mention.post_id, Mention.article_id)):
            cites[post_id].append(article_id)
        interactions = conn.execute(select(Interaction.post_id, Interaction.source, Interaction.target, Interaction.kind)).all()
    for p in posts:
        day = p.created_at.astimezone(dt.timezone.utc).date()
        a = ann.get(p.id)
        counts = {"like_count": p.like_count, "repost_count": p.repost_count, "reply_count": p.reply_count,
                  "quote_count": p.quote_count, "score": p.score}
        eng = engagement_of(p.platform, counts)
        values = [1, eng, p.like_count or 0, p.repost_count or 0, p.reply_count or 0, p.quote_count or 0, p.score or 0]
        atype = types.get((p.platform, p.author_external_id)) or ""
        sources = sorted(srcs[p.id]) or [""]
        themes = list(a.themes) if a is not None and a.themes else [""]
        for i, source in enumerate(sources):
            for j, theme in enumerate(themes):
                key = (day, p.platform, source, (a.subspecialty if a else None) or "", theme,
                       (a.sentiment if a else None) or "", atype, p.language or "", i == 0, j == 0)
                daily[key] = [x + y for x, y in zip(daily[key], values)]
                top[key] = max(top.get(key, eng), eng)
                if p.author_external_id is not None:
                    row = authors[(*key, p.author_external_id)]
                    row[0] += 1
                    row[1] += eng
        for tag in {t.lower() for t in p.hashtags or []}:
            tags[(day, p.platform, tag)][0] += 1
            tags[(day, p.platform, tag)][1].add(p.author_external_id)
        kind = "repost" if p.reposted_id else "reply" if p.in_reply_to_id else "original"
        for article_id in cites[p.id]:
            arts[(day, p.platform, article_id)][0] += 1
            arts[(day, p.platform, article_id)][1].add(p.author_external_id)
            mentions.add((day, p.id, article_id, p.platform, p.author_external_id, p.created_at, kind, p.like_count,
                          p.repost_count, p.reply_count))
        by_type[(day, p.platform, atype)][0] += 1
        by_type[(day, p.platform, atype)][1] += eng
        if p.author_external_id is not None:
            row = accounts[(p.platform, p.author_external_id, day)]
            row[0], row[1], row[2] = row[0] + 1, row[1] + eng, max(row[2], eng)
    public = {p.id: (p.created_at.astimezone(dt.timezone.utc).date(), p.platform) for p in posts}
    for post_id, source, target, kind in interactions:
        if post_id in public and target is not None and source != target:
            edges[(*public[post_id], source, target, kind)] += 1
    totals: dict[tuple, list] = defaultdict(lambda: [0, 0])
    months: dict[tuple, set] = defaultdict(set)
    for (platform, author, day), (n, eng, _) in accounts.items():
        atype = types.get((platform, author)) or ""
        totals[(platform, author, atype)][0] += n
        totals[(platform, author, atype)][1] += eng
        months[(day.replace(day=1), platform, atype)].add(author)
    return {
        "daily": {(*k, *v, top[k]) for k, v in daily.items()},
        "authors": {(*k, *v) for k, v in authors.items()},
        "hashtags": {(*k, n, len(who - {None})) for k, (n, who) in tags.items()},
        "articles": {(*k, n, len(who - {None})) for k, (n, who) in arts.items()},
        "hashtag_authors": {(tag, day, platform, who) for (day, platform, tag), (_, authors) in tags.items()
                            for who in authors - {None}},
        "accounts": {(*k, types.get(k[:2]) or "", *v) for k, v in accounts.items()},
        "account_totals": {(*k, *v) for k, v in totals.items()},
        "author_types": {(*k, *v) for k, v in by_type.items()},
        "author_type_months": {(*k, len(v)) for k, v in months.items()},
        "edges": {(*k, n) for k, n in edges.items()},
        "mentions": mentions,
    }


def stored(db) -> dict[str, set]:  # type: ignore[no-untyped-def]
    def rows(model, *cols):  # type: ignore[no-untyped-def]
        with db.engine.connect() as conn:
            return {tuple(bool(v) if isinstance(v, bool) else v for v in r)
                    for r in conn.execute(select(*(getattr(model, c) for c in cols)))}

    dims = ("day", "platform", "source", "subspecialty", "theme", "sentiment", "author_type", "language",
            "first_source", "first_theme")
    return {
        "daily": rows(RollupDaily, *dims, "posts", "engagement", "likes", "reposts", "replies", "quotes", "score",
                      "max_engagement"),
        "authors": rows(RollupAuthorDaily, *dims, "author_id", "posts", "engagement"),
        "hashtags": rows(RollupHashtagDaily, "day", "platform", "hashtag", "posts", "authors"),
        "articles": rows(RollupArticleDaily, "day", "platform", "article_id", "mentions", "authors"),
        "hashtag_authors": rows(RollupHashtagAuthorDaily, "hashtag", "day", "platform", "author_id"),
        "accounts": rows(RollupAccountDaily, "platform", "author_id", "day", "author_type", "posts", "engagement",
                         "max_engagement"),
        "account_totals": rows(RollupAccountTotal, "platform", "author_id", "author_type", "posts", "engagement"),
        "author_types": rows(RollupAuthorTypeDaily, "day", "platform", "author_type", "posts", "engagement"),
        "author_type_months": rows(RollupAuthorTypeMonthly, "month", "platform", "author_type", "accounts"),
        "edges": rows(RollupEdgeDaily, "day", "platform", "source", "target", "kind", "interactions"),
        "mentions": rows(RollupMentionDaily, "day", "post_id", "article_id", "platform", "author_id", "created_at", "kind",
                         "likes", "reposts", "replies"),
    }


def slice_months(db) -> set:  # type: ignore[no-untyped-def]
    """`rollup_slice_monthly` as stored."""
    from radpulse.db.models import RollupSliceMonthly as M

    with db.engine.connect() as conn:
        return {(r.dim, str(r.month)[:10], r.platform, r.value, r.sentiment, r.posts, r.engagement, r.likes, r.reposts,
                 r.replies, r.quotes, r.score, r.max_engagement) for r in conn.execute(select(M))}


def months_of_daily_slices(db) -> set:  # type: ignore[no-untyped-def]
    """`rollup_slice_daily` summed per calendar month here (what the monthly slices must hold)."""
    from radpulse.db.models import RollupSliceDaily as D

    sums: dict = {}
    with db.engine.connect() as conn:
        for r in conn.execute(select(D)):
            key = (r.dim, str(r.day)[:8] + "01", r.platform, r.value, r.sentiment)
            old = sums.get(key, (0,) * 7 + (0,))
            new = (r.posts, r.engagement, r.likes, r.reposts, r.replies, r.quotes, r.score)
            sums[key] = (*(a + b for a, b in zip(old[:7], new)), max(old[7], r.max_engagement))
    return {(*k, *v) for k, v in sums.items()}


def hashtag_sets(db) -> dict:  # type: ignore[no-untyped-def]
    """`rollup_hashtag_account_sets` as stored, each set read back as (platform, account) pairs."""
    from radpulse.db.hashtag_sets import unpack
    from radpulse.db.models import RollupAccountKey as K
    from radpulse.db.models import RollupHashtagAccountSet as S

    with db.engine.connect() as conn:
        keys = {n: (p, a) for n, p, a in conn.execute(select(K.id, K.platform, K.author_id))}
        rows = conn.execute(select(S.hashtag, S.day, S.platform, S.accounts)).all()
    out = {}
    for tag, day, platform, blob in rows:
        numbers = unpack(blob).tolist()
        assert numbers == sorted(set(numbers))  # stored sorted and distinct
        out[(tag, str(day)[:10], platform)] = {keys[n] for n in numbers}
    return out


def sets_of_hashtag_authors(db) -> dict:  # type: ignore[no-untyped-def]
    """The accounts of each (hashtag, day, platform) in `rollup_hashtag_author_daily`."""
    out: dict = {}
    with db.engine.connect() as conn:
        for tag, day, platform, author in conn.execute(select(RollupHashtagAuthorDaily.hashtag,
                                                               RollupHashtagAuthorDaily.day, RollupHashtagAuthorDaily.platform,
                                                               RollupHashtagAuthorDaily.author_id)):
            out.setdefault((tag, str(day)[:10], platform), set()).add((platform, author))
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=operations)
@example(ops=[("collect", [(1, 5, SOURCES[0], ("AI",), 0), (4, 9, SOURCES[1], (), None)]),
              ("annotate", {1: ("neuro", "positive", ("ai",), True)}, {}),
              ("decide", 0, "dismissed"), ("decide", 0, "confirmed"), ("delete", 4), ("engage", 1, 99)])
# p0 replies to p3 and mentions h3 before they are stored: the edge completed a day later is p0's day's
@example(ops=[("collect", [(0, 5, SOURCES[0], (), None)]), ("collect", [(3, 5, SOURCES[0], (), None)])])
def test_rollups_equal_a_fresh_aggregation_after_any_writes(db, ops):
    source_ids = _reset(db)
    seen: dict[int, PostRecord] = {}
    read = 0
    version = 0
    for op in ops:
        read += 1
        batch = Batch()
        source = None
        if op[0] == "collect":
            name = op[1][0][2]
            source = SourceSpec(name, "x", "hashtag", name, id=source_ids[SOURCES.index(name)])
            for k, likes, _, tags, cite in op[1]:
                seen[k] = post_record(k, likes, tags, cite, read)
                batch.posts.append(seen[k])
            batch.authors = [AuthorRecord(p.platform, p.author_external_id, handle=f"h{p.author_external_id[1:]}")
                             for p in batch.posts if p.author_external_id]
        elif op[0] == "engage" and op[1] in seen:
            old = seen[op[1]]
            batch.posts.append(post_record(op[1], op[2], tuple(old.hashtags), None, read))
        elif op[0] == "delete" and op[1] in seen:
            old = seen[op[1]]
            batch.posts.append(post_record(op[1], old.like_count or 0, tuple(old.hashtags), None, read, deleted=True))
        elif op[0] == "annotate":
            version += 1
            with db.engine.connect() as conn:
                ids = dict(conn.execute(select(Post.external_id, Post.id)).all())
            labels = {ids[f"p{k}"]: v for k, v in op[1].items() if f"p{k}" in ids}
            analyze(db, StandInAnnotator(version, labels, op[2]), batch_size=4)
        elif op[0] == "decide":  # on the k-th flagged post, if any
            with db.engine.connect() as conn:
                flagged = [(post_id, flags) for post_id, flags in conn.execute(
                    select(Annotation.post_id, Annotation.flags).order_by(Annotation.post_id)) if flags]
            if flagged:
                post_id, flags = flagged[op[1] % len(flagged)]
                decide(db, post_id, flags[0], op[2], "checked by hand", reviewer="test")
        if batch.posts:  # what collect_sources and refresh_platforms do per source, then once per run
            consume(db, [batch], RunSummary(source=source.name if source else "refresh", platform="x"), source=source,
                    after_batch=STEPS)
            refresh_stale_rollups(db)
        assert stored(db) == expected(db), op
        assert slice_months(db) == months_of_daily_slices(db), op
        assert hashtag_sets(db) == sets_of_hashtag_authors(db), op
    with db.engine.connect() as conn:
        assert conn.execute(select(RollupStaleDay.day)).all() == []  # every mark was refreshed


def test_the_property_sees_every_kind_of_row(db):
    """The aggregation above is not vacuous: a cited, tagged, annotated post fills every table."""
    source_ids = _reset(db)
    spec = SourceSpec(SOURCES[0], "x", "hashtag", SOURCES[0], id=source_ids[0])
    batch = Batch(posts=[post_record(1, 10, ("RSNA2026", "AI"), 0, 1)], authors=[AuthorRecord("reddit", "a1", handle="h1")])
    consume(db, [batch], RunSummary(source=spec.name, platform="x"), source=spec, after_batch=STEPS)
    refresh_stale_rollups(db)
    with db.engine.connect() as conn:
        post_id = conn.execute(select(Post.id)).scalar_one()
    analyze(db, StandInAnnotator(1, {post_id: ("neuro", "positive", ("ai", "education"), False)}, {"h1": "radiologist"}))
    got = stored(db)
    assert got == expected(db)
    day = created_at(1).date()
    assert got["daily"] == {
        (day, "reddit", SOURCES[0], "neuro", "ai", "positive", "radiologist", "de", True, True, 1, 11, 10, 0, 1, 0, 10, 11),
        (day, "reddit", SOURCES[0], "neuro", "education", "positive", "radiologist", "de", True, False, 1, 11, 10, 0, 1, 0, 10, 11),
    }
    assert got["hashtags"] == {(day, "reddit", "rsna2026", 1, 1), (day, "reddit", "ai", 1, 1)}
    assert got["hashtag_authors"] == {("rsna2026", day, "reddit", "a1"), ("ai", day, "reddit", "a1")}
    with db.engine.connect() as conn:
        article_id = conn.execute(select(Article.id)).scalar_one()
    assert got["articles"] == {(day, "reddit", article_id, 1, 1)}
    (mention,) = got["mentions"]
    record = batch.posts[0]
    assert mention[:4] == (day, post_id, article_id, "reddit")
    assert mention[6] == ("repost" if record.reposted_id else "reply" if record.in_reply_to_id else "original")


def stored_mentions(db) -> set:  # type: ignore[no-untyped-def]
    return stored(db)["mentions"]


def expected_mentions(db) -> set:  # type: ignore[no-untyped-def]
    return expected(db)["mentions"]
