"""The collector runner: batches committed with their cursor, failures isolated and recorded."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from radpulse.collectors import registry
from radpulse.collectors.base import Collector
from radpulse.collectors.runner import collect_sources, load_cursor, run_source
from radpulse.db.models import Author, CollectionRun, Post, PostSource, Quarantine, Source
from radpulse.errors import RateLimited
from radpulse.records import Batch, PostRecord, Quarantined, SourceSpec

T0 = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)


class FakeCollector(Collector):
    """Serves pages 0..n-1 of 3 posts each after the cursor; can crash after some batches."""

    platform = "fake"
    kinds = ("query",)
    pages = 4
    crash_after: int | None = None
    likes = 1

    def collect(self, source: SourceSpec, cursor) -> Iterator[Batch]:  # type: ignore[no-untyped-def]
        start = (cursor or {}).get("page", -1) + 1
        for page in range(start, self.pages):
            if self.crash_after is not None and page == self.crash_after:
                raise RuntimeError("connection reset in the middle of paging")
            posts = [
                PostRecord("fake", f"{page}-{k}", f"text {page}-{k}", T0, like_count=self.likes,
                           metrics_read_at=T0 + dt.timedelta(minutes=self.likes))
                for k in range(3)
            ]
            yield Batch(posts=posts, cursor={"page": page})


class NeedsToken(FakeCollector):
    platform = "needs-token"
    required_env = ("FAKE_TOKEN",)


class RateLimitedCollector(FakeCollector):
    platform = "limited"

    def collect(self, source, cursor):  # type: ignore[no-untyped-def]
        yield Batch(posts=[PostRecord("limited", "1", "t", T0)], cursor={"page": 0},
                    quarantined=[Quarantined(raw={"id": "2"}, error="missing created_at", external_id="2")])
        raise RateLimited("429 Too Many Requests from the fake API", reset_at=0)


@pytest.fixture
def fake_platforms(monkeypatch):
    registry._load()
    for cls in (FakeCollector, NeedsToken, RateLimitedCollector):
        monkeypatch.setitem(registry._REGISTRY, cls.platform, cls)


def make_source(db, name: str, platform: str) -> SourceSpec:
    with db.session() as s:
        row = Source(name=name, platform=platform, kind="query", value="q", settings={}, created_at=T0)
        s.add(row)
        s.flush()
        return SourceSpec(name, platform, "query", "q", {}, row.id)


def count_posts(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Post)).scalar()


def test_run_records_counts_cursor_and_source_links(db, settings, fake_platforms):
    src = make_source(db, "fake:q", "fake")
    summary = run_source(db, FakeCollector(settings), src)
    assert (summary.status, summary.fetched, summary.new, summary.updated) == ("success", 12, 12, 0)
    assert load_cursor(db, src.id) == {"page": 3}
    with db.engine.connect() as conn:
        run = conn.execute(select(CollectionRun)).one()
        links = conn.execute(select(func.count()).select_from(PostSource)).scalar()
    assert (run.status, run.new, run.fetched, run.finished_at is not None) == ("success", 12, 12, True)
    assert links == 12


def test_crash_after_n_batches_keeps_cursor_at_last_commit_and_resumes_without_gap_or_duplicate(db, settings, fake_platforms):
    src = make_source(db, "fake:q", "fake")
    crashing = FakeCollector(settings)
    crashing.crash_after = 2
    summary = run_source(db, crashing, src)
    assert summary.status == "failed" and "connection reset" in summary.error
    assert load_cursor(db, src.id) == {"page": 1}
    assert count_posts(db) == 6
    again = run_source(db, FakeCollector(settings), src)
    assert again.status == "success" and again.new == 6
    with db.engine.connect() as conn:
        ids = sorted(conn.execute(select(Post.external_id)).scalars())
    assert ids == sorted(f"{p}-{k}" for p in range(4) for k in range(3))


def test_rerun_over_same_payloads_stores_each_post_once_with_latest_metrics(db, settings, fake_platforms):
    src = make_source(db, "fake:q", "fake")
    run_source(db, FakeCollector(settings), src)
    with db.engine.begin() as conn:  # forget the cursor: the same pages are served again
        conn.exec_driver_sql("DELETE FROM source_cursors")
    newer = FakeCollector(settings)
    newer.likes = 9
    summary = run_source(db, newer, src)
    assert (summary.new, summary.updated) == (0, 12)
    with db.engine.connect() as conn:
        likes = set(conn.execute(select(Post.like_count)).scalars())
    assert count_posts(db) == 12 and likes == {9}


def test_one_failing_source_never_stops_the_others(db, settings, fake_platforms):
    specs = [make_source(db, "needs-token:q", "needs-token"), make_source(db, "limited:q", "limited"),
             make_source(db, "fake:q", "fake"), make_source(db, "nowhere:q", "nowhere")]
    results = {r.source: r for r in collect_sources(db, settings, specs)}
    assert results["needs-token:q"].status == "not_configured"
    assert "set FAKE_TOKEN" in results["needs-token:q"].error
    assert results["limited:q"].status == "rate_limited" and results["limited:q"].failed == 1
    assert results["fake:q"].status == "success" and results["fake:q"].new == 12
    assert results["nowhere:q"].status == "failed" and "No collector for platform 'nowhere'" in results["nowhere:q"].error
    with db.engine.connect() as conn:
        q = conn.execute(select(Quarantine.error, Quarantine.raw, Quarantine.external_id)).one()
        statuses = dict(conn.execute(select(CollectionRun.source_name, CollectionRun.status)).all())
    assert tuple(q) == ("missing created_at", {"id": "2"}, "2")
    assert statuses["limited:q"] == "rate_limited" and statuses["nowhere:q"] == "failed"
    assert count_posts(db) == 13


def test_pages_are_grouped_into_commits_and_a_crash_in_storage_rolls_back_only_the_group(db, settings, fake_platforms):
    src = make_source(db, "fake:q", "fake")
    grouped = settings.model_copy(deep=True)
    grouped.database.commit_items = 6  # two pages of 3 per transaction
    commits = []

    def crash_on_second_commit(conn, batch, ids):  # type: ignore[no-untyped-def]
        commits.append(batch.cursor)
        if len(commits) == 2:
            raise RuntimeError("disk full while storing")

    summary = run_source(db, FakeCollector(grouped), src, after_batch=[crash_on_second_commit])
    assert summary.status == "failed" and "disk full" in summary.error
    assert commits == [{"page": 1}, {"page": 3}]  # each commit carries its last page's cursor
    assert load_cursor(db, src.id) == {"page": 1} and count_posts(db) == 6
    again = run_source(db, FakeCollector(grouped), src)
    assert again.status == "success" and again.new == 6 and count_posts(db) == 12


def test_pages_received_before_a_collector_error_are_committed(db, settings, fake_platforms):
    src = make_source(db, "fake:q", "fake")
    grouped = settings.model_copy(deep=True)
    grouped.database.commit_items = 1000
    crashing = FakeCollector(grouped)
    crashing.crash_after = 3
    summary = run_source(db, crashing, src)
    assert summary.status == "failed" and summary.new == 9
    assert load_cursor(db, src.id) == {"page": 2} and count_posts(db) == 9


def test_an_author_on_many_pages_is_written_once_per_run_unless_the_profile_changed(db, settings, fake_platforms, monkeypatch):
    from radpulse.collectors import runner
    from radpulse.records import AuthorRecord

    class Authored(FakeCollector):
        def collect(self, source, cursor):  # type: ignore[no-untyped-def]
            followers = [10, 10, 11, 11]  # the profile changes between the 2nd and 3rd page
            for page, batch in enumerate(super().collect(source, cursor)):
                batch.authors = [AuthorRecord("fake", "rad1", handle="rad1", followers=followers[page],
                                              raw={"id": "rad1", "note": "Neuroradiologist 🧠"})]
                yield batch

    written: list[list[int | None]] = []
    real_upsert = runner.upsert_authors

    def spy(conn, records, **kw):  # type: ignore[no-untyped-def]
        written.append([a.followers for a in records])
        return real_upsert(conn, records, **kw)

    monkeypatch.setattr(runner, "upsert_authors", spy)
    src = make_source(db, "fake:q", "fake")
    per_page = settings.model_copy(deep=True)
    per_page.database.commit_items = 0  # one transaction per page
    assert run_source(db, Authored(per_page), src).status == "success"
    assert written == [[10], [], [11], []]
    with db.engine.connect() as conn:
        stored = conn.execute(select(Author.followers, Author.raw)).one()
    assert tuple(stored) == (11, {"id": "rad1", "note": "Neuroradiologist 🧠"})
    written.clear()
    with db.engine.begin() as conn:  # a new run writes the profile again, once
        conn.exec_driver_sql("DELETE FROM source_cursors")
    run_source(db, Authored(per_page), src)
    assert written == [[10], [], [11], []]


def test_collection_checkpoints_the_wal_into_the_database_file_as_it_goes(tmp_path, settings, fake_platforms):
    """Background checkpoints: once a run is over its posts are in the database file itself."""
    import shutil
    import sqlite3

    from radpulse.db.engine import open_database

    db = open_database(f"sqlite:///{tmp_path / 'radpulse.db'}")
    try:
        src = make_source(db, "fake:q", "fake")
        per_page = settings.model_copy(deep=True)
        per_page.database.commit_items = 0
        assert run_source(db, FakeCollector(per_page), src).new == 12
        # SQLite's own checkpoint would wait for 16,384 pages of WAL: without the background
        # checkpoints these posts would still live in radpulse.db-wal only
        shutil.copy(tmp_path / "radpulse.db", tmp_path / "file-only.db")
        with contextlib.closing(sqlite3.connect(tmp_path / "file-only.db")) as conn:
            assert conn.execute("SELECT count(*) FROM posts").fetchone() == (12,)
    finally:
        db.dispose()


def test_background_checkpoints_are_a_no_op_off_sqlite_files(db):
    with db.background_checkpoints() as checkpoint:
        checkpoint()  # PostgreSQL, or SQLite in memory: nothing to do, nothing raised


def test_runs_leave_the_garbage_collector_as_they_found_it(db, settings, fake_platforms):
    """No gc.freeze(): a long-running scheduler would exempt more objects after every run."""
    src = make_source(db, "fake:q", "fake")
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    crashing = FakeCollector(settings)
    crashing.crash_after = 2
    for collector in (FakeCollector(settings), crashing, FakeCollector(settings)):
        run_source(db, collector, src)
        assert gc.get_freeze_count() == frozen
        assert gc.get_threshold() == thresholds
