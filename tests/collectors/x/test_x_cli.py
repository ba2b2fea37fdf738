"""`radpulse collect --platform x` end to end with the default config and replayed payloads."""

from __future__ import annotations

import json

import responses
from click.testing import CliRunner
from xreplay import TOKEN, body, query_params, serve_json

from radpulse.cli.main import cli
from radpulse.db.engine import open_database


def test_collect_x_from_the_default_config(db_url, fixtures_dir, monkeypatch):
    page = body(fixtures_dir, "apis_searches_search_tweets_query.json")
    monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)
    with responses.RequestsMock() as rsps:
        serve_json(rsps, page)
        open_database(db_url).dispose()  # only init and demo create a database
        result = CliRunner().invoke(cli, ["--database-url", db_url, "collect", "--platform", "x", "--json"])
        queries = [query_params(c)["query"] for c in rsps.calls]
    assert result.exit_code == 0, result.output
    summaries = json.loads(result.stdout)
    assert queries[0] == "#Radiology -is:retweet" and len(queries) == len(summaries) >= 5
    assert all(s["platform"] == "x" and s["status"] == "success" for s in summaries)
    # the same four posts match every hashtag: stored once, new only for the first source
    assert summaries[0]["new"] == 4 and all(s["new"] == 0 and s["updated"] == 4 for s in summaries[1:])
    assert summaries[0]["cursor"] == {"since_id": page["meta"]["newest_id"]}


def test_collect_x_without_a_token_says_what_to_set(db_url):
    with responses.RequestsMock():
        open_database(db_url).dispose()  # only init and demo create a database
        result = CliRunner().invoke(cli, ["--database-url", db_url, "collect", "--platform", "x", "--json"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    summaries = json.loads(result.stdout)
    assert summaries and all(s["status"] == "not_configured" for s in summaries)
    assert "set X_BEARER_TOKEN" in summaries[0]["error"]
