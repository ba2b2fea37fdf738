"""Replaying the recorded X payloads of ../shared/fixtures/x through the real tweepy Client.

tweepy's vcrpy cassettes keep gzip bodies (`!!binary`, `content-encoding: gzip`); they are
served as recorded with `responses`, matched on method + host + path. The v2-bodies files are
plain JSON bodies served for the URL the client calls.
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import responses
import yaml
from sqlalchemy import select

from radpulse.config import Settings, default_config_data, settings_from_dict
from radpulse.db.engine import Database
from radpulse.db.models import Source
from radpulse.sources import spec_of

API = "https://api.twitter.com"
SEARCH_URL = f"{API}/2/tweets/search/recent"
LOOKUP_URL = f"{API}/2/tweets"
TOKEN = "test-bearer-token"


def cassette(fixtures_dir: Path, name: str, index: int = 0) -> tuple[bytes, dict[str, str], int]:
    """(raw body bytes as recorded, response headers, status) of one cassette interaction."""
    data = yaml.safe_load((fixtures_dir / "x" / name).read_text())
    response = data["interactions"][index]["response"]
    headers = {k: v[0] for k, v in response["headers"].items() if k.lower() not in ("set-cookie", "content-length")}
    body = response["body"]["string"]
    if isinstance(body, str):
        body = body.encode()
    return body, headers, response["status"]["code"]


def cassette_json(fixtures_dir: Path, name: str, index: int = 0) -> dict[str, Any]:
    body, headers, _ = cassette(fixtures_dir, name, index)
    return json.loads(gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body)


def body(fixtures_dir: Path, name: str) -> dict[str, Any]:
    """A v2-bodies JSON file (a fresh copy)."""
    return json.loads((fixtures_dir / "x" / "v2-bodies" / name).read_text())


def search_page_with_metrics(fixtures_dir: Path) -> dict[str, Any]:
    """A search page built from models_tweet.json (public_metrics) and models_expansions.json."""
    tweet = body(fixtures_dir, "models_tweet.json")
    includes = body(fixtures_dir, "models_expansions.json")
    return {"data": [tweet], "includes": includes,
            "meta": {"result_count": 1, "newest_id": tweet["id"], "oldest_id": tweet["id"]}}


def serve_cassette(rsps: responses.RequestsMock, fixtures_dir: Path, name: str, url: str = SEARCH_URL) -> None:
    raw, headers, status = cassette(fixtures_dir, name)
    content_type = headers.pop("content-type", "application/json")
    rsps.add(responses.GET, url, body=raw, status=status, headers=headers, content_type=content_type)


def serve_json(rsps: responses.RequestsMock, payload: Any, *, url: str = SEARCH_URL, status: int = 200,
               headers: dict[str, str] | None = None) -> None:
    rsps.add(responses.GET, url, body=json.dumps(payload), status=status, headers=headers or {},
             content_type="application/json")


def x_settings(env: dict[str, str] | None = None, **x: Any) -> Settings:
    """Default settings with [x] overrides and a bearer token unless `env` says otherwise."""
    data = default_config_data()
    data["x"] = {**data["x"], **x}
    return settings_from_dict(data, environ={"X_BEARER_TOKEN": TOKEN} if env is None else env)


def add_source(db: Database, name: str = "x:#Radiology", kind: str = "hashtag", value: str = "#Radiology",
               platform: str = "x", settings: dict[str, Any] | None = None):
    """Insert a tracked source row; its SourceSpec (with id)."""
    from radpulse.records import utcnow

    with db.session() as s:
        row = Source(name=name, platform=platform, kind=kind, value=value,
                     settings=settings or {"exclude_retweets": True, "languages": []}, enabled=True,
                     created_at=utcnow())
        s.add(row)
        s.flush()
        return spec_of(row)


def query_params(call: Any) -> dict[str, str]:
    """The query parameters of a recorded `responses` call."""
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(call.request.url).query))


class SearchServer:
    """Answers recent search like X does over a fixed set of real tweets: newest first,
    `since_id`/`until_id` exclusive, `next_token` paging, `page_size` per page."""

    def __init__(self, tweets: list[dict[str, Any]], users: list[dict[str, Any]], page_size: int = 5):
        self.tweets = sorted((copy.deepcopy(t) for t in tweets), key=lambda t: int(t["id"]), reverse=True)
        self.users = users
        self.page_size = page_size
        self.requests: list[dict[str, str]] = []

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        from urllib.parse import parse_qsl, urlsplit

        params = dict(parse_qsl(urlsplit(request.url).query))
        self.requests.append(params)
        since = int(params.get("since_id", 0))
        until = int(params.get("until_id", 1 << 64))
        offset = int(params.get("next_token", "p0")[1:])
        match = [t for t in self.tweets if since < int(t["id"]) < until]
        page = match[offset : offset + self.page_size]
        payload: dict[str, Any] = {"meta": {"result_count": len(page)}}
        if page:
            authors = {t.get("author_id") for t in page}
            payload["data"] = page
            payload["includes"] = {"users": [u for u in self.users if u["id"] in authors]}
            payload["meta"].update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        if offset + self.page_size < len(match):
            payload["meta"]["next_token"] = f"p{offset + self.page_size}"
        return 200, {"x-rate-limit-remaining": "400", "x-rate-limit-reset": "2000000000"}, json.dumps(payload)


def stored_posts(db: Database) -> dict[str, Any]:
    """Stored X posts by external id."""
    from radpulse.db.models import Post

    with db.session() as s:
        rows = s.scalars(select(Post).where(Post.platform == "x")).all()
        for r in rows:
            s.expunge(r)
        return {r.external_id: r for r in rows}
