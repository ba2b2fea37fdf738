"""Helpers replaying praw's recorded Reddit cassettes (../shared/fixtures/reddit) under the real praw client.

`RedditReplay` answers every request praw makes through `responses` (the HTTP layer under
requests), matching recorded exchanges on method + host + path (the recordings are of other
subreddits with old query strings) and, for `morechildren`, on the requested children.
`FakeSubreddit` serves `/r/<name>/new` with Reddit's before/after/limit semantics over real
recorded submissions, for paging, cursor and crash tests.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses

from radpulse.config import Settings, default_config_data, settings_from_dict
from radpulse.db.engine import Database
from radpulse.db.models import Source
from radpulse.records import SourceSpec, utcnow

CREDS = {"REDDIT_CLIENT_ID": "test-client-id", "REDDIT_CLIENT_SECRET": "test-client-secret"}
ANY_REDDIT = re.compile(r"https://(www|oauth)\.reddit\.com/.*")

Handler = Callable[[requests.PreparedRequest], Any]


def load_cassette(fixtures_dir: Path, name: str) -> list[dict[str, Any]]:
    """The interactions of a recorded cassette."""
    return json.loads((fixtures_dir / "reddit" / name).read_text(encoding="utf-8"))["interactions"]


def cassette_body(fixtures_dir: Path, name: str, path_contains: str) -> Any:
    """The decoded JSON body of the first interaction whose URI contains `path_contains`."""
    for it in load_cassette(fixtures_dir, name):
        if path_contains in it["request"]["uri"]:
            return json.loads(it["response"]["body"]["string"])
    raise AssertionError(f"{name} has no interaction for {path_contains}")


def reddit_settings(
    reddit: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> Settings:
    """Default settings with a [reddit] section updated by `reddit` and the given environment."""
    data = default_config_data()
    data["reddit"] = {**data["reddit"], **(reddit or {})}
    return settings_from_dict(data, environ=CREDS if env is None else env)


def _flat_headers(recorded: dict[str, list[str]]) -> dict[str, str]:
    drop = {"content-length", "transfer-encoding", "content-encoding", "connection", "set-cookie"}
    return {k: v[0] for k, v in recorded.items() if k.lower() not in drop}


class RedditReplay:
    """Serve recorded exchanges and per-path handlers to praw; log every request."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.recorded: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.log: list[tuple[str, str, dict[str, list[str]]]] = []
        for method in ("GET", "POST"):
            mock.add_callback(method, ANY_REDDIT, callback=self._dispatch)

    def add_cassette(self, fixtures_dir: Path, name: str) -> RedditReplay:
        for it in load_cassette(fixtures_dir, name):
            req = it["request"]
            key = (req["method"], urlsplit(req["uri"]).path.rstrip("/"))
            self.recorded.setdefault(key, []).append(it)
        return self

    def on(self, method: str, path: str, handler: Handler) -> RedditReplay:
        """Answer `method path` with `handler(request)` -> (status, headers, body) or an exception."""
        self.handlers[(method, path.rstrip("/"))] = handler
        return self

    def json(
        self,
        method: str,
        path: str,
        body: Any,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> RedditReplay:
        text = body if isinstance(body, str) else json.dumps(body)
        return self.on(
            method,
            path,
            lambda _r: (status, {"Content-Type": "application/json", **(headers or {})}, text),
        )

    def requests_to(self, path: str) -> list[dict[str, list[str]]]:
        """Query/form parameters of each request made to `path`."""
        return [params for _m, p, params in self.log if p == path.rstrip("/")]

    def _dispatch(self, request: requests.PreparedRequest) -> Any:
        url = urlsplit(request.url)
        path = url.path.rstrip("/")
        params = parse_qs(url.query)
        if request.body:
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            params.update(parse_qs(body))
        self.log.append((request.method, path, params))
        key = (request.method, path)
        if key in self.handlers:
            return self.handlers[key](request)
        candidates = self.recorded.get(key)
        if not candidates:
            return requests.ConnectionError(f"no recording for {request.method} {path}")
        match = candidates[0]
        if "children" in params:  # morechildren: the recording for the same children
            wanted = set(params["children"][0].split(","))
            for it in candidates:
                recorded = parse_qs(it["request"]["body"] or "").get("children", [""])[0]
                if set(recorded.split(",")) == wanted:
                    match = it
                    break
            else:
                return requests.ConnectionError(
                    f"no recording of morechildren for {sorted(wanted)}"
                )
        resp = match["response"]
        return resp["status"]["code"], _flat_headers(resp["headers"]), resp["body"]["string"]


class FakeSubreddit:
    """`/r/<name>/new` over real submission dicts, newest first, with Reddit's paging rules."""

    def __init__(self, things: list[dict[str, Any]]) -> None:
        self.things = sorted(things, key=lambda t: t["data"]["created_utc"], reverse=True)

    def names(self) -> list[str]:
        return [t["data"]["name"] for t in self.things]

    def add(self, thing: dict[str, Any]) -> None:
        self.things.insert(0, thing)
        self.things.sort(key=lambda t: t["data"]["created_utc"], reverse=True)

    def remove(self, fullname: str) -> None:
        self.things = [t for t in self.things if t["data"]["name"] != fullname]

    def page(
        self, limit: int = 25, before: str | None = None, after: str | None = None
    ) -> dict[str, Any]:
        names = self.names()
        if before:
            if before not in names:
                items: list[dict[str, Any]] = []
            else:
                i = names.index(before)
                items = self.things[max(0, i - limit) : i]
        elif after:
            items = self.things[names.index(after) + 1 :][:limit] if after in names else []
        else:
            items = self.things[:limit]
        return {
            "kind": "Listing",
            "data": {
                "modhash": "",
                "children": copy.deepcopy(items),
                "after": items[-1]["data"]["name"] if items else None,
                "before": items[0]["data"]["name"] if items else None,
            },
        }

    def __call__(self, request: requests.PreparedRequest) -> Any:
        q = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        body = self.page(int(q.get("limit", 25)), q.get("before"), q.get("after"))
        return 200, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(body)


def distinct_things(
    things: list[dict[str, Any]], copies: int, start: float = 1_700_000_000.0
) -> list[dict[str, Any]]:
    """`copies` rounds of `things` with distinct fullnames and strictly decreasing created_utc."""
    out = []
    t = start
    for round_ in range(copies):
        for thing in things:
            data = dict(thing["data"])
            data["id"] = f"{data['id']}x{round_}"
            data["name"] = f"t3_{data['id']}"
            data["created_utc"] = t
            data["created"] = t
            t -= 7.0
            out.append({"kind": thing["kind"], "data": data})
    return out


def add_source(db: Database, spec: SourceSpec) -> SourceSpec:
    """Insert `spec` into the sources table and return it with its id."""
    with db.session() as s:
        row = Source(
            name=spec.name,
            platform=spec.platform,
            kind=spec.kind,
            value=spec.value,
            settings=dict(spec.settings),
            enabled=True,
            created_at=utcnow(),
        )
        s.add(row)
        s.flush()
        return SourceSpec(
            spec.name, spec.platform, spec.kind, spec.value, dict(spec.settings), row.id
        )


def subreddit_spec(name: str = "Radiology", **settings: Any) -> SourceSpec:
    return SourceSpec(
        f"reddit:r/{name}",
        "reddit",
        "subreddit",
        name,
        {"keywords": settings.get("keywords", []), "comments": settings.get("comments", False)},
    )
