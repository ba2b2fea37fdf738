"""The People and account pages' numbers equal the SQL truth on the posts (SQLite and PostgreSQL):
top accounts (read by their totals' bound), the author-type mix (whole and partial months),
one account's activity and most engaged posts, and the network read from the edge rollup
equals the network read from the live edges."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest
from sqlalchemy import insert, text, true

from radpulse.analysis.pipeline import ANNOTATOR_NAME
from radpulse.dashboards import data
from radpulse.db.models import Annotation
from radpulse.db.queries import PostFilters, network
from radpulse.db.rollups import rebuild_rollups
from radpulse.db.store import upsert_authors, upsert_posts
from radpulse.records import AuthorRecord, PostRecord

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 8, 20, 7, tzinfo=UTC)
PLATFORMS = ("x", "reddit", "bluesky")
TYPES = ("radiologist", "trainee", "organisation", None)
ACCOUNTS = 14  # account i is on PLATFORMS[i % 3]; a few post a lot, with skewed engagement


def _seed(db) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(11)
    authors = [AuthorRecord(PLATFORMS[i % 3], f"a{i}", handle=f"h{i}", display_name=f"Dr {i}") for i in range(ACCOUNTS)]
    posts = []
    for k in range(260):
        i = min(int(rng.paretovariate(0.9)) - 1, ACCOUNTS - 1) if k % 9 else rng.randrange(ACCOUNTS)
        when = T0 + dt.timedelta(hours=rng.randrange(0, 24 * 110))  # about 3.5 months
        platform = PLATFORMS[i % 3]
        likes = int(rng.paretovariate(1.2) * 3) if rng.random() < 0.9 else 0
        earlier = [p for p in posts if p.platform == platform and p.author_external_id != f"a{i}"]
        kw = {}
        if earlier and rng.random() < 0.5:
            kw["in_reply_to_id"] = rng.choice(earlier).external_id
        if rng.random() < 0.4:
            kw["mentions"] = [f"h{j}" for j in rng.sample(range(ACCOUNTS), 2) if j % 3 == i % 3] or ["nobody"]
        posts.append(PostRecord(platform, f"p{k}", f"post {k}", when, author_external_id=None if k % 37 == 0 else f"a{i}",
                                like_count=likes, reply_count=k % 3, score=likes if platform == "reddit" else None,
                                is_deleted=k % 41 == 5, **kw))
    with db.engine.begin() as conn:
        upsert_authors(conn, authors)
        ids = upsert_posts(conn, posts).ids
        conn.execute(text("UPDATE authors SET author_type = :t WHERE external_id = :a"),
                     [{"t": TYPES[i % 4], "a": f"a{i}"} for i in range(ACCOUNTS)])
        conn.execute(insert(Annotation), [
            {"post_id": ids[(p.platform, p.external_id)], "model_name": ANNOTATOR_NAME, "model_version": "1",
             "subspecialty": ("neuro", "chest", None)[k % 3], "sentiment": "neutral", "subspecialties": [], "themes": [],
             "flags": ["privacy_risk"] if k % 23 == 4 else [], "annotated_at": T0} for k, p in enumerate(posts)])
    rebuild_rollups(db)


TRUTH = ("FROM posts p LEFT JOIN authors au ON au.platform = p.platform AND au.external_id = p.author_external_id"
         " WHERE p.is_deleted = :f AND p.created_at >= :s AND p.created_at < :e AND p.platform IN :platforms"
         " AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.post_id = p.id AND CAST(a.flags AS TEXT) <> '[]')")
ENGAGEMENT = ("CASE WHEN p.platform = 'reddit' THEN COALESCE(p.score, 0) + COALESCE(p.reply_count, 0) ELSE"
              " COALESCE(p.like_count, 0) + COALESCE(p.repost_count, 0) + COALESCE(p.reply_count, 0)"
              " + COALESCE(p.quote_count, 0) END")


def _truth(db, sql: str, f: PostFilters) -> list[tuple]:  # type: ignore[no-untyped-def]
    from sqlalchemy import bindparam

    query = text(sql.replace("{from}", TRUTH).replace("{engagement}", ENGAGEMENT)).bindparams(
        bindparam("platforms", expanding=True))
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query, {"f": False, "s": f.start, "e": f.end,
                                                       "platforms": list(f.platforms or PLATFORMS)})]


def _day(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=UTC)


WINDOWS = [
    PostFilters(start=_day(2026, 8, 1), end=_day(2026, 12, 1)),  # everything: whole months
    PostFilters(start=_day(2026, 8, 25), end=_day(2026, 11, 3)),  # partial months at both ends, whole ones between
    PostFilters(start=_day(2026, 9, 10), end=_day(2026, 9, 24), platforms=("x", "bluesky")),
    PostFilters(start=_day(2026, 10, 2), end=_day(2026, 10, 3)),  # one day
]


@pytest.mark.parametrize("limit", [1, 3, 20])
def test_top_accounts_equal_the_sql_ranking(db, limit):
    _seed(db)
    for f in WINDOWS:
        got = data.top_accounts(db, f, limit=limit)
        truth = _truth(db, "SELECT p.platform, p.author_external_id, COUNT(*) AS n, SUM({engagement}) AS e {from}"
                           " AND p.author_external_id IS NOT NULL GROUP BY p.platform, p.author_external_id"
                           " ORDER BY e DESC, n DESC, p.platform, p.author_external_id", f)[:limit]
        assert list(got[["platform", "author_id", "posts", "engagement"]].itertuples(index=False, name=None)) == truth, f
        assert got["handle"].tolist() == [f"h{a[1:]}" for a in got["author_id"]]
    typed = dataclasses.replace(WINDOWS[1], author_types=("trainee",))
    assert set(data.top_accounts(db, typed, limit=50)["author_type"]) == {"trainee"}


def test_the_author_type_mix_equals_the_sql_counts(db):
    _seed(db)
    # an account typed "unknown" beside accounts with no type and posts with no author: one group
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE authors SET author_type = 'unknown' WHERE external_id = 'a1'"))
    rebuild_rollups(db)
    for f in WINDOWS:
        got = data.author_type_mix(db, f).set_index("author_type")
        assert got.index.is_unique, f
        weekly = data.volume_by(db, f, period="week", dims=("author_type",))
        assert not weekly.duplicated(["period", "author_type"]).any(), f
        posts = dict(_truth(db, "SELECT COALESCE(au.author_type, 'unknown'), COUNT(*) {from} GROUP BY 1", f))
        seen: dict[tuple[str, str], set[str]] = {}  # (type, month) -> accounts
        for kind, account, when in _truth(db, "SELECT COALESCE(au.author_type, 'unknown'), p.platform || ':' ||"
                                              " p.author_external_id, p.created_at {from}"
                                              " AND p.author_external_id IS NOT NULL", f):
            when = when if isinstance(when, dt.datetime) else dt.datetime.fromisoformat(when).replace(tzinfo=UTC)
            seen.setdefault((kind, when.astimezone(UTC).strftime("%Y-%m")), set()).add(account)
        busiest: dict[str, int] = {}
        for (kind, _), accounts in seen.items():
            busiest[kind] = max(busiest.get(kind, 0), len(accounts))
        assert got["posts"].to_dict() == posts, f
        assert got["accounts"].to_dict() == {k: busiest.get(k, 0) for k in posts}, f
        assert got["posts"].is_monotonic_decreasing
        # a drill-down clause reads the posts: the same numbers
        assert data.author_type_mix(db, dataclasses.replace(f, extra=(true(),))).equals(got.reset_index())


def test_an_accounts_activity_and_most_engaged_posts_equal_the_sql(db):
    _seed(db)
    for f in WINDOWS[:3]:
        for account in ("a0", "a1", "a4"):
            platform = PLATFORMS[int(account[1:]) % 3]
            mine = f" AND p.platform = '{platform}' AND p.author_external_id = '{account}'"
            activity = data.account_volume(db, f, platform, account, period="month", dims=("subspecialty",))
            summed = activity.groupby("subspecialty")[["posts", "engagement"]].sum()
            assert {k: (int(r.posts), int(r.engagement)) for k, r in summed.iterrows()} == _subspecialties(db, f, mine)
            weekly = data.account_volume(db, f, platform, account, period="week", dims=("platform",))
            assert set(weekly["platform"]) <= {platform} and weekly["posts"].sum() == sum(
                n for n, _ in _subspecialties(db, f, mine).values())
            top = data.account_top_posts(db, f, platform, account, limit=4)
            expected = _truth(db, "SELECT p.id, {engagement} AS e {from}" + mine + " ORDER BY e DESC, p.id LIMIT 4", f)
            assert [(r.id, r.engagement) for r in top] == expected
            live = data.account_top_posts(db, dataclasses.replace(f, extra=(true(),)), platform, account, limit=4)
            assert [(r.id, r.engagement) for r in live] == expected


def _subspecialties(db, f: PostFilters, mine: str) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    joined = TRUTH.replace("LEFT JOIN authors", "LEFT JOIN annotations an ON an.post_id = p.id LEFT JOIN authors")
    sql = "SELECT COALESCE(an.subspecialty, 'not annotated'), COUNT(*), SUM({engagement}) " + joined + mine + " GROUP BY 1"
    return {s: (int(n), int(e)) for s, n, e in _truth(db, sql, f)}


def test_the_network_from_the_edge_rollup_equals_the_live_network(db):
    _seed(db)
    for f in WINDOWS:
        live = dataclasses.replace(f, extra=(true(),))  # a drill-down clause: read live
        assert network.on_rollup(f) and not network.on_rollup(live)
        edges = network.edges(db, f)
        assert not edges.empty or f is WINDOWS[3]
        assert edges.equals(network.edges(db, live))
        network.clear_influence_cache()
        ranked, again = network.influence(db, f, limit=8), network.influence(db, live, limit=8)
        assert ranked.drop(columns="pagerank").equals(again.drop(columns="pagerank"))
        assert ranked["pagerank"].tolist() == pytest.approx(again["pagerank"].tolist(), rel=1e-9)
        for account in ("a0", "a2"):
            platform = PLATFORMS[int(account[1:]) % 3]
            assert network.account_interactions(db, platform, account, f).equals(
                network.account_interactions(db, platform, account, live))
