"""Property (issue 12): arbitrary Unicode, control characters and markup through every normaliser
(X, archive, Reddit, Mastodon, Bluesky, feeds, PubMed) leave no control character other than tab
and newline in any stored field, and rendering the records in the digest (HTML and text) and the
dashboard creates no element or attribute from the input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from radpulse.collectors.bluesky.normalise import normalise_page as bluesky_page
from radpulse.collectors.feeds.normalise import parse_feed
from radpulse.collectors.mastodon.normalise import normalise_page as mastodon_page
from radpulse.collectors.pubmed.normalise import parse_pubmed_articles
from radpulse.collectors.reddit.normalise import normalise_submission
from radpulse.collectors.x.normalise import normalise_page as x_page
from radpulse.collectors.x.normalise import normalise_v1_tweet
from radpulse.dashboards import figures
from radpulse.dashboards.app import articles_table
from radpulse.digest import Digest, render
from radpulse.errors import BadPayload
from radpulse.records import ArticleRecord, AuthorRecord, PostRecord
from radpulse.safetext import plain_text

NOW = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
MARKUP = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "&lt;img src=x onerror=alert(3)&gt;",
          "&amp;lt;b onmouseover=alert(4)&amp;gt;", '"><svg onload=alert(5)>', "javascript:alert(6)",
          "data:text/html,<b>x</b>", "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07", "\x00", "\r\n", "\u2028",
          "https://doi.org/10.1148/radiol.1", "#hashtag", "@someone", "<a href='javascript:alert(7)'>a</a>"]
hostile = st.lists(
    st.one_of(st.text(max_size=20),
              st.text(st.characters(min_codepoint=0, max_codepoint=0x9F), max_size=10),
              st.text(st.characters(categories=["Cs", "Cc", "Cf", "Zl", "Zp"]), max_size=5),
              st.sampled_from(MARKUP)),
    max_size=8,
).map("".join)


def _xml(s: str) -> str:
    """`s` as XML character data (what a server could send: bytes, invalid characters and all)."""
    return html.escape(s, quote=False)


def _x(s: str) -> Iterator:
    users = [{"id": "7", "username": s, "name": s, "description": s}]
    tweet = {"id": "1760000000000000009", "text": s, "author_id": "7", "created_at": "2026-01-05T00:00:00.000Z",
             "lang": s, "entities": {"urls": [{"expanded_url": s}], "hashtags": [{"tag": s}],
                                     "mentions": [{"username": s}]}}
    posts, authors, _ = x_page({"data": [tweet], "includes": {"users": users}}, provenance={}, read_at=NOW)
    yield from posts + authors


def _archive(s: str) -> Iterator:
    tweet = {"id_str": "1760000000000000010", "full_text": s, "created_at": "Mon Jan 05 10:00:00 +0000 2026",
             "entities": {"urls": [{"expanded_url": s}], "hashtags": [{"text": s}]}}
    try:
        yield normalise_v1_tweet(tweet, provenance={}, read_at=None, author_id="7", username=s)
    except ValueError:  # what the archive reader quarantines (e.g. no text at all)
        return


def _reddit(s: str) -> Iterator:
    data = {"name": "t3_abc", "created_utc": 1767600000, "subreddit": "radiology", "permalink": "/r/radiology/abc",
            "title": s, "selftext": s, "url": s, "author": "doc", "author_fullname": "t2_doc"}
    post, author = normalise_submission(data, read_at=NOW, provenance=None)
    yield from (post, author)  # a record over [limits] would raise; none of these is


def _mastodon(s: str) -> Iterator:
    status = {"id": "1", "uri": "https://m.example/s/1", "url": s, "created_at": "2026-01-05T00:00:00.000Z",
              "content": f"<p>{s}</p><p>{html.escape(s)}</p>", "spoiler_text": s, "language": s,
              "account": {"id": "1", "username": "u", "acct": "u", "url": "https://m.example/@u",
                          "display_name": s, "note": s},
              "tags": [{"name": s}], "mentions": [], "media_attachments": [], "card": {"url": s}}
    posts, authors, _ = mastodon_page([json.dumps(status).encode()], "m.example", retrieved_at=NOW)
    yield from posts + authors


def _bluesky(s: str) -> Iterator:
    view = {"uri": "at://did:plc:abc/app.bsky.feed.post/3k", "cid": "c",
            "author": {"did": "did:plc:abc", "handle": "a.example", "displayName": s},
            "record": {"$type": "app.bsky.feed.post", "text": s, "createdAt": "2026-01-05T00:00:00Z", "langs": [s]},
            "indexedAt": "2026-01-05T00:00:00Z"}
    posts, authors, _ = bluesky_page([json.dumps(view).encode()], retrieved_at=NOW)
    yield from posts + authors


def _feed(s: str) -> Iterator:
    x = _xml(s)
    doc = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{x}</title>'
           f'<item><title>{x}</title><link>https://j.example/a</link><description>{x}</description>'
           f'<author>{x}</author></item><item><title>{x}</title><link>{x}</link></item></channel></rss>')
    content = doc.encode("utf-8", "surrogatepass")
    for fast in (True, False):
        yield from parse_feed(content, feed_url="https://j.example/rss", retrieved_at=NOW, fast=fast).articles


def _pubmed(s: str) -> Iterator:
    x = _xml(s)
    doc = (f"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>123</PMID><Article><Journal><Title>{x}</Title>"
           f"</Journal><ArticleTitle>{x}</ArticleTitle><Abstract><AbstractText>{x}</AbstractText></Abstract>"
           f"<AuthorList><Author><LastName>{x}</LastName><Initials>{x}</Initials></Author></AuthorList>"
           "</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>")
    try:
        records, _ = parse_pubmed_articles(doc.encode("utf-8", "surrogatepass"), endpoint="e", retrieved_at=NOW)
    except BadPayload:  # not XML at all: the whole answer is refused, nothing stored
        return
    yield from records


NORMALISERS = [_x, _archive, _reddit, _mastodon, _bluesky, _feed, _pubmed]


def _texts(record) -> Iterator[tuple[str, str]]:
    for f in dataclasses.fields(record):
        if f.name in ("raw", "provenance"):
            continue  # kept as the service sent it, never rendered
        value = getattr(record, f.name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                yield f.name, item


class _Shape(HTMLParser):
    """Every element and attribute name of a document, and the attribute values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shape: list[tuple] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.shape.append((tag, tuple(name for name, _ in attrs)))
        for name, value in attrs:
            if name == "href":
                assert value is not None and value.lower().startswith(("http://", "https://")), value


