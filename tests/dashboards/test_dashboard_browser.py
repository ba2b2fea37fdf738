"""The dashboard in a real headless Chromium: it renders, its numbers match the data, text is escaped."""

from __future__ import annotations

import datetime as dt
import shutil
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from radpulse.collectors.base import PostRecord
from radpulse.dashboards.app import create_app
from radpulse.db.models import Post
from radpulse.db.store import upsert_posts
from radpulse.demo import build_demo

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
END = dt.date(2026, 11, 27)
EVIL = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture
def served(db):
    build_demo(db, posts=3000, seed=5, end=END)
    with db.engine.begin() as conn:
        upsert_posts(conn, [PostRecord("x", f"evil-{i}", f"look {EVIL}", dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc),
                                       like_count=1, hashtags=[EVIL, "Radiology"]) for i in range(400)])
    app = create_app(db)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield db, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        pg = browser.new_page(viewport={"width": 1300, "height": 1800})
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        browser.close()


@pytest.mark.browser
def test_dashboard_renders_figures_with_numbers_from_the_database(served, page, tmp_path):
    db, url = served
    page.goto(url)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 5", timeout=60_000)
    page.wait_for_function("document.getElementById('kpi-posts').innerText !== '–'", timeout=60_000)
    assert page.title() == "radpulse: radiology conversation"
    assert "SYNTHETIC DEMO DATA" in page.inner_text("#synthetic-banner")
    start = dt.datetime.combine(END - dt.timedelta(days=365), dt.time(), tzinfo=dt.timezone.utc)
    with db.engine.connect() as conn:
        expected = conn.execute(select(func.count()).select_from(Post).where(Post.created_at >= start)).scalar()
    assert page.inner_text("#kpi-posts").replace(",", "") == str(expected)
    # the papers table is filled from mentions
    page.wait_for_selector("#articles td", timeout=30_000)
    assert "10." in page.inner_text("#articles")
    # untrusted text is shown as text, never executed
    assert page.evaluate("window.__pwned") is None
    page.wait_for_function("document.querySelector('#hashtags').textContent.includes('onerror')", timeout=30_000)
    assert page.query_selector("#hashtags img") is None
    # filtering to one platform changes the numbers
    page.click("#platforms input[value='reddit']")
    page.click("#platforms input[value='x']")
    page.wait_for_function(f"document.getElementById('kpi-posts').innerText.replace(/,/g,'') !== '{expected}'",
                           timeout=30_000)
    assert int(page.inner_text("#kpi-posts").replace(",", "")) < expected
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    shutil.copy(shot, "/tmp/radpulse-dashboard.png") if shutil.os.access("/tmp", shutil.os.W_OK) else None
    assert page.errors == []  # type: ignore[attr-defined]
