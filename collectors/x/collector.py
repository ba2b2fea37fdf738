"""X (Twitter) collector: recent search per tracked hashtag or query, and engagement refresh.

Cursor: `{"since_id": ID}` when the last walk finished (the next run asks only for newer posts).
Recent search returns newest first, so while a walk through several pages is under way the
cursor is `{"since_id": OLD, "until_id": OLDEST_STORED, "newest_id": NEWEST_STORED}`: a run that
stops (crash, page cap, budget) resumes below the oldest stored post and only then moves
`since_id` forward, so nothing is skipped. Every page is one Batch, committed with its cursor.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from radpulse.collectors.base import Collector, chunked
from radpulse.collectors.registry import register
from radpulse.collectors.http import Deadlines
from radpulse.collectors.x.client import CLIENT, XApi, XBadRequest
from radpulse.collectors.x.normalise import newest_id, normalise_page
from radpulse.collectors.x.settings import (
    EXPANSIONS,
    LOOKUP_BATCH,
    LOOKUP_ENDPOINT,
    MEDIA_FIELDS,
    SEARCH_ENDPOINT,
    TWEET_FIELDS,
    USER_FIELDS,
    build_query,
)
from radpulse.errors import BudgetExhausted
from radpulse.records import JSON, AuthorRecord, Batch, PostRecord, PostRef, SourceSpec, provenance, utcnow

__all__ = ["XCollector", "build_query"]

#: error types of a lookup that mean the post is gone for us (deleted, or its author protected/suspended)
_GONE_TYPES = ("resource-not-found", "not-authorized-for-resource")
_GONE_TITLES = ("Not Found Error", "Authorization Error")


def _mentions_window(detail: str) -> bool:
    """Whether X's 400 is about since_id/until_id lying outside the recent-search window."""
    return "since_id" in detail or "until_id" in detail


