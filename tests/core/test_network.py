"""The conversation network: edges written at collection equal what the stored posts imply,
held and deleted posts' edges stay out, PageRank equals networkx's, the ranking cache follows
new edges (SQLite and PostgreSQL). Each reader is checked on both of its paths: windows of
whole days read `rollup_edge_daily` (refreshed here as collection would), others the live edges."""

from __future__ import annotations

import datetime as dt
import random

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, insert, select, update

from radpulse.db.edges import rebuild_edges
from radpulse.db.models import Annotation, Interaction, Post, ReviewDecision
from radpulse.db.queries import network
from radpulse.db.queries.filters import PostFilters
from radpulse.db.queries.privacy import ANNOTATOR_NAME
from radpulse.db.rollups import day_of, mark_days, rebuild_rollups, refresh_stale_rollups
from radpulse.db.store import upsert_authors, upsert_posts
from radpulse.records import AuthorRecord, PostRecord

T = dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc)
#: not whole days: read from the live edges
WEEK = PostFilters(start=T - dt.timedelta(days=3), end=T + dt.timedelta(days=4))
#: whole days: read from rollup_edge_daily
DAYS = PostFilters(start=dt.datetime(2026, 11, 17, tzinfo=dt.timezone.utc), end=dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc))


@pytest.fixture(params=["live", "rollup"])
def window(request) -> PostFilters:  # type: ignore[no-untyped-def]
    f = WEEK if request.param == "live" else DAYS
    assert network.on_rollup(f) == (request.param == "rollup")
    return f


def post(ext: str, author: str | None, platform: str = "x", **kw) -> PostRecord:  # type: ignore[no-untyped-def]
    return PostRecord(platform, ext, f"post {ext}", T + dt.timedelta(minutes=len(ext)), author_external_id=author, **kw)


def store(db, posts=(), authors=()) -> dict:  # type: ignore[no-untyped-def]
    """Store, marking the posts' days, then refresh the stale days (what collection does)."""
    with db.engine.begin() as conn:
        if authors:
            upsert_authors(conn, list(authors))
        ids = upsert_posts(conn, list(posts)).ids if posts else {}
        mark_days(conn, {day_of(p.created_at) for p in posts})
    refresh_stale_rollups(db)
    return ids


def stored_edges(db) -> list[tuple]:  # type: ignore[no-untyped-def]
    c = Interaction.__table__.c
    with db.engine.connect() as conn:
        return sorted((tuple(r) for r in conn.execute(select(c.post_id, c.source, c.target, c.kind))), key=repr)


def public_edges(db, f: PostFilters) -> set[tuple]:  # type: ignore[no-untyped-def]
    return {(s, t, k, w) for s, t, k, w in network.edges(db, f).itertuples(index=False, name=None)}


def test_replies_quotes_reposts_and_mentions_become_edges_in_any_arrival_order(db, window):
    store(db, authors=[AuthorRecord("x", "1", handle="Alice"), AuthorRecord("x", "2", handle="bob")])
    ids = store(db, [
        post("a1", "1", mentions=["BOB", "carol"]),         # bob by handle (any case), carol unknown yet
        post("b1", "2", in_reply_to_id="a1"),                # reply to a stored post
        post("b2", "2", in_reply_to_id="c1"),                # reply to a post not stored yet
        post("b3", "2", reposted_id="a1"),
        post("a2", "1", quoted_id="b1"),
        post("b4", "2", in_reply_to_id="b1"),                # a thread: self-reply, stored, never read
        post("z1", None, mentions=["bob"]),                  # unknown author: no edge
        PostRecord("bluesky", "at://did:plc:q/app.bsky.feed.post/1", "q", T, author_external_id="did:plc:q",
                   quoted_id="at://did:plc:r/app.bsky.feed.post/9", mentions=["did:plc:s"]),
    ])
    assert public_edges(db, window) == {
        ("x:1", "x:2", "mention", 1), ("x:1", "x:@carol", "mention", 1), ("x:2", "x:1", "reply", 1),
        ("x:2", "x:1", "repost", 1), ("x:1", "x:2", "quote", 1),
        ("bluesky:did:plc:q", "bluesky:did:plc:r", "quote", 1), ("bluesky:did:plc:q", "bluesky:did:plc:s", "mention", 1),
    }
    waiting = [e for e in stored_edges(db) if e[2] is None]
    assert waiting == [(ids[("x", "b2")], "x:2", None, "reply")]
    # the replied post and carol's profile arrive later: both edges are completed
    store(db, [post("c1", "3")], authors=[AuthorRecord("x", "3", handle="Carol")])
    got = public_edges(db, window)
    assert ("x:2", "x:3", "reply", 1) in got and ("x:1", "x:3", "mention", 1) in got
    assert not any(t == "x:@carol" for _, t, _, _ in got)
    before = stored_edges(db)
    assert rebuild_edges(db) == len(before)
    assert [e[1:] for e in stored_edges(db)] == [e[1:] for e in before]


