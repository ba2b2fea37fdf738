"""Mastodon status HTML to plain text, and the links its anchors point to.

Mastodon sanitises status HTML down to a handful of tags (`<p>`, `<br>`, `<a>`, `<span>`), so the
fast path reads just those tags with compiled patterns over the markup (tags and anchor
attributes, never patterns over the text to find links or tags) and falls back to the stdlib `html.parser` for anything else (Pleroma/Akkoma, Misskey and
GoToSocial send `<b>`, `<ul>`, `<blockquote>`, `<pre>`, ...). Both paths give the same result for
the same input: paragraphs separated by a blank line, `<br>` as a line break, entities decoded,
the hidden parts of shortened links (`<span class="invisible">`) kept so the text holds the full URL.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

#: one tag with its attributes; quoted attribute values may contain '>'
_TAG = re.compile(r"""<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_ATTR = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_FAST_TAGS = frozenset(("p", "br", "a", "span"))
#: block elements: a paragraph break before and after
_BLOCKS = frozenset(("p", "div", "blockquote", "pre", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr"))
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANKS = re.compile(r"\n{3,}")


def _is_entity_link(attrs: dict[str, str]) -> bool:
    """A mention or hashtag anchor (class "mention"/"hashtag" or rel="tag"), not a cited link."""
    classes = attrs.get("class", "").split()
    return "mention" in classes or "hashtag" in classes or "tag" in attrs.get("rel", "").split()


def _finish(parts: list[str]) -> str:
    text = "".join(parts)
    if "\n" in text:
        lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
        text = _BLANKS.sub("\n\n", "\n".join(lines)).strip("\n")
    else:
        text = _SPACES.sub(" ", text).strip()
    return text


_TAG_NAME = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")
_ANCHOR = re.compile(r"""<a\s((?:[^>"']|"[^"]*"|'[^']*')*)>""", re.IGNORECASE)
_PARA = re.compile(r"""</p>\s*<p(?:\s(?:[^>"']|"[^"]*"|'[^']*')*)?>""", re.IGNORECASE)
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _fast(content: str) -> tuple[str, list[str]] | None:
    """The fast path, or None when the content uses tags outside <p>/<br>/<a>/<span>.

    Three passes of compiled patterns over the markup: paragraph boundaries and <br> become line
    breaks, the remaining tags (all of them p/a/span) are dropped, entities decoded; the anchors'
    attributes are read for links.
    """
    for name in _TAG_NAME.findall(content):
        if name.lower() not in _FAST_TAGS:
            return None
    links: list[str] = []
    if "<a" in content or "<A" in content:
        for attrs in _ANCHOR.findall(content):
            amap = {k.lower(): html.unescape(v1 or v2 or v3) for k, v1, v2, v3 in _ATTR.findall(attrs)}
            href = amap.get("href")
            if href and not _is_entity_link(amap):
                links.append(href)
    text = _TAG.sub("", _BR.sub("\n", _PARA.sub("\n\n", content)))
    if "&" in text:
        text = html.unescape(text)
    return _finish([text]), links


class _TextParser(HTMLParser):
    """The general path: any HTML to text with paragraph breaks, collecting cited links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.started = False
        self.skip = 0

    def _block(self) -> None:
        if self.started:
            self.parts.append("\n\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self._block()
        elif tag == "a":
            amap = {k: v or "" for k, v in attrs}
            if amap.get("href") and not _is_entity_link(amap):
                self.links.append(amap["href"])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCKS and tag != "p":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip and data:
            self.parts.append(data)
            if data.strip():
                self.started = True


def html_to_text_and_links(content: str | None) -> tuple[str, list[str]]:
    """Plain text of status HTML and the hrefs of anchors that are not mentions or hashtags."""
    if not content:
        return "", []
    if "<" not in content:
        return _finish([html.unescape(content)]), []
    fast = _fast(content)
    if fast is not None:
        return fast
    parser = _TextParser()
    parser.feed(content)
    parser.close()
    return _finish(parser.parts), parser.links


def html_to_text(content: str | None) -> str:
    """Plain text of status (or bio) HTML, paragraphs separated by a blank line."""
    return html_to_text_and_links(content)[0]


def slow_html_to_text_and_links(content: str) -> tuple[str, list[str]]:
    """The general path only (tests check that the fast path agrees with it)."""
    parser = _TextParser()
    parser.feed(content)
    parser.close()
    return _finish(parser.parts), parser.links
