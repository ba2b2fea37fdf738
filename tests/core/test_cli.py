"""The CLI as a user meets it: commands, JSON output, and clear errors with exit code 2."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from radpulse.cli.main import cli


def run(*args: str, env: dict | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / "radpulse.toml"
    result = run("--config", str(path), "--database-url", f"sqlite:///{tmp_path / 'r.db'}", "init")
    assert result.exit_code == 0, result.output
    return path


def test_init_writes_commented_config_and_keeps_an_existing_one(tmp_path, cfg):
    text = cfg.read_text()
    assert "# radpulse configuration" in text and "X_BEARER_TOKEN" in text
    cfg.write_text(text + "\n# my edit\n")
    new_db = tmp_path / "new" / "second.db"
    again = run("--config", str(cfg), "--database-url", f"sqlite:///{new_db}", "init")
    assert again.exit_code == 0 and "already exists; kept it" in again.output and "--force" in again.output
    assert cfg.read_text().endswith("# my edit\n")  # not overwritten
    assert new_db.exists()  # but the database it names is created
    forced = run("--config", str(cfg), "--database-url", f"sqlite:///{new_db}", "init", "--force")
    assert forced.exit_code == 0 and "# my edit" not in cfg.read_text()


def test_status_json_reports_counts_sources_and_budget(tmp_path, cfg):
    result = run("--config", str(cfg), "--database-url", f"sqlite:///{tmp_path / 'r.db'}", "status", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["totals"]["posts"] == 0 and report["schema_revision"]
    assert report["budgets"]["x"]["budget"] == 10000 and report["budgets"]["x"]["state"] == "ok"
    names = {s["name"] for s in report["sources"]}
    assert {"x:#Radiology", "reddit:r/Radiology", "feed:Radiology", "pubmed:radiology-ai"} <= names
    assert all(s["last_status"] == "never run" for s in report["sources"])


def test_status_at_80_columns_shows_every_source_name_whole_with_its_schedule(tmp_path, cfg):
    import os

    url = f"sqlite:///{tmp_path / 'r.db'}"
    names = {s["name"] for s in json.loads(run("--config", str(cfg), "--database-url", url, "status", "--json")
                                           .output)["sources"]}
    shown = subprocess.run([sys.executable, "-m", "radpulse", "--config", str(cfg), "--database-url", url, "status"],
                           capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"}, check=True).stdout
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 80
    body = lines[lines.index(next(x for x in lines if x.strip() == "Sources")) + 4:]
    whole, rows = [], []  # a source name that wraps continues on lines whose other cells are empty
    for line in body:
        if not line.startswith("│"):
            break
        cells = [c.strip() for c in line.strip("│").split("│")]
        if cells[1]:
            whole.append(cells[0])
            rows.append(cells)
        else:
            whole[-1] += cells[0]
    def squeezed(names):  # type: ignore[no-untyped-def]  # a wrap at a space drops the space
        return {n.replace(" ", "") for n in names}

    assert squeezed(whole) == squeezed(names) and "…" not in shown.split("Other scheduled jobs")[0]
    every = {name: cells[2] for name, cells in zip(whole, rows)}
    assert every["x:#Radiology"] == "15 min" and every["pubmed:radiology-ai"] == "daily"


def test_sources_add_list_remove_edit_the_config_file(tmp_path, cfg):
    db = f"sqlite:///{tmp_path / 'r.db'}"
    base = ("--config", str(cfg), "--database-url", db)
    assert run(*base, "sources", "add", "feed", "https://example.org/rss.xml", "--name", "Example").exit_code == 0
    assert run(*base, "sources", "add", "hashtag", "RSNA2031").exit_code == 0
    assert run(*base, "sources", "add", "subreddit", "r/Nucmed", "--keyword", "PET").exit_code == 0
    assert run(*base, "sources", "add", "mastodon", "#theranostics", "--instance", "mstdn.science").exit_code == 0
    dup = run(*base, "sources", "add", "hashtag", "#RSNA2031")
    assert dup.exit_code == 0 and "Already tracked" in dup.output
    listed = json.loads(run(*base, "sources", "list", "--json").output)
    names = {s["name"] for s in listed}
    assert {"feed:Example", "x:#RSNA2031", "reddit:r/Nucmed", "mastodon:mstdn.science#theranostics"} <= names
    assert "# radpulse configuration" in cfg.read_text()  # comments survive the edit
    assert run(*base, "sources", "remove", "feed:Example").exit_code == 0
    assert "feed:Example" not in {s["name"] for s in json.loads(run(*base, "sources", "list", "--json").output)}
    missing = run(*base, "sources", "remove", "feed:Nope")
    assert missing.exit_code == 2 and "No tracked source named 'feed:Nope'" in missing.output
    bad = run(*base, "sources", "add", "feed", "not-a-url")
    assert bad.exit_code == 2 and "is not a feed URL" in bad.output


def test_export_posts_in_every_format_with_filters_and_deidentification(tmp_path):
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert run("--database-url", db, "demo", "--posts", "600", "--seed", "3", "--end", "2026-06-30", "--no-serve").exit_code == 0
    out_csv, out_pq, out_jl = tmp_path / "p.csv", tmp_path / "p.parquet", tmp_path / "p.jsonl"
    for fmt, out in (("csv", out_csv), ("parquet", out_pq), ("jsonl", out_jl)):
        r = run("--database-url", db, "export", "posts", "--format", fmt, "--out", str(out),
                "--platform", "x", "--since", "2026-01-01")
        assert r.exit_code == 0, r.output
    csv = pd.read_csv(out_csv)
    pq = pd.read_parquet(out_pq)
    jl = pd.read_json(out_jl, lines=True)
    assert len(csv) == len(pq) == len(jl) > 0
    assert set(csv["platform"]) == {"x"}
    assert pd.to_datetime(csv["created_at"]).min() >= pd.Timestamp("2026-01-01", tz="UTC")
    assert csv["author"].dropna().str.match(r"^a_[0-9a-f]{16}$").all()
    assert "author_handle" not in csv.columns and "url" not in csv.columns and "external_id" not in csv.columns
    assert csv["post"].str.match(r"^p_[0-9a-f]{16}$").all()
    assert (csv["engagement"] >= 0).all()
    ident = run("--database-url", db, "export", "posts", "--identified", "--format", "csv")
    assert "demo-3-a" in ident.output
    arts = run("--database-url", db, "export", "articles", "--format", "jsonl")
    first = json.loads(arts.output.splitlines()[0])
    assert first["doi"].startswith("10.") and first["synthetic"] is True
    bad = run("--database-url", db, "export", "posts", "--since", "last tuesday")
    assert bad.exit_code == 2 and "is not a date" in bad.output


def cli_process(*args: str, tmp_path) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "c"),
           "XDG_DATA_HOME": str(tmp_path / "d")}
    return subprocess.run([sys.executable, "-m", "radpulse", *args], capture_output=True, text=True, env=env, timeout=60)


def assert_clean_error(proc, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def test_bad_inputs_give_a_message_and_exit_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[schedule]\ncollect_every_minutes = 1\n")
    assert_clean_error(cli_process("--config", str(bad), "status", tmp_path=tmp_path),
                       "schedule.collect_every_minutes", str(bad), "greater than or equal to 5")
    assert_clean_error(cli_process("--config", str(tmp_path / "missing.toml"), "status", tmp_path=tmp_path),
                       "does not exist", "radpulse init")
    assert_clean_error(cli_process("--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/none", "status",
                                   tmp_path=tmp_path), "Cannot connect to the database", "server is running")
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not an sqlite database at all" * 200)
    assert_clean_error(cli_process("--database-url", f"sqlite:///{corrupt}", "status", tmp_path=tmp_path),
                       "corrupt or not an SQLite database", "backup")
    with_debug = cli_process("--debug", "--database-url", f"sqlite:///{corrupt}", "status", tmp_path=tmp_path)
    assert with_debug.returncode != 0 and "Traceback" in with_debug.stderr


def test_locked_sqlite_gives_a_message_and_exit_2(tmp_path):
    path = tmp_path / "locked.db"
    assert cli_process("--config", str(tmp_path / "c.toml"), "--database-url", f"sqlite:///{path}", "init",
                       tmp_path=tmp_path).returncode == 0
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        proc = cli_process("--database-url", f"sqlite:///{path}", "sources", "list", tmp_path=tmp_path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_clean_error(proc, "is locked by another process", "Wait for the other radpulse command")


def test_unknown_platform_and_empty_selection_for_collect(tmp_path, cfg):
    base = ("--config", str(cfg), "--database-url", f"sqlite:///{tmp_path / 'r.db'}")
    r = run(*base, "collect", "--platform", "myspace")
    assert r.exit_code == 2 and "'myspace' is not a known platform" in r.output and "feeds" in r.output
    r = run(*base, "collect", "--source", "x:#NoSuchTag")
    assert r.exit_code == 2 and "No tracked source matches" in r.output


def test_every_command_has_help():
    def walk(command, path):  # type: ignore[no-untyped-def]
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, path
        for name in getattr(command, "list_commands", lambda ctx: [])(None):
            walk(command.get_command(None, name), [*path, name])

    walk(cli, [])