def test_edges_completed_later_reach_the_rollup_of_their_own_day(db):
    """A reply stored a day before the post it answers, and a mention of a handle whose profile
    comes later: completing them marks the reply's day, which only the edge rollup reads."""
    store(db, [post("r1", "1", in_reply_to_id="o1"), post("m1", "1", mentions=["later"])],
          authors=[AuthorRecord("x", "1", handle="one")])
    assert public_edges(db, DAYS) == {("x:1", "x:@later", "mention", 1)}
    store(db, [PostRecord("x", "o1", "the answered post", T + dt.timedelta(days=2), author_external_id="2")])
    assert public_edges(db, DAYS) == {("x:1", "x:@later", "mention", 1), ("x:1", "x:2", "reply", 1)}
    store(db, authors=[AuthorRecord("x", "3", handle="Later")])  # a profile, no post: no day of its own
    assert public_edges(db, DAYS) == {("x:1", "x:3", "mention", 1), ("x:1", "x:2", "reply", 1)}
    assert public_edges(db, DAYS) == public_edges(db, WEEK)


def test_edges_follow_updates_and_deletions_and_equal_a_rebuild(db, window):
    rng = random.Random(7)
    store(db, authors=[AuthorRecord("x", str(i), handle=f"user{i}") for i in range(6)])
    for step in range(12):
        batch = []
        for _ in range(8):
            n = rng.randrange(30)
            kw = {}
            if rng.random() < 0.5:
                kw["in_reply_to_id"] = f"p{rng.randrange(30)}"
            if rng.random() < 0.3:
                kw["reposted_id"] = f"p{rng.randrange(30)}"
            if rng.random() < 0.5:
                kw["mentions"] = [f"USER{rng.randrange(8)}" for _ in range(rng.randrange(1, 3))]
            batch.append(post(f"p{n}", str(n % 6), is_deleted=rng.random() < 0.1, **kw))
        store(db, batch)
    incremental = [e[1:] for e in stored_edges(db)]
    # every reply/repost/mention of the stored rows, computed here from the posts themselves
    with db.engine.connect() as conn:
        rows = conn.execute(select(Post.external_id, Post.author_external_id, Post.in_reply_to_id, Post.reposted_id,
                                   Post.mentions)).all()
    author_of = {ext: a for ext, a, *_ in rows}
    expected = []
    for ext, author, reply, repost, mentions in rows:
        for ref, kind in ((reply, "reply"), (repost, "repost")):
            if ref:
                expected.append((f"x:{author}", f"x:{author_of[ref]}" if ref in author_of else None, kind))
        for m in mentions:
            n = int(m[4:])
            expected.append((f"x:{author}", f"x:{n}" if n < 6 else f"x:@{m.lower()}", "mention"))
    assert sorted(incremental, key=repr) == sorted(expected, key=repr)
    rebuild_edges(db)
    assert sorted((e[1:] for e in stored_edges(db)), key=repr) == sorted(incremental, key=repr)
    # deleted posts' edges are stored but never read
    with db.engine.connect() as conn:
        deleted = {a for a, in conn.execute(select(Post.id).where(Post.is_deleted.is_(True)))}
    readable = [e for e in stored_edges(db) if e[2] is not None and e[1] != e[2] and e[0] not in deleted]
    assert deleted and int(network.edges(db, window)["weight"].sum()) == len(readable)
    # a post removed from the database takes its edges with it
    victim = readable[0][0]
    with db.engine.begin() as conn:
        conn.execute(delete(Post).where(Post.id == victim))
    assert victim not in {e[0] for e in stored_edges(db)}


