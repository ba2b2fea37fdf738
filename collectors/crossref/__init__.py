"""Crossref enrichment: metadata for articles that have a DOI but little else.

The one source `crossref:enrich` reads its work list from the database: articles with a DOI,
`crossref_status` still NULL, and either no title or a DOI first seen in a post (sources
contain "mention"). Each is looked up at `api.crossref.org/works/{doi}` in the polite pool
(`mailto` from [crossref]); found works are stored with `crossref_status="found"`, a 404 marks
the DOI `"not_registered"` (DataCite DOIs, typos), which is not an error and is not retried.

Pacing follows the `X-Rate-Limit-Limit` / `X-Rate-Limit-Interval` headers of each answer; a
429 is honoured through Retry-After. The database is `self.db` when the runner sets it, else it
is opened from `settings.database_url` for the run (the Collector contract passes settings only).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

import httpx
from sqlalchemy import Text, cast, or_, select

from radpulse.collectors.base import Collector, chunked
from radpulse.collectors.crossref.normalise import work_to_article
from radpulse.collectors.registry import register
from radpulse.config import Settings
from radpulse.db.engine import Database, open_database
from radpulse.db.models import Article
from radpulse.errors import BadPayload, CollectorError
from radpulse.literature.http import TIMEOUT, USER_AGENT, RateLimiter, RetryPolicy, new_client, send
from radpulse.records import ArticleRecord, Batch, SourceSpec, utcnow

CROSSREF = "https://api.crossref.org/"
CLIENT = f"httpx/{httpx.__version__}"


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


@register
class CrossrefCollector(Collector):
    """Looks up DOIs in Crossref for the single source `crossref:enrich`."""

    platform = "crossref"
    kinds = ("enrichment",)
    stores_posts = False
    base_url = CROSSREF
    #: DOIs looked up per run at most (at the polite pool's ~10 req/s: under 2 minutes)
    max_per_run = 1000
    retry = RetryPolicy()

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None,
                 db: Database | None = None) -> None:
        super().__init__(settings)
        mailto = settings.crossref.mailto
        agent = USER_AGENT[:-1] + f"; mailto:{mailto})" if mailto else USER_AGENT
        self.client = new_client(timeout=TIMEOUT, transport=transport, headers={"User-Agent": agent})
        self.limiter = RateLimiter(5)  # until the first answer tells the pool's real limit
        #: the database to read candidates from; the runner may set it, else opened per run
        self.db = db

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

    def collect(self, source: SourceSpec, cursor: dict | None) -> Iterator[Batch]:
        db = self.db or open_database(self.settings.database_url)
        try:
            dois = enrichment_candidates(db, self.max_per_run)
        finally:
            if db is not self.db:
                db.dispose()
        done = 0
        for chunk in chunked(dois, self.settings.crossref.batch_size):
            records: list[ArticleRecord] = []
            error: CollectorError | None = None
            for doi in chunk:
                try:
                    records.append(self.lookup(doi, what=source.name))
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


__all__ = ["CROSSREF", "CrossrefCollector", "enrichment_candidates", "rate_from_headers"]
