"""One demo database and one served dashboard per test session; one Chromium per module.

The demo (a few thousand synthetic posts, annotated) is extended with hostile posts: markup in
the text, a `javascript:` link written straight into the table (the store would refuse it), so
the browser tests can show that the dashboard renders them inert.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import update
from werkzeug.serving import make_server

from radpulse.db.engine import open_database
from radpulse.db.models import Post
from radpulse.db.store import upsert_posts
from radpulse.demo import build_demo
from radpulse.records import PostRecord

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
END = dt.date(2026, 11, 27)
CREDENTIALS = ("reviewer", "correct horse battery staple")
EVIL_TEXTS = ('<script>window.__pwned = "script"</script> evil one', '<img src=x onerror="window.__pwned=\'img\'"> evil two',
              'click me evil three')
EVIL_TAG = "evilprobe"
ARTIFACTS = Path(os.environ.get("RADPULSE_TEST_ARTIFACTS") or Path(__file__).resolve().parents[1] / "artifacts")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """An annotated demo database with three hostile posts (SQLite)."""
    from radpulse.analysis.store import analyze

    path = tmp_path_factory.mktemp("dashboard") / "demo.db"
    db = open_database(f"sqlite:///{path}", create=True)
    build_demo(db, posts=2500, seed=5, end=END)
    when = dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc)
    with db.engine.begin() as conn:
        upsert_posts(conn, [PostRecord("x", f"evil-{i}", text, when, like_count=5 + i, hashtags=[EVIL_TAG],
                                       author_external_id="evil-author") for i, text in enumerate(EVIL_TEXTS)])
        conn.execute(update(Post).where(Post.external_id == "evil-2").values(url="javascript:window.__pwned='link'"))
        conn.execute(update(Post).where(Post.external_id == "evil-0").values(url="https://example.org/evil-0"))
    analyze(db)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def served(demo_db):
    """The dashboard on a loopback port: (db, base URL)."""
    from radpulse.dashboards.app import create_app

    app = create_app(demo_db, credentials=CREDENTIALS)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield demo_db, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


class Watched:
    """A page that records console errors, page errors, failed requests and HTTP errors."""

    def __init__(self, page):  # type: ignore[no-untyped-def]
        self.page = page
        self.problems: list[str] = []
        page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed request: {r.url} {r.failure}"))
        page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)


@pytest.fixture
def watched(browser):
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    yield Watched(page)
    context.close()
