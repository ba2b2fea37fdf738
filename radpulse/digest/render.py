"""The digest as HTML (Jinja2, autoescaped, so posted text shows as text) and as plain text."""

from __future__ import annotations

from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape

from radpulse.digest.content import Digest
from radpulse.digest.templates import HTML, TEXT
from radpulse.safeurl import safe_http_url

_ENV = Environment(loader=DictLoader({"digest.html": HTML, "digest.txt": TEXT}),
                   autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
                   undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)
_ENV.filters["http_url"] = safe_http_url  # the only way a stored URL becomes a link


def render(digest: Digest, unsubscribe: str | None = None) -> tuple[str, str]:
    """(HTML, plain text) of the digest; every text from the database is escaped in the HTML."""
    html_doc = _ENV.get_template("digest.html").render(d=digest, unsubscribe=unsubscribe)
    text_doc = _ENV.get_template("digest.txt").render(d=digest, unsubscribe=unsubscribe)
    return html_doc, text_doc
