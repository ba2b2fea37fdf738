"""Reading API payloads kept as the service sent them (Mastodon, Bluesky): shared helpers.

A collector that stores raw payloads byte for byte reads each one with a msgspec decoder of the
fields it uses (see each collector's `schema.py`), checks it is UTF-8 (`utf8`), and turns
the ones it cannot read into quarantine entries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import orjson


def utf8(data: bytes) -> bytes:
    """`data` when it is valid UTF-8; ValueError naming the first bad byte otherwise.

    Payloads kept as the service sent them are stored as text: JSON must be UTF-8, and a payload
    that is not would fail every later read of its row. Decoders that read only some fields of a
    payload (msgspec structs) skip the rest without checking it, hence this check. Per post it is
    cheap: most posts are ASCII, and a post's few KB decode in about a microsecond.
    """
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"the payload is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
            ) from None
    return data


class NotJSON(ValueError):
    """The text is not JSON at all (truncated, an HTML error page, ...)."""


def as_json(item: bytes | msgspec.Raw | Mapping[str, Any], to_plain: Callable[[Any], Any] | None = None) -> bytes:
    """A payload's JSON text: as the service sent it (checked to be UTF-8), or encoded from a
    dict (tests, other tools; `to_plain` first turns a client library's objects back into JSON)."""
    if isinstance(item, (bytes, msgspec.Raw)):
        return utf8(bytes(item))
    if to_plain is not None and type(item) is not dict:
        item = to_plain(item)
    return orjson.dumps(item, default=str)


def read(decoder: msgspec.json.Decoder, data: bytes, what: str, schema: str) -> Any:
    """`data` decoded; ValueError naming what does not match `schema` (msgspec gives the path),
    NotJSON when it is not JSON at all."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise ValueError(f"{what} does not match {schema}: {exc}") from None
    except msgspec.DecodeError as exc:
        raise NotJSON(f"{what} is not valid JSON: {exc}") from None


def unreadable(item: Any, to_plain: Callable[[Any], Any] | None = None) -> tuple[Any, str | None]:
    """A payload that could not be read, as a JSON value to quarantine, and its `uri` if any.

    Bytes that are not JSON, or not UTF-8, are kept as readable text.
    """
    if isinstance(item, Mapping):
        value: Any = to_plain(item) if to_plain is not None else item
    else:
        data = bytes(item)
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            return data.decode("utf-8", "replace"), None
    uri = value.get("uri") if isinstance(value, Mapping) else None
    return value, uri if isinstance(uri, str) else None


#: profiles a run remembers (see `known_author`); a run of the default 10 pages never fills it
KNOWN_AUTHORS = 20_000


def known_author(known: dict[bytes, Any] | None, data: bytes, read: Callable[[bytes], Any]) -> Any:
    """The author record of the profile JSON `data`: `read(data)`, or with `known` (a run's memo,
    by the JSON as sent) the record read before from exactly these bytes. The people who post
    most under a tag come back on every page with the same profile: read once per run."""
    if known is None:
        return read(data)
    author = known.get(data)
    if author is None:
        if len(known) >= KNOWN_AUTHORS:
            known.clear()
        author = known[data] = read(data)
    return author


def count(value: Any) -> int | None:
    """An engagement count as the API gives it: an int, anything else unknown (None)."""
    return value if type(value) is int else None


def unique(items: list[Any]) -> list[Any]:
    """Non-empty items, first occurrence kept, in order."""
    if len(items) < 2:  # most posts: no link, tag or mention, or just one
        return items if not items or items[0] else []
    out = list(dict.fromkeys(items))
    return [x for x in out if x] if "" in out or None in out else out


__all__ = ["KNOWN_AUTHORS", "NotJSON", "as_json", "count", "known_author", "read", "unique", "unreadable"]
