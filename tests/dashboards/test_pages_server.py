"""Pages answered by the server (no browser): URL filters parsed in one place, malformed values
explained (never HTTP 500), the filter callback refuses a start after the end."""

from __future__ import annotations

import datetime as dt

import pytest

from radpulse.dashboards.state import parse_query, to_query
from radpulse.demo import build_demo

PATHS = ("/", "/topics", "/sentiment", "/people", "/account", "/papers", "/paper", "/hashtags", "/posts", "/review")
HOSTILE = ["from=not-a-date", "to=2026-13-45", "from=2026-11-20&to=2026-11-01", "platform=myspace",
           "platform=%3Cscript%3E", "theme=" + "a," * 80, "account=nocolon", "article=12abc", "hashtag=%00%01",
           "page=-3", "from[]=1", "platform=none"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from radpulse.dashboards.app import create_app
    from radpulse.db.engine import open_database

    db = open_database(f"sqlite:///{tmp_path_factory.mktemp('pages') / 'demo.db'}", create=True)
    build_demo(db, posts=600, seed=3, end=dt.date(2026, 11, 27))
    app = create_app(db)
    c = app.server.test_client()
    assert c.get("/").status_code == 200  # the first request registers the Pages router
    (router,) = [k for k in app.callback_map if "_pages_content.children" in k]
    yield c, router
    db.dispose()


def _render(client, router, path: str, search: str):  # type: ignore[no-untyped-def]
    return client.post("/_dash-update-component", json={
        "output": router, "outputs": [{"id": "_pages_content", "property": "children"},
                                      {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"], "state": []})


@pytest.mark.parametrize("path", PATHS)
def test_every_page_explains_malformed_filters_instead_of_failing(client, path):
    c, router = client
    for query in HOSTILE:
        answer = _render(c, router, path, "?" + query)
        assert answer.status_code == 200, (path, query, answer.get_data(as_text=True)[:300])
    body = _render(c, router, path, "?from=2026-11-20&to=2026-11-01").get_data(as_text=True)
    assert "after the end date" in body or path == "/review"


def test_review_layout_refuses_without_credentials(client):
    c, router = client
    assert "Sign-in required" in _render(c, router, "/review", "").get_data(as_text=True)
    assert c.get("/review").status_code == 403  # no credentials configured: review is disabled


def test_parse_query_round_trips_and_names_what_is_wrong():
    known = {"platform": ("x", "reddit")}
    s = parse_query({"from": "2026-11-01", "to": "2026-11-07", "platform": "x,reddit", "theme": "ai"}, known=known)
    assert s.problems == [] and s.filters.platforms == ("x", "reddit") and s.filters.themes == ("ai",)
    assert s.filters.end == dt.datetime(2026, 11, 8, tzinfo=dt.timezone.utc) and s.days == 7
    assert parse_query(to_query(s.params), known=known).filters == s.filters
    assert parse_query({"platform": "myspace"}, known=known).problems[0].startswith("Unknown platform 'myspace'")
    assert "not a date" in parse_query({"from": "2026-02-30"}).problems[0]
    assert parse_query({"platform": "none"}).no_platform
    prev = parse_query({"from": "2026-11-01", "to": "2026-11-07"}).previous()
    assert (prev.start, prev.end) == (dt.datetime(2026, 10, 25, tzinfo=dt.timezone.utc),
                                      dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))


def test_the_filter_callback_refuses_a_start_after_the_end(client):
    c, _ = client
    app_map = c.application.view_functions  # the Flask app behind the client
    assert app_map
    answer = c.post("/_dash-update-component", json={
        "output": "..url.search...f-message.children..",
        "outputs": [{"id": "url", "property": "search"}, {"id": "f-message", "property": "children"}],
        "inputs": [{"id": "f-dates", "property": "start_date", "value": "2026-11-20"},
                   {"id": "f-dates", "property": "end_date", "value": "2026-11-01"},
                   {"id": "f-platform", "property": "value", "value": ["x"]},
                   *[{"id": f"f-{k}", "property": "value", "value": []}
                     for k in ("source", "subspecialty", "theme", "language", "author_type")]],
        "state": [{"id": "url", "property": "search", "value": ""}], "changedPropIds": ["f-dates.start_date"]})
    assert answer.status_code == 200
    body = answer.get_json()["response"]
    assert "url" not in body and "after the end" in body["f-message"]["children"]
