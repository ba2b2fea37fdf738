"""`radpulse report`: a self-contained board pack that opens with the network disabled and shows every chart."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from radpulse.cli.main import cli
from radpulse.dashboards.report import build_report, measured_accuracy
from tests.dashboards.conftest import END


@pytest.mark.browser
def test_the_report_opens_offline_and_shows_every_chart(demo_db, browser, tmp_path):
    import datetime as dt

    html = build_report(demo_db, END - dt.timedelta(days=89), END, congress="rsna2026")
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    charts = html.count('class="plotly-graph-div"')
    assert charts >= 8  # volume, accounts, subspecialties, sentiment, hashtags, papers, congress phases and hours
    assert "<script>window.__pwned" not in html  # hostile post text never reaches the report as markup
    context = browser.new_context()
    context.set_offline(True)
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri())
    page.wait_for_function(f"document.querySelectorAll('.plotly-graph-div .main-svg').length >= {charts}", timeout=60_000)
    drawn = page.evaluate("[...document.querySelectorAll('.plotly-graph-div')].map(d => d.querySelectorAll('.trace, .bars').length)")
    assert len(drawn) == charts and all(n > 0 for n in drawn)
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))] == []
    assert errors == []
    text = page.inner_text("body")
    assert "Measured accuracy" in text and "macro-F1" in text and "SYNTHETIC DEMO DATA" in text
    context.close()


def test_report_cli_writes_the_file_and_refuses_bad_dates(demo_db, tmp_path):
    url = str(demo_db.engine.url)
    out = tmp_path / "pack" / "board.html"
    result = CliRunner().invoke(cli, ["--database-url", url, "report", "--from", "2026-11-01", "--to", "2026-11-27",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().count('class="plotly-graph-div"') >= 4 and not out.with_name("board.html.part").exists()
    bad = CliRunner().invoke(cli, ["--database-url", url, "report", "--from", "2026-11-27", "--to", "2026-11-01",
                                   "--out", str(out)])
    assert bad.exit_code == 2 and "after --to" in bad.output
    bad = CliRunner().invoke(cli, ["--database-url", url, "report", "--from", "yesterday", "--to", "2026-11-01",
                                   "--out", str(out)])
    assert bad.exit_code == 2 and "is not a date" in bad.output


def test_methods_note_quotes_the_measured_accuracy():
    lines = measured_accuracy()
    assert [line.split(":")[0] for line in lines] == ["Sentiment", "Topics", "Author types"]
    assert all(re.search(r"0\.\d{3}", line) for line in lines)
