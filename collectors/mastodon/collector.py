"""Mastodon: hashtag timelines of configured instances, through Mastodon.py.

One source is one tag on one instance (`mastodon:med-mastodon.com#radiology`). The cursor is per
source and holds instance-local status ids:

    {"min_id": "<newest id stored>", "backfill_max_id": "<oldest id stored>", "backfill_pages": n}

A first run reads the newest page and walks back through older pages (Link rel="next", i.e.
`max_id`) up to `max_pages_per_run` pages; later runs walk forward from `min_id` (Link rel="prev")
page by page. Every page is one Batch carrying the cursor that is true once it is stored, so a
crash resumes exactly after the last committed page. Statuses are keyed on their ActivityPub URI,
so one status read on several instances is stored once (see normalise.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from mastodon.errors import MastodonAPIError, MastodonNotFoundError, MastodonUnauthorizedError

from radpulse.collectors.base import Collector, chunked
from radpulse.collectors.http import Deadlines
from radpulse.collectors.payloads import NotJSON
from radpulse.collectors.registry import register
from radpulse.config import mastodon_token_env
from radpulse.errors import (
    AuthError,
    BadPayload,
    CollectorError,
    NotConfigured,
    NotFound,
    SourceUnavailable,
)
from radpulse.records import (
    JSON,
    AuthorRecord,
    Batch,
    MergeRule,
    PostRecord,
    PostRef,
    SourceSpec,
    provenance,
    utcnow,
)

from .helpers import (
    InstanceClient,
    api_status,
    base_url,
    is_paginated,
    local_status_ref,
    make_client,
    newest_id,
    oldest_id,
)
from .normalise import PLATFORM, decode_statuses, normalise_page, normalise_status

try:  # pragma: no cover - metadata is always there in an install
    from importlib.metadata import version

    CLIENT = f"Mastodon.py/{version('Mastodon.py')}"
except Exception:  # noqa: BLE001
    CLIENT = "Mastodon.py"

#: statuses re-read per refresh batch
REFRESH_BATCH = 40


class NeedsToken(NotConfigured):
    """The instance serves its hashtag timeline to logged-in users only."""


@register
class MastodonCollector(Collector):
    """Hashtag timelines of Mastodon instances; engagement refresh from each status's origin."""

    platform = PLATFORM
    kinds = ("tag",)
    required_env = ()  # most instances serve hashtag timelines anonymously
    #: a status seen on several instances is stored once, with the best counts of any instance
    merge_rule = MergeRule(per_community=True)

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self._clients: dict[str, InstanceClient] = {}
        #: instances unreachable in this run (host -> the error their first source ended with)
        self._down: dict[str, SourceUnavailable] = {}

    # -- clients -------------------------------------------------------------------------------

    def client(self, host: str) -> InstanceClient:
        """The paced client of `host`, with its access token when one is set."""
        if host not in self._clients:
            bare = host.split("://", 1)[-1]
            self._clients[host] = make_client(host, self.settings.mastodon_token(bare), mastodon_token_env(bare),
                                              Deadlines.from_settings(self.settings))
        return self._clients[host]

    def close(self) -> None:
        for c in self._clients.values():
            c.api.session.close()
        self._clients.clear()

    # -- collection ----------------------------------------------------------------------------

    def _needs_token(self, source: SourceSpec, c: InstanceClient, why: str) -> CollectorError:
        if c.has_token:
            return AuthError(
                f"{source.name}: {c.host} refused the access token in {c.token_env} ({why})",
                hint=f"Create a new token (Preferences > Development, scope read:statuses) and set {c.token_env}.",
            )
        return NeedsToken(
            f"{source.name}: {c.host} needs an access token to read its hashtag timeline ({why}), set {c.token_env}",
            hint=f"Create an application on {c.host} (Preferences > Development, scope read:statuses) "
            f"and export its access token as {c.token_env}; the other instances go on.",
        )

    def _check_policy(self, source: SourceSpec, c: InstanceClient) -> None:
        """Refuse early when the instance's timelines_access says the hashtag feed is not public."""
        api = c.api
        if c.call("instance policy", lambda: api.timeline_is_available("hashtag", with_auth=c.has_token)):
            return
        if not c.has_token and c.call("instance policy", lambda: api.timeline_is_available("hashtag", with_auth=True)):
            raise self._needs_token(source, c, "its hashtag feeds are for authenticated users")
        raise CollectorError(
            f"{source.name}: {c.host} has disabled hashtag timelines",
            hint="Remove this instance from [mastodon].instances.",
        )

    def _fetch(self, source: SourceSpec, c: InstanceClient, what: str, fn: Any) -> Any:
        try:
            return c.call(what, fn)
        except MastodonUnauthorizedError as exc:
            raise self._needs_token(source, c, f"401 {exc.args[-1] if exc.args else ''}".strip()) from None
        except MastodonNotFoundError:
            raise NotFound(
                f"{source.name}: {c.host} has no hashtag timeline at /api/v1/timelines/tag/{source.value}",
                hint="Check the instance name (is it a Mastodon server?) and the tag.",
            ) from None
        except MastodonAPIError as exc:
            if api_status(exc) == 403:
                raise self._needs_token(source, c, "403 forbidden") from None
            raise CollectorError(f"{source.name}: {c.host} answered {api_status(exc)} to {what}: {exc}") from None

    def _batch(self, source: SourceSpec, c: InstanceClient, page: Sequence[Any], cursor: JSON, endpoint: str,
               known_authors: dict[bytes, AuthorRecord]) -> Batch:
        """Normalise the page as the instance sent it (the JSON behind Mastodon.py's objects);
        `known_authors` is the run's memo of accounts already read (shared by its pages)."""
        now = utcnow()
        prov = provenance(f"{c.api.api_base_url}{endpoint}", CLIENT, now)
        try:
            statuses = decode_statuses(c.last_body or b"null") if page else []
        except NotJSON as exc:
            raise BadPayload(f"{source.name}: {c.host} answered {endpoint} with something that is not JSON ({exc})") from None
        except ValueError as exc:
            raise BadPayload(f"{source.name}: {c.host} answered {endpoint} with something that is not a list of statuses ({exc})") from None
        if len(statuses) != len(page):
            raise BadPayload(f"{source.name}: {c.host} answered {endpoint} with something that is not a list of statuses")
        posts, authors, rejected = normalise_page(statuses, source.settings.get("instance", c.host), retrieved_at=now,
                                                  provenance=prov, known_authors=known_authors)
        return Batch(posts=posts, authors=authors, quarantined=rejected, cursor=dict(cursor), fetched=len(page))

    def collect(self, source: SourceSpec, cursor: JSON | None) -> Iterator[Batch]:
        """Yield one Batch per timeline page after `cursor` (see the module docstring).

        An instance that could not be reached (after retries) is not tried again for its other
        tags in the same run: they end with the same message, and the other instances go on.
        """
        instance = source.settings.get("instance")
        if not instance:
            raise NotConfigured(f"{source.name}: no instance set", hint="Sources of kind 'tag' need settings.instance.")
        c = self.client(instance)
        if c.host in self._down:
            raise self._down[c.host]
        try:
            yield from self._collect(source, cursor, c)
        except SourceUnavailable as exc:
            self._down[c.host] = SourceUnavailable(exc.message, hint=exc.hint)
            raise

    def _collect(self, source: SourceSpec, cursor: JSON | None, c: InstanceClient) -> Iterator[Batch]:
        tag = source.value.lstrip("#")
        api = c.api
        conf = self.settings.mastodon
        limit, budget = conf.limit, conf.max_pages_per_run
        endpoint = f"/api/v1/timelines/tag/{tag}"
        self._check_policy(source, c)
        state: JSON = dict(cursor or {})
        pages = 0
        known: dict[bytes, AuthorRecord] = {}  # accounts read in this run, by their JSON

        if not state.get("min_id"):  # first run: newest page, then back through older pages
            page = self._fetch(source, c, "the hashtag timeline", lambda: api.timeline_hashtag(tag, limit=limit))
            pages += 1
            if not page:
                return
            ids = [str(s["id"]) for s in page]
            state = {"min_id": newest_id(ids)}
            left = budget - 1
            if left > 0 and is_paginated(page, "next"):
                state.update(backfill_max_id=oldest_id(ids), backfill_pages=left)
            yield self._batch(source, c, page, state, endpoint, known)

        if state.get("backfill_max_id"):
            max_id, left = state["backfill_max_id"], int(state.get("backfill_pages", 0))
            page = self._fetch(source, c, "older statuses",
                               lambda: api.timeline_hashtag(tag, limit=limit, max_id=max_id))
            while True:
                pages += 1
                left -= 1
                ids = [str(s["id"]) for s in page or ()]
                more = bool(page) and left > 0 and is_paginated(page, "next")
                state = {k: v for k, v in state.items() if k not in ("backfill_max_id", "backfill_pages")}
                if more:
                    state.update(backfill_max_id=oldest_id(ids), backfill_pages=left)
                yield self._batch(source, c, page or [], state, endpoint, known)
                if not more or pages >= budget:
                    break
                prev = page
                page = self._fetch(source, c, "older statuses", lambda: api.fetch_next(prev))

        if pages >= budget:
            return
        min_id = state["min_id"]
        page = self._fetch(source, c, "new statuses", lambda: api.timeline_hashtag(tag, limit=limit, min_id=min_id))
        while page:
            pages += 1
            state = {**state, "min_id": newest_id([min_id, *(str(s["id"]) for s in page)])}
            min_id = state["min_id"]
            batch = self._batch(source, c, page, state, endpoint, known)
            more = is_paginated(page, "prev") and len(page) >= limit
            if more and pages >= budget:
                batch.warnings.append(
                    f"{source.name}: stopped after max_pages_per_run={budget} pages; the next run continues from here"
                )
            yield batch
            if not more or pages >= budget:
                break
            prev = page
            page = self._fetch(source, c, "new statuses", lambda: api.fetch_previous(prev))

    # -- engagement refresh --------------------------------------------------------------------

    def refresh(self, posts: Sequence[PostRef]) -> Iterator[Batch]:
        """Re-read each status on the instance it was collected from; 404/410 there means deleted.

        Only the instance a status was read on (its `community`, an instance of the config) is
        asked, never a host that a stored URI names: a status's URI is written by whoever runs its
        origin server. The instance's local id is the URI's last segment when the status is native
        to that instance; statuses federated from elsewhere have no local id radpulse keeps, so they
        are not re-read here (collection refreshes them while they are on the hashtag timeline).
        """
        down: dict[str, str] = {}  # instances that failed this refresh: skipped, not retried per post
        foreign = 0
        for chunk in chunked(posts, REFRESH_BATCH):
            batch = Batch(fetched=0)
            for ref in chunk:
                instance = (ref.community or "").strip().lower()
                origin = local_status_ref(ref.external_id, ref.url)
                if origin is None or not instance:
                    batch.warnings.append(f"mastodon: cannot refresh {ref.external_id[:200]} (not a Mastodon status URI)")
                    continue
                origin_url, local_id = origin
                if urlsplit(origin_url).netloc.lower() != urlsplit(base_url(instance)).netloc.lower():
                    foreign += 1
                    continue
                host = instance
                if host in down:
                    continue
                c = self.client(host)
                now = utcnow()
                try:
                    c.call(f"status {local_id}", lambda: c.api.status(local_id))
                except MastodonNotFoundError:
                    batch.posts.append(PostRecord(platform=PLATFORM, external_id=ref.external_id, text=None,
                                                  created_at=ref.created_at, is_deleted=True, metrics_read_at=now,
                                                  community=ref.community))
                    batch.fetched += 1
                    continue
                except CollectorError as exc:  # rate limited, unreachable, garbage: skip this origin
                    down[host] = str(exc)
                    batch.warnings.append(f"mastodon: refresh skipped {host}: {exc}")
                    continue
                except MastodonAPIError as exc:
                    if api_status(exc) == 410:
                        batch.posts.append(PostRecord(platform=PLATFORM, external_id=ref.external_id, text=None,
                                                      created_at=ref.created_at, is_deleted=True, metrics_read_at=now,
                                                      community=ref.community))
                        batch.fetched += 1
                    else:
                        batch.warnings.append(f"mastodon: {host} answered {api_status(exc)} for {ref.external_id}")
                    continue
                batch.fetched += 1
                prov = provenance(f"{c.api.api_base_url}/api/v1/statuses/{local_id}", CLIENT, now)
                try:
                    post, author = normalise_status(c.last_body or b"null", ref.community or host, retrieved_at=now,
                                                    provenance=prov)
                except (ValueError, TypeError, KeyError) as exc:  # the reason, never the body
                    batch.warnings.append(f"mastodon: could not read {ref.external_id[:200]} on {host} "
                                          f"({type(exc).__name__})")
                    continue
                post.external_id = ref.external_id
                batch.posts.append(post)
                batch.authors.append(author)
            yield batch
        if foreign:
            yield Batch(fetched=0, warnings=[
                f"mastodon: {foreign} status(es) federated from other servers were not re-read: refresh asks "
                "only the instance a status was collected from"])
