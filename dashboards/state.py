"""The dashboard's filters as a URL query string, and back.

Every view is a function of its URL: the global filters (dates, platform, source, subspecialty,
theme, language, author type) and the drill-down facets (hashtag, account, paper, sentiment)
live in the query string, so a view is shared by copying the link and survives a reload.
`parse_query` is the one parser: it never raises; a value it cannot use becomes a problem
sentence that the page shows as an explained empty state (never an HTTP 500).

    >>> s = parse_query({"from": "2026-11-01", "to": "2026-11-07", "platform": "x,reddit"})
    >>> s.filters.platforms, s.problems
    (('x', 'reddit'), [])
    >>> to_query(s.params)
    'from=2026-11-01&to=2026-11-07&platform=x%2Creddit'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from radpulse.db.queries import PostFilters

#: global filters, in the order they appear in a URL; each a comma-separated list except dates
LIST_KEYS = ("platform", "source", "subspecialty", "theme", "language", "author_type")
#: drill-down facets (set by clicking a chart; shown as removable chips on the Posts page)
DRILL_KEYS = ("sentiment", "hashtag", "account", "article")
DATE_KEYS = ("from", "to")
GLOBAL_KEYS = (*DATE_KEYS, *LIST_KEYS)
FIELD_OF = {"platform": "platforms", "source": "sources", "subspecialty": "subspecialties", "theme": "themes",
            "language": "languages", "author_type": "author_types", "sentiment": "sentiments"}
#: "platform=none": every platform unticked (an explained empty state, not "all platforms")
NONE = "none"
MAX_VALUE = 200
MAX_ITEMS = 50
_TOKEN = re.compile(r"^[\w.:@#+-]{1,200}$", re.UNICODE)
DEFAULT_DAYS = 90


@dataclass
class ViewState:
    """What a URL asks for: the read layer's filters, the raw parameters, and what was wrong."""

    filters: PostFilters
    params: dict[str, str]
    start: dt.date
    end: dt.date  # inclusive, as shown in the picker
    problems: list[str] = field(default_factory=list)
    no_platform: bool = False
    drill: dict[str, str] = field(default_factory=dict)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> PostFilters:
        """The same filters over the period of the same length just before."""
        import dataclasses

        span = self.filters.end - self.filters.start
        return dataclasses.replace(self.filters, start=self.filters.start - span, end=self.filters.start)


def as_dict(query: Mapping[str, Any] | str | None) -> dict[str, str]:
    """A query string ('?a=1&b=2') or Dash Pages keyword arguments as a plain dict of strings."""
    if query is None:
        return {}
    if isinstance(query, str):
        return dict(parse_qsl(query.lstrip("?"), keep_blank_values=True))
    return {str(k): v if isinstance(v, str) else str(v) for k, v in query.items()}


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _items(key: str, value: str, problems: list[str]) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    bad = [v for v in items if not _TOKEN.match(v)]
    if bad or len(items) > MAX_ITEMS:
        problems.append(f"The {key.replace('_', ' ')} filter {value[:60]!r} is not understood: use comma-separated "
                        "names such as platform=x,reddit.")
        return ()
    return items


