"""The dashboard in a real headless Chromium: every page renders cleanly, filters live in the URL,
charts drill down to their posts, hostile text stays text, review needs credentials."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from radpulse.db.models import Post, ReviewDecision
from radpulse.db.queries import PostFilters, public_where
from tests.dashboards.conftest import ARTIFACTS, CREDENTIALS, END, EVIL_TAG

pytestmark = pytest.mark.browser

WINDOW = "from=2026-09-01&to=2026-11-27"
PAGES = {
    "overview": "/?" + WINDOW,
    "topics": "/topics?" + WINDOW,
    "sentiment": "/sentiment?" + WINDOW,
    "people": "/people?" + WINDOW,
    "account": "/account?account=x:demo-5-a0&" + WINDOW,
    "papers": "/papers?" + WINDOW,
    "paper": "/paper?article=1&" + WINDOW,
    "hashtags": "/hashtags?congress=rsna2026&cfrom=2026-11-24&cto=2026-11-26&" + WINDOW,
    "posts": "/posts?" + WINDOW,
}


def _loaded(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("#_pages_content > *", timeout=60_000)
    page.wait_for_load_state("networkidle")
    page.wait_for_function("!document.querySelector('[data-dash-is-loading=\"true\"]')", timeout=60_000)


def _pixel_spread(page, png: bytes) -> float:  # type: ignore[no-untyped-def]
    """The standard deviation of grey levels of a PNG, measured by the browser's canvas."""
    data = base64.b64encode(png).decode()
    return page.evaluate("""async (data) => {
        const img = new Image(); img.src = 'data:image/png;base64,' + data; await img.decode();
        const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        const px = g.getImageData(0, 0, c.width, c.height).data; let n = 0, s = 0, s2 = 0;
        for (let i = 0; i < px.length; i += 4 * 7) { const v = (px[i] + px[i+1] + px[i+2]) / 3; n++; s += v; s2 += v*v; }
        return Math.sqrt(s2 / n - (s / n) ** 2); }""", data)


def _count(db, **filters) -> int:  # type: ignore[no-untyped-def]
    start = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)
    end = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Post).where(
            public_where(PostFilters(start=start, end=end, **filters)))).scalar_one()


def _kpi(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.inner_text("#kpi-posts").replace(",", ""))


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_loads_cleanly_and_its_screenshot_is_not_blank(served, watched, name):
    db, base = served
    page = watched.page
    page.goto(base + PAGES[name])
    _loaded(page)
    if name not in ("posts", "account", "paper", "people"):
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    assert page.query_selector("#problems") is None, page.inner_text("#problems")
    assert "SYNTHETIC DEMO DATA" in page.inner_text("#synthetic-banner")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"dashboard-{name}.png"
    png = page.screenshot(path=str(shot), full_page=True)
    assert _pixel_spread(page, png) > 20, f"{shot} looks blank"
    assert watched.problems == []


def test_a_filter_changes_the_numbers_and_the_url_and_the_url_reproduces_them(served, watched, browser):
    db, base = served
    page = watched.page
    page.goto(base + PAGES["overview"])
    _loaded(page)
    assert _kpi(page) == _count(db)
    page.click("#f-platform input[value='x']")
    page.wait_for_function("location.search.includes('platform=')", timeout=30_000)
    expected = _count(db, platforms=("bluesky", "mastodon", "reddit"))
    page.wait_for_function(f"document.getElementById('kpi-posts').innerText.replace(/,/g,'') === '{expected}'",
                           timeout=30_000)
    assert expected < _count(db)
    url = page.url
    assert "platform=bluesky%2Cmastodon%2Creddit" in url
    other = browser.new_context().new_page()
    other.goto(url)
    _loaded(other)
    assert _kpi(other) == expected
    assert not other.is_checked("#f-platform input[value='x']")
    other.context.close()
    assert watched.problems == []


