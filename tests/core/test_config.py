"""Configuration: defaults, validation messages naming key and file, secrets only from the environment."""

from __future__ import annotations

import datetime as dt

import pytest

from radpulse.config import default_config_text, load_settings, mastodon_token_env
from radpulse.errors import ConfigError


def test_default_config_is_the_radiology_watch_list():
    year = dt.date.today().year
    s = load_settings(environ={})
    assert s.path is None
    assert {"#Radiology", "#RadRes", "#FOAMrad", "#IRad", "#NeuroRad", "#MedTwitter", "#WomenInRadiology"} <= set(s.x.hashtags)
    assert f"#RSNA{year}" in s.x.hashtags and f"#ECR{year}" in s.x.hashtags
    subs = {r.name: r for r in s.reddit.subreddits}
    assert {"Radiology", "radiologyresidency", "Radiography", "medicalschool"} <= set(subs)
    assert "radiology" in subs["medicalschool"].keywords and not subs["Radiology"].keywords
    feeds = {f.name: f.url for f in s.feeds}
    assert "jc=radiology" in feeds["Radiology"] and "facet-journal-id=330" in feeds["European Radiology"]
    assert s.pubmed.queries and s.database_url.endswith("radpulse/radpulse.db")


def test_written_default_file_loads_and_matches_packaged_defaults(tmp_path):
    path = tmp_path / "radpulse.toml"
    path.write_text(default_config_text())
    assert load_settings(path, environ={}).model_dump() == load_settings(environ={}).model_dump()


def test_invalid_value_names_the_key_the_file_and_what_is_expected(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[x]\nmonthly_read_budget = "lots"\n[smtp]\nport = 70000\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    msg = str(err.value)
    assert str(path) in msg
    assert "x.monthly_read_budget" in msg and "integer" in msg and "'lots'" in msg
    assert "smtp.port" in msg and "65535" in msg


def test_unknown_key_and_secret_in_file_are_rejected(tmp_path):
    path = tmp_path / "secret.toml"
    path.write_text('[x]\nbearer_token = "AAAA"\n')
    with pytest.raises(ConfigError, match=r"x.bearer_token: unknown key"):
        load_settings(path, environ={})


def test_the_unread_database_batch_size_key_is_gone_and_old_files_still_load(tmp_path, caplog):
    assert "batch_size" not in default_config_text().split("[x]")[0]  # not written by `init` any more
    assert "batch_size" not in load_settings(environ={}).database.model_dump()
    old = tmp_path / "old.toml"  # as an earlier `radpulse init` wrote it
    old.write_text('[database]\nurl = ""\nbatch_size = 5000\ncommit_items = 250\n')
    s = load_settings(old, environ={})
    assert s.database.commit_items == 250 and not hasattr(s.database, "batch_size")
    assert "[database] batch_size is no longer used" in caplog.text
    typo = tmp_path / "typo.toml"  # other unknown keys are still refused
    typo.write_text("[database]\nbatch_sise = 5000\n")
    with pytest.raises(ConfigError, match=r"database.batch_sise: unknown key"):
        load_settings(typo, environ={})


def test_missing_explicit_file_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist.*radpulse init"):
        load_settings(tmp_path / "nope.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[x\nhashtags = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken, environ={})


def test_secrets_and_database_url_come_from_the_environment(tmp_path):
    env = {"X_BEARER_TOKEN": "tok", "RADPULSE_DATABASE_URL": "postgresql+psycopg://u@h/db",
           mastodon_token_env("med-mastodon.com"): "mtok", "UNRELATED": "x"}
    s = load_settings(environ=env)
    assert s.secret("X_BEARER_TOKEN") == "tok" and s.secret("REDDIT_CLIENT_ID") is None
    assert s.mastodon_token("med-mastodon.com") == "mtok"
    assert mastodon_token_env("med-mastodon.com") == "RADPULSE_MASTODON_TOKEN_MED_MASTODON_COM"
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert "UNRELATED" not in s.env and "tok" not in repr(s)