def _shape(doc: str) -> list[tuple]:
    parser = _Shape()
    parser.feed(doc)
    return parser.shape


def _digest(posts: list[PostRecord], articles: list[ArticleRecord], authors: list[AuthorRecord]) -> Digest:
    return Digest(
        start=dt.date(2026, 1, 5), end=dt.date(2026, 1, 12), title="radpulse weekly", posts=len(posts),
        top_posts=[{"platform": p.platform, "date": "2026-01-05", "likes": 1, "reposts": 0, "replies": 0,
                    "text": p.text or p.title or "", "url": p.url} for p in posts]
        + [{"platform": "x", "date": "2026-01-05", "likes": 0, "reposts": 0, "replies": 0,
            "text": a.display_name or a.bio or "", "url": a.url} for a in authors],
        articles=[{"title": a.title or "", "journal": a.journal, "url": a.url, "mentions": 1, "authors": 1,
                   "score": 1.0} for a in articles],
        emerging=[{"term": t, "authors": 3, "new": True} for p in posts for t in p.hashtags],
        base_url="https://radpulse.example.org",
    )


def _placeholder(records: list) -> list:
    """The same records with every text field replaced by a plain word (links by a plain link)."""
    out = []
    for r in records:
        changes = {}
        for f in dataclasses.fields(r):
            value = getattr(r, f.name)
            if f.name == "url":
                changes[f.name] = "https://example.org/p" if value else value
            elif f.name == "links":
                changes[f.name] = ["https://example.org/l"] * len(value)
            elif isinstance(value, str) and value and f.name not in ("platform",):
                changes[f.name] = "word"
            elif isinstance(value, list) and f.name in ("hashtags", "mentions", "authors", "mesh_terms"):
                changes[f.name] = ["word"] * len(value)
        out.append(dataclasses.replace(r, **changes))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile)
@example("\x1b0a:")  # an escape sequence removed in front of "a:" makes no link
@example("0\n<script>alert(1)</script>a:")  # Mastodon drops the script element: "a:" starts a line
def test_hostile_text_is_stored_plain_and_rendered_inert(s):
    records = [r for normalise in NORMALISERS for r in normalise(s)]
    for record in records:
        for name, value in _texts(record):
            assert not FORBIDDEN.search(value), (type(record).__name__, name, value)
    posts = [r for r in records if isinstance(r, PostRecord)]
    authors = [r for r in records if isinstance(r, AuthorRecord)]
    articles = [r for r in records if isinstance(r, ArticleRecord)]

    html_doc, text_doc = render(_digest(posts, articles, authors))
    plain_html, _ = render(_digest(_placeholder(posts), _placeholder(articles), _placeholder(authors)))
    assert _shape(html_doc) == _shape(plain_html)  # no element or attribute from the input
    links = [r.url for r in records] + [u for r in posts for u in r.links]
    assert all(u is None or u.lower().startswith(("http://", "https://")) for u in links)
    # the text part is plain text (a post may quote markup as its author typed it); its only URLs
    # are the stored ones, checked above, and the template's own
    assert set(re.findall(r"(?m)^\s*([a-z]+):", text_doc)) <= {"https", "http", "Sentiment", "Unsubscribe",
                                                                 "Dashboard"} | {
        word for record in records for _, value in _texts(record)  # the stored texts (checked above):
        for word in re.findall(r"(?m)^\s*([a-z]+):", value)}      # Mastodon's HTML becomes lines of its own

    columns = ["title", "journal", "doi", "score", "mentions", "authors"]
    table = articles_table(pd.DataFrame([{"title": a.title, "journal": a.journal, "doi": a.doi, "score": 1.0,
                                          "mentions": 1, "authors": 1} for a in articles], columns=columns))
    placeholder_table = articles_table(pd.DataFrame([{"title": "w", "journal": "w", "doi": "w", "score": 1.0,
                                                      "mentions": 1, "authors": 1} for _ in articles], columns=columns))
    assert _component_shape(table) == _component_shape(placeholder_table)
    tags = [t for p in posts for t in p.hashtags]
    if tags:
        fig = figures.hashtag_figure(pd.DataFrame({"tag": tags, "posts": range(1, len(tags) + 1),
                                                   "authors": 1}))
        for label in fig.data[0].y:
            assert "<" not in label and ">" not in label  # Plotly would render some tags in labels


def _component_shape(component) -> list:
    """The Dash component tree's types and properties other than text children."""
    if isinstance(component, (str, int, float)) or component is None:
        return ["text"]
    if isinstance(component, (list, tuple)):
        return [_component_shape(c) for c in component]
    props = sorted(p for p in component.to_plotly_json()["props"] if p != "children")
    return [type(component).__name__, props, _component_shape(getattr(component, "children", None))]
