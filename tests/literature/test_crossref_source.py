"""Crossref enrichment (a job, not a collector) replaying habanero's recorded polite-pool answer
through httpx (respx)."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json

import httpx
import pytest
import respx
import yaml
from sqlalchemy import func, select

from radpulse.collectors.crossref import CROSSREF, ENRICH, enrich_articles, enrichment_candidates, rate_from_headers
from radpulse.collectors.registry import platforms
from radpulse.db.models import Article, CollectionRun, Source, SourceCursor
from radpulse.db.store import upsert_articles
from radpulse.records import ArticleRecord

CHAPTER = "10.1007/978-3-658-17671-6_18-1"


@pytest.fixture
def cassette(fixtures_dir):  # type: ignore[no-untyped-def]
    """The recorded exchange: the decoded work list and the real response headers."""
    data = yaml.safe_load((fixtures_dir / "literature" / "crossref_works_rows2.yaml").read_text())
    response = data["interactions"][0]["response"]
    body = response["body"]["string"]
    raw = body if isinstance(body, bytes) else base64.b64decode(body)
    works = json.loads(gzip.decompress(raw))
    headers = {k: v[0] for k, v in response["headers"].items() if k not in ("content-length", "content-encoding")}
    return works, headers


def work_response(work: dict, headers: dict) -> httpx.Response:
    """A /works/{doi} answer built from a recorded work, gzip-encoded as Crossref sends it."""
    body = gzip.compress(json.dumps({"status": "ok", "message-type": "work", "message-version": "1.0.0",
                                     "message": work}).encode())
    return httpx.Response(200, content=body, headers={**headers, "content-encoding": "gzip"})


def seed(db, records: list[ArticleRecord]) -> None:  # type: ignore[no-untyped-def]
    with db.engine.begin() as conn:
        upsert_articles(conn, records)


def test_enrichment_found_not_registered_and_pacing(db, lit_settings, cassette, sleeps) -> None:
    works, headers = cassette
    seed(db, [
        ArticleRecord(doi=CHAPTER.upper(), source="mention"),  # a DOI seen in a post
        ArticleRecord(doi="10.5555/not-in-crossref", source="mention"),
        ArticleRecord(doi="10.1148/radiol.1", title="Has metadata", source="feed"),  # not a candidate
        ArticleRecord(doi="10.1148/radiol.2", source="mention", crossref_status="not_registered"),  # asked before
    ])
    assert enrichment_candidates(db, 10) == [CHAPTER, "10.5555/not-in-crossref"]
    settings = lit_settings({"crossref": {"mailto": "team@example.org"}}, {"RADPULSE_DATABASE_URL": db.url})
    with respx.mock(assert_all_called=True) as mock:
        found = mock.get(CROSSREF + f"works/{CHAPTER}").mock(return_value=work_response(works["message"]["items"][0], headers))
        mock.get(CROSSREF + "works/10.5555/not-in-crossref").mock(
            return_value=httpx.Response(404, text="Resource not found.", headers=headers))
        summary = enrich_articles(db, settings)

    assert (summary.source, summary.status, summary.fetched, summary.error) == (ENRICH, "success", 2, None)
    with db.session() as s:  # its own run record; no source row or cursor of a pseudo-collector
        run = s.get(CollectionRun, summary.run_id)
        assert (run.task, run.source_name, run.source_id, run.status, run.fetched) == ("enrich", ENRICH, None, "success", 2)
        assert s.scalar(select(func.count()).select_from(Source)) == 0
        assert s.scalar(select(func.count()).select_from(SourceCursor)) == 0
    request = found.calls[0].request
    assert request.url.params["mailto"] == "team@example.org"
    assert "mailto:team@example.org" in request.headers["User-Agent"]
    # first call at the conservative 5/s, then the pool's 10 per 1s from the recorded headers
    assert sleeps == pytest.approx([0.1])
    with db.session() as s:
        arts = {a.doi: a for a in s.scalars(select(Article))}
    chapter = arts[CHAPTER]
    assert chapter.key == f"doi:{CHAPTER}" and chapter.crossref_status == "found"
    assert chapter.title == "Soziale Innovation" and chapter.journal == "Handbuch Innovationsforschung"
    assert chapter.authors == ["Jürgen Howaldt", "Michael Schwarz"]
    assert chapter.published_date == dt.date(2018, 11, 3)
    assert chapter.url == "https://link.springer.com/10.1007/978-3-658-17671-6_18-1"
    assert chapter.issn is None and chapter.abstract is None
    assert chapter.sources == ["crossref", "mention"]
    assert chapter.raw["reference-count"] == 66 and chapter.provenance["endpoint"].endswith(f"works/{CHAPTER}")
    missing = arts["10.5555/not-in-crossref"]
    assert missing.crossref_status == "not_registered" and missing.title is None and missing.sources == ["mention"]
    assert arts["10.1148/radiol.1"].crossref_status is None
    assert enrichment_candidates(db, 10) == []  # nothing asked twice


def test_429_waits_retry_after_then_server_error_fails_keeping_done_work(db, lit_settings, cassette, sleeps) -> None:
    works, headers = cassette
    item = works["message"]["items"][1]
    seed(db, [ArticleRecord(doi=item["DOI"], source="mention"), ArticleRecord(doi="10.5555/later", source="mention")])
    settings = lit_settings({}, {"RADPULSE_DATABASE_URL": db.url})
    with respx.mock() as mock:
        mock.get(CROSSREF + f"works/{item['DOI']}").mock(side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}), work_response(item, headers)])
        mock.get(CROSSREF + "works/10.5555/later").mock(return_value=httpx.Response(503))
        summary = enrich_articles(db, settings)
    assert 7 in sleeps
    assert summary.status == "failed" and "HTTP 503 after 4 attempts" in summary.error
    assert summary.new == 0 and summary.updated == 1  # the found work was stored before the failure
    with db.session() as s:
        arts = {a.doi: a for a in s.scalars(select(Article))}
    assert arts[item["DOI"]].title == "Loot Crates" and arts[item["DOI"]].published_date == dt.date(2024, 1, 5)
    assert arts["10.5555/later"].crossref_status is None  # still queued for the next run

    # the next run picks up where this one stopped: only the DOI left, no duplicate, no gap
    with respx.mock() as mock:
        again = mock.get(CROSSREF + "works/10.5555/later").mock(return_value=httpx.Response(404))
        resumed = enrich_articles(db, settings)
    assert resumed.status == "success" and resumed.fetched == 1 and again.call_count == 1
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Article)) == 2
        assert s.scalar(select(Article.crossref_status).where(Article.doi == "10.5555/later")) == "not_registered"


@pytest.mark.parametrize(("limit", "interval", "rate"), [("10", "1s", 10.0), ("50", "1s", 50.0), ("5", "500ms", 10.0),
                                                         ("", "1s", None), ("x", "1s", None)])
def test_rate_from_headers(limit: str, interval: str, rate: float | None) -> None:
    assert rate_from_headers(httpx.Headers({"X-Rate-Limit-Limit": limit, "X-Rate-Limit-Interval": interval})) == rate


def test_crossref_is_a_job_not_a_registered_collector(db, lit_settings) -> None:
    assert "crossref" not in platforms()
    with respx.mock(assert_all_called=False) as mock:  # nothing to look up: no request at all
        summary = enrich_articles(db, lit_settings())
        assert not mock.calls
    assert (summary.status, summary.fetched, summary.cursor["looked_up"]) == ("success", 0, 0)
