"""Hostile feeds (issue 12): text decoded once and stored plain, only http(s) links."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from radpulse.collectors.feeds.normalise import clean_text, parse_feed
from radpulse.db.models import Article
from radpulse.db.store import upsert_articles

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
#: an RSS item whose title, description, author and journal are HTML escaped twice
FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/">
<channel><title>Radiology &amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;</title>
<item>
  <title>CT &amp;lt;img src=x onerror=alert(1)&amp;gt; of the chest &amp;amp; abdomen</title>
  <link>https://pubs.rsna.org/doi/10.1148/radiol.999</link>
  <description>&amp;lt;b onmouseover=alert(2)&amp;gt;Abstract&amp;lt;/b&amp;gt; &lt;i&gt;text&lt;/i&gt;: a &lt; b</description>
  <dc:creator>Doe J &amp;lt;svg onload=alert(3)&amp;gt;</dc:creator>
  <prism:publicationName>J &amp;lt;iframe src=javascript:alert(4)&amp;gt;Rad</prism:publicationName>
  <prism:doi>10.1148/radiol.999</prism:doi>
</item>
<item>
  <title>javascript link</title>
  <link>javascript:alert(5)</link>
</item>
</channel></rss>"""


@pytest.mark.parametrize("fast", [True, False])
def test_a_double_escaped_feed_is_stored_as_plain_text(db, fast):
    parsed = parse_feed(FEED, feed_url="https://feeds.example.org/rss", retrieved_at=NOW, fast=fast)
    assert parsed.title == "Radiology"
    assert len(parsed.quarantined) == 1 and "no DOI, PMID or link" in parsed.quarantined[0].error
    (art,) = parsed.articles
    with db.engine.begin() as conn:
        upsert_articles(conn, parsed.articles)
    with db.engine.connect() as conn:
        row = conn.execute(select(Article.title, Article.abstract, Article.authors, Article.journal)).one()
    assert row.title == "CT of the chest & abdomen"
    assert row.abstract == "Abstract text : a < b"  # every tag becomes a space
    assert row.authors == ["Doe J"]
    assert row.journal == "J Rad"
    for value in (row.title, row.abstract, *row.authors, row.journal):
        assert "onerror" not in value and "<" + "img" not in value and "alert" not in value


def test_clean_text_unescapes_once_then_strips():
    assert clean_text("&lt;img src=x onerror=alert(1)&gt;caption") == "caption"
    assert clean_text("&amp;lt;b&amp;gt;") == "&lt;b&gt;"  # decoded once only: stays inert text
    assert clean_text("5 &lt; 7 and 9 > 3") == "5 < 7 and 9 > 3"
    assert clean_text("trailing <img src=x onerror=alert(1)") == "trailing"
    assert clean_text("<!-- c --><p>para</p>") == "para"
