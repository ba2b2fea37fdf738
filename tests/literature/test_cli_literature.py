"""The literature collectors through `radpulse collect --platform ...` with a real config file."""

from __future__ import annotations

import json

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from radpulse.cli.main import cli
from radpulse.db.engine import open_database
from radpulse.identifiers import article_key, find_doi, normalise_doi
from radpulse.literature.links import extract_citations, might_cite

FEED = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Local Journal</title>'
        "<item><title>Paper A</title><link>https://pubs.rsna.org/doi/10.1148/radiol.777</link></item>"
        "<item><title>Paper B</title><link>https://pubs.rsna.org/doi/10.1148/radiol.778</link></item>"
        "</channel></rss>")


def test_collect_platform_feeds_and_crossref_from_the_cli(tmp_path, httpserver) -> None:
    httpserver.expect_request("/local.rss").respond_with_data(FEED, content_type="application/rss+xml")
    config = tmp_path / "radpulse.toml"
    config.write_text(f"""
[database]
url = "sqlite:///{tmp_path / 'r.db'}"

[[feeds]]
name = "Local"
url = "{httpserver.url_for('/local.rss')}"
journal = "Local Journal"

[pubmed]
enabled = false

[crossref]
mailto = "team@example.org"
""")
    runner = CliRunner()
    open_database(f"sqlite:///{tmp_path / 'r.db'}").dispose()  # only init and demo create a database
    result = runner.invoke(cli, ["--config", str(config), "collect", "--platform", "feeds", "--enrich",
                                 "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = {r["source"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {"feed:Local", "crossref:enrich"}
    assert (rows["feed:Local"]["status"], rows["feed:Local"]["new"]) == ("success", 2)
    assert rows["crossref:enrich"]["status"] == "success"  # nothing to enrich: titled feed items
    again = runner.invoke(cli, ["--config", str(config), "collect", "--platform", "feeds", "--json"],
                          catch_exceptions=False)
    (row,) = json.loads(again.stdout)
    assert (row["status"], row["new"], row["fetched"]) == ("success", 0, 0)  # same bytes: nothing new


@given(st.text(max_size=300))
def test_extraction_never_fails_and_prefilter_has_no_false_negatives(text: str) -> None:
    found = extract_citations(text, [text])
    if found and not might_cite(text):
        raise AssertionError("the prefilter rejected a text that cites something")


@given(st.from_regex(r"10\.[0-9]{4,6}/[A-Za-z0-9._;()-]{1,30}", fullmatch=True),
       st.sampled_from(["{}", "doi:{}", "DOI: {}", "https://doi.org/{}", "http://dx.doi.org/{}", "URL"]))
def test_doi_forms_share_one_key(doi: str, form: str) -> None:
    canonical = normalise_doi(doi)
    if canonical is None:
        return
    value = form.format(doi) if form != "URL" else "https://doi.org/" + doi.replace("/", "%2F")
    assert normalise_doi(normalise_doi(value)) == normalise_doi(value)
    assert article_key(doi=value) == article_key(doi=doi.upper()) == f"doi:{normalise_doi(value)}"
    assert find_doi(value) == normalise_doi(value)