def test_a_start_after_the_end_is_refused(served, watched):
    db, base = served
    page = watched.page
    page.goto(base + "/?from=2026-11-20&to=2026-11-01")
    _loaded(page)
    assert "after the end date" in page.inner_text("#problems")
    assert page.query_selector("#kpi-posts") is None


def test_clicking_a_bar_opens_the_posts_behind_it(served, watched):
    db, base = served
    page = watched.page
    page.goto(base + PAGES["overview"])
    _loaded(page)
    bars = page.locator("#\\{\\\"name\\\"\\:\\\"overview-hashtags\\\"\\,\\\"type\\\"\\:\\\"drill\\\"\\} .bars .point path")
    top = bars.last  # bars are drawn bottom-up: the last is the busiest hashtag, on top
    top.click(force=True)
    page.wait_for_url(re.compile(r"/posts\?"), timeout=30_000)
    _loaded(page)
    assert "from=2026-09-01" in page.url and "hashtag=" in page.url
    tag = re.search(r"hashtag=([^&]+)", page.url).group(1)
    cards = page.locator("#post-list .post")
    assert cards.count() > 0
    for text in cards.locator(".post-text").all_inner_texts():
        assert f"#{tag}" in text.lower()
    assert f"hashtag: {tag}" in page.inner_text("#posts-chips")
    assert watched.problems == []


def test_hostile_posts_show_as_text_and_run_nothing(served, watched):
    db, base = served
    page = watched.page
    page.goto(base + f"/posts?hashtag={EVIL_TAG}&from=2026-11-01&to=2026-11-27")
    _loaded(page)
    texts = page.locator("#post-list .post-text").all_inner_texts()
    assert any("<script>window.__pwned" in t for t in texts)
    assert any('<img src=x onerror="' in t for t in texts)
    assert page.evaluate("window.__pwned") is None
    assert page.query_selector("#post-list img") is None and page.query_selector("#post-list script") is None
    hrefs = page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href') || '')")
    assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:"))]
    link = page.locator("#post-list a[target=_blank]").first
    assert link.get_attribute("href") == "https://example.org/evil-0"
    assert set(link.get_attribute("rel").split()) >= {"noopener", "nofollow"}
    page.locator("#post-list .nolink").first.click()
    assert page.evaluate("window.__pwned") is None
    assert watched.problems == []


def test_review_refuses_without_credentials_and_records_the_reviewer_with_them(served, browser):
    db, base = served
    anonymous = browser.new_context()
    answer = anonymous.request.get(base + "/review")
    assert answer.status == 401 and "Basic" in answer.headers["www-authenticate"]
    wrong = browser.new_context(http_credentials={"username": CREDENTIALS[0], "password": "wrong"})
    assert wrong.request.get(base + "/review").status == 401
    # a client-side navigation without credentials gets the refusal, not the posts
    page = anonymous.new_page()
    page.goto(base + "/posts")
    _loaded(page)
    page.evaluate("window.history.pushState({}, '', '/review'); window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'))")
    page.wait_for_selector("#review-refused", timeout=30_000)
    anonymous.close()
    wrong.close()

    signed = browser.new_context(http_credentials={"username": CREDENTIALS[0], "password": CREDENTIALS[1]})
    page = signed.new_page()
    page.goto(base + "/review")
    _loaded(page)
    assert "signed in as reviewer" in page.inner_text("#_pages_content")
    form = page.locator(".post").first
    post_id = int(form.get_attribute("data-post-id"))
    form.locator("input[type=text], input:not([type])").last.fill("no patient data")
    form.get_by_role("button", name="Record").click()
    page.wait_for_function("document.body.innerText.includes('Recorded:')", timeout=30_000)
    with db.engine.connect() as conn:
        who = conn.execute(select(ReviewDecision.reviewer).where(ReviewDecision.post_id == post_id)).scalars().all()
    assert who == [CREDENTIALS[0]]
    signed.close()
