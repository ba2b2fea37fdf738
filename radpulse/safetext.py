"""Text from the internet made safe to store: no control characters, bounded sizes.

PostgreSQL refuses NUL in text and `jsonb`; terminals obey escape sequences; lone surrogates
cannot be encoded as UTF-8 at all. `plain_text` keeps tab and newline and removes every other C0
control, DEL, the C1 controls, lone surrogates and the non-characters U+FFFE/U+FFFF (a CR LF or
lone CR becomes a newline). Every record a collector builds goes through it
(`radpulse.records`), on SQLite exactly as on PostgreSQL, so what is stored does not
depend on the database.

`Limits` caps what one record may hold (`[limits]` in the config, documented in the README):
a record over a cap is refused with a ValueError naming the field, which every normaliser turns
into a quarantine entry, so the rest of its page or file is still stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from radpulse.terminal import strip_escape_sequences

__all__ = ["LIMITS", "Limits", "check_length", "cleaned_text", "is_plain", "plain_text", "plain_texts", "set_limits", "strip_markup"]

#: C0 except tab and newline, DEL, C1, lone surrogates, U+FFFE/U+FFFF
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_CR = re.compile(r"\r\n?")
#: a tag, comment, declaration or processing instruction (an unclosed one at the very end too);
#: "a < b" and "p <0.05" are not tags
_TAG = re.compile(r"<(?:[/!?]|[A-Za-z])[^<>]*(?:>|$)")
#: script and style elements: their content is code, not text
_CODE = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)


def strip_markup(value: str) -> str:
    """`value` (already decoded once) without tags, each replaced by a space; script and style
    elements removed with their content. Text that is meant as plain text (feed titles, PubMed
    titles) is stored without markup, so no output can ever give it a second life as HTML."""
    if "<" not in value:
        return value
    return _TAG.sub(" ", _CODE.sub(" ", value))


def is_plain(value: str) -> bool:
    """Whether `plain_text` leaves `value` as it is: no character it removes or replaces (every
    escape sequence it strips starts with one). One C-level scan when the text is printable;
    else (newlines, tabs, emoji joiners, non-breaking spaces) one regex search."""
    return value.isprintable() or _CONTROLS.search(value) is None


def plain_text(value: str | None) -> str | None:
    """`value` without control characters other than tab and newline (None stays None)."""
    if not value:
        return value
    if is_plain(value):  # the common case: nothing to do
        return value
    return cleaned_text(value)


def cleaned_text(value: str) -> str:
    """`plain_text` without its fast path: CR LF and CR as newlines, whole escape sequences and
    then every other character `is_plain` looks for removed."""
    if "\r" in value:
        value = _CR.sub("\n", value)
    # a whole escape sequence goes (an OSC window title or link target is not the author's text)
    return _CONTROLS.sub("", strip_escape_sequences(value))


def plain_texts(values: list[str]) -> list[str]:
    """`plain_text` of each item, empty results dropped."""
    if not values:
        return values
    return [c for c in (plain_text(v) if isinstance(v, str) else v for v in values) if c]


@dataclass(frozen=True, slots=True)
class Limits:
    """Largest sizes one record may have; bigger ones are quarantined with the reason."""

    #: characters of a post's text or an article's abstract
    max_text_chars: int = 100_000
    #: characters of any other text field (title, name, bio, journal, ...)
    max_field_chars: int = 10_000
    #: items in a list field (links, hashtags, mentions, authors, MeSH terms)
    max_list_items: int = 1_000
    #: bytes of one line of an import file, or one raw payload
    max_record_bytes: int = 4 * 1024 * 1024


LIMITS = Limits()


def set_limits(limits: Limits) -> None:
    """Make `limits` the caps every record is checked against (the config loader calls this)."""
    global LIMITS
    LIMITS = limits


def check_length(name: str, value: str | list | None, cap: int) -> None:
    """ValueError naming `name` when `value` is longer than `cap` (characters or items)."""
    if value is not None and len(value) > cap:
        unit = "items" if isinstance(value, list) else "characters"
        raise ValueError(f"{name} has {len(value):,} {unit}, over the limit of {cap:,} "
                         "(raise [limits] in the config to keep such records)")
