"""Journal feeds through the real code path: httpx against a local HTTP server, feedparser, the store."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Response

from radpulse.collectors.feeds import FeedCollector, cut_at_last_item
from radpulse.collectors.feeds.normalise import parse_date, split_authors
from radpulse.collectors.runner import collect_sources, run_source
from radpulse.db.models import Article, CollectionRun, Quarantine, SourceCursor
from radpulse.collectors.http import USER_AGENT, Deadlines, RetryPolicy
from radpulse.records import SourceSpec

RSS_ITEM = """<item><title>{title}</title><link>https://pubs.rsna.org/doi/10.1148/radiol.{n}?af=R</link>
<description>{summary}</description><dc:creator>Ann Author, Bob Writer</dc:creator>
<guid isPermaLink="false">tok-{n}-{token}</guid><pubDate>Mon, 06 Nov 2023 16:45:00 GMT</pubDate></item>"""


def rss(items: list[str], title: str = "Radiology") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>{title}</title><link>https://pubs.rsna.org/journal/radiology</link>"
        + "".join(items) + "</channel></rss>"
    ).encode()


def items(start: int, count: int, summary: str = "Findings.", token: str = "a") -> list[str]:
    return [RSS_ITEM.format(n=n, title=f"Paper {n}", summary=summary, token=token) for n in range(start, start + count)]


def articles(db) -> list[Article]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return list(s.scalars(select(Article).order_by(Article.key)))


def test_elsevier_rss10_sample_every_field(lit_settings, db, add_source, httpserver: HTTPServer, fixtures_dir) -> None:
    body = (fixtures_dir / "literature" / "rss10_elsevier_dc_prism.xml").read_bytes()
    httpserver.expect_request("/jpeds.rss").respond_with_data(body, content_type="application/rdf+xml")
    source = add_source("feed:JPeds", "feeds", "feed", httpserver.url_for("/jpeds.rss"), {"journal": None})
    collector = FeedCollector(lit_settings())
    summary = run_source(db, collector, source)
    collector.close()

    assert (summary.status, summary.fetched, summary.new, summary.error) == ("success", 1, 1, None)
    (art,) = articles(db)
    assert art.key == "doi:10.1016/j.jpeds.2018.08.009"
    assert art.doi == "10.1016/j.jpeds.2018.08.009"
    assert art.pmid is None and art.pmcid is None
    # the item link carries ?rss=yes and a PII: keyed URL is the canonical Elsevier form
    assert art.url == "https://sciencedirect.com/science/article/pii/S0022347618311193"
    assert art.title == "HIV Exposure and Formula Feeding Predict Under-2 Mortality in HIV-Uninfected Children, Botswana"
    assert art.journal == "The Journal of Pediatrics"
    assert art.issn == "0022-3476"
    assert art.authors[0] == "Gbolahan Ajibola" and art.authors[-1] == "Shahin Lockman" and len(art.authors) == 13
    assert art.abstract.startswith("To prospectively assess rates")
    assert art.published_date == dt.date(2018, 10, 11)
    assert art.sources == ["feed"]
    assert art.crossref_status is None
    assert art.raw["dc_identifier"] == "10.1016/j.jpeds.2018.08.009"
    assert art.provenance["endpoint"] == source.value and art.provenance["client"].startswith("lxml/")
    (request, _response), = httpserver.log
    assert request.headers["User-Agent"] == USER_AGENT


def test_configured_journal_name_wins_and_guid_is_never_the_key(lit_settings, db, add_source, httpserver) -> None:
    # the same items with regenerated GUIDs and link tokens on the second fetch: still one row each
    httpserver.expect_ordered_request("/r.rss").respond_with_data(rss(items(1, 3, token="a")))
    httpserver.expect_ordered_request("/r.rss").respond_with_data(rss(items(1, 3, token="b")))
    source = add_source("feed:Radiology", "feeds", "feed", httpserver.url_for("/r.rss"), {"journal": "Radiology"})
    first, second = collect_sources(db, lit_settings(), [source, source])
    assert (first.new, second.new, second.updated) == (3, 0, 3)
    rows = articles(db)
    assert [a.key for a in rows] == [f"doi:10.1148/radiol.{n}" for n in (1, 2, 3)]
    assert {a.journal for a in rows} == {"Radiology"}
    assert rows[0].authors == ["Ann Author", "Bob Writer"]
    assert rows[0].published_date == dt.date(2023, 11, 6)


def test_conditional_get_sends_validators_and_304_is_success(lit_settings, db, add_source, httpserver) -> None:
    etag, modified = '"v1-abc"', "Tue, 07 Nov 2023 10:00:00 GMT"
    httpserver.expect_ordered_request("/cond.rss").respond_with_data(
        rss(items(10, 2)), headers={"ETag": etag, "Last-Modified": modified})
    httpserver.expect_ordered_request(
        "/cond.rss", headers={"If-None-Match": etag, "If-Modified-Since": modified}
    ).respond_with_response(Response(status=304))
    source = add_source("feed:cond", "feeds", "feed", httpserver.url_for("/cond.rss"))
    settings = lit_settings()
    (first,) = collect_sources(db, settings, [source])
    with db.session() as s:
        stored_cursor = s.scalar(select(SourceCursor.cursor).where(SourceCursor.source_id == source.id))
        updated_before = {a.key: a.updated_at for a in s.scalars(select(Article))}
    assert stored_cursor["etag"] == etag and stored_cursor["last_modified"] == modified
    (second,) = collect_sources(db, settings, [source])

    httpserver.check_assertions()  # the second request matched only with both validators
    second_request = httpserver.log[1][0]
    assert second_request.headers["If-None-Match"] == etag
    assert second_request.headers["If-Modified-Since"] == modified
    assert httpserver.log[1][1].status_code == 304
    assert (first.status, first.new) == ("success", 2)
    assert (second.status, second.fetched, second.new, second.updated, second.error) == ("success", 0, 0, 0, None)
    with db.session() as s:
        assert {a.key: a.updated_at for a in s.scalars(select(Article))} == updated_before
        run = s.scalars(select(CollectionRun).order_by(CollectionRun.id.desc())).first()
        assert run.status == "success"
        cursor = s.scalar(select(SourceCursor.cursor).where(SourceCursor.source_id == source.id))
    assert cursor["etag"] == etag  # validators kept for the next run


def _slow(delay: float):  # type: ignore[no-untyped-def]
    def handler(request):  # type: ignore[no-untyped-def]
        threading.Event().wait(delay)  # time.sleep is patched in tests; Event.wait really waits
        return Response(rss(items(1, 1)), content_type="application/rss+xml")
    return handler


def test_bad_feeds_fail_or_warn_with_reason_and_others_still_run(lit_settings, db, add_source, httpserver, monkeypatch, sleeps) -> None:
    # a short read timeout only (connects and the other feeds' reads are quick on loopback)
    monkeypatch.setattr(FeedCollector, "deadlines", Deadlines(connect=10.0, read=0.75, total=30.0))
    monkeypatch.setattr(FeedCollector, "retry", RetryPolicy(attempts=2, base=0.5))
    monkeypatch.setattr(FeedCollector, "max_bytes", 1024 * 1024)
    big_summary = "x" * 2000
    big = rss(items(1000, 5200, summary=big_summary))  # ~11 MB
    assert len(big) > 10 * 1024 * 1024
    broken = rss(items(500, 2))[:-len("</channel></rss>")] + b"<item><title>Broken &bogus; <link>"
    routes = {
        "/good.rss": Response(rss(items(1, 2)), content_type="application/rss+xml"),
        "/broken.rss": Response(broken, content_type="application/rss+xml"),
        "/html.rss": Response(b"<!DOCTYPE html><html><head><title>Moved</title></head><body>Our feeds moved</body></html>",
                              content_type="text/html; charset=utf-8"),
        "/blank.rss": Response(b"", content_type="application/rss+xml"),
        "/noitems.rss": Response(rss([]), content_type="application/rss+xml"),
        "/big.rss": Response(big, content_type="application/rss+xml"),
        "/gone.rss": Response(b"not here", status=404),
        "/down.rss": Response(b"oops", status=503),
    }
    for path, response in routes.items():
        httpserver.expect_request(path).respond_with_response(response)
    # the slow feed gets its own threaded server so its hanging requests block nobody else
    slow_server = HTTPServer(threaded=True)
    slow_server.start()
    slow_server.expect_request("/slow.rss").respond_with_handler(_slow(2.0))
    specs = [add_source(f"feed:{p.strip('/').split('.')[0]}", "feeds", "feed", httpserver.url_for(p))
             for p in routes]
    specs.insert(0, add_source("feed:slow", "feeds", "feed", slow_server.url_for("/slow.rss")))
    try:
        results = {r.source.split(":")[1]: r for r in collect_sources(db, lit_settings(), specs)}
    finally:
        slow_server.clear()
        slow_server.stop()

    assert (results["good"].status, results["good"].new) == ("success", 2)
    assert results["broken"].status == "warning" and "not well-formed" in results["broken"].warnings[0]
    assert results["broken"].new == 2 and results["broken"].failed == 1  # the cut-off item is quarantined
    assert results["html"].status == "failed" and "HTML page" in results["html"].error
    assert results["blank"].status == "failed" and "empty response" in results["blank"].error
    assert results["noitems"].status == "warning" and "no items" in results["noitems"].warnings[0]
    big_run = results["big"]
    assert big_run.status == "warning" and "larger than 1024 KiB" in big_run.warnings[0]
    assert 0 < big_run.new < 5200  # items before the cut are kept, the rest skipped
    assert results["gone"].status == "failed" and "HTTP 404" in results["gone"].error
    assert results["down"].status == "failed" and "HTTP 503 after 2 attempts" in results["down"].error
    assert results["slow"].status == "failed" and "timed out" in results["slow"].error
    assert len(sleeps) >= 2  # backoff between attempts went through time.sleep

    with db.session() as s:
        keys = set(s.scalars(select(Article.key)))
        quarantined = s.scalars(select(Quarantine)).all()
        statuses = dict(s.execute(select(CollectionRun.source_name, CollectionRun.status)).all())
    assert {"doi:10.1148/radiol.1", "doi:10.1148/radiol.2", "doi:10.1148/radiol.500", "doi:10.1148/radiol.501"} <= keys
    assert len(keys) == 4 + big_run.new
    assert len(quarantined) == 1 and "no DOI, PMID or link" in quarantined[0].error
    assert statuses["feed:html"] == "failed" and statuses["feed:good"] == "success"


def test_item_without_any_key_is_quarantined_not_keyed_on_guid(lit_settings, db, add_source, httpserver) -> None:
    body = rss(['<item><title>Editorial board</title><guid isPermaLink="false">abc-123</guid></item>',
                *items(7, 1)])
    httpserver.expect_request("/q.rss").respond_with_data(body)
    source = add_source("feed:q", "feeds", "feed", httpserver.url_for("/q.rss"))
    (summary,) = collect_sources(db, lit_settings(), [source])
    assert (summary.status, summary.new, summary.failed) == ("warning", 1, 1)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Article)) == 1
        q = s.scalars(select(Quarantine)).one()
    assert q.external_id == "abc-123" and q.raw["title"] == "Editorial board"


def test_atom_feed_with_doi_prefix_in_id(lit_settings, db, add_source, httpserver) -> None:
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Insights into Imaging</title>
<entry><title type="html">MRI &lt;i&gt;in vivo&lt;/i&gt;</title><id>doi:10.1186/S13244-023-01400-2</id>
<link href="https://insightsimaging.springeropen.com/articles/10.1186/s13244-023-01400-2"/>
<author><name>Jane Roe</name></author><author><name>John Poe</name></author>
<updated>2023-04-02T10:00:00+02:00</updated><summary>Open access.</summary></entry></feed>"""
    httpserver.expect_request("/a.atom").respond_with_data(atom, content_type="application/atom+xml")
    source = add_source("feed:Insights", "feeds", "feed", httpserver.url_for("/a.atom"), {"journal": "Insights into Imaging"})
    (summary,) = collect_sources(db, lit_settings(), [source])
    assert summary.status == "success"
    (art,) = articles(db)
    assert art.key == "doi:10.1186/s13244-023-01400-2"
    assert art.title == "MRI in vivo" and art.authors == ["Jane Roe", "John Poe"]
    assert art.published_date == dt.date(2023, 4, 2) and art.journal == "Insights into Imaging"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2018-12-17-08:00", dt.date(2018, 12, 17)), ("Mon, 06 Nov 2023 23:30:00 -0500", dt.date(2023, 11, 7)),
     ("2023-05", dt.date(2023, 5, 1)), ("2021", dt.date(2021, 1, 1)), ("yesterday", None), ("", None),
     ("2023-02-30", None)],
)
def test_dates_are_parsed_defensively(value: str, expected: dt.date | None) -> None:
    assert parse_date(value) == expected


