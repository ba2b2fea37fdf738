"""The fast paths of the hostile-input checks agree with the detailed checks they skip.

Every record is made inert as it is built (radpulse.records): most fields from the internet have
nothing to clean or refuse, so `plain_text`, `safe_http_url` and the records' `_make_inert` first
ask a cheap question (`is_plain`, one regex for a plain http(s) URL, `_already_inert`) and take
the detailed path only when it says no. These properties feed them hostile inputs (NUL bytes,
escape sequences, lone surrogates, bidi and zero-width characters, fields around and over their
caps, wrong types) and check the answer is the same either way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from radpulse import records
from radpulse.records import ArticleRecord, AuthorRecord, PostRecord
from radpulse.safetext import LIMITS, cleaned_text, is_plain, plain_text
from radpulse.safeurl import MAX_URL_LENGTH, checked_http_url, is_plain_http_url, safe_http_url

NOW = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)

#: characters the checks look for, and ordinary ones around them
SPECIAL = ("\x00", "\t", "\n", "\r", "\r\n", "\x1b", "\x1b[31m", "\x1b]8;;https://e.example\x07", "\x7f", "\x85",
           "\x9b", "\x9d", "\xa0", "\xad", "\u200b", "\u200d", "\u200e", "\u2028", "\u202e", "\u2066", "\ufeff",
           "\ufffe", "\uffff", "\ud800", "\udfff", "\U0001f600", "é", " ", "<b>", "&amp;")
hostile_text = st.lists(
    st.one_of(st.text(max_size=12), st.sampled_from(SPECIAL),
              st.text(st.characters(categories=["Cc", "Cf", "Cs", "Zl", "Zp", "Zs", "Co", "Cn"]), max_size=4)),
    max_size=8,
).map("".join)
plain_words = st.text(st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=30)


@given(st.one_of(hostile_text, plain_words))
@example("line one\nline two\twith a tab")
@example("emoji joiner \U0001f469\u200d\u2695\ufe0f and no-break\xa0space")
@example("a\x00b\rc\r\nd\x1b[2Je\x9bf\ud800g\uffff")
def test_is_plain_is_exactly_when_cleaning_changes_nothing(value: str) -> None:
    assert is_plain(value) == (cleaned_text(value) == value)
    assert plain_text(value) == cleaned_text(value)


SCHEMES = ("http", "https", "HTTP", "hTtPs", "ftp", "javascript", "java\tscript", "data", "http ", "")
HOST_CHARS = "abcXYZ019.-_:@[]%~ \t\u00e9\u0430\uff0e\u200b\x00\x7f\ufeff"
PATH_CHARS = "/?#&=;%+.~-_aZ09 \t\n\r\x00\x1f\x7f\x85\x9f\xad\u200b\u200f\u2028\u202e\u2060\ufeff\ufffe\uffff\ud800é😀<>\"'"


@st.composite
def urlish(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(SCHEMES))
    sep = draw(st.sampled_from(("://", ":/", ":", "//", ":///")))
    host = draw(st.text(st.sampled_from(HOST_CHARS), max_size=12))
    port = draw(st.sampled_from(("", ":", ":80", ":8080", ":x", ":-1")))
    path = draw(st.text(st.sampled_from(PATH_CHARS), max_size=16))
    lead = draw(st.sampled_from(("", " ", "\t", "\n", "\x00", "\ufeff")))
    return lead + scheme + sep + host + port + path + draw(st.sampled_from(("", " ", "\n")))


@given(st.one_of(urlish(), hostile_text, st.none(), st.integers()))
@example("https://med.example/@rad1/117")
@example("HTTP://EXAMPLE.ORG:/")
@example("http://./")
@example("https://-")
@example("http://host:8080")
@example("http://user@host/")
@example("http://[::1]/")
@example("http://[::1/")
@example("https://example.org/a\u200bb")
@example("https://example.org/" + "a" * MAX_URL_LENGTH)
def test_safe_http_url_fast_path_agrees_with_the_full_check(value: Any) -> None:
    assert safe_http_url(value) == checked_http_url(value)
    # a URL the fast path accepts is plain text as it stands (records clean the URL first)
    if isinstance(value, str) and is_plain_http_url(value):
        assert safe_http_url(value) == value
        assert plain_text(value) == value


def test_plain_urls_take_the_fast_path() -> None:
    for url in ("https://bsky.app/profile/rad.bsky.social/post/3lrad", "http://Example.ORG:8080/a?b=c#d",
                "https://doi.org/10.1148/radiol.2024.1"):
        assert is_plain_http_url(url)


# -- records -----------------------------------------------------------------------------------

def _near(cap: int) -> st.SearchStrategy[str]:
    """Text just under, at or over `cap` characters, sometimes with a control character in it."""
    return st.tuples(st.sampled_from((cap - 1, cap, cap + 1)), st.sampled_from(("a", "é", "\x00", "\n"))).map(
        lambda t: "x" * (t[0] - 1) + t[1])


field_value = st.one_of(
    st.none(), st.just(""), hostile_text, plain_words,
    _near(16), _near(20), _near(200), _near(300), _near(LIMITS.max_field_chars),
    st.integers(0, 9), st.builds(str.__new__, st.just(type("TextSubclass", (str,), {})), plain_words),
)
long_value = st.one_of(st.none(), st.just(""), hostile_text, plain_words, _near(LIMITS.max_text_chars))
list_value = st.one_of(
    st.lists(st.one_of(plain_words, hostile_text, st.just(""), st.none(), st.integers(0, 3)), max_size=4),
    st.lists(plain_words, max_size=3),
    st.sampled_from(([], ["a"] * (LIMITS.max_list_items + 1), ("a", "b"), "ab")),
)
url_value = st.one_of(st.none(), urlish(), plain_words)


def _outcome(make: Any) -> Any:
    """The record `make()` builds, as a dict, or the error it raises (type and message)."""
    try:
        return dataclasses.asdict(make())
    except (TypeError, ValueError, AttributeError) as exc:
        return (type(exc), str(exc))


def _both_ways(make: Any) -> tuple[Any, Any]:
    fast = _outcome(make)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(records, "_already_inert", lambda record, spec: False)  # always the detailed path
        detailed = _outcome(make)
    return fast, detailed


@given(external_id=field_value, author=field_value, title=field_value, language=field_value, community=field_value,
       reply_to=field_value, text=long_value, url=url_value, hashtags=list_value, mentions=list_value,
       links=list_value)
@example(external_id="at://did:plc:x/app.bsky.feed.post/1", author="did:plc:x", title=None, language="en",
         community=None, reply_to=None, text="hello\nworld #rad", url="https://bsky.app/profile/x/post/1",
         hashtags=["rad"], mentions=["did:plc:y"], links=["https://doi.org/10.1/x"])
@example(external_id="1", author="2", title=None, language="x" * 17, community=None, reply_to=None, text="t",
         url=None, hashtags=[], mentions=[], links=[])
def test_post_record_fast_path_agrees(external_id: Any, author: Any, title: Any,
                                      language: Any, community: Any, reply_to: Any, text: Any, url: Any,
                                      hashtags: Any, mentions: Any, links: Any) -> None:
    def make() -> PostRecord:
        return PostRecord(platform="x", external_id=external_id, text=text, created_at=NOW, author_external_id=author,
                          url=url, title=title, language=language, community=community, in_reply_to_id=reply_to,
                          hashtags=list(hashtags) if isinstance(hashtags, list) else hashtags,
                          mentions=list(mentions) if isinstance(mentions, list) else mentions,
                          links=list(links) if isinstance(links, list) else links, raw=b"{}")

    fast, detailed = _both_ways(make)
    assert fast == detailed


@given(external_id=field_value, handle=field_value, name=field_value, bio=st.one_of(field_value, long_value),
       url=url_value)
@example(external_id="https://med.example/@rad", handle="rad@med.example", name="Dr Rad",
         bio="Radiologist.\nViews my own.", url="https://med.example/@rad")
def test_author_record_fast_path_agrees(external_id: Any, handle: Any, name: Any,
                                        bio: Any, url: Any) -> None:
    fast, detailed = _both_ways(
        lambda: AuthorRecord(platform="mastodon", external_id=external_id, handle=handle, display_name=name, bio=bio,
                             url=url, raw=b"{}"))
    assert fast == detailed


@given(doi=field_value, pmid=field_value, title=field_value, issn=field_value, abstract=long_value,
       authors=list_value, mesh=list_value, url=url_value)
def test_article_record_fast_path_agrees(doi: Any, pmid: Any, title: Any, issn: Any,
                                         abstract: Any, authors: Any, mesh: Any, url: Any) -> None:
    def make() -> ArticleRecord:
        return ArticleRecord(doi=doi, pmid=pmid, title=title, issn=issn, abstract=abstract, url=url,
                             authors=list(authors) if isinstance(authors, list) else authors,
                             mesh_terms=list(mesh) if isinstance(mesh, list) else mesh)

    fast, detailed = _both_ways(make)
    assert fast == detailed


def test_ordinary_records_take_the_fast_path() -> None:
    post = PostRecord(platform="bluesky", external_id="at://did:plc:a/app.bsky.feed.post/1", text="Line\nnext 😀",
                      created_at=NOW, author_external_id="did:plc:a", language="en", hashtags=["radiology"],
                      mentions=["did:plc:b"], links=["https://doi.org/10.1148/x"])
    author = AuthorRecord(platform="mastodon", external_id="https://med.example/@rad", handle="rad@med.example",
                          display_name="Dr\u00a0Rad \U0001f469\u200d\u2695\ufe0f", bio="Views\nmy own")
    assert records._already_inert(post, records._POST_FIELDS)
    assert records._already_inert(author, records._AUTHOR_FIELDS)
    hostile = PostRecord(platform="x", external_id="1", text="a\x00b", created_at=NOW)
    assert hostile.text == "ab"
    hostile.text = "a\x1b[2Jb"
    assert not records._already_inert(hostile, records._POST_FIELDS)
