"""PubMed through NCBI E-utilities: saved queries, incremental by Entrez date.

Each run searches `term AND edat in [edat_from, today]` with `usehistory=y` and fetches the
hits in batches through the history server (WebEnv + query_key, `retmode=xml`). ESearch only
reaches the first 10,000 hits of a search, so a larger date range is split in halves until every
part is under the cap. The cursor is `{"edat_from": "YYYY-MM-DD", "term": ...}`: a crash
resumes from the start of the date range in flight (re-reads are idempotent) and a finished run
leaves today, so the next run overlaps one day and misses nothing added late in the day.
Requests are paced at 3/s, or 10/s with NCBI_API_KEY, and identify radpulse with `tool` and
`email`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx

from radpulse.collectors.base import Collector
from radpulse.collectors.pubmed.normalise import SearchResult, parse_esearch, parse_pubmed_articles
from radpulse.collectors.registry import register
from radpulse.config import Settings
from radpulse.collectors.http import Deadlines, RateLimiter, RetryPolicy, new_client, send
from radpulse.records import Batch, SourceSpec, utcnow

EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
#: ESearch (and EFetch through the history server) reach only the first 10,000 records
MAX_HITS = 9_999


def _fmt(day: dt.date) -> str:
    return day.strftime("%Y/%m/%d")


@register
class PubMedCollector(Collector):
    """Collects one saved PubMed query per source (kind "pubmed_query", value = the term)."""

    platform = "pubmed"
    kinds = ("pubmed_query",)
    stores_posts = False
    base_url = EUTILS
    batch_size = 200
    max_hits = MAX_HITS
    retry = RetryPolicy()

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None,
                 base_url: str | None = None) -> None:
        super().__init__(settings)
        self.base_url = base_url or self.base_url
        self.client = new_client(deadlines=Deadlines.from_settings(settings), transport=transport)
        self.api_key = settings.secret("NCBI_API_KEY")
        self.limiter = RateLimiter(10 if self.api_key else 3)

    # -- requests ---------------------------------------------------------------------------
    def _params(self, **params: str | int) -> dict[str, str | int]:
        params.update(db="pubmed", tool=self.settings.pubmed.tool or "radpulse")
        if self.settings.pubmed.email:
            params["email"] = self.settings.pubmed.email
        if self.api_key:
            params["api_key"] = self.api_key
        return params

    def _get(self, endpoint: str, params: dict[str, str | int], what: str) -> httpx.Response:
        url = self.base_url + endpoint
        return send(lambda: self.client.get(url, params=params), what=what, retry=self.retry, limiter=self.limiter)

    def esearch(self, term: str, start: dt.date, end: dt.date, *, what: str) -> SearchResult:
        """Search `term` over Entrez dates [start, end] and keep the result on the history server."""
        params = self._params(term=term, usehistory="y", datetype="edat", mindate=_fmt(start),
                              maxdate=_fmt(end), retmax=0, retmode="xml")
        return parse_esearch(self._get("esearch.fcgi", params, what).content, what=f"{what}: ESearch")

    def efetch(self, search: SearchResult, retstart: int, retmax: int, *, what: str) -> httpx.Response:
        """One batch of full records: through the history server, else by the ids listed."""
        if search.webenv and search.query_key:
            params = self._params(WebEnv=search.webenv, query_key=search.query_key, retstart=retstart,
                                  retmax=retmax, retmode="xml", rettype="abstract")
        else:
            params = self._params(id=",".join(search.ids[retstart:retstart + retmax]), retmode="xml",
                                  rettype="abstract")
        return self._get("efetch.fcgi", params, what)

    def plan(self, term: str, start: dt.date, end: dt.date, *, what: str) -> list[tuple[dt.date, dt.date, SearchResult]]:
        """Date ranges in chronological order, each under the ESearch cap, with their searches."""
        search = self.esearch(term, start, end, what=what)
        if search.count <= self.max_hits or start >= end:
            return [(start, end, search)]
        middle = start + (end - start) // 2
        return (self.plan(term, start, middle, what=what)
                + self.plan(term, middle + dt.timedelta(days=1), end, what=what))

    # -- collection -------------------------------------------------------------------------
    def collect(self, source: SourceSpec, cursor: dict | None) -> Iterator[Batch]:
        what = source.name
        today = utcnow().date()
        if cursor and cursor.get("edat_from") and cursor.get("term", source.value) == source.value:
            start = dt.date.fromisoformat(cursor["edat_from"])
        else:
            start = today - dt.timedelta(days=self.settings.pubmed.initial_days)
        start = min(start, today)
        last: str | None = None
        for low, high, search in self.plan(source.value, start, today, what=what):
            warnings = []
            total = search.count
            if total > self.max_hits:  # one day alone over the cap: take what ESearch reaches
                warnings.append(f"{what}: {total} hits on {low}; only the first {self.max_hits} can be fetched")
                total = self.max_hits
            if not (search.webenv and search.query_key):
                if total > len(search.ids):
                    warnings.append(f"{what}: no history server handle; fetched the {len(search.ids)} ids listed of {total}")
                total = min(total, len(search.ids))
            for retstart in range(0, total, self.batch_size):
                retmax = min(self.batch_size, total - retstart)
                response = self.efetch(search, retstart, retmax, what=what)
                records, quarantined = parse_pubmed_articles(
                    response.content, endpoint=str(response.url).split("?")[0], retrieved_at=utcnow(),
                    what=f"{what}: EFetch")
                done = retstart + retmax >= total
                last = (high if done else low).isoformat()
                yield Batch(articles=records, quarantined=quarantined,
                            cursor={"edat_from": last, "term": source.value},
                            warnings=warnings, fetched=len(records) + len(quarantined))
                warnings = []
            if warnings:
                last = high.isoformat()
                yield Batch(warnings=warnings, cursor={"edat_from": last, "term": source.value}, fetched=0)
        if last != today.isoformat():
            yield Batch(cursor={"edat_from": today.isoformat(), "term": source.value}, fetched=0)

    def close(self) -> None:
        self.client.close()


__all__ = ["EUTILS", "MAX_HITS", "PubMedCollector"]
