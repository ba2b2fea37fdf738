"""Running collectors: one collection run per source, batch by batch, failures isolated.

Each batch is written in one transaction together with the source's new cursor and the run's
counters, so a crash loses at most the batch in flight and the next run resumes after the last
committed batch.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from radpulse.collectors.base import Collector
from radpulse.collectors.registry import get_collector
from radpulse.collectors.runs import (  # noqa: F401 - re-exported: the runner's public names
    JOB_DEADLINE, RunSummary, check_budget, finish_run, interrupted_runs, mark_interrupted_runs,
    record_job_failure, start_run,
)
from radpulse.config import Settings
from radpulse.db.engine import Database
from radpulse.db.models import ApiUsage, CollectionRun, Post, Quarantine, SourceCursor
from radpulse.db.rollups import refresh_stale_rollups
from radpulse.db.store import insert_for, upsert_articles, upsert_authors, upsert_posts
from radpulse.errors import CollectorError, JobTimeout
from radpulse.records import Batch, MergeRule, PostRef, SourceSpec, utcnow

log = logging.getLogger(__name__)

#: a step run after each batch is stored, in the batch's transaction: step(conn, batch, post_ids),
#: post_ids mapping (platform, external_id) to the stored post's id. The caller (the CLI, the
#: scheduler) passes the steps in, e.g. linking posts to the papers they cite and marking the days whose
#: rollups the batch changed (radpulse.collection.after_batch_steps).
AfterBatch = Callable[[Connection, Batch, dict[Any, int]], None]


def current_period(now: dt.datetime | None = None) -> str:
    return (now or utcnow()).strftime("%Y-%m")


def api_units_spent(db: Database, platform: str, period: str | None = None) -> int:
    """Billable units spent on `platform` in the calendar month `period` (default: this one)."""
    with db.engine.connect() as conn:
        units = conn.execute(
            select(ApiUsage.units).where(ApiUsage.platform == platform, ApiUsage.period == (period or current_period()))
        ).scalar()
    return int(units or 0)


def load_cursor(db: Database, source_id: int) -> dict[str, Any] | None:
    with db.engine.connect() as conn:
        return conn.execute(select(SourceCursor.cursor).where(SourceCursor.source_id == source_id)).scalar()


def write_batch(
    conn: Connection, batch: Batch, *, source: SourceSpec | None, run_id: int | None,
    after_batch: Sequence[AfterBatch] = (),
    merge_rule: MergeRule = MergeRule(),
) -> tuple[int, int]:
    """Store one batch (authors, posts, articles, quarantined items, cursor), then run the
    `after_batch` steps in the same transaction; returns (new, updated). `merge_rule` is the
    collector's rule for posts already stored."""
    now = utcnow()
    upsert_authors(conn, batch.authors, now=now)
    posts = upsert_posts(conn, batch.posts, now=now, source_id=source.id if source else None, rule=merge_rule)
    arts = upsert_articles(conn, batch.articles, now=now)
    if batch.quarantined:
        conn.execute(
            Quarantine.__table__.insert(),
            [
                {"source_id": source.id if source else None, "run_id": run_id,
                 "platform": source.platform if source else "import", "external_id": q.external_id,
                 "error": q.error, "raw": q.raw, "created_at": now}
                for q in batch.quarantined
            ],
        )
    if batch.cursor is not None and source is not None and source.id is not None:
        ins = insert_for(conn, SourceCursor.__table__)
        conn.execute(
            ins.values(source_id=source.id, cursor=batch.cursor, updated_at=now).on_conflict_do_update(
                index_elements=["source_id"], set_={"cursor": ins.excluded.cursor, "updated_at": ins.excluded.updated_at}
            )
        )
    if batch.api_units and source is not None:
        ins = insert_for(conn, ApiUsage.__table__)
        conn.execute(
            ins.values(platform=source.platform, period=current_period(now), units=batch.api_units).on_conflict_do_update(
                index_elements=["platform", "period"], set_={"units": ApiUsage.__table__.c.units + ins.excluded.units}
            )
        )
    for step in after_batch:
        step(conn, batch, posts.ids)
    return posts.new + arts.new, posts.updated + arts.updated


def _json_text(raw: Any) -> bytes | None:
    """A payload's JSON text as UTF-8 bytes (bytes are that text already); None stays None."""
    if raw is None or type(raw) is bytes:
        return raw
    return orjson.dumps(raw, default=str)


