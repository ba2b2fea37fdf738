"""Replaying bskyr's Ruby-VCR recordings (../shared/fixtures/bluesky) to the atproto client with respx.

The YAML is not loadable by vcrpy: it is parsed with PyYAML and each `response.body.string` is
served for the XRPC method radpulse calls. The recordings carry a stale `Content-Encoding: gzip`
over plain bodies, which is dropped. A searchPosts answer built here from recorded PostViews is
validated against the recorded lexicon (`app.bsky.feed.searchPosts.json` and
`app.bsky.feed.defs.json`) before any test uses it.
"""

from __future__ import annotations

import base64
import copy
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import yaml

from radpulse.config import Settings, default_config_data, settings_from_dict

SERVICE = "https://bsky.social"
XRPC = f"{SERVICE}/xrpc"
DROP = {"content-encoding", "transfer-encoding", "content-length"}


def load(fixtures_dir: Path, name: str) -> list[dict[str, Any]]:
    """The http_interactions of one recording."""
    return yaml.safe_load((fixtures_dir / "bluesky" / name).read_text(encoding="utf-8"))["http_interactions"]


def recorded_response(exchange: dict[str, Any], **override: str) -> httpx.Response:
    """The recorded answer as an httpx.Response (stale gzip header dropped)."""
    res = exchange["response"]
    status = res["status"]["code"] if isinstance(res["status"], dict) else res["status"]
    headers = {k: v for k, v in res["headers"].items() if k.lower() not in DROP}
    headers.update(override)
    return httpx.Response(status, headers=headers, content=res["body"]["string"].encode("utf-8"))


def post_views(fixtures_dir: Path) -> list[dict[str, Any]]:
    """Every recorded PostView: getPosts (1, with an image) and getQuotes (quotes, external embed)."""
    views = []
    for name in ("f_getposts.yml", "f_getquotes.yml"):
        views += json.loads(load(fixtures_dir, name)[0]["response"]["body"]["string"])["posts"]
    return views


def fake_jwt(exp: float, sub: str = "did:plc:radpulsetest") -> str:
    """An access/refresh token the SDK can read the expiry of (the signature is not checked)."""
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256K', 'typ': 'at+jwt'})}.{part({'scope': 'com.atproto.appPass', 'sub': sub, 'iat': int(time.time()), 'exp': int(exp)})}.c2ln"


def session_body(expires_in: float = 7200) -> dict[str, Any]:
    """A createSession/refreshSession answer without a DID document (the service URL stays)."""
    return {
        "did": "did:plc:radpulsetest",
        "handle": "radpulse.test",
        "accessJwt": fake_jwt(time.time() + expires_in),
        "refreshJwt": fake_jwt(time.time() + 90 * 86400),
        "active": True,
    }


# -- the lexicon check -------------------------------------------------------------------------