def parse_query(query: Mapping[str, Any] | str | None, *, data_end: dt.date | None = None,
                known: Mapping[str, tuple[str, ...]] | None = None) -> ViewState:
    """The view a URL asks for. `data_end` (the newest post's day) anchors the default window;
    `known` lists the accepted values per list key (an unknown one is a problem)."""
    params = {k: v[:MAX_VALUE] for k, v in as_dict(query).items() if isinstance(v, str)}
    problems: list[str] = []
    end_default = data_end or dt.datetime.now(dt.timezone.utc).date()
    end = _day(params["to"]) if params.get("to") else end_default
    start = _day(params["from"]) if params.get("from") else None
    if params.get("to") and end is None:
        problems.append(f"The end date {params['to'][:40]!r} is not a date: write it as YYYY-MM-DD.")
        end = end_default
    if params.get("from") and start is None:
        problems.append(f"The start date {params['from'][:40]!r} is not a date: write it as YYYY-MM-DD.")
    start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        problems.append(f"The start date {start} is after the end date {end}: pick a start on or before the end.")
    values: dict[str, tuple[str, ...]] = {}
    no_platform = False
    for key in (*LIST_KEYS, "sentiment"):
        raw = params.get(key, "")
        if not raw:
            continue
        if key == "platform" and raw == NONE:
            no_platform = True
            continue
        items = _items(key, raw, problems)
        allowed = (known or {}).get(key)
        unknown = [v for v in items if allowed is not None and v not in allowed]
        if unknown:
            problems.append(f"Unknown {key.replace('_', ' ')} {', '.join(unknown)[:80]!r}: choose from "
                            f"{', '.join(allowed)[:200]}.")
        values[FIELD_OF[key]] = items
    drill = {k: params[k] for k in ("hashtag", "account", "article") if params.get(k)}
    extra = _drill_clauses(drill, problems)
    start_at = dt.datetime.combine(start, dt.time(), tzinfo=dt.timezone.utc)
    end_at = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    filters = PostFilters(start=start_at, end=end_at, extra=extra, **values)
    return ViewState(filters, params, start, end, problems, no_platform, drill)


def _drill_clauses(drill: dict[str, str], problems: list[str]) -> tuple[Any, ...]:
    """Extra WHERE clauses for a hashtag, an account (platform:id) or a paper (article id)."""
    from sqlalchemy import exists

    from radpulse.db.models import Mention, Post
    from radpulse.db.queries.filters import JsonArrayHasAny

    clauses: list[Any] = []
    if "hashtag" in drill:
        tag = drill["hashtag"].lstrip("#")
        if not _TOKEN.match(tag or "?"):
            problems.append(f"The hashtag {drill['hashtag'][:40]!r} is not understood.")
        else:
            variants = sorted({tag, tag.lower(), tag.upper(), tag.capitalize()})
            clauses.append(JsonArrayHasAny(Post.__table__.c.hashtags, variants))
    if "account" in drill:
        platform, sep, author = drill["account"].partition(":")
        if not sep or not platform or not author:
            problems.append(f"The account {drill['account'][:40]!r} is not understood: write platform:id.")
        else:
            clauses += [Post.__table__.c.platform == platform, Post.__table__.c.author_external_id == author]
    if "article" in drill:
        if not drill["article"].isdigit() or len(drill["article"]) > 18:
            problems.append(f"The paper {drill['article'][:40]!r} is not understood: it is a number.")
        else:
            m = Mention.__table__.alias("drill_mentions").c  # an alias: outer queries may join mentions too
            clauses.append(exists().where(m.post_id == Post.__table__.c.id, m.article_id == int(drill["article"])))
    return tuple(clauses)


def to_query(params: Mapping[str, str | None]) -> str:
    """`params` as a query string, empty values dropped, global keys first (stable links)."""
    order = [*GLOBAL_KEYS, *DRILL_KEYS]
    keys = sorted((k for k, v in params.items() if v), key=lambda k: (order.index(k) if k in order else 99, k))
    return urlencode([(k, params[k]) for k in keys])


def with_params(params: Mapping[str, str], **changes: str | None) -> str:
    """`?query` of `params` with `changes` applied (None removes a key)."""
    merged = {**params, **changes}
    query = to_query({k: v for k, v in merged.items() if v is not None})
    return f"?{query}" if query else ""


def global_params(params: Mapping[str, str]) -> dict[str, str]:
    """Only the global filters of `params` (what every navigation link carries)."""
    return {k: v for k, v in params.items() if k in GLOBAL_KEYS}


def period_for(days: int) -> str:
    """Daily up to ~6 weeks, weekly up to ~9 months, monthly beyond."""
    return "day" if days <= 45 else "week" if days <= 270 else "month"
