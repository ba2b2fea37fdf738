"""Figure functions on known data: the numbers they draw equal the SQL truth (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
from sqlalchemy import insert, text

from radpulse.analysis.pipeline import ANNOTATOR_NAME
from radpulse.dashboards import data, figures
from radpulse.db.models import Annotation, Article, Mention
from radpulse.db.queries import PostFilters
from radpulse.db.rollups import rebuild_rollups
from radpulse.db.store import upsert_posts
from radpulse.records import PostRecord

T0 = dt.datetime(2026, 10, 1, 9, tzinfo=dt.timezone.utc)  # a Thursday
SENTIMENTS = ("positive", "neutral", "negative")


def _seed(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    platforms = ("x", "reddit", "bluesky")
    records = [PostRecord(platforms[i % 3], f"p{i}", f"post {i}", T0 + dt.timedelta(hours=13 * i),
                          author_external_id=f"a{i % 7}", like_count=i, hashtags=["Radiology"] + (["AI"] if i % 4 == 0 else []))
               for i in range(60)]
    with db.engine.begin() as conn:
        ids = upsert_posts(conn, records).ids
        rows = [{"post_id": ids[(r.platform, r.external_id)], "model_name": ANNOTATOR_NAME, "model_version": "1",
                 "sentiment": SENTIMENTS[(i // 3) % 3], "subspecialty": "neuro" if i % 2 else "chest",
                 "subspecialties": [], "themes": [], "annotated_at": T0,
                 "flags": ["privacy_risk"] if i == 5 else []} for i, r in enumerate(records)]
        conn.execute(insert(Annotation), rows)
        conn.execute(text("UPDATE posts SET is_deleted = :t WHERE external_id = 'p7'"), {"t": True})
    rebuild_rollups(db)  # as collection and analysis leave them (rows were written behind their back)
    return {k[1]: v for k, v in ids.items()}


TRUTH_WHERE = ("p.is_deleted = :f AND p.created_at >= :s AND p.created_at < :e AND NOT EXISTS "
               "(SELECT 1 FROM annotations a WHERE a.post_id = p.id AND a.flags <> '[]' AND a.flags IS NOT NULL)")


def _truth(db, sql: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    where = TRUTH_WHERE.replace("a.flags <> '[]'", "CAST(a.flags AS TEXT) <> '[]'")
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql.replace("{where}", where)),
                                               {"f": False, "s": T0 - dt.timedelta(days=1), "e": T0 + dt.timedelta(days=40)})]


def _window() -> PostFilters:
    return PostFilters(start=T0 - dt.timedelta(days=1), end=T0 + dt.timedelta(days=40))


def test_posts_over_time_by_platform_draws_the_sql_counts(db):
    _seed(db)
    frame = data.volume_by(db, _window(), period="week", dims=("platform",))
    fig = figures.over_time(frame, y="posts", title="Posts", unit="posts", period="week",
                            window=(dt.date(2026, 9, 30), dt.date(2026, 11, 9)))
    drawn: dict[str, float] = {}
    seen: set[tuple[str, str]] = set()
    for trace in fig.data:  # a partial period is drawn again next to its neighbour: count each point once
        for x, y in zip(trace.x, trace.y):
            if (trace.legendgroup, str(x)) not in seen:
                seen.add((trace.legendgroup, str(x)))
                drawn[trace.legendgroup] = drawn.get(trace.legendgroup, 0) + y
    truth = dict(_truth(db, "SELECT p.platform, COUNT(*) FROM posts p WHERE {where} GROUP BY p.platform"))
    assert drawn == {k: float(v) for k, v in truth.items()}
    assert sum(truth.values()) == 58  # the deleted and the held post are not drawn
    assert fig.layout.yaxis.title.text == "posts per week" and fig.layout.title.text == "Posts"
    assert any("partial week" in (a.text or "") for a in fig.layout.annotations)


def test_accounts_per_period_equal_distinct_platform_accounts(db):
    _seed(db)
    frame = data.accounts_by(db, _window(), period="month")
    truth = _truth(db, "SELECT COUNT(DISTINCT p.platform || ':' || p.author_external_id) FROM posts p WHERE {where}")
    # October and November together: each month counts its own distinct accounts
    assert frame["accounts"].max() <= truth[0][0]
    assert data.totals(db, _window())["accounts"] == truth[0][0]


def test_hashtag_bars_equal_the_sql_counts_case_folded(db):
    _seed(db)
    fig = figures.hashtag_figure(data.hashtags(db, _window()))
    drawn = dict(zip(fig.data[0].y, fig.data[0].x))
    truth = _truth(db, "SELECT COUNT(*), SUM(CASE WHEN p.hashtags LIKE '%\"AI\"%' THEN 1 ELSE 0 END) FROM posts p "
                       "WHERE {where}") if db.dialect == "sqlite" else _truth(
        db, "SELECT COUNT(*), SUM(CASE WHEN p.hashtags ? 'AI' THEN 1 ELSE 0 END) FROM posts p WHERE {where}")
    assert drawn == {"#radiology": truth[0][0], "#ai": truth[0][1]}


def test_hashtag_accounts_equal_distinct_sql_accounts_per_window_and_week(db):
    _seed(db)
    has = (lambda tag: f"p.hashtags LIKE '%\"{tag}\"%'") if db.dialect == "sqlite" else (lambda tag: f"p.hashtags ? '{tag}'")
    key = "p.platform || ':' || p.author_external_id"
    for tag in ("Radiology", "AI"):
        got = data.hashtags(db, _window(), tags=[tag])
        truth = _truth(db, f"SELECT COUNT(*), COUNT(DISTINCT {key}) FROM posts p WHERE {{where}} AND {has(tag)}")
        assert got[["posts", "accounts"]].values.tolist() == [list(truth[0])]
        weekly = data.hashtags(db, _window(), tags=[tag], period="week")
        week = data.period_expr(db, "week", text("p.created_at")).compile(db.engine, compile_kwargs={"literal_binds": True})
        truth = _truth(db, f"SELECT {week}, COUNT(*), COUNT(DISTINCT {key}) FROM posts p WHERE {{where}} AND {has(tag)} "
                           f"GROUP BY {week} ORDER BY 1")
        assert [(str(p.date()), n, a) for p, n, a in weekly[["period", "posts", "accounts"]].itertuples(index=False)] == [
            (str(w)[:10], n, a) for w, n, a in truth]
        if tag == "Radiology":  # an account active in two weeks counts in each
            assert weekly["accounts"].sum() > got["accounts"].iloc[0]


def test_example_posts_are_each_cells_most_engaged_public_post(db):
    ids = _seed(db)
    with db.engine.begin() as conn:  # the held and the deleted post would top their cells if they counted
        conn.execute(text("UPDATE posts SET like_count = 1000 WHERE external_id IN ('p5', 'p7')"))
        conn.execute(text("UPDATE posts SET like_count = 52 WHERE external_id = 'p44'"))  # a tie with p52: lowest id wins
        conn.execute(text("UPDATE posts SET score = like_count WHERE platform = 'reddit'"))  # engagement = likes everywhere
    rebuild_rollups(db)
    got = data.example_posts(db, _window(), cells=2)  # from the rollups' top day per cell
    ranked = data.example_posts(db, dataclasses.replace(_window(), extra=(text("1 = 1"),)), cells=2)  # every post ranked
    assert got.to_dict("records") == ranked.to_dict("records")
    assert len(got) == 6 and not {ids["p5"], ids["p7"]} & set(got["id"]) and ids["p44"] in set(got["id"])
    for row in got.itertuples():
        truth = _truth(db, "SELECT MAX(p.like_count) FROM posts p JOIN annotations a ON a.post_id = p.id "
                           f"WHERE {{where}} AND a.sentiment = '{row.sentiment}' AND a.subspecialty = '{row.subspecialty}'")
        assert row.engagement == truth[0][0]


def test_annotated_posts_count_the_public_annotated_posts(db):
    _seed(db)
    truth = _truth(db, "SELECT COUNT(*) FROM posts p JOIN annotations a ON a.post_id = p.id WHERE {where}")[0][0]
    assert data.annotated_posts(db, _window()) == truth == 58  # from the rollups
    assert data.annotated_posts(db, dataclasses.replace(_window(), extra=(text("1 = 1"),))) == truth  # from posts
    assert data.annotated_posts(db, PostFilters(start=T0 + dt.timedelta(days=60), end=T0 + dt.timedelta(days=61))) == 0


def test_article_attention_weighs_originals_replies_and_reposts(db):
    with db.engine.begin() as conn:
        records = [PostRecord("x", "orig", "a paper", T0, author_external_id="a1", like_count=3),
                   PostRecord("x", "again", "the paper again", T0, author_external_id="a1"),  # a1 counts once
                   PostRecord("x", "reply", "re: paper", T0, author_external_id="a2", in_reply_to_id="orig"),
                   PostRecord("x", "repost", "", T0, author_external_id="a3", reposted_id="orig")]
        ids = upsert_posts(conn, records).ids
        article_id = conn.execute(insert(Article).values(key="doi:10.1/x", doi="10.1/x", title="X", first_seen_at=T0,
                                                         updated_at=T0).returning(Article.id)).scalar_one()
        conn.execute(insert(Mention), [{"post_id": i, "article_id": article_id, "kind": "doi", "matched": "10.1/x",
                                        "created_at": T0} for i in ids.values()])
    got = data.article_attention(db, _window()).iloc[0]
    # x weighs 1: the original 1 + log2(1 + 3) / 4 = 1.5, the reply 0.5, the repost 0.25
    assert (got["score"], got["mentions"], got["unique_authors"], got["mentions_x"]) == (2.25, 4, 3, 4)
    assert got["first_mention"] == pd.Timestamp(T0)


def test_sentiment_shares_by_platform_equal_the_sql_shares(db):
    _seed(db)
    frame = data.volume_by(db, _window(), period="month", dims=("platform", "sentiment"))
    fig = figures.grouped_shares(frame, x="platform", by="sentiment", title="Sentiment by platform")
    truth = _truth(db, "SELECT p.platform, a.sentiment, COUNT(*) FROM posts p JOIN annotations a ON a.post_id = p.id "
                       "WHERE {where} GROUP BY p.platform, a.sentiment")
    totals = pd.DataFrame(truth, columns=["platform", "sentiment", "n"]).groupby("platform")["n"].sum()
    for trace in fig.data:
        for platform, share in zip(trace.y, trace.x):
            n = dict(((p, s), c) for p, s, c in truth).get((platform, trace.name), 0)
            assert round(0 if pd.isna(share) else share, 6) == round(100 * n / totals[platform], 6)
    assert fig.layout.xaxis.title.text == "share of posts (%)"


def test_partial_periods_are_the_first_and_last_uncovered_ones():
    assert figures.partial_periods(dt.date(2026, 10, 1), dt.date(2026, 10, 31), "week") == [
        (dt.date(2026, 9, 28), 4, 7), (dt.date(2026, 10, 26), 6, 7)]
    assert figures.partial_periods(dt.date(2026, 10, 1), dt.date(2026, 11, 30), "month") == []
    assert figures.partial_periods(dt.date(2026, 10, 1), dt.date(2026, 10, 31), "day") == []


def test_labels_from_the_internet_are_escaped_and_empty_figures_explain():
    fig = figures.ranked_bars(pd.DataFrame({"label": ["<b>x</b>"], "posts": [3]}), label="label", value="posts",
                              title="T", unit="posts")
    assert fig.data[0].y[0] == "&lt;b&gt;x&lt;/b&gt;"
    empty = figures.over_time(pd.DataFrame(), y="posts", title="T", unit="posts", period="day", empty_message="why")
    assert empty.layout.annotations[0].text == "why"
    assert "<div" not in figures.html_bars(pd.DataFrame({"l": ["<div>"], "v": [1]}), label="l", value="v",
                                           title="t", unit="u").split("</td>")[0].split(">", 3)[-1]


def test_hashtag_comparison_counts_accounts_from_the_sets_as_the_posts_say(db):
    """The hashtag page's volume per period and totals: distinct accounts come from unions of the
    hashtag account sets; they equal the distinct accounts counted from the public posts
    themselves, per period and over the window, with and without a platform filter."""
    from sqlalchemy import select

    from radpulse.db.models import Post
    from radpulse.db.queries import public_where
    from radpulse.db.queries.rollups import _period_start

    _seed(db)
    tags = ["radiology", "ai", "nosuchtag"]
    for f in (_window(), dataclasses.replace(_window(), platforms=("x",))):
        with db.engine.connect() as conn:
            posts = conn.execute(select(Post.platform, Post.author_external_id, Post.created_at, Post.hashtags)
                                 .where(public_where(f))).all()
        for period in ("day", "week", "month"):
            over, totals = data.hashtag_comparison(db, f, tags, period)
            want_over: dict = {}
            want_totals: dict = {}
            for platform, author, created, hashtags in posts:
                if author is None:
                    continue
                day = created.astimezone(dt.timezone.utc).date()
                for tag in {t.lower() for t in hashtags or []} & set(tags):
                    want_over.setdefault((_period_start(day, period), tag), set()).add((platform, author))
                    want_totals.setdefault(tag, set()).add((platform, author))
            assert dict(zip(zip(pd.to_datetime(over["period"]).dt.date, over["hashtag"]), over["accounts"])) == \
                {k: len(v) for k, v in want_over.items()}
            assert dict(zip(totals["hashtag"], totals["accounts"])) == {k: len(v) for k, v in want_totals.items()}
            assert set(totals["hashtag"]) == {"radiology", "ai"} and (totals["accounts"] > 0).all()
            # integers on both databases (PostgreSQL sums bigints as numeric): the page ranks them
            assert over["posts"].dtype == totals["posts"].dtype == over["accounts"].dtype == "int64"
            assert over.groupby("hashtag")["accounts"].sum().ge(totals.set_index("hashtag")["accounts"]).all()
