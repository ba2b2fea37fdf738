"""Reddit: new submissions (and optionally comments) of tracked subreddits, via praw.

The cursor of a subreddit is its newest collected submission: `{"fullname": "t3_...",
"created_utc": ...}`. A run asks `/r/<name>/new?before=<fullname>` page after page, so it
moves forward in time and every committed page can advance the cursor. When that answers
nothing because the cursor's submission was deleted or removed (Reddit's `before` then has no
anchor), the run walks `new` from the top down to the cursor's `created_utc` instead.

Walking down (the first run, and that fallback) sees the newest submission first, so the cursor
may move to it only once the walk is complete; until then each committed page stores the walk's
progress (`"walk": {"top", "after", "seen"}`) beside the old cursor, and a crashed walk resumes
after its last committed page. Upserts make any re-read harmless; nothing is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import praw

from radpulse.collectors.base import Collector, chunked
from radpulse.collectors.reddit.client import CLIENT, call, make_reddit
from radpulse.collectors.reddit.normalise import (
    keyword_pattern,
    matches_keywords,
    normalise_comment,
    normalise_things,
)
from radpulse.collectors.registry import register
from radpulse.errors import AuthError, BadPayload, CollectorError, RateLimited
from radpulse.records import Batch, PostRecord, PostRef, SourceSpec, provenance, utcnow

JSON = dict[str, Any]
PAGE_SIZE = 100
INFO_BATCH = 100


def subreddit_name(source: SourceSpec) -> str:
    """The bare subreddit name of a source ('r/Radiology' and '/r/Radiology/' → 'Radiology')."""
    return re.sub(r"^/?r/", "", source.value.strip()).strip("/")


def listing_children(payload: Any, what: str) -> list[Any]:
    """The children of a Listing, or BadPayload when the answer is not a Listing."""
    try:
        children = payload["data"]["children"]
    except (KeyError, TypeError):
        raise BadPayload(
            f"{what}: expected a Listing, got {type(payload).__name__}",
            hint="Reddit changed its answer format, or a proxy rewrote it.",
        ) from None
    if not isinstance(children, list):
        raise BadPayload(f"{what}: Listing children are not a list")
    return children


def _anchor(children: Sequence[Any]) -> JSON | None:
    """{"fullname", "created_utc"} of the first child that has both (None if none has)."""
    for child in children:
        data = child.get("data") if isinstance(child, dict) else None
        if (
            isinstance(data, dict)
            and data.get("name")
            and isinstance(data.get("created_utc"), (int, float))
        ):
            return {"fullname": data["name"], "created_utc": float(data["created_utc"])}
    return None


@register
class RedditCollector(Collector):
    """Submissions of a subreddit, newest-seen fullname as cursor; engagement via /api/info."""

    platform = "reddit"
    kinds = ("subreddit",)
    required_env = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET")

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self._reddit: Any = None
        #: authors already stored by this instance: a Reddit author record is only a name and a
        #: fullname, so sending it again changes nothing (saves an upsert per post)
        self._authors_stored: set[str] = set()

    @property
    def reddit(self) -> Any:
        """The praw client, built on first use."""
        if self._reddit is None:
            self._reddit = make_reddit(self.settings)
        return self._reddit

    def close(self) -> None:
        if self._reddit is not None:
            core = getattr(self._reddit, "_core", None)
            if core is not None:
                core.close()
            self._reddit = None

    # -- collection -------------------------------------------------------------------------

    def collect(self, source: SourceSpec, cursor: JSON | None) -> Iterator[Batch]:
        """Batches of new submissions of `source` (one per page), each with the cursor to store."""
        for batch in self._collect(source, cursor):
            batch.authors = [a for a in batch.authors if a.external_id not in self._authors_stored]
            yield batch
            # the runner resumes this generator only after it committed the batch
            self._authors_stored.update(a.external_id for a in batch.authors)

    def _collect(self, source: SourceSpec, cursor: JSON | None) -> Iterator[Batch]:
        name = subreddit_name(source)
        state = _Run(self, source, name)
        cursor = dict(cursor or {})
        if cursor.get("walk"):
            top = yield from state.walk(cursor, resume=cursor["walk"])
            if top is not None:  # posts may have arrived above the walk's top meanwhile
                yield from state.catch_up(top)
        elif cursor.get("fullname"):
            yield from state.catch_up(cursor)
        else:
            yield from state.walk(None)

    def fetch_new(self, name: str, **params: Any) -> list[Any]:
        """One page of /r/<name>/new (params: limit, before/after) as listing children."""
        what = f"r/{name}"
        payload = call(
            lambda: self.reddit.request(method="GET", path=f"r/{name}/new", params=params),
            what=what,
        )
        return listing_children(payload, what)

    def comments_of(self, submission_id: str) -> list[JSON]:
        """The comment `data` dicts of a submission, `replace_more` bounded by the settings."""

        def load() -> list[JSON]:
            submission = self.reddit.submission(id=submission_id)
            forest = submission.comments
            forest.replace_more(limit=self.settings.reddit.replace_more_limit)
            return [comment_data(c) for c in forest.list() if isinstance(c, praw.models.Comment)]

        return call(load, what=f"comments of t3_{submission_id}")

    def add_comments(self, batch: Batch, submissions: list[PostRecord], *, where: str) -> None:
        """Add the comments of high-scoring `submissions` to `batch` (a failure is a warning)."""
        for post in submissions:
            if post.is_deleted or (post.score or 0) < self.settings.reddit.comments_min_score:
                continue
            try:
                datas = self.comments_of(post.external_id.removeprefix("t3_"))
            except (AuthError, RateLimited):
                raise
            except CollectorError as exc:  # this thread only; the submissions are still stored
                batch.warnings.append(f"{where}: comments of {post.external_id} not read: {exc}")
                continue
            read_at = utcnow()
            prov = provenance(f"/comments/{post.external_id[3:]}", CLIENT, read_at)
            things = [{"kind": "t1", "data": d} for d in datas]
            records, authors, bad = normalise_things(
                things, read_at=read_at, provenance=prov, kinds=("t1",)
            )
            batch.posts += records
            known = {a.external_id for a in batch.authors}
            batch.authors += [a for a in authors if a.external_id not in known]
            batch.quarantined += bad

    # -- engagement refresh -----------------------------------------------------------------

    def refresh(self, posts: Sequence[PostRef]) -> Iterator[Batch]:
        """Current metrics of `posts` via /api/info, 100 fullnames per request.

        Submissions of subreddits with `comments = true` that now score at least
        `comments_min_score` get their comment threads (re)read too.
        """
        commented = {s.name.lower() for s in self.settings.reddit.subreddits if s.comments}
        for chunk in chunked([p.external_id for p in posts], INFO_BATCH):
            what = f"/api/info ({len(chunk)} fullnames)"
            read_at = utcnow()
            params = {"id": ",".join(chunk)}
            payload = call(
                lambda params=params: self.reddit.request(
                    method="GET", path="api/info/", params=params
                ),
                what=what,
            )
            children = listing_children(payload, what)
            prov = provenance("/api/info", CLIENT, read_at)
            records, authors, bad = normalise_things(children, read_at=read_at, provenance=prov)
            batch = Batch(posts=records, authors=authors, quarantined=bad, fetched=len(children))
            missing = len(
                set(chunk) - {r.external_id for r in records} - {q.external_id for q in bad}
            )
            if missing:
                batch.warnings.append(
                    f"reddit: {missing} post(s) not returned by /api/info; left unchanged"
                )
            # submissions that crossed the score threshold since they were collected
            threads = [
                r
                for r in records
                if r.external_id.startswith("t3_") and (r.community or "").lower() in commented
            ]
            self.add_comments(batch, threads, where="refresh")
            yield batch


class _Run:
    """One collection run of one subreddit (holds the per-run budget and filters)."""

    def __init__(self, collector: RedditCollector, source: SourceSpec, name: str) -> None:
        self.c = collector
        self.source = source
        self.name = name
        cfg = collector.settings.reddit
        self.limit = cfg.limit_per_run
        self.seen = 0  # submissions read this run (kept or filtered out)
        self.pattern = keyword_pattern(source.settings.get("keywords") or ())
        self.comments = bool(source.settings.get("comments"))
        self.endpoint = f"/r/{name}/new"

    def page(self, children: Sequence[Any]) -> Batch:
        """Normalise one page: keyword filter, quarantine, comments of high-scoring submissions."""
        read_at = utcnow()
        prov = provenance(self.endpoint, CLIENT, read_at)
        kept = [
            ch
            for ch in children
            if not isinstance(ch, dict)
            or not isinstance(ch.get("data"), dict)
            or matches_keywords(ch["data"], self.pattern)
        ]
        posts, authors, bad = normalise_things(
            kept, read_at=read_at, provenance=prov, kinds=("t3",)
        )
        batch = Batch(posts=posts, authors=authors, quarantined=bad, fetched=len(children))
        if self.comments:
            self.c.add_comments(batch, posts, where=f"r/{self.name}")
        return batch

    def catch_up(self, cursor: JSON) -> Iterator[Batch]:
        """Pages newer than the cursor's submission, oldest page first, each advancing the cursor."""
        anchor = {"fullname": cursor["fullname"], "created_utc": cursor.get("created_utc")}
        first = True
        while self.seen < self.limit:
            want = min(PAGE_SIZE, self.limit - self.seen)
            children = self.c.fetch_new(self.name, limit=want, before=anchor["fullname"])
            if not children:
                if first and anchor.get("created_utc") is not None:
                    # nothing newer, or the anchor post is gone: walk down to its time to know
                    yield from self.walk(anchor)
                return
            first = False
            self.seen += len(children)
            batch = self.page(children)
            anchor = _anchor(children) or anchor
            batch.cursor = dict(anchor)
            yield batch
            if len(children) < want:
                return

    def walk(self, boundary: JSON | None, resume: JSON | None = None) -> Iterator[Batch]:
        """Walk `new` downwards until `boundary` (the old cursor), the listing's end or the limit.

        Intermediate pages store the walk's progress beside the old cursor; the last page stores
        the walk's top as the new cursor. Returns that cursor (None when nothing was seen).
        """
        top = resume.get("top") if resume else None
        after = resume.get("after") if resume else None
        walked = int(resume.get("seen", 0)) if resume else 0
        restarted, first = False, True
        base = (
            {"fullname": boundary.get("fullname"), "created_utc": boundary.get("created_utc")}
            if boundary
            else {}
        )
        old = dict(base) if base.get("fullname") else None
        while True:
            want = min(PAGE_SIZE, self.limit - walked)
            params: dict[str, Any] = {"limit": want, **({"after": after} if after else {})}
            children = self.c.fetch_new(self.name, **params) if want > 0 else []
            if not children and after and resume and first:
                # the post this walk resumes after may be gone: start again from the top
                restarted, first, after, walked = True, False, None, 0
                continue
            first = False
            cut = self._boundary_index(children, boundary)
            kept = children if cut is None else children[:cut]
            newest = _anchor(kept)
            if top is None or (restarted and _newer(newest, top)):
                top = newest or top
            walked += len(kept)
            self.seen += len(kept)
            batch = self.page(kept)
            if cut is not None or len(children) < want or walked >= self.limit:
                if cut is None and walked >= self.limit and old:
                    batch.warnings.append(
                        f"r/{self.name}: more than {self.limit} new submissions since the last run; "
                        "older ones are beyond limit_per_run and Reddit's listing window and were not collected"
                    )
                # nothing newer: re-anchor on the newest submission at or below the old cursor, so
                # that `before` works next time even when the old cursor's post was deleted
                batch.cursor = top or (_anchor(children[cut:]) if cut is not None else None) or old
                if batch.posts or batch.quarantined or resume or batch.cursor != old:
                    yield batch
                return batch.cursor
            after = (
                children[-1].get("data", {}).get("name") if isinstance(children[-1], dict) else None
            )
            if not after:
                raise BadPayload(f"r/{self.name}: listing item without a fullname; cannot page on")
            batch.cursor = {**base, "walk": {"top": top, "after": after, "seen": walked}}
            yield batch

    @staticmethod
    def _boundary_index(children: list[Any], boundary: JSON | None) -> int | None:
        """Index of the first child at or older than `boundary` (None: all are newer)."""
        if not boundary:
            return None
        name, created = boundary.get("fullname"), boundary.get("created_utc")
        for i, child in enumerate(children):
            data = child.get("data") if isinstance(child, dict) else None
            if not isinstance(data, dict):
                continue
            c = data.get("created_utc")
            if data.get("name") == name or (
                created is not None and isinstance(c, (int, float)) and c < created
            ):
                return i
        return None


def _newer(a: JSON | None, b: JSON | None) -> bool:
    return a is not None and (b is None or a["created_utc"] > b["created_utc"])


def comment_data(comment: Any) -> JSON:
    """The JSON `data` dict of a praw Comment (praw objectifies author and subreddit)."""
    data: JSON = {}
    for key, value in vars(comment).items():
        if key.startswith("_"):
            continue
        if key == "author":
            value = getattr(value, "name", None) or "[deleted]"
        elif key == "subreddit":
            value = getattr(value, "display_name", str(value))
        elif not isinstance(value, (str, int, float, bool, type(None), list, dict)):
            continue
        data[key] = value
    return data


__all__ = ["RedditCollector", "normalise_comment", "subreddit_name"]
