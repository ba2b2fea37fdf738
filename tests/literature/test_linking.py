"""Linking posts to papers: labelled precision/recall, mentions, stubs, one paper from every source."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterator

import httpx
import pytest
import respx
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from radpulse.cli.main import cli
from radpulse.collection import after_batch_steps
from radpulse.collectors.base import Collector
from radpulse.collectors.crossref import CROSSREF, enrich_articles
from radpulse.collectors.pubmed import EUTILS
from radpulse.collectors.runner import collect_sources, run_source
from radpulse.db.models import Annotation, Article, Mention, Post
from radpulse.db.store import upsert_posts
from radpulse.identifiers import article_key, normalise_doi
from radpulse.literature import evaluate as evaluation
from radpulse.literature.attention import article_attention
from radpulse.literature.linking import link_all, link_posts
from radpulse.literature.links import extract_citations
from radpulse.records import Batch, PostRecord, SourceSpec

T0 = dt.datetime(2025, 11, 20, 9, 0, tzinfo=dt.UTC)


#: what the CLI and the scheduler pass the runner (radpulse.collection.after_batch_steps)
STEPS = after_batch_steps()


class PostsCollector(Collector):
    """Yields the posts it was given, one batch each (stands in for a social collector)."""

    platform = "x"
    kinds = ("test",)

    def __init__(self, settings, batches: list[list[PostRecord]]) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings)
        self.batches = batches

    def collect(self, source: SourceSpec, cursor: dict | None) -> Iterator[Batch]:
        for i, posts in enumerate(self.batches):
            yield Batch(posts=posts, cursor={"batch": i})


def post(n: int, text: str, *, platform: str = "x", author: str | None = None, links: list[str] | None = None,
         minutes: int = 0, **kw) -> PostRecord:  # type: ignore[no-untyped-def]
    return PostRecord(platform=platform, external_id=str(n), text=text, created_at=T0 + dt.timedelta(minutes=minutes),
                      author_external_id=author or f"u{n}", links=links or [], **kw)


# -- extraction quality -------------------------------------------------------------------------

def test_labelled_set_precision_and_recall_are_computed(capsys) -> None:
    posts = evaluation.load_labelled()
    assert len(posts) >= 100
    kinds = {item.split(":")[0] for p in posts for item in p["expected"]}
    assert kinds == {"doi", "pmid", "pmcid", "url"} and sum(not p["expected"] for p in posts) >= 30
    scores = evaluation.evaluate(posts)
    assert scores.precision() >= 0.95
    assert scores.recall() >= 0.90
    # the figures are computed: a wrong label lowers them
    broken = [dict(p, expected=["doi:10.9999/nothing"]) if i < 10 else p for i, p in enumerate(posts)]
    assert evaluation.evaluate(broken).precision() < scores.precision()
    assert evaluation.main([]) == 0
    out = capsys.readouterr().out
    assert f"{scores.precision():.3f}" in out and "labelled posts: " + str(len(posts)) in out


def test_doi_forms_normalise_to_one_key() -> None:
    forms = ["doi:10.1136/GUTJNL-2016-312510", "https://doi.org/10.1136/gutjnl-2016-312510",
             "10.1136%2Fgutjnl-2016-312510", "https://dx.doi.org/10.1136%2FGutJnl-2016-312510.",
             "DOI: 10.1136/gutjnl-2016-312510"]
    assert {article_key(doi=f) for f in forms} == {"doi:10.1136/gutjnl-2016-312510"}
    assert {c.value for f in forms for c in extract_citations(f"read {f} now")} == {"10.1136/gutjnl-2016-312510"}
    assert normalise_doi("10.1148") is None and normalise_doi("not a doi") is None


# -- mentions through the runner hook ----------------------------------------------------------

def test_runner_hook_links_posts_creates_stubs_once(db, add_source, lit_settings) -> None:
    batches = [
        [post(1, "Great paper doi:10.1148/radiol.230456 #radres"),
         post(2, "See https://t.co/abc", links=["https://pubs.rsna.org/doi/full/10.1148/radiol.230456"]),
         post(3, "Nothing cited here, pain 10.5/10"),
         post(4, "PMID: 27797938 and PMC5442267")],
        [post(5, "Again https://doi.org/10.1148/RADIOL.230456", author="u1")],
    ]
    source = add_source("x:#test", "x", "test", "#test")
    summary = run_source(db, PostsCollector(lit_settings(), batches), source, after_batch=STEPS)
    assert summary.status == "success"
    again = run_source(db, PostsCollector(lit_settings(), batches), source, after_batch=STEPS)  # same posts: no new mentions
    assert again.status == "success"
    with db.session() as s:
        arts = {a.key: a for a in s.scalars(select(Article))}
        mentions = s.execute(select(Post.external_id, Article.key, Mention.kind)
                             .join(Post, Post.id == Mention.post_id).join(Article, Article.id == Mention.article_id)).all()
    assert set(arts) == {"doi:10.1148/radiol.230456", "pmid:27797938",
                         "url:https://pmc.ncbi.nlm.nih.gov/articles/PMC5442267"}
    stub = arts["doi:10.1148/radiol.230456"]
    assert stub.sources == ["mention"] and stub.crossref_status is None and stub.title is None
    assert arts["pmid:27797938"].pmid == "27797938" and arts["url:https://pmc.ncbi.nlm.nih.gov/articles/PMC5442267"].pmcid == "PMC5442267"
    assert sorted(mentions) == sorted([("1", "doi:10.1148/radiol.230456", "doi"), ("2", "doi:10.1148/radiol.230456", "doi"),
                                       ("4", "pmid:27797938", "pmid"),
                                       ("4", "url:https://pmc.ncbi.nlm.nih.gov/articles/PMC5442267", "pmcid"),
                                       ("5", "doi:10.1148/radiol.230456", "doi")])


def test_the_runner_links_only_when_its_caller_passes_the_step(db, add_source, lit_settings) -> None:
    batches = [[post(1, "Great paper doi:10.1148/radiol.230456")]]
    source = add_source("x:#test", "x", "test", "#test")
    assert run_source(db, PostsCollector(lit_settings(), batches), source).status == "success"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Mention)) == 0  # no step given: nothing linked
    calls = []
    steps = [*STEPS, lambda conn, batch, ids: calls.append(sorted(ids.values()))]
    assert run_source(db, PostsCollector(lit_settings(), batches), source, after_batch=steps).status == "success"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Mention)) == 1
        (post_id,) = s.scalars(select(Post.id)).all()
    assert calls == [[post_id]]  # every step ran, in order, with the stored posts' ids


def test_link_posts_and_bulk_link_all_are_idempotent(db) -> None:
    posts = [post(i, f"paper {i}: https://doi.org/10.1148/radiol.{i % 7}" if i % 3 == 0 else f"just chatting {i}",
                  platform="mastodon") for i in range(1, 301)]
    with db.engine.begin() as conn:
        ids = upsert_posts(conn, posts).ids
    first = link_all(db, chunk_size=64)
    second = link_all(db, chunk_size=64)
    assert (first.posts, first.posts_citing, first.mentions, first.stubs) == (300, 100, 100, 7)
    assert (second.posts_citing, second.mentions, second.stubs) == (100, 0, 0)
    with db.engine.begin() as conn:
        again = link_posts(conn, ids.values())
    assert (again.posts, again.mentions) == (300, 0)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Mention)) == 100
        assert s.scalar(select(func.count()).select_from(Article)) == 7


# -- one paper from every source ---------------------------------------------------------------

GUT = "10.1136/gutjnl-2016-312510"


def test_same_paper_from_posts_feed_pubmed_and_crossref_is_one_article(
    db, add_source, lit_settings, httpserver, fixtures_dir, monkeypatch
) -> None:
    import radpulse.collectors.pubmed.collector as pubmed_mod

    monkeypatch.setattr(pubmed_mod, "utcnow", lambda: T0)
    lit = fixtures_dir / "literature"
    # 1. posts cite it as a URL-encoded doi.org link, a doi: string, a PMID and a PMC link
    posts = [post(1, "https://doi.org/10.1136%2Fgutjnl-2016-312510 telomeres!"),
             post(2, "doi:10.1136/GUTJNL-2016-312510", platform="mastodon"),
             post(3, "PMID: 27797938", platform="reddit"),
             post(4, "full text", platform="bluesky", links=["https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5442267/"])]
    run_source(db, PostsCollector(lit_settings(), [posts]), add_source("x:#t", "x", "test", "#t"), after_batch=STEPS)
    # 2. a journal feed lists it with an upper-case doi: identifier
    feed = ('<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            "<title>Gut</title><item><title>Leucocyte telomere length and pancreatic cancer</title>"
            "<link>https://gut.bmj.com/content/66/6/1116?rss=1</link>"
            "<dc:identifier>doi:10.1136/GUTJNL-2016-312510</dc:identifier></item></channel></rss>")
    httpserver.expect_request("/gut.rss").respond_with_data(feed, content_type="application/rss+xml")
    settings = lit_settings({"pubmed": {"initial_days": 10}}, {"RADPULSE_DATABASE_URL": db.url})
    (feed_run,) = collect_sources(db, settings, [add_source("feed:Gut", "feeds", "feed", httpserver.url_for("/gut.rss"))],
                                  after_batch=STEPS)
    # 3. PubMed returns it with DOI, PMID and PMC id; 4. Crossref answers with a mixed-case DOI
    work = json.loads(gzip.decompress(yaml.safe_load((lit / "crossref_works_rows2.yaml").read_text())
                                      ["interactions"][0]["response"]["body"]["string"]))["message"]["items"][0]
    work = dict(work, DOI="10.1136/GutJnl-2016-312510", title=["Leucocyte telomere length (Crossref)"])
    with respx.mock() as mock:
        mock.get(EUTILS + "esearch.fcgi").mock(return_value=httpx.Response(200, content=(
            b"<eSearchResult><Count>1</Count><QueryKey>1</QueryKey><WebEnv>W</WebEnv><IdList/></eSearchResult>")))
        mock.get(EUTILS + "efetch.fcgi").mock(return_value=httpx.Response(200, content=(lit / "pubmed_pubmed4.xml").read_bytes()))
        crossref = mock.get(CROSSREF + f"works/{GUT}").mock(
            return_value=httpx.Response(200, json={"status": "ok", "message": work}))
        (pubmed_run,) = collect_sources(db, settings, [add_source("pubmed:gut", "pubmed", "pubmed_query", "telomere")],
                                        after_batch=STEPS)
        crossref_run = enrich_articles(db, settings, after_batch=STEPS)
    assert [r.status for r in (feed_run, pubmed_run, crossref_run)] == ["success"] * 3
    assert crossref.called

    with db.session() as s:
        (art,) = s.scalars(select(Article)).all()  # exactly one article
        mentions = s.scalars(select(Mention)).all()
    assert art.key == f"doi:{GUT}" and art.doi == GUT and art.pmid == "27797938" and art.pmcid == "PMC5442267"
    assert art.sources == ["crossref", "feed", "mention", "pubmed"] and art.crossref_status == "found"
    assert art.journal == "Handbuch Innovationsforschung"  # the latest source's value wins (Crossref)
    assert len(mentions) == 4 and {m.article_id for m in mentions} == {art.id}
    assert sorted(m.kind for m in mentions) == ["doi", "doi", "pmcid", "pmid"]


# -- attention and the CLI ---------------------------------------------------------------------

def test_attention_weights_topics_and_cli(db, add_source, lit_settings) -> None:
    a_doi, b_doi = "10.1148/radiol.111", "10.2214/ajr.22.222"
    posts = [
        post(1, f"doi:{a_doi}", author="alice", like_count=2, repost_count=1, reply_count=0, minutes=0),
        post(2, f"again doi:{a_doi}", author="alice", minutes=5),  # same author: counted once
        post(3, f"RT doi:{a_doi}", author="bob", reposted_id="1", minutes=10),
        post(4, f"https://doi.org/{a_doi}", platform="reddit", author="carol", minutes=20),
        post(5, f"reply doi:{b_doi}", platform="mastodon", author="dan", in_reply_to_id="99", minutes=30),
    ]
    run_source(db, PostsCollector(lit_settings(), [posts]), add_source("x:#t", "x", "test", "#t"), after_batch=STEPS)
    frame = article_attention(db)
    assert list(frame["doi"]) == [a_doi, b_doi]
    a, b = frame.iloc[0], frame.iloc[1]
    # A: alice 1.0 (+ engagement 0.25*log2(1+3) = 0.5); bob repost 0.25; carol on Reddit 0.25;
    # engagement 0.5 is within its bound (a quarter of the score: social 1.5 / 3)
    assert a["score"] == pytest.approx(2.0) and b["score"] == pytest.approx(0.5)
    assert (a["mentions"], a["unique_authors"], a["mentions_x"], a["mentions_reddit"], a["mentions_mastodon"]) == (4, 3, 3, 1, 0)
    assert a["first_mention"] == T0 and a["latest_mention"] == T0 + dt.timedelta(minutes=20)
    assert article_attention(db, since=T0 + dt.timedelta(minutes=15))["mentions"].tolist() == [1, 1]

    with db.session() as s:
        ids = dict(s.execute(select(Post.external_id, Post.id)).all())
        for ext, subs, themes in (("4", ["neuro"], []), ("5", [], ["AI"])):
            s.add(Annotation(post_id=ids[ext], model_name="m", model_version="1", subspecialties=subs, themes=themes,
                             annotated_at=T0))
    assert article_attention(db, topic="Neuro")["doi"].tolist() == [a_doi]
    assert article_attention(db, topic="ai")["doi"].tolist() == [b_doi]

    runner = CliRunner()
    result = runner.invoke(cli, ["--database-url", db.url, "articles", "top", "--since", "all", "--json"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["doi"] for r in rows] == [a_doi, b_doi] and rows[0]["score"] == pytest.approx(2.0)
    table_run = runner.invoke(cli, ["--database-url", db.url, "articles", "top", "--since", "all", "--topic", "neuro",
                                    "--limit", "5"], catch_exceptions=False)
    assert table_run.exit_code == 0 and a_doi in table_run.output and b_doi not in table_run.output
    bad = runner.invoke(cli, ["--database-url", db.url, "articles", "top", "--since", "soon"])
    assert bad.exit_code == 2 and "'--since': 'soon' is not a date" in bad.output