def test_held_posts_edges_are_left_out_until_released(db, window):
    ids = store(db, [post("a", "1"), post("b", "2", in_reply_to_id="a"), post("c", "3", mentions=["someone"])],
                authors=[AuthorRecord("x", "1", handle="one")])
    with db.engine.begin() as conn:
        conn.execute(insert(Annotation), [{"post_id": ids[("x", "b")], "model_name": ANNOTATOR_NAME, "model_version": "1",
                                           "flags": ["privacy_risk"], "subspecialties": [], "themes": [],
                                           "annotated_at": T}])
    rebuild_rollups(db)  # what the analysis does after flagging (it marks the post's day)
    assert public_edges(db, window) == {("x:3", "x:@someone", "mention", 1)}
    assert network.account_interactions(db, "x", "1", window).empty
    assert network.influence(db, window)["account"].tolist() == ["x:@someone", "x:3"]
    with db.engine.begin() as conn:
        conn.execute(insert(ReviewDecision), [{"post_id": ids[("x", "b")], "flag": "privacy_risk",
                                               "decision": "dismissed", "reason": "no patient", "decided_at": T}])
    rebuild_rollups(db)  # what `review.decide` does (it refreshes the post's day)
    assert ("x:2", "x:1", "reply", 1) in public_edges(db, window)
    assert "x:2" in set(network.influence(db, window)["account"])  # a new decision invalidates the cache
    assert ("x:2", "x:1", "reply", 1) not in public_edges(db, PostFilters(start=T + dt.timedelta(days=5)))


def test_pagerank_of_a_known_graph_matches_networkx(db, window):
    # weighted edges of a small graph, each made of that many interactions
    known = {("1", "2"): 3, ("2", "3"): 1, ("3", "1"): 2, ("4", "1"): 1, ("4", "3"): 2, ("5", "4"): 1, ("1", "3"): 1}
    posts, n = [], 0
    for (s, t), w in known.items():
        for _ in range(w):
            n += 1
            posts.append(post(f"m{n}", s, mentions=[f"h{t}"]))
    store(db, posts, authors=[AuthorRecord("x", str(i), handle=f"h{i}", display_name=f"Dr {i}", followers=10 * i)
                              for i in range(1, 6)])
    g = nx.DiGraph()
    g.add_weighted_edges_from((f"x:{s}", f"x:{t}", w) for (s, t), w in known.items())
    expected = nx.pagerank(g, weight="weight", tol=1e-12)
    got = network.influence(db, window, limit=10)
    assert dict(zip(got["account"], got["pagerank"])) == pytest.approx(expected)
    assert got["pagerank"].is_monotonic_decreasing and got["rank"].tolist() == list(range(1, 6))
    top = got.iloc[0]
    assert top["handle"] == f"h{top['account'][2:]}" and top["followers"] == 10 * int(top["account"][2:])
    assert int(got.set_index("account").loc["x:5", "posts"]) == 1
    built = network.graph(db, window)
    assert {(s, t): d["weight"] for s, t, d in built.edges(data=True)} == {
        (f"x:{s}", f"x:{t}"): w for (s, t), w in known.items()}
    assert built.nodes["x:1"]["handle"] == "h1"
    ties = network.account_interactions(db, "x", "4", window)
    assert set(ties[["account", "direction", "weight"]].itertuples(index=False, name=None)) == {
        ("x:1", "out", 1), ("x:3", "out", 2), ("x:5", "in", 1)}