def serialise_payloads(batch: Batch, written_authors: dict[tuple[str, str], int] | None = None) -> None:
    """Turn the raw payloads of a batch into JSON text now, while the page is fresh in memory.

    Waiting for the commit keeps every decoded page alive (tens of thousands of small objects
    per page); serialised once on arrival, the payloads cost a quarter less to hold and store.
    Payloads kept as the service sent them (bytes) are that text already and stay as they are.

    With `written_authors` (a run's memo: key -> fingerprint of the profile written), an author
    whose profile is exactly the one already written earlier in the run is dropped from the
    batch: the people who post most under a tag come back on every page, unchanged.
    """
    for post in batch.posts:
        raw = post.raw
        if raw is not None and type(raw) is not bytes:
            post.raw = orjson.dumps(raw, default=str)
    authors = []
    for author in batch.authors:
        author.raw = data = _json_text(author.raw)
        if written_authors is not None:
            key = (author.platform, author.external_id)
            fingerprint = hash((author.handle, author.display_name, author.bio, author.followers, author.following,
                                author.verified, author.url, data))
            if written_authors.get(key) == fingerprint:
                continue
            written_authors[key] = fingerprint
        authors.append(author)
    batch.authors = authors


def merge_batches(batches: Sequence[Batch]) -> Batch:
    """Several consecutive batches as one: items concatenated, the last cursor, units summed."""
    if len(batches) == 1:
        return batches[0]
    merged = Batch(fetched=0)
    for b in batches:
        merged.posts += b.posts
        merged.authors += b.authors
        merged.articles += b.articles
        merged.quarantined += b.quarantined
        merged.warnings += b.warnings
        merged.api_units += b.api_units
        merged.fetched += b.fetched if b.fetched is not None else len(b.posts) + len(b.articles) + len(b.quarantined)
        if b.cursor is not None:
            merged.cursor = b.cursor
    return merged


def consume(
    db: Database,
    batches: Iterable[Batch],
    summary: RunSummary,
    *,
    source: SourceSpec | None = None,
    on_batch: Callable[[RunSummary], None] | None = None,
    commit_items: int = 0,
    after_batch: Sequence[AfterBatch] = (),
    merge_rule: MergeRule = MergeRule(),
) -> None:
    """Write `batches`, counting into `summary` (which ends as success or warning).

    Consecutive batches are written together, with the last one's cursor, in one transaction
    of at least `commit_items` items (0: every batch on its own). When the collector raises,
    the batches it had already yielded are committed first, so the cursor always stands at
    the last batch received and the next run resumes right after it.
    """
    # Pages of freshly decoded JSON are tens of thousands of small objects: a larger first-generation
    # threshold for the run (restored after it) spares most young-generation passes. No gc.freeze():
    # it is never undone, so a long-running `radpulse run` would exempt more objects every run.
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    pending: list[Batch] = []
    size = 0
    written_authors: dict[tuple[str, str], int] = {}

    def flush() -> None:
        nonlocal size
        if not pending:
            return
        batch = merge_batches(pending)
        pending.clear()
        size = 0
        with db.engine.begin() as conn:
            new, updated = write_batch(conn, batch, source=source, run_id=summary.run_id, after_batch=after_batch,
                                       merge_rule=merge_rule)
            fetched = batch.fetched if batch.fetched is not None else len(batch.posts) + len(batch.articles) + len(batch.quarantined)
            conn.execute(
                update(CollectionRun)
                .where(CollectionRun.id == summary.run_id)
                .values(fetched=CollectionRun.fetched + fetched, new=CollectionRun.new + new,
                        updated=CollectionRun.updated + updated,
                        failed=CollectionRun.failed + len(batch.quarantined),
                        cursor_after=batch.cursor if batch.cursor is not None else CollectionRun.cursor_after)
            )
        checkpoint()
        summary.fetched += fetched
        summary.new += new
        summary.updated += updated
        summary.failed += len(batch.quarantined)
        summary.warnings += batch.warnings
        if batch.cursor is not None:
            summary.cursor = batch.cursor
        if on_batch:
            on_batch(summary)

    with db.background_checkpoints() as checkpoint:
        try:
            for batch in batches:
                serialise_payloads(batch, written_authors)
                pending.append(batch)
                size += len(batch.posts) + len(batch.articles) + len(batch.quarantined)
                if size >= commit_items:
                    flush()
                check_budget(summary.source)  # the batch received is stored before stopping
        finally:
            try:
                flush()
            finally:
                gc.set_threshold(*thresholds)
    summary.status = "warning" if summary.warnings or summary.failed else "success"


