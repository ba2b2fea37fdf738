"""Crossref enrichment: metadata for articles that have a DOI but little else.

A job, not a collector: `enrich_articles(db, settings)` reads its work list from the database
(articles with a DOI,
`crossref_status` still NULL, and either no title or a DOI first seen in a post (sources
contain "mention") and records its own collection run, `crossref:enrich` of task "enrich".
The CLI's `collect` and the scheduler's collect job run it after the collectors. Each DOI is
looked up at `api.crossref.org/works/{doi}` in the polite pool
(`mailto` from [crossref]); found works are stored with `crossref_status="found"`, a 404 marks
the DOI `"not_registered"` (DataCite DOIs, typos), which is not an error and is not retried.

Pacing follows the `X-Rate-Limit-Limit` / `X-Rate-Limit-Interval` headers of each answer; a
429 is honoured through Retry-After.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from urllib.parse import quote

import httpx
from sqlalchemy import Text, cast, or_, select

from radpulse.collectors.base import chunked
from radpulse.collectors.crossref.normalise import work_to_article
from radpulse.collectors.runner import AfterBatch, RunSummary, consume, finish_run, start_run
from radpulse.config import Settings
from radpulse.db.engine import Database
from radpulse.db.models import Article
from radpulse.db.rollups import refresh_stale_rollups
from radpulse.errors import BadPayload, CollectorError
from radpulse.collectors.http import USER_AGENT, Deadlines, RateLimiter, RetryPolicy, new_client, send
from radpulse.records import ArticleRecord, Batch, SourceSpec, utcnow

CROSSREF = "https://api.crossref.org/"
CLIENT = f"httpx/{httpx.__version__}"
ENRICH = "crossref:enrich"  # the name of the job's collection runs
#: DOIs looked up per run at most (at the polite pool's ~10 req/s: under 2 minutes)
MAX_PER_RUN = 1000

log = logging.getLogger(__name__)


def rate_from_headers(headers: httpx.Headers) -> float | None:
    """Requests per second allowed by X-Rate-Limit-Limit / X-Rate-Limit-Interval, or None."""
    limit, interval = headers.get("X-Rate-Limit-Limit"), headers.get("X-Rate-Limit-Interval")
    if not limit or not interval:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*", interval)
    try:
        count = float(limit)
    except ValueError:
        return None
    if not m or count <= 0:
        return None
    seconds = float(m.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[m.group(2)]
    return count / seconds if seconds > 0 else None


def enrichment_candidates(db: Database, limit: int) -> list[str]:
    """DOIs of articles Crossref has not been asked about that lack metadata or came from posts."""
    a = Article.__table__.c
    query = (
        select(a.doi)
        .where(a.doi.is_not(None), a.crossref_status.is_(None),
               or_(a.title.is_(None), cast(a.sources, Text).like('%"mention"%')))
        .order_by(a.first_seen_at, a.id)
        .limit(limit)
    )
    with db.engine.connect() as conn:
        return [doi for (doi,) in conn.execute(query)]


class CrossrefClient:
    """Looks up DOIs in Crossref's polite pool, paced by the pool's own rate-limit headers."""

    base_url = CROSSREF
    retry = RetryPolicy()

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        mailto = settings.crossref.mailto
        agent = USER_AGENT[:-1] + f"; mailto:{mailto})" if mailto else USER_AGENT
        self.client = new_client(deadlines=Deadlines.from_settings(settings), transport=transport,
                                 headers={"User-Agent": agent})
        self.limiter = RateLimiter(5)  # until the first answer tells the pool's real limit

    def lookup(self, doi: str, *, what: str) -> ArticleRecord:
        """The Crossref record of `doi`, or a not_registered marker on 404."""
        url = f"{self.base_url}works/{quote(doi, safe='/:;()')}"
        params = {"mailto": self.settings.crossref.mailto} if self.settings.crossref.mailto else None
        response = send(lambda: self.client.get(url, params=params), what=f"{what}: {doi}", ok=(200, 404),
                        retry=self.retry, limiter=self.limiter)
        if (rate := rate_from_headers(response.headers)) is not None:
            self.limiter.set_rate(rate)
        if response.status_code == 404:
            return ArticleRecord(doi=doi, crossref_status="not_registered")
        try:
            work = response.json()["message"]
        except (ValueError, KeyError, TypeError) as exc:
            raise BadPayload(f"{what}: Crossref's answer for {doi} is not a work record ({exc}).",
                             hint="The API may have changed or be failing; the next run tries again.") from None
        return work_to_article(work, endpoint=url, client=CLIENT, retrieved_at=utcnow())

    def batches(self, dois: list[str], *, what: str = ENRICH) -> Iterator[Batch]:
        """Batches of looked-up DOIs; on a failure, what was looked up is yielded, then it raises."""
        done = 0
        for chunk in chunked(dois, self.settings.crossref.batch_size):
            records: list[ArticleRecord] = []
            error: CollectorError | None = None
            for doi in chunk:
                try:
                    records.append(self.lookup(doi, what=what))
                except CollectorError as exc:  # keep what was looked up, then report the failure
                    error = exc
                    break
            done += len(records)
            if records:
                yield Batch(articles=records, fetched=len(records),
                            cursor={"last_run": utcnow().isoformat(), "looked_up": done})
            if error is not None:
                raise error
        if not dois:
            yield Batch(cursor={"last_run": utcnow().isoformat(), "looked_up": 0}, fetched=0)

    def close(self) -> None:
        self.client.close()


def enrich_articles(
    db: Database,
    settings: Settings,
    *,
    after_batch: Sequence[AfterBatch] = (),
    limit: int = MAX_PER_RUN,
    transport: httpx.BaseTransport | None = None,
) -> RunSummary:
    """Look up stored articles' DOIs in Crossref, as one run of task "enrich"; never raises for
    a failure of Crossref (the summary says what went wrong; what was looked up is kept)."""
    summary = RunSummary(source=ENRICH, platform="crossref")
    summary.run_id = start_run(db, ENRICH, None, "enrich")
    spec = SourceSpec(ENRICH, "crossref", "enrichment", "articles missing metadata")  # no id: no cursor row
    client = CrossrefClient(settings, transport=transport)
    try:
        consume(db, client.batches(enrichment_candidates(db, limit)), summary, source=spec,
                commit_items=settings.database.commit_items, after_batch=after_batch)
    except CollectorError as exc:
        summary.status, summary.error = exc.status, str(exc)
    except Exception as exc:  # noqa: BLE001 - reported in the run record and the summary
        log.warning("Crossref enrichment failed", exc_info=True)
        summary.status, summary.error = "failed", f"{type(exc).__name__}: {exc}"
    finally:
        client.close()
    refresh_stale_rollups(db)  # any days the caller's steps marked
    finish_run(db, summary)
    return summary


__all__ = ["CROSSREF", "ENRICH", "CrossrefClient", "enrich_articles", "enrichment_candidates", "rate_from_headers"]