def test_authors_split() -> None:
    assert split_authors(["Smith, J., Doe, K."]) == ["J. Smith", "K. Doe"]
    assert split_authors(["A Able; B Baker"]) == ["A Able", "B Baker"]
    assert split_authors(["Ann Author, Bob Writer and Cy Third"]) == ["Ann Author", "Bob Writer", "Cy Third"]


def test_cut_at_last_item() -> None:
    assert cut_at_last_item(b"<rss><item>1</item><item>2</item><item>3") == b"<rss><item>1</item><item>2</item>"
    assert cut_at_last_item(b"<feed><entry>a</entry><ent") == b"<feed><entry>a</entry>"


def test_source_spec_shape_from_config(settings) -> None:
    from radpulse.sources import expand_sources

    feeds = [s for s in expand_sources(settings) if s.platform == "feeds"]
    assert feeds and all(isinstance(s, SourceSpec) and s.kind in FeedCollector.kinds for s in feeds)


EQUIVALENCE_DOCS = {
    "rss20": rss([*items(1, 3),
                  ('<item><title>Perma</title><guid>https://www.ajronline.org/doi/10.2214/AJR.23.1</guid>'
                   '<author>ed@ajr.org (Ed Itor)</author><pubDate>Tue, 07 Nov 2023 23:30:00 -0500</pubDate></item>'),
                  ('<item><title><![CDATA[A <b>bold</b> claim &amp; more]]></title>'
                   '<link>https://example.org/a?utm_source=x</link>'
                   '<description>&lt;p&gt;HTML &amp;amp; text&lt;/p&gt;</description></item>')]),
    "rss091": b'<?xml version="1.0"?><rss version="0.91"><channel><title>Old</title><item><title>T</title>'
              b"<link>https://pubs.rsna.org/doi/10.1148/rg.1</link><description>D</description></item></channel></rss>",
    "atom": b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"
 xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/"><title>Insights</title>
<entry><title type="html">MRI &lt;i&gt;in vivo&lt;/i&gt;</title><id>doi:10.1186/S13244-023-01400-2</id>
<link rel="alternate" href="https://insightsimaging.springeropen.com/articles/10.1186/s13244-023-01400-2"/>
<author><name>Jane Roe</name></author><published>2023-04-02T10:00:00Z</published><summary>S</summary>
<prism:publicationName>Insights into Imaging</prism:publicationName></entry>
<entry><title>No DOI</title><id>tag:x,2023:1</id><link href="https://example.org/post/1"/>
<updated>2023-05-01T00:00:00Z</updated><content type="html">&lt;p&gt;Body&lt;/p&gt;</content></entry></feed>""",
}


@pytest.mark.parametrize("name", ["elsevier", *EQUIVALENCE_DOCS])
def test_fast_path_and_feedparser_give_the_same_records(name: str, fixtures_dir) -> None:
    from radpulse.collectors.feeds.normalise import parse_feed

    body = (fixtures_dir / "literature" / "rss10_elsevier_dc_prism.xml").read_bytes() if name == "elsevier" \
        else EQUIVALENCE_DOCS[name]
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    fast = parse_feed(body, feed_url="u", retrieved_at=now)
    slow = parse_feed(body, feed_url="u", retrieved_at=now, fast=False)
    assert fast.articles[0].provenance["client"].startswith("lxml/")
    assert slow.articles[0].provenance["client"].startswith("feedparser/")
    fields = ("doi", "pmid", "url", "title", "journal", "issn", "authors", "abstract", "published_date", "key")
    assert [[getattr(a, f) for f in fields] for a in fast.articles] == [[getattr(a, f) for f in fields] for a in slow.articles]
    assert (fast.version, fast.title, fast.entries, len(fast.quarantined)) == (slow.version, slow.title, slow.entries, len(slow.quarantined))
    assert not fast.warnings and not slow.warnings


def test_redirects_are_followed(db, lit_settings, add_source, httpserver) -> None:
    httpserver.expect_request("/old.rss").respond_with_response(
        Response(status=301, headers={"Location": httpserver.url_for("/new.rss")}))
    httpserver.expect_request("/new.rss").respond_with_data(rss(items(40, 1)), content_type="application/rss+xml")
    source = add_source("feed:moved", "feeds", "feed", httpserver.url_for("/old.rss"))
    (summary,) = collect_sources(db, lit_settings(), [source])
    assert (summary.status, summary.new) == ("success", 1)
    assert [r.path for r, _ in httpserver.log] == ["/old.rss", "/new.rss"]


def test_configured_journal_name_wins_over_prism(fixtures_dir) -> None:
    from radpulse.collectors.feeds.normalise import parse_feed

    body = (fixtures_dir / "literature" / "rss10_elsevier_dc_prism.xml").read_bytes()
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    for fast in (True, False):
        assert parse_feed(body, feed_url="u", journal="J Pediatr", retrieved_at=now, fast=fast).articles[0].journal == "J Pediatr"
        assert parse_feed(body, feed_url="u", retrieved_at=now, fast=fast).articles[0].journal == "The Journal of Pediatrics"
