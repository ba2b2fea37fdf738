"""Identifiers: canonical article keys keep identity parameters, truncated DOIs cite nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import func, select

from radpulse.db.models import Article, Mention
from radpulse.db.store import upsert_posts
from radpulse.identifiers import (
    article_key,
    canonical_article_url,
    canonical_url,
    is_tracking_param,
)
from radpulse.literature.linking import link_posts
from radpulse.literature.links import extract_citations, is_truncated
from radpulse.records import PostRecord, utcnow

ROOT = Path(__file__).resolve().parents[2]

#: (one article's URL, the same article with tracking or cosmetic differences, a different article)
SAME_AND_DISTINCT = [
    ("https://www.auntminnie.com/index.aspx?sec=ser&sub=def&pag=dis&ItemID=140012",
     "http://auntminnie.com/index.aspx?ItemID=140012&sec=ser&sub=def&pag=dis&utm_source=twitter&utm_medium=social",
     "https://www.auntminnie.com/index.aspx?sec=ser&sub=def&pag=dis&ItemID=140013"),
    ("https://journals.lww.com/investigativeradiology/Fulltext/2021/05000/articleviewer.aspx?year=2021&issue=05000&article=00001",
     "https://journals.lww.com/investigativeradiology/Fulltext/2021/05000/articleviewer.aspx?article=00001&issue=05000&year=2021&fbclid=IwAR0x",
     "https://journals.lww.com/investigativeradiology/Fulltext/2021/05000/articleviewer.aspx?year=2021&issue=05000&article=00002"),
    ("https://www.scielo.br/scielo.php?script=sci_arttext&pid=S0100-39842021000100001",
     "https://scielo.br/scielo.php?pid=S0100-39842021000100001&script=sci_arttext&gclid=abc&mc_cid=1&mc_eid=2",
     "https://www.scielo.br/scielo.php?script=sci_arttext&pid=S0100-39842021000100002"),
    ("https://papers.ssrn.com/sol3/papers.cfm?abstract_id=3912345",
     "https://papers.ssrn.com/sol3/papers.cfm?abstract_id=3912345#page=2",
     "https://papers.ssrn.com/sol3/papers.cfm?abstract_id=3912346"),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ",
     "https://m.youtube.com/watch?v=dQw4w9WgXcQ&feature=share&si=xyz",
     "https://www.youtube.com/watch?v=9bZkp7q5g0M"),
    ("https://example.org/~lab/paper?id=%7E1",
     "https://example.org/%7elab/paper/?id=~1&af=R",
     "https://example.org/~lab/paper?id=%7E2"),
]


@pytest.mark.parametrize(("url", "same", "other"), SAME_AND_DISTINCT)
def test_article_keys_distinct_for_distinct_articles_equal_for_tracking(url: str, same: str, other: str) -> None:
    key = article_key(url=url)
    assert key == article_key(url=same)
    assert key != article_key(url=other)
    assert "utm_" not in key and "fbclid" not in key and "#" not in key


def test_canonical_url_keeps_identity_params_sorted_and_drops_tracking() -> None:
    assert canonical_url("https://www.auntminnie.com/index.aspx?sec=ser&ItemID=1&utm_campaign=x") == (
        "https://auntminnie.com/index.aspx?ItemID=1&sec=ser")
    assert canonical_url("https://pubs.rsna.org/doi/full/10.1148/radiol.1?af=R") == "https://pubs.rsna.org/doi/full/10.1148/radiol.1"
    # reserved escapes stay escaped (upper case): a%2Fb is not a/b
    assert canonical_url("https://x.org/a%2fb") == "https://x.org/a%2Fb" != canonical_url("https://x.org/a/b")
    # blank identity parameters are kept: they are part of how the site addresses the page
    assert canonical_url("https://x.org/p?year=&article=1") == "https://x.org/p?article=1&year="
    assert canonical_url("https://m.org/p") == "https://m.org/p"  # no mobile prefix to strip there


@pytest.mark.parametrize("name", ["utm_source", "UTM_Medium", "fbclid", "gclid", "af", "mc_cid", "mc_eid", "_hsenc"])
def test_tracking_params(name: str) -> None:
    assert is_tracking_param(name)


@pytest.mark.parametrize("name", ["ItemID", "article", "pid", "abstract_id", "v", "year", "id"])
def test_identity_params_are_not_tracking(name: str) -> None:
    assert not is_tracking_param(name)


def test_youtu_be_and_pubmed_forms_share_a_key() -> None:
    assert canonical_article_url("https://youtu.be/dQw4w9WgXcQ?si=abc") == "https://youtube.com/watch?v=dQw4w9WgXcQ"
    for url in ("https://www.ncbi.nlm.nih.gov/pubmed/?term=31234567", "https://europepmc.org/article/MED/31234567",
                "https://europepmc.org/abstract/MED/31234567/", "https://pubmed.ncbi.nlm.nih.gov/31234567/?utm_source=x"):
        assert canonical_article_url(url) == "https://pubmed.ncbi.nlm.nih.gov/31234567", url
    # a search that is not one PMID is not an article
    assert canonical_article_url("https://www.ncbi.nlm.nih.gov/pubmed/?term=radiology+ai") == (
        "https://ncbi.nlm.nih.gov/pubmed?term=radiology+ai")


@pytest.mark.parametrize("text", [
    "Great read 10.1148/radiol.20212… #radiology",
    "doi: 10.1148/radiol.20212...",
    "(10.1148/radiol.2021…)",
    "https://doi.org/10.1148/radiol.20212…",
    "doi.org/10.1148/radiol.2021...",
    "https://pubs.rsna.org/doi/10.1148/radiol.20…",
])
def test_truncated_doi_is_not_a_citation(text: str) -> None:
    assert extract_citations(text) == []


def test_complete_doi_still_cited_and_truncation_check() -> None:
    assert [c.value for c in extract_citations("see 10.1148/radiol.2021204567.")] == ["10.1148/radiol.2021204567"]
    assert is_truncated("10.1148/radiol.20212…") and is_truncated("10.1148/x...)")
    assert not is_truncated("10.1148/radiol.2021204567.")


def test_europepmc_and_pubmed_term_links_cite_the_pmid() -> None:
    found = extract_citations("https://europepmc.org/article/MED/31234567 and "
                              "https://www.ncbi.nlm.nih.gov/pubmed/?term=29876543 and https://europepmc.org/article/PMC/PMC7654321")
    assert [(c.kind, c.value) for c in found] == [("pmid", "31234567"), ("pmid", "29876543"), ("pmcid", "PMC7654321")]


def test_truncated_doi_makes_no_stub_article(db) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    posts = [PostRecord(platform="x", external_id=str(i), created_at=now, text=text)
             for i, text in enumerate(["New paper 10.1148/radiol.20212…", "Full 10.1148/radiol.2021204567 here"])]
    with db.engine.begin() as conn:
        ids = upsert_posts(conn, posts).ids
        result = link_posts(conn, ids.values())
    assert result.stubs == 1
    with db.session() as s:
        assert s.scalars(select(Article.key)).all() == ["doi:10.1148/radiol.2021204567"]
        assert s.scalar(select(func.count()).select_from(Mention)) == 1


def test_identifiers_module_is_in_the_bottom_layer() -> None:
    """radpulse/identifiers.py imports nothing from collectors, analysis, dashboards, the CLI or literature."""
    tree = ast.parse((ROOT / "radpulse" / "identifiers.py").read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not [m for m in imported if m.startswith("radpulse")], imported
    assert not (ROOT / "radpulse" / "literature" / "identifiers.py").exists()