def run_source(
    db: Database,
    collector: Collector,
    source: SourceSpec,
    *,
    on_batch: Callable[[RunSummary], None] | None = None,
    after_batch: Sequence[AfterBatch] = (),
) -> RunSummary:
    """Collect one source into `db`; never raises for a failure of the source itself."""
    summary = RunSummary(source=source.name, platform=source.platform)
    summary.run_id = start_run(db, source.name, source.id, "collect")
    summary.cursor = load_cursor(db, source.id) if source.id is not None else None
    try:
        collector.check_configured(source)
        collector.spent_this_period = api_units_spent(db, source.platform)
        consume(db, collector.collect(source, summary.cursor), summary, source=source, on_batch=on_batch,
                commit_items=collector.settings.database.commit_items, after_batch=after_batch,
                merge_rule=collector.merge_rule)
    except (CollectorError, JobTimeout) as exc:
        summary.status, summary.error = getattr(exc, "status", "failed"), str(exc)
    except Exception as exc:  # one source failing never stops the others
        log.debug("collector crashed on %s", source.name, exc_info=True)
        summary.status = "failed"
        summary.error = f"{type(exc).__name__}: {exc}"
        log.warning("%s failed:\n%s", source.name, traceback.format_exc(limit=3))
    finish_run(db, summary)
    return summary


def collect_sources(
    db: Database,
    settings: Settings,
    sources: Sequence[SourceSpec],
    *,
    on_batch: Callable[[RunSummary], None] | None = None,
    on_source: Callable[[RunSummary], None] | None = None,
    after_batch: Sequence[AfterBatch] = (),
) -> list[RunSummary]:
    """Collect every source, one collector instance per platform; failures stay per source."""
    results: list[RunSummary] = []
    collectors: dict[str, Collector | Exception] = {}
    mark_interrupted_runs(db)
    try:
        for source in sources:
            if source.platform not in collectors:
                try:
                    collectors[source.platform] = get_collector(source.platform)(settings)
                except Exception as exc:  # noqa: BLE001 - reported per source below
                    collectors[source.platform] = exc
            collector = collectors[source.platform]
            try:
                check_budget(source.name)
            except JobTimeout as exc:  # not started: recorded, so `status` shows what was left
                collector = exc
            if isinstance(collector, Exception):
                summary = RunSummary(source=source.name, platform=source.platform, status=getattr(collector, "status", "failed"),
                                     error=str(collector))
                summary.run_id = start_run(db, source.name, source.id, "collect")
                finish_run(db, summary)
            else:
                summary = run_source(db, collector, source, on_batch=on_batch, after_batch=after_batch)
            results.append(summary)
            if on_source:
                on_source(summary)
    finally:
        for c in collectors.values():
            if isinstance(c, Collector):
                c.close()
    refresh_stale_rollups(db)  # the days every source's batches marked, once for the whole run
    return results


def stale_posts(db: Database, platform: str, max_age_days: int, now: dt.datetime | None = None) -> list[PostRef]:
    """Posts of `platform` younger than `max_age_days` and not deleted: their metrics may still move."""
    since = (now or utcnow()) - dt.timedelta(days=max_age_days)
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(Post.platform, Post.external_id, Post.created_at, Post.url, Post.community)
            .where(Post.platform == platform, Post.is_deleted.is_(False), Post.created_at >= since,
                   Post.synthetic.is_(False))
            .order_by(Post.created_at)
        )
        return [PostRef(*row) for row in rows]


def refresh_platforms(
    db: Database, settings: Settings, platforms: Sequence[str], *, now: dt.datetime | None = None,
    select_posts: Callable[[Database, str, Settings, dt.datetime | None], list[PostRef]] | None = None,
    kind: str = "refresh",
    after_batch: Sequence[AfterBatch] = (),
) -> list[RunSummary]:
    """Re-read engagement of recent posts per platform; deletions at the source are applied.

    `select_posts` picks other posts to re-read (the deletion sweep), `kind` names the runs.
    """
    mark_interrupted_runs(db)
    results = []
    for platform in platforms:
        summary = RunSummary(source=f"{kind}:{platform}", platform=platform)
        summary.run_id = start_run(db, summary.source, None, kind)
        try:
            collector = get_collector(platform)(settings)
            try:
                spec = SourceSpec(summary.source, platform, kind, "")
                collector.check_configured(spec)
                collector.spent_this_period = api_units_spent(db, platform)
                refs = (select_posts(db, platform, settings, now) if select_posts
                        else stale_posts(db, platform, settings.refresh.max_age_days, now))
                # the spec has no id: no cursor or source links, but billable reads are counted
                consume(db, collector.refresh(refs), summary, source=spec,
                        commit_items=settings.database.commit_items, after_batch=after_batch,
                        merge_rule=collector.merge_rule)
            finally:
                collector.close()
        except (CollectorError, JobTimeout) as exc:
            summary.status, summary.error = getattr(exc, "status", "failed"), str(exc)
        except Exception as exc:  # noqa: BLE001
            summary.status, summary.error = "failed", f"{type(exc).__name__}: {exc}"
        finish_run(db, summary)
        results.append(summary)
    refresh_stale_rollups(db)  # engagement and deletions change the rollups of the posts' days
    return results