def test_pagerank_equals_networkx_on_a_random_graph_with_dangling_nodes_and_repeated_edges():
    rng = np.random.default_rng(3)
    n, m = 300, 900
    sources, targets = rng.integers(0, n, m), rng.integers(0, n // 2, m)  # nodes >= n/2 have no in-edges
    sources[:50] = targets[:50]  # a few self-loops; nodes never named as a source are dangling
    weights = rng.integers(1, 4, m)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for s, t, w in zip(sources.tolist(), targets.tolist(), weights.tolist()):
        g.add_edge(s, t, weight=g.get_edge_data(s, t, {"weight": 0})["weight"] + w)
    expected = nx.pagerank(g, weight="weight", tol=1e-13, max_iter=1000)
    got = network.pagerank(sources, targets, weights, n)
    assert any(g.out_degree(i) == 0 for i in range(n))
    assert got.tolist() == pytest.approx([expected[i] for i in range(n)], rel=1e-6)
    assert got.sum() == pytest.approx(1.0)


def test_influence_is_cached_until_new_edges_arrive(db, monkeypatch):
    network.clear_influence_cache()
    store(db, [post("a", "1", mentions=["b"]), post("bb", "2", mentions=["b"])])
    calls = []
    real = network._influence
    monkeypatch.setattr(network, "_influence", lambda *a: calls.append(1) or real(*a))
    first = network.influence(db, WEEK)
    again = network.influence(db, WEEK)
    assert len(calls) == 1 and first.equals(again)
    assert len(network.influence(db, PostFilters(start=WEEK.start, end=WEEK.end, platforms=("x",)))) == 3
    assert len(calls) == 2  # another filter: computed
    store(db, [post("ccc", "3", mentions=["a1"])])
    assert "x:@a1" in set(network.influence(db, WEEK)["account"]) and len(calls) == 3
    with db.engine.begin() as conn:  # a change without new edges is served from the cache until the TTL
        conn.execute(update(Post).where(Post.external_id == "ccc").values(is_deleted=True))
    assert "x:@a1" in set(network.influence(db, WEEK)["account"]) and len(calls) == 3
    network.clear_influence_cache()
    assert "x:@a1" not in set(network.influence(db, WEEK)["account"])


def test_an_empty_window_gives_empty_frames(db, window):
    assert network.edges(db, window).columns.tolist() == ["source", "target", "kind", "weight"]
    assert network.influence(db, window).empty and network.graph(db, window).number_of_nodes() == 0
    assert network.account_interactions(db, "x", "1", window).empty


def test_an_accounts_interactions_are_its_edges_summed_on_the_rollup_and_on_stale_days(db):
    """The account page sums each direction in the database on the rollup and the stale days
    live: the same weights as the window's edge list summed by hand, for busy and quiet accounts."""
    from radpulse.demo import build_demo

    build_demo(db, posts=600, end=dt.date(2026, 11, 27))
    rebuild_rollups(db)
    with db.engine.begin() as conn:  # two days written since the refresh: read live
        mark_days(conn, [dt.date(2026, 11, 20), dt.date(2026, 11, 25)])
    for f in (PostFilters(start=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)),
              PostFilters(start=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), platforms=("x",)),
              PostFilters(start=dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC))):  # not on the rollup
        edges = network.edges(db, f)
        busiest = edges.groupby("source")["weight"].sum().sort_values().index[-3:].tolist()
        for key in busiest:
            platform, _, ident = key.partition(":")
            expected: dict = {}
            for row in edges.itertuples():
                if row.source == key:
                    expected[(row.target, "out", row.kind)] = expected.get((row.target, "out", row.kind), 0) + row.weight
                if row.target == key:
                    expected[(row.source, "in", row.kind)] = expected.get((row.source, "in", row.kind), 0) + row.weight
            got = network.account_interactions(db, platform, ident, f)
            assert {(a, d, k): w for a, d, k, w in got[["account", "direction", "kind", "weight"]].itertuples(
                index=False, name=None)} == expected and len(expected) > 0


def test_influence_reads_arrow_in_a_helper_process_and_equals_the_row_read(db, monkeypatch, helper_reads):
    """On the SQLite rollup the edges are read into Arrow by a helper process: this process (the
    dashboard's, beside its SQLAlchemy connections) never opens the file with ADBC's own copy of
    SQLite. The ranking, scores and counts are those of the row-by-row read (also with stale days
    read live, and on PostgreSQL, which reads rows)."""
    from radpulse.db import arrow_read
    from radpulse.demo import build_demo

    build_demo(db, posts=600, end=dt.date(2026, 11, 27))
    rebuild_rollups(db)
    with db.engine.begin() as conn:
        mark_days(conn, [dt.date(2026, 11, 20)])
    for f in (PostFilters(start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
              PostFilters(start=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), platforms=("x", "bluesky"))):
        network.clear_influence_cache()
        arrow = network.influence(db, f)
        with monkeypatch.context() as m:
            m.setattr(arrow_read, "available", lambda: False)
            network.clear_influence_cache()
            rows = network.influence(db, f)
        pd.testing.assert_frame_equal(arrow, rows)
        assert len(arrow) > 5
    assert len(helper_reads) == (2 if db.dialect == "sqlite" else 0)
    network.clear_influence_cache()
