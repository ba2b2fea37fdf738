"""Replaying Mastodon.py's recorded vcrpy cassettes (../shared/fixtures/mastodon) with `responses`.

The cassettes were recorded against http://localhost:3000 (Mastodon 4.6). `serve` registers an
exchange's recorded status, headers (Link, X-RateLimit-*) and body for the URL radpulse calls on
the instance under test; `TagServer` is a small hashtag-timeline server over statuses built from
the recorded ones, answering max_id/min_id/since_id with Link headers as Mastodon does;
`LoopbackInstance` serves both from a real HTTP server on 127.0.0.1, for tests and benchmarks that
run radpulse in other processes.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses
import yaml

from radpulse.config import Settings, default_config_data, settings_from_dict

#: response headers worth replaying (the rest describe the recording server)
KEEP = ("content-type", "link", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "date",
        "www-authenticate")


def load(fixtures_dir: Path, name: str) -> list[dict[str, Any]]:
    """The interactions of one cassette."""
    return yaml.safe_load((fixtures_dir / "mastodon" / name).read_text(encoding="utf-8"))["interactions"]


def find(interactions: list[dict[str, Any]], method: str, path: str, status: int | None = None) -> dict[str, Any]:
    """The first exchange with this method and URL path (optionally this status)."""
    for i in interactions:
        req, res = i["request"], i["response"]
        if req["method"] == method and urlsplit(req["uri"]).path.rstrip("/") == path.rstrip("/"):
            if status is None or res["status"]["code"] == status:
                return i
    raise LookupError(f"no {method} {path} in cassette")


def headers_of(exchange: dict[str, Any], **override: str) -> dict[str, str]:
    out = {}
    for k, v in exchange["response"]["headers"].items():
        if k.lower() in KEEP:
            out[k] = v[0] if isinstance(v, list) else v
    out.pop("content-type", None)
    out.update(override)
    return out


def body_of(exchange: dict[str, Any]) -> str:
    return exchange["response"]["body"]["string"]


def serve(rsps: responses.RequestsMock, exchange: dict[str, Any], url: str, *, query: dict[str, str] | None = None,
          **header_override: str) -> None:
    """Serve a recorded exchange at `url` (matching `query` exactly when given)."""
    matchers = [responses.matchers.query_param_matcher(query)] if query is not None else []
    rsps.add(
        responses.Response(
            method=exchange["request"]["method"],
            url=url,
            body=body_of(exchange),
            status=exchange["response"]["status"]["code"],
            headers=headers_of(exchange, **header_override),
            content_type="application/json; charset=utf-8",
            match=matchers,
        )
    )


def serve_instance(rsps: responses.RequestsMock, fixtures_dir: Path, base: str, *, hashtag_feeds: str = "public") -> None:
    """The recorded GET /api/v2/instance/ at `base`, with this hashtag-feeds access policy."""
    exchange = copy.deepcopy(find(load(fixtures_dir, "test_hashtag_tl.yaml"), "GET", "/api/v2/instance"))
    data = json.loads(body_of(exchange))
    data["configuration"]["timelines_access"]["hashtag_feeds"] = {"local": hashtag_feeds, "remote": hashtag_feeds}
    exchange["response"]["body"]["string"] = json.dumps(data)
    serve(rsps, exchange, f"{base}/api/v2/instance/")


def recorded_status(fixtures_dir: Path) -> dict[str, Any]:
    """The status of the recorded hashtag timeline (#hoot)."""
    tl = find(load(fixtures_dir, "test_hashtag_tl.yaml"), "GET", "/api/v1/timelines/tag/hoot")
    return json.loads(body_of(tl))[0]


def make_statuses(template: dict[str, Any], n: int, *, start: int = 117020600000000000, origin: str = "http://localhost:3000",
                  tag: str = "radiology") -> list[dict[str, Any]]:
    """`n` distinct statuses (oldest first) cloned from a recorded one."""
    out = []
    for k in range(n):
        s = copy.deepcopy(template)
        sid = str(start + k * 1000)
        s["id"] = sid
        s["uri"] = f"{origin}/ap/users/117020566092212359/statuses/{sid}"
        s["url"] = f"{origin}/@mastodonpy_test_2/{sid}"
        s["created_at"] = f"2026-08-01T14:{k // 60 % 60:02d}:{k % 60:02d}.000Z"
        s["content"] = (f'<p>Status {k} about <a href="{origin}/tags/{tag}" class="mention hashtag" rel="tag">'
                        f'#<span>{tag}</span></a></p>')
        s["tags"] = [{"name": tag, "url": f"{origin}/tags/{tag}"}]
        s["favourites_count"] = k
        out.append(s)
    return out


class TagServer:
    """A hashtag timeline over `statuses` (oldest first) answering like Mastodon, with Link headers."""

    def __init__(self, statuses: list[dict[str, Any]], base: str, tag: str, headers: dict[str, str] | None = None):
        self.statuses = statuses
        self.base = base
        self.tag = tag
        self.headers = headers or {}
        self.calls: list[dict[str, str]] = []

    def install(self, rsps: responses.RequestsMock) -> None:
        rsps.add_callback(responses.GET, re.compile(re.escape(f"{self.base}/api/v1/timelines/tag/{self.tag}") + r"(\?.*)?$"),
                          callback=self)

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        q = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        self.calls.append(q)
        limit = int(q.get("limit", 20))
        key = lambda s: int(s["id"])  # noqa: E731
        items = sorted(self.statuses, key=key, reverse=True)  # newest first
        if "max_id" in q:
            items = [s for s in items if key(s) < int(q["max_id"])]
        if "since_id" in q:
            items = [s for s in items if key(s) > int(q["since_id"])]
        if "min_id" in q:  # the page just after min_id, still newest first
            items = [s for s in items if key(s) > int(q["min_id"])][-limit:]
        page = items[:limit]
        headers = dict(self.headers)
        if page:
            url = f"{self.base}/api/v1/timelines/tag/{self.tag}"
            headers["Link"] = (f'<{url}?limit={limit}&max_id={page[-1]["id"]}>; rel="next", '
                               f'<{url}?limit={limit}&min_id={page[0]["id"]}>; rel="prev"')
        return 200, headers, json.dumps(page)


def make_settings(data: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Settings from the packaged defaults updated section by section (tests/conftest.py's idea)."""
    base = default_config_data()
    for key, value in (data or {}).items():
        base[key] = {**base[key], **value} if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return settings_from_dict(base, environ=env or {})


class Rendezvous:
    """Requests wait here until `parties` have arrived, once: with one process per party that asks
    one thing at a time, the first request is held until the other processes are asking too."""

    def __init__(self, parties: int, timeout: float = 120.0) -> None:
        self.parties, self.timeout = parties, timeout
        self.arrived = 0
        self._cond = threading.Condition()

    def wait(self) -> None:
        with self._cond:
            self.arrived += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: self.arrived >= self.parties, self.timeout)


class LoopbackInstance:
    """A Mastodon instance on 127.0.0.1 that other processes (`radpulse run`) can collect from: a
    real threaded HTTP server (pytest_httpserver) answering the recorded GET /api/v2/instance/
    and, per tag, a TagServer over statuses built from the recorded one, each timeline page
    after `latency` seconds (a slow API). Configure it as `instance = <LoopbackInstance>.base`."""

    def __init__(self, fixtures_dir: Path, timelines: dict[str, list[dict[str, Any]]], *, latency: float = 0.0,
                 rendezvous: Rendezvous | None = None) -> None:
        from pytest_httpserver import HTTPServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.server.start()
        self.base = f"http://127.0.0.1:{self.server.port}"
        self.latency, self.rendezvous = latency, rendezvous
        exchange = find(load(fixtures_dir, "test_hashtag_tl.yaml"), "GET", "/api/v2/instance")
        instance = json.loads(body_of(exchange))
        instance["configuration"]["timelines_access"]["hashtag_feeds"] = {"local": "public", "remote": "public"}
        for path in ("/api/v2/instance", "/api/v2/instance/"):
            self.server.expect_request(path).respond_with_json(instance)
        self.timelines = {tag: TagServer(statuses, self.base, tag) for tag, statuses in timelines.items()}
        for tag, timeline in self.timelines.items():
            self.server.expect_request(f"/api/v1/timelines/tag/{tag}").respond_with_handler(
                functools.partial(self._page, timeline))

    def _page(self, timeline: TagServer, request: Any) -> Any:
        from werkzeug import Response

        if self.rendezvous is not None:
            self.rendezvous.wait()
        threading.Event().wait(self.latency)  # time.sleep is recorded, not slept, in the tests
        status, headers, body = timeline(request)
        return Response(body, status=status, headers=headers, content_type="application/json; charset=utf-8")

    def stop(self) -> None:
        self.server.clear()
        self.server.stop()
