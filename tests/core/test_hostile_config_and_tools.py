"""Hostile configs, annotate inputs and dashboard requests (issue 12): refused or reported per
record with a clear message, never a traceback or an HTTP 500."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from radpulse import safetext
from radpulse.cli.main import cli
from radpulse.config import default_config_data, load_settings, settings_from_dict
from radpulse.errors import ConfigError


def _config(tmp_path, body: str):
    path = tmp_path / "radpulse.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_an_unknown_time_zone_is_refused_at_load_naming_the_key(tmp_path):
    path = _config(tmp_path, '[schedule]\ntimezone = "Mars/Olympus_Mons"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert "schedule.timezone" in str(info.value) and str(path) in str(info.value)
    result = CliRunner().invoke(cli, ["--config", str(path), "run", "--once", "--job", "analyze"])
    assert result.exit_code == 2 and "schedule.timezone" in result.output and "Traceback" not in result.output


def test_deeply_nested_toml_is_refused_naming_the_file(tmp_path):
    path = _config(tmp_path, "x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value) and "too deeply" in str(info.value)


def test_a_feed_name_too_long_for_the_sources_table_is_refused():
    data = default_config_data()
    data["feeds"] = [{"name": "n" * 301, "url": "https://example.org/rss"}]
    with pytest.raises(ConfigError) as info:
        settings_from_dict(data)
    assert "feeds.0.name" in str(info.value) or "feeds[0].name" in str(info.value)


def test_limits_are_configurable_and_applied():
    data = default_config_data()
    data["limits"] = {"max_text_chars": 5000}
    try:
        settings_from_dict(data)
        assert safetext.LIMITS.max_text_chars == 5000
        data["limits"] = {"max_text_chars": "lots"}
        with pytest.raises(ConfigError, match="limits.max_text_chars"):
            settings_from_dict(data)
    finally:
        settings_from_dict(default_config_data())
    assert safetext.LIMITS == safetext.Limits()


def test_annotate_reports_deeply_nested_records_writes_the_rest_and_exits_1(tmp_path):
    src = tmp_path / "in.jsonl"
    nested = '{"id": "deep", "text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    src.write_text("\n".join([json.dumps({"id": "a", "text": "Great CT case"}), nested,
                              json.dumps({"id": [[1]], "text": "odd id"}),
                              json.dumps({"id": "b", "text": "MRI protocol"})]) + "\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["annotate", str(src), "--out", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in recs] == ["a", None, 3, "b"]
    assert recs[1]["error"] == "the JSON is nested too deeply to read"
    assert "neither text nor a number" in recs[2]["error"]
    assert "subspecialty" in recs[3]


