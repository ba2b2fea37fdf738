"""`radpulse collect` and `radpulse status` around the runner: summary table, JSON, exit codes, budget."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import insert

from radpulse.cli.main import cli
from radpulse.collectors import registry
from radpulse.collectors.runner import current_period
from radpulse.db.engine import open_database
from radpulse.db.models import ApiUsage
from tests.core.test_runner import FakeCollector


class XLike(FakeCollector):
    platform = "x"


class RedditNoCreds(FakeCollector):
    platform = "reddit"
    required_env = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET")


def invoke(*args):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_collect_prints_a_summary_per_source_and_exits_1_when_one_failed(tmp_path, monkeypatch):
    registry._load()
    monkeypatch.setitem(registry._REGISTRY, "x", XLike)
    monkeypatch.setitem(registry._REGISTRY, "reddit", RedditNoCreds)
    base = ("--database-url", f"sqlite:///{tmp_path / 'r.db'}")
    open_database(base[1]).dispose()  # only init and demo create a database
    result = invoke(*base, "collect", "--platform", "x", "--platform", "reddit", "--json")
    assert result.exit_code == 1
    rows = {r["source"]: r for r in json.loads(result.stdout)}
    assert rows["x:#Radiology"]["status"] == "success" and rows["x:#Radiology"]["new"] == 12
    assert rows["x:#RadRes"]["new"] == 0 and rows["x:#RadRes"]["updated"] == 12  # same fake posts again
    assert rows["reddit:r/Radiology"]["status"] == "not_configured"
    assert "set REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET" in rows["reddit:r/Radiology"]["error"]
    assert "did not complete" in result.stderr
    table = invoke(*base, "collect", "--source", "x:#Radiology")
    assert table.exit_code == 0
    assert "x:#Radiology" in table.stdout and "page=3" not in table.stdout  # cursors: --json only
    assert rows["x:#Radiology"]["cursor"]
    status = json.loads(invoke(*base, "status", "--json").stdout)
    by_name = {s["name"]: s for s in status["sources"]}
    assert by_name["x:#Radiology"]["posts"] == 12 and by_name["x:#Radiology"]["last_status"] == "success"
    assert by_name["reddit:r/Radiology"]["last_status"] == "not_configured"


def test_status_says_when_the_x_budget_is_spent(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    db = open_database(url)
    with db.engine.begin() as conn:
        conn.execute(insert(ApiUsage).values(platform="x", period=current_period(), units=10_000))
    report = json.loads(invoke("--database-url", url, "status", "--json").stdout)
    assert report["budgets"]["x"]["spent"] == 10_000 and report["budgets"]["x"]["remaining"] == 0
    assert report["budgets"]["x"]["state"].startswith("exhausted")
    text = invoke("--database-url", url, "status").stdout
    assert "10000 of 10000 spent; exhausted" in text