def _schema(node: dict[str, Any], lexicon_id: str, known: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A lexicon type as JSON Schema; refs outside the recorded lexicons must be objects."""
    kind = node.get("type")
    if kind == "ref":
        ref = node["ref"]
        full = f"{lexicon_id}{ref}" if ref.startswith("#") else ref
        if "#" not in full:
            full += "#main"
        return {"$ref": f"#/definitions/{full}"} if full in known else {"type": "object"}
    if kind == "union":
        return {"type": "object", "required": ["$type"]}
    if kind == "object":
        props = {k: _schema(v, lexicon_id, known) for k, v in node.get("properties", {}).items()}
        return {"type": "object", "properties": props, "required": node.get("required", [])}
    if kind == "array":
        out: dict[str, Any] = {"type": "array", "items": _schema(node["items"], lexicon_id, known)}
        if "maxLength" in node:
            out["maxItems"] = node["maxLength"]
        return out
    if kind == "string":
        out = {"type": "string"}
        if node.get("format") == "at-uri":
            out["pattern"] = r"^at://"
        if node.get("format") == "datetime":
            out["pattern"] = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"
        if "enum" in node:
            out["enum"] = node["enum"]
        return out
    if kind == "integer":
        out = {"type": "integer"}
        if "minimum" in node:
            out["minimum"] = node["minimum"]
        if "maximum" in node:
            out["maximum"] = node["maximum"]
        return out
    if kind == "boolean":
        return {"type": "boolean"}
    return {}  # unknown, blob, bytes, cid-link: anything


def search_posts_validator(fixtures_dir: Path) -> jsonschema.Draft7Validator:
    """A validator of searchPosts output built from the recorded lexicons."""
    lexicons = [json.loads((fixtures_dir / "bluesky" / n).read_text()) for n in
                ("app.bsky.feed.searchPosts.json", "app.bsky.feed.defs.json")]
    known = {f"{lex['id']}#{name}": (lex["id"], d) for lex in lexicons for name, d in lex["defs"].items()}
    definitions = {}
    for key, (lexicon_id, node) in known.items():
        if node.get("type") == "query":
            node = node["output"]["schema"]
        definitions[key] = _schema(node, lexicon_id, known)
    schema = {"$ref": "#/definitions/app.bsky.feed.searchPosts#main", "definitions": definitions}
    return jsonschema.Draft7Validator(schema)


def search_answer(fixtures_dir: Path, views: list[dict[str, Any]], cursor: str | None = None) -> dict[str, Any]:
    """A searchPosts answer of `views`, checked against the lexicon first."""
    answer: dict[str, Any] = {"posts": views}
    if cursor is not None:
        answer["cursor"] = cursor
    search_posts_validator(fixtures_dir).validate(answer)
    return answer


def clone_views(template: dict[str, Any], n: int, *, start_minute: int = 0, tag: str = "radiology") -> list[dict[str, Any]]:
    """`n` distinct PostViews, newest first, cloned from a recorded one."""
    out = []
    for k in range(n):
        v = copy.deepcopy(template)
        minute = start_minute + k
        rkey = f"3lrad{minute:07d}"
        did = v["author"]["did"]
        v["uri"] = f"at://{did}/app.bsky.feed.post/{rkey}"
        stamp = f"2025-05-{1 + minute // 1440:02d}T{minute // 60 % 24:02d}:{minute % 60:02d}:00.000Z"
        v["record"]["createdAt"] = stamp
        v["indexedAt"] = stamp
        v["record"]["text"] = f"post {minute} #{tag}"
        v["likeCount"] = minute
        out.append(v)
    return sorted(out, key=lambda v: v["indexedAt"], reverse=True)


def make_settings(data: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Settings from the packaged defaults updated section by section (tests/conftest.py's idea)."""
    base = default_config_data()
    for key, value in (data or {}).items():
        base[key] = {**base[key], **value} if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return settings_from_dict(base, environ=env or {})


class SearchServer:
    """searchPosts over `views` like the AppView: sort=latest, inclusive `since`, offset cursors.

    Every answer is checked against the recorded lexicon before it is sent.
    """

    def __init__(self, fixtures_dir: Path, views: list[dict[str, Any]]) -> None:
        self.views = views
        self.validator = search_posts_validator(fixtures_dir)
        self.calls: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        from radpulse.collectors.bluesky.normalise import parse_time, sort_at

        q = dict(request.url.params)
        self.calls.append(q)
        limit = int(q.get("limit", 25))
        items = sorted(self.views, key=lambda v: parse_time(sort_at(v)), reverse=True)
        if "since" in q:
            since = parse_time(q["since"])
            items = [v for v in items if parse_time(sort_at(v)) >= since]
        if "lang" in q:
            items = [v for v in items if q["lang"] in (v["record"].get("langs") or [])]
        offset = int(q.get("cursor", 0))
        page = items[offset : offset + limit]
        answer: dict[str, Any] = {"posts": page}
        if offset + limit < len(items):
            answer["cursor"] = str(offset + limit)
        self.validator.validate(answer)
        return httpx.Response(200, json=answer, headers={"RateLimit-Limit": "3000", "RateLimit-Remaining": "2999"})
