"""PubMed through the real httpx client replaying NCBI's recorded E-utilities answers (respx)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import respx
from sqlalchemy import func, select

import radpulse.collectors.pubmed.collector as pubmed_mod
from radpulse.collectors.pubmed import EUTILS, PubMedCollector
from radpulse.collectors.runner import collect_sources, run_source
from radpulse.db.models import Article, CollectionRun, SourceCursor

TODAY = dt.datetime(2025, 11, 26, 12, 0, tzinfo=dt.UTC)
TERM = "cancer"


def esearch_xml(count: int, webenv: str | None = "W", key: str | None = "1") -> bytes:
    history = f"<QueryKey>{key}</QueryKey><WebEnv>{webenv}</WebEnv>" if webenv else ""
    return (f'<?xml version="1.0" ?><eSearchResult><Count>{count}</Count><RetMax>0</RetMax><RetStart>0</RetStart>'
            f"{history}<IdList/></eSearchResult>").encode()


@pytest.fixture
def lit(fixtures_dir):  # type: ignore[no-untyped-def]
    base = fixtures_dir / "literature"
    return {name: (base / f"pubmed_{name}.xml").read_bytes() for name in ("esearch1", "esearch2", "pubmed2", "pubmed4", "efetch_pmc")}


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pubmed_mod, "utcnow", lambda: TODAY)


def settings_for(lit_settings, env=None):  # type: ignore[no-untyped-def]
    return lit_settings({"pubmed": {"email": "lab@example.org", "tool": "radpulse-test", "initial_days": 60}}, env)


def test_history_search_split_over_cap_and_batched_efetch(db, add_source, lit_settings, lit, monkeypatch, sleeps) -> None:
    monkeypatch.setattr(PubMedCollector, "batch_size", 2)
    searches: list[tuple[str, str]] = []

    def esearch(request: httpx.Request) -> httpx.Response:
        p = request.url.params
        searches.append((p["mindate"], p["maxdate"]))
        if (p["mindate"], p["maxdate"]) == ("2025/09/27", "2025/11/26"):
            return httpx.Response(200, content=lit["esearch2"])  # the recorded 42,249-hit answer
        if p["mindate"] == "2025/09/27":
            return httpx.Response(200, content=esearch_xml(3, "MCID_half1", "1"))
        return httpx.Response(200, content=esearch_xml(0, "MCID_half2", "1"))

    fetches = iter([lit["pubmed2"], lit["pubmed4"]])
    with respx.mock(assert_all_called=True) as mock:
        search_route = mock.get(EUTILS + "esearch.fcgi").mock(side_effect=esearch)
        fetch_route = mock.get(EUTILS + "efetch.fcgi").mock(side_effect=lambda r: httpx.Response(200, content=next(fetches)))
        source = add_source(f"pubmed:{TERM}", "pubmed", "pubmed_query", TERM)
        (summary,) = collect_sources(db, settings_for(lit_settings), [source])

    assert (summary.status, summary.fetched, summary.new, summary.error) == ("success", 3, 3, None)
    # 42,249 hits are over the cap: the range was split in two halves, searched in date order
    assert searches == [("2025/09/27", "2025/11/26"), ("2025/09/27", "2025/10/27"), ("2025/10/28", "2025/11/26")]
    first = search_route.calls[0].request.url.params
    assert (first["db"], first["term"], first["usehistory"], first["datetype"]) == ("pubmed", TERM, "y", "edat")
    assert (first["tool"], first["email"]) == ("radpulse-test", "lab@example.org") and "api_key" not in first
    fetch_params = [c.request.url.params for c in fetch_route.calls]
    assert [(p["WebEnv"], p["query_key"], p["retstart"], p["retmax"], p["retmode"]) for p in fetch_params] == [
        ("MCID_half1", "1", "0", "2", "xml"), ("MCID_half1", "1", "2", "1", "xml")]
    # 5 requests at 3/s: each after the first waited about a third of a second
    assert len(sleeps) == 4 and sleeps == pytest.approx([1 / 3] * 4)

    with db.session() as s:
        arts = {a.pmid: a for a in s.scalars(select(Article))}
        cursor = s.scalar(select(SourceCursor.cursor).where(SourceCursor.source_id == source.id))
    assert cursor == {"edat_from": "2025-11-26", "term": TERM}
    gut = arts["27797938"]
    assert gut.key == "doi:10.1136/gutjnl-2016-312510" and gut.doi == "10.1136/gutjnl-2016-312510"
    assert gut.pmcid == "PMC5442267" and gut.url == "https://pubmed.ncbi.nlm.nih.gov/27797938"
    # inline <i>TERT</i> markup flattened into the text
    assert gut.title == "Leucocyte telomere length, genetic variants at the TERT gene region and risk of pancreatic cancer."
    assert gut.journal == "Gut" and gut.issn == "1468-3288"
    assert gut.published_date == dt.date(2016, 10, 21) and gut.entrez_date == dt.date(2016, 11, 1)
    assert gut.authors[:2] == ["Ying Bao", "Jennifer Prescott"] and len(gut.authors) == 22
    assert gut.authors[-1] == "Brian M Wolpin"
    assert gut.abstract.startswith("OBJECTIVE: Telomere shortening occurs")
    assert "\n\nDESIGN: We measured" in gut.abstract and "\n\nCONCLUSIONS: Prediagnostic" in gut.abstract
    assert "(TERT) gene region" in gut.abstract and "r2<0.25" in gut.abstract
    assert len(gut.mesh_terms) == 21 and gut.mesh_terms[0] == "Adenocarcinoma" and "Telomere Shortening" in gut.mesh_terms
    assert gut.sources == ["pubmed"] and gut.raw["pmid"] == "27797938" and "<PubmedArticle>" in gut.raw["xml"]
    assert gut.provenance["endpoint"] == EUTILS + "efetch.fcgi"
    cryo = arts["11748933"]
    assert cryo.doi == "10.1006/cryo.2001.2328" and cryo.pmcid is None and cryo.journal == "Cryobiology"
    assert cryo.published_date == dt.date(2001, 6, 1) and cryo.entrez_date == dt.date(2001, 12, 26)
    assert cryo.authors[0] == "A R Taddei" and len(cryo.mesh_terms) == 11 and cryo.issn == "0011-2240"
    mri = arts["11700088"]
    assert mri.title == "Proton MRI of (13)C distribution by J and chemical shift editing." and mri.mesh_terms == []


def test_esearch_without_history_fetches_listed_ids(db, add_source, lit_settings, lit) -> None:
    with respx.mock() as mock:
        mock.get(EUTILS + "esearch.fcgi").mock(return_value=httpx.Response(200, content=lit["esearch1"]))
        fetch = mock.get(EUTILS + "efetch.fcgi").mock(return_value=httpx.Response(200, content=lit["pubmed2"]))
        source = add_source("pubmed:biopython", "pubmed", "pubmed_query", "biopython")
        (summary,) = collect_sources(db, settings_for(lit_settings, {"NCBI_API_KEY": "k-123"}), [source])
    assert summary.status == "warning" and "fetched the 20 ids listed of 63" in summary.warnings[0]
    params = [c.request.url.params for c in fetch.calls]
    assert len(params) == 1 and "WebEnv" not in params[0] and params[0]["api_key"] == "k-123"
    assert params[0]["id"].split(",")[:2] == ["41282813", "41148224"] and len(params[0]["id"].split(",")) == 20
    assert summary.new == 2


def test_api_key_paces_at_ten_per_second(db, add_source, lit_settings, lit, sleeps) -> None:
    with respx.mock() as mock:
        search = mock.get(EUTILS + "esearch.fcgi").mock(return_value=httpx.Response(200, content=esearch_xml(1)))
        mock.get(EUTILS + "efetch.fcgi").mock(return_value=httpx.Response(200, content=lit["pubmed4"]))
        source = add_source("pubmed:q", "pubmed", "pubmed_query", "q")
        (summary,) = collect_sources(db, settings_for(lit_settings, {"NCBI_API_KEY": "k-123"}), [source])
    assert summary.status == "success" and search.calls[0].request.url.params["api_key"] == "k-123"
    assert sleeps == pytest.approx([0.1])


def test_cursor_resumes_after_crash_without_gap_or_duplicate(db, add_source, lit_settings, lit, monkeypatch) -> None:
    monkeypatch.setattr(PubMedCollector, "batch_size", 2)
    calls = {"n": 0}

    def efetch(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("injected crash after the first batch")
        return httpx.Response(200, content=lit["pubmed2"] if request.url.params["retstart"] == "0" else lit["pubmed4"])

    settings = settings_for(lit_settings)
    source = add_source("pubmed:q", "pubmed", "pubmed_query", "q")
    with respx.mock() as mock:
        mock.get(EUTILS + "esearch.fcgi").mock(return_value=httpx.Response(200, content=esearch_xml(3)))
        mock.get(EUTILS + "efetch.fcgi").mock(side_effect=efetch)
        collector = PubMedCollector(settings)
        crashed = run_source(db, collector, source)
        with db.session() as s:
            mid_cursor = s.scalar(select(SourceCursor.cursor).where(SourceCursor.source_id == source.id))
            mid_count = s.scalar(select(func.count()).select_from(Article))
        resumed = run_source(db, collector, source)
        collector.close()
    assert crashed.status == "failed" and "injected crash" in crashed.error
    assert mid_cursor == {"edat_from": "2025-09-27", "term": "q"} and mid_count == 2
    assert resumed.status == "success" and resumed.new == 1 and resumed.updated == 2
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Article)) == 3
        assert s.scalar(select(SourceCursor.cursor).where(SourceCursor.source_id == source.id))["edat_from"] == "2025-11-26"


def test_cursor_sets_mindate_and_changed_term_restarts(db, add_source, lit_settings) -> None:
    source = add_source("pubmed:q", "pubmed", "pubmed_query", "q")
    collector = PubMedCollector(settings_for(lit_settings))
    with respx.mock() as mock:
        route = mock.get(EUTILS + "esearch.fcgi").mock(return_value=httpx.Response(200, content=esearch_xml(0)))
        list(collector.collect(source, {"edat_from": "2025-11-20", "term": "q"}))
        list(collector.collect(source, {"edat_from": "2025-11-20", "term": "an older query"}))
    collector.close()
    assert [c.request.url.params["mindate"] for c in route.calls] == ["2025/11/20", "2025/09/27"]


def test_server_errors_retry_then_bad_payloads_fail_the_run(db, add_source, lit_settings, lit, sleeps) -> None:
    settings = settings_for(lit_settings)
    with respx.mock() as mock:
        mock.get(EUTILS + "esearch.fcgi").mock(side_effect=[
            httpx.Response(502), httpx.ReadTimeout("slow"), httpx.Response(200, content=esearch_xml(1)),
            httpx.Response(200, content=b'<?xml version="1.0" ?><eSearchResult><ERROR>Invalid query</ERROR></eSearchResult>'),
        ])
        mock.get(EUTILS + "efetch.fcgi").mock(return_value=httpx.Response(200, content=lit["efetch_pmc"]))
        a = add_source("pubmed:a", "pubmed", "pubmed_query", "a")
        b = add_source("pubmed:b", "pubmed", "pubmed_query", "b")
        first, second = collect_sources(db, settings, [a, b])
    assert first.status == "failed" and "expected a PubmedArticleSet, got <pmc-articleset>" in first.error
    assert second.status == "failed" and "Invalid query" in second.error
    backoff = [s for s in sleeps if s != pytest.approx(1 / 3)]
    assert len(backoff) == 2 and 0.5 <= backoff[0] <= 1 and 1 <= backoff[1] <= 2  # jittered, doubling
    with db.session() as s:
        assert [r for (r,) in s.execute(select(CollectionRun.status).order_by(CollectionRun.id))] == ["failed", "failed"]
