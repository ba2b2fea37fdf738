"""Rollups: the migration with data, the CLI rebuild, the demo, and the days a refresh touches."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, insert, inspect, select

from radpulse.cli.main import cli
from radpulse.db.engine import downgrade, open_database, upgrade
from radpulse.db.models import Post, RollupDaily, RollupHashtagDaily, RollupStaleDay
from radpulse.db.queries import PostFilters
from radpulse.db.queries.rollups import hashtag_accounts, totals, volume_by
from radpulse.db.rollups import rebuild_rollups, refresh_rollups, refresh_stale_rollups
from radpulse.db.store import upsert_posts
from radpulse.demo import build_demo
from radpulse.records import PostRecord

UTC = dt.timezone.utc


def _post(n: int, when: dt.datetime, likes: int = 1) -> PostRecord:
    return PostRecord(platform="x", external_id=f"m{n}", text=f"post {n} #RSNA", created_at=when,
                      author_external_id=f"u{n % 2}", like_count=likes, hashtags=["RSNA"], metrics_read_at=when)


def test_upgrading_a_database_with_posts_marks_their_days_for_the_next_refresh(db_url):
    db = open_database(db_url, migrate=False)
    downgrade(db.engine, "base")  # PostgreSQL's test database comes migrated
    upgrade(db.engine, "0003")
    days = [dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC), dt.datetime(2026, 3, 2, 0, 30, tzinfo=UTC)]
    with db.engine.begin() as conn:  # the posts table as revision 0003 has it (no store: it writes newer tables)
        conn.execute(insert(Post.__table__), [
            {"platform": "x", "external_id": f"m{i}", "author_external_id": f"u{i}", "created_at": when,
             "like_count": 1, "links": [], "hashtags": [], "mentions": [], "has_media": False, "is_deleted": False,
             "synthetic": False, "first_seen_at": when, "collected_at": when, "text_changed_at": when}
            for i, when in enumerate(days)])
    upgrade(db.engine)
    assert "daily_rollups" not in inspect(db.engine).get_table_names()
    with db.engine.connect() as conn:
        assert set(conn.execute(select(RollupStaleDay.day)).scalars()) == {dt.date(2026, 3, 1), dt.date(2026, 3, 2)}
    assert refresh_stale_rollups(db) == 2
    assert totals(db)["posts"] == 2 and totals(db)["accounts"] == 2
    assert list(volume_by(db).posts) == [1, 1]
    db.dispose()


def test_upgrading_to_the_hashtag_account_rollup_marks_the_days_and_counts_accounts_exactly(db_url):
    db = open_database(db_url, migrate=False)
    downgrade(db.engine, "base")
    upgrade(db.engine, "0004n")
    days = [dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC), dt.datetime(2026, 3, 2, 0, 30, tzinfo=UTC),
            dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)]
    with db.engine.begin() as conn:  # u0 tags #RSNA on both days, u1 once: 2 accounts, 3 account-days
        conn.execute(insert(Post.__table__), [
            {"platform": "x", "external_id": f"m{i}", "author_external_id": f"u{min(i, 1) if i < 2 else 0}",
             "created_at": when, "like_count": 1, "links": [], "hashtags": ["RSNA"], "mentions": [],
             "has_media": False, "is_deleted": False, "synthetic": False, "first_seen_at": when, "collected_at": when,
             "text_changed_at": when} for i, when in enumerate(days)])
    upgrade(db.engine)
    with db.engine.connect() as conn:
        assert set(conn.execute(select(RollupStaleDay.day)).scalars()) == {dt.date(2026, 3, 1), dt.date(2026, 3, 2)}
    refresh_stale_rollups(db)
    assert hashtag_accounts(db, PostFilters(), ["#rsna"]).values.tolist() == [["rsna", 2]]
    assert hashtag_accounts(db, PostFilters(), ["rsna"], period="day")["accounts"].tolist() == [1, 2]
    db.dispose()


@pytest.mark.parametrize("before, table, stored, expected", [
    ("0012p", "rollup_slice_monthly", "slice_months", "months_of_daily_slices"),
    ("0013s", "rollup_hashtag_account_sets", "hashtag_sets", "sets_of_hashtag_authors"),
    ("0014h", "rollup_mention_daily", "stored_mentions", "expected_mentions"),
])
def test_upgrading_to_a_derived_rollup_fills_it_from_the_rollup_it_is_kept_from(db_url, before, table, stored, expected):
    """The monthly slices (0013s), the hashtag account sets (0014h) and the mention rollup
    (0015m) are filled by their migrations: an upgraded database needs no rebuild."""
    from tests.core import test_rollups_property as prop

    db = open_database(db_url)
    build_demo(db, posts=400, end=dt.date(2026, 11, 27))
    want = getattr(prop, expected)(db)
    assert getattr(prop, stored)(db) == want and len(want) > 20  # kept by the demo's rebuild
    downgrade(db.engine, before)
    assert table not in inspect(db.engine).get_table_names()
    upgrade(db.engine)
    assert getattr(prop, stored)(db) == want
    db.dispose()


def test_a_refresh_recomputes_only_the_days_it_is_given(db):
    when = dt.datetime(2026, 5, 10, 12, tzinfo=UTC)
    with db.engine.begin() as conn:
        upsert_posts(conn, [_post(1, when, likes=3), _post(2, when + dt.timedelta(days=1), likes=5)])
    rebuild_rollups(db)
    with db.engine.begin() as conn:  # a write that bypasses every hook
        conn.execute(Post.__table__.update().values(like_count=100))
    refresh_rollups(db, {when.date()})
    by_day = volume_by(db)
    assert dict(zip(by_day.period, by_day.likes)) == {when.date(): 100, when.date() + dt.timedelta(days=1): 5}
    with db.engine.begin() as conn:  # in the caller's transaction: rolled back with it
        refresh_rollups(conn, {when.date() + dt.timedelta(days=1)})
        conn.rollback()
    assert volume_by(db).likes.tolist() == [100, 5]


def test_cli_rebuilds_the_rollups_with_json_output(db_url):
    db = open_database(db_url)
    when = dt.datetime(2026, 6, 1, 8, tzinfo=UTC)
    with db.engine.begin() as conn:
        upsert_posts(conn, [_post(1, when), _post(2, when + dt.timedelta(days=2))])
    result = CliRunner().invoke(cli, ["--database-url", db_url, "db", "rebuild-rollups", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["days"] == 3  # first to last day, empty ones included
    with db.engine.connect() as conn:
        assert conn.execute(select(RollupHashtagDaily.hashtag, func.sum(RollupHashtagDaily.posts))
                            .group_by(RollupHashtagDaily.hashtag)).all() == [("rsna", 2)]
    with db.engine.begin() as conn:
        conn.execute(delete(RollupDaily))
    result = CliRunner().invoke(cli, ["--database-url", db_url, "db", "rebuild-rollups"])
    assert result.exit_code == 0 and "Rebuilt the rollups of 3 days" in result.output
    assert totals(db)["posts"] == 2
    db.dispose()


def test_rebuilding_the_rollups_of_an_empty_database_rebuilds_nothing_and_succeeds(db_url):
    db = open_database(db_url)
    with db.engine.begin() as conn:
        conn.execute(delete(Post))
    result = CliRunner().invoke(cli, ["--database-url", db_url, "db", "rebuild-rollups", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["days"] == 0
    assert totals(db)["posts"] == 0
    db.dispose()


def test_the_demo_fills_the_rollups(db):
    build_demo(db, posts=800, end=dt.date(2026, 11, 27))
    with db.engine.connect() as conn:
        public = conn.execute(select(func.count()).select_from(Post)).scalar_one()  # nothing annotated: none held
    assert totals(db)["posts"] == public == 800
    assert totals(db, PostFilters(platforms=("reddit",)))["posts"] > 0


def _lag_truth(conn) -> dict[tuple, int]:  # type: ignore[no-untyped-def]
    """(day, platform, lag) -> accounts with a public post in [day - lag, day], by brute force over
    the (platform, account, day) activity, for every day the lag table holds."""
    from radpulse.db.models import MAX_ACCOUNT_LAG, RollupAccountDaily, RollupAccountsLag

    active = [(p, a, d if isinstance(d, dt.date) else dt.date.fromisoformat(d)) for p, a, d in conn.execute(
        select(RollupAccountDaily.platform, RollupAccountDaily.author_id, RollupAccountDaily.day))]
    days = {d if isinstance(d, dt.date) else dt.date.fromisoformat(d)
            for d in conn.execute(select(RollupAccountsLag.day).distinct()).scalars()}
    truth = {}
    for day in days:
        for platform in {p for p, _, _ in active}:
            ago = {}
            for p, a, d in active:
                if p == platform and d <= day:
                    ago[a] = min(ago.get(a, 10**6), (day - d).days)
            for lag in range(MAX_ACCOUNT_LAG + 1):
                truth[(day, platform, lag)] = sum(1 for v in ago.values() if v <= lag)
    return truth


def _lag_stored(conn) -> dict[tuple, int]:  # type: ignore[no-untyped-def]
    from radpulse.db.models import RollupAccountsLag as L

    return {(d if isinstance(d, dt.date) else dt.date.fromisoformat(d), p, k): n
            for d, p, k, n in conn.execute(select(L.day, L.platform, L.lag, L.accounts))}


def test_the_accounts_by_lag_equal_a_brute_force_count_after_a_rebuild_and_after_a_refresh(db):
    build_demo(db, posts=300, end=dt.date(2026, 11, 27))
    rebuild_rollups(db)
    with db.engine.connect() as conn:
        stored, truth = _lag_stored(conn), _lag_truth(conn)
    assert stored == {k: v for k, v in truth.items() if k in stored} and len(stored) == len(truth)
    # a day in the middle loses its posts: that day and every later one change, earlier ones not
    with db.engine.connect() as conn:
        days = sorted({dt.date.fromisoformat(str(v)[:10]) for v in conn.execute(select(Post.created_at)).scalars()})
    middle = days[len(days) // 2]
    with db.engine.begin() as conn:
        lo = dt.datetime(middle.year, middle.month, middle.day, tzinfo=UTC)
        conn.execute(delete(Post).where(Post.created_at >= lo, Post.created_at < lo + dt.timedelta(days=1)))
    refresh_rollups(db, [middle])
    with db.engine.connect() as conn:
        after, truth = _lag_stored(conn), _lag_truth(conn)
    assert after == {k: v for k, v in truth.items() if k in after} and len(after) == len(truth)
    assert any(after[k] != stored[k] for k in after if k[0] >= middle)
    assert all(after[k] == stored[k] for k in after if k[0] < middle)


def test_a_collection_run_leaves_the_rollups_current_even_when_a_source_crashes(db, settings, monkeypatch):
    from radpulse.collectors import registry
    from radpulse.collectors.base import Collector
    from radpulse.collection import after_batch_steps
    from radpulse.collectors.runner import collect_sources
    from radpulse.db.models import Source
    from radpulse.records import Batch, SourceSpec

    class Pages(Collector):
        platform = "fake"
        kinds = ("query",)

        def collect(self, source, cursor):  # type: ignore[no-untyped-def]
            for page in range(3):
                when = dt.datetime(2026, 5, 1 + page, 9, tzinfo=UTC)
                yield Batch(posts=[_post(10 * page + k, when) for k in range(2)], cursor={"page": page})
            raise RuntimeError("connection reset after the third page")

    registry._load()
    monkeypatch.setitem(registry._REGISTRY, "fake", Pages)
    with db.session() as s:
        row = Source(name="fake:q", platform="fake", kind="query", value="q", settings={},
                     created_at=dt.datetime(2026, 5, 1, tzinfo=UTC))
        s.add(row)
        s.flush()
        spec = SourceSpec("fake:q", "fake", "query", "q", {}, row.id)
    [summary] = collect_sources(db, settings, [spec], after_batch=after_batch_steps())  # as the CLI and scheduler
    assert summary.status == "failed" and summary.new == 6
    frame = volume_by(db, dims=("source",))
    assert frame.posts.tolist() == [2, 2, 2] and set(frame.source) == {"fake:q"}
    with db.engine.connect() as conn:
        assert conn.execute(select(RollupStaleDay.day)).all() == []


def test_linking_stored_posts_afterwards_refreshes_the_article_rollups(db):
    """`radpulse articles link` (after an import or an upgrade) adds mentions: their days are redone."""
    from radpulse.db.queries.rollups import articles
    from radpulse.literature.linking import link_all

    when = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
    posts = [PostRecord("x", f"c{i}", f"see doi:10.1148/radiol.2026{i % 2}", when, author_external_id=f"a{i}")
             for i in range(5)]
    with db.engine.begin() as conn:
        upsert_posts(conn, posts)  # stored without the collection's linking step
    rebuild_rollups(db)
    assert articles(db, PostFilters()).empty
    result = link_all(db)
    assert result.mentions == 5
    top = articles(db, PostFilters())
    assert sorted(top["mentions"].tolist()) == [2, 3]


def test_a_refresh_that_would_wait_for_another_process_leaves_the_days_marked_for_the_next(pg_url):
    from sqlalchemy import text

    from radpulse.db.rollups import ROLLUP_LOCK_KEY, mark_days
    from tests.conftest import _empty_pg

    _empty_pg(pg_url)
    db, other = open_database(pg_url), open_database(pg_url)
    day = dt.datetime(2026, 3, 1, 9, tzinfo=UTC)
    with db.engine.begin() as conn:
        upsert_posts(conn, [_post(1, day)], now=day)
        mark_days(conn, [day.date()])
    with other.engine.connect() as holder:  # another process is refreshing
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ROLLUP_LOCK_KEY})
        assert refresh_stale_rollups(db, wait=False) == 0  # not waited for
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ROLLUP_LOCK_KEY})
        holder.commit()
    with db.engine.connect() as conn:
        assert list(conn.execute(select(RollupStaleDay.day)).scalars()) == [day.date()]  # still marked
    assert refresh_stale_rollups(db, wait=False) == 1  # nobody else refreshing: done
    assert totals(db)["posts"] == 1
    db.dispose()
    other.dispose()


def test_a_refresh_reads_sqlite_through_a_memory_map_and_leaves_the_connection_as_it_was(db):
    from sqlalchemy import event

    build_demo(db, posts=200, end=dt.date(2026, 11, 27))
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: seen.append(statement) if "mmap_size" in statement else None)
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            conn.exec_driver_sql("PRAGMA mmap_size=65536")
        refresh_rollups(conn, [dt.date(2026, 11, 26)])
        if db.dialect == "sqlite":
            assert conn.exec_driver_sql("PRAGMA mmap_size").scalar() == 65536
    # SQLite maps the file for the refresh; PostgreSQL is left alone
    assert any("mmap_size=2147483648" in s for s in seen) == (db.dialect == "sqlite")
    with db.engine.connect() as conn:  # the refresh still counts every post
        assert conn.execute(select(func.sum(RollupDaily.posts)).where(
            RollupDaily.day == dt.date(2026, 11, 26), RollupDaily.first_source.is_(True),
            RollupDaily.first_theme.is_(True))).scalar() is not None