@register
class XCollector(Collector):
    """Collects X posts with tweepy's v2 Client, paced and within the monthly read budget."""

    platform = "x"
    kinds = ("hashtag", "query")
    required_env = ("X_BEARER_TOKEN",)

    def __init__(self, settings: Any, *, api: XApi | None = None) -> None:
        super().__init__(settings)
        self._api = api

    @property
    def api(self) -> XApi:
        """The X API session (built on first use from X_BEARER_TOKEN)."""
        if self._api is None:
            self._api = XApi(self.settings.secret("X_BEARER_TOKEN") or "", deadlines=Deadlines.from_settings(self.settings))
        return self._api

    def _check_budget(self, label: str, units_this_run: int, cost: int) -> None:
        budget = self.settings.x.monthly_read_budget
        used = self.spent_this_period + units_this_run
        if used + cost > budget:
            raise BudgetExhausted(
                f"{label}: X monthly read budget reached: {used:,} of {budget:,} post reads used "
                f"this month and the next request could read up to {cost}; stopped before spending more.",
                hint="Raise [x].monthly_read_budget in the config (X bills every post read), or wait "
                "for the next calendar month.",
            )

    def collect(self, source: SourceSpec, cursor: JSON | None) -> Iterator[Batch]:
        """Yield one Batch per page of recent search, newest first, each with its cursor."""
        cfg = self.settings.x
        query = build_query(source, cfg)
        state = dict(cursor or {})
        since_id: str | None = state.get("since_id")
        until_id: str | None = state.get("until_id")  # resuming an unfinished walk
        resume_below = until_id  # fixed for this run's chain of next_tokens (X wants the same query)
        newest: str | None = state.get("newest_id")
        next_token: str | None = None
        units = 0
        restarted = False
        pending: list[str] = []  # warnings for the next batch
        prov = provenance(SEARCH_ENDPOINT, CLIENT)
        known_authors: dict[bytes, AuthorRecord] = {}  # user objects read in this run, by their JSON
        for page_no in range(cfg.max_pages_per_run):
            self._check_budget(source.name, units, cfg.max_results)
            params: dict[str, Any] = {
                "query": query, "max_results": cfg.max_results, "expansions": EXPANSIONS,
                "tweet_fields": TWEET_FIELDS, "user_fields": USER_FIELDS, "media_fields": MEDIA_FIELDS,
            }
            if since_id:
                params["since_id"] = since_id
            if resume_below:
                params["until_id"] = resume_below
            if next_token:
                params["next_token"] = next_token
            try:
                body = self.api.call(self.api.client.search_recent_tweets, SEARCH_ENDPOINT, source.name, **params)
            except XBadRequest as exc:
                # recent search reaches back 7 days: a cursor older than that is refused
                if restarted or not (since_id or resume_below) or not _mentions_window(exc.detail):
                    raise
                restarted = True
                pending.append(
                    f"{source.name}: the stored cursor is older than X's 7-day recent-search window "
                    f"({exc.detail}); collecting the whole window again, so posts in between may be missing."
                )
                since_id = resume_below = until_id = newest = next_token = None
                body = self.api.call(self.api.client.search_recent_tweets, SEARCH_ENDPOINT, source.name,
                                     **{k: v for k, v in params.items() if k not in ("since_id", "until_id", "next_token")})
            read_at = utcnow()
            prov = {**prov, "retrieved_at": read_at.isoformat()}
            data = body.get("data") or []
            if not data:
                if until_id or newest or pending:  # an unfinished walk has reached since_id: close it
                    yield Batch(cursor={"since_id": newest_id((), newest) or since_id}, warnings=pending)
                return
            posts, authors, bad = normalise_page(body, provenance=prov, read_at=read_at, known_authors=known_authors)
            ids = [str(t["id"]) for t in data if isinstance(t, dict) and str(t.get("id", "")).isdigit()]
            newest = newest_id(ids, newest)
            next_token = (body.get("meta") or {}).get("next_token")
            warnings, pending = pending, []
            if next_token and ids:
                until_id = min(ids, key=int)
                new_cursor = {"since_id": since_id, "until_id": until_id, "newest_id": newest}
                if page_no == cfg.max_pages_per_run - 1:
                    warnings.append(
                        f"{source.name}: stopped after {cfg.max_pages_per_run} pages "
                        "([x].max_pages_per_run); the next run continues from here."
                    )
            else:
                new_cursor = {"since_id": newest}
            units += len(data)
            yield Batch(posts=posts, authors=authors, quarantined=bad, cursor=new_cursor,
                        api_units=len(data), fetched=len(data), warnings=warnings)
            if not next_token:
                return

    def refresh(self, posts: Sequence[PostRef]) -> Iterator[Batch]:
        """Current metrics of `posts` by id, 100 per request; gone posts come back deleted."""
        units = 0
        label = "refresh:x"
        known_authors: dict[bytes, AuthorRecord] = {}  # user objects read in this run, by their JSON
        for chunk in chunked(posts, LOOKUP_BATCH):
            self._check_budget(label, units, len(chunk))
            wanted = {ref.external_id: ref for ref in chunk}
            body = self.api.call(
                self.api.client.get_tweets, LOOKUP_ENDPOINT, label, ids=list(wanted),
                expansions=["author_id"], tweet_fields=TWEET_FIELDS, user_fields=USER_FIELDS,
            )
            read_at = utcnow()
            prov = provenance(LOOKUP_ENDPOINT, CLIENT, read_at)
            found, authors, bad = normalise_page(body, provenance=prov, read_at=read_at, known_authors=known_authors)
            returned = {p.external_id for p in found} | {q.external_id for q in bad}
            gone: list[PostRecord] = []
            for err in body.get("errors") or ():
                rid = str(err.get("resource_id") or err.get("value") or "")
                kind = str(err.get("type") or "")
                if rid in wanted and rid not in returned and (
                    kind.endswith(_GONE_TYPES) or err.get("title") in _GONE_TITLES
                ):
                    returned.add(rid)
                    gone.append(PostRecord(platform="x", external_id=rid, text=None,
                                           created_at=wanted[rid].created_at, is_deleted=True,
                                           metrics_read_at=read_at, provenance=prov))
            missing = sorted(set(wanted) - returned)
            warnings = [f"{label}: X returned neither data nor an error for {len(missing)} post(s): "
                        f"{', '.join(missing[:5])}"] if missing else []
            data = body.get("data") or []
            units += len(data)
            yield Batch(posts=found + gone, authors=authors, quarantined=bad, api_units=len(data),
                        fetched=len(chunk), warnings=warnings)

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
