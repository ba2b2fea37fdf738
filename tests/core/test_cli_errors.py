"""The first hour's mistakes (issue 10): each fails in one paragraph, exit 2, and changes nothing."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from radpulse.cli.main import cli
from radpulse.db.engine import open_database
from radpulse.db.models import Post
from radpulse.db.store import upsert_posts
from radpulse.demo import build_demo
from radpulse.errors import InputError
from radpulse.records import PostRecord


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


def one_paragraph(output: str) -> bool:
    """An error is one paragraph: no blank line, no traceback, no usage block."""
    text = output.strip()
    return bool(text) and "\n\n" not in text and "Traceback" not in text and "Usage:" not in text


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / "radpulse.toml"
    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert run("--config", str(path), "--database-url", url, "init").exit_code == 0
    return ("--config", str(path), "--database-url", url)


# 10.4: only init and demo create a database
@pytest.mark.parametrize("command", [["status"], ["sources", "list"], ["export", "posts"], ["articles", "top"],
                                     ["analyze"], ["review", "list"], ["subscribers", "list"], ["db", "upgrade"],
                                     ["db", "current"], ["trends", "emerging"], ["dashboard"]])
def test_a_missing_sqlite_file_is_not_created(tmp_path, command):
    folder = tmp_path / "nonexistent" / "dir"
    result = run("--config", str(tmp_path / "none.toml"), "--database-url", f"sqlite:///{folder / 'x.db'}", *command)
    assert result.exit_code == 2 and one_paragraph(result.output), result.output
    assert f"The database {folder / 'x.db'} does not exist (nor does its folder" in result.output
    assert "radpulse init" in result.output
    assert not (tmp_path / "nonexistent").exists()


def test_a_missing_file_in_an_existing_folder_is_named_and_init_creates_it(tmp_path):
    db_file = tmp_path / "typo.db"
    result = run("--database-url", f"sqlite:///{db_file}", "status")
    assert result.exit_code == 2 and "does not exist." in result.output and not db_file.exists()
    made = run("--config", str(tmp_path / "c.toml"), "--database-url", f"sqlite:///{tmp_path / 'new' / 'x.db'}", "init")
    assert made.exit_code == 0 and (tmp_path / "new" / "x.db").exists()
    demo = run("--database-url", f"sqlite:///{tmp_path / 'other' / 'demo.db'}", "demo", "--posts", "50", "--no-analyze",
               "--no-serve")
    assert demo.exit_code == 0, demo.output
    assert (tmp_path / "other" / "demo.db").exists()


# 10.3: the demo never writes into real data
def _collected_post(db) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC)
    with db.engine.begin() as conn:
        upsert_posts(conn, [PostRecord(platform="mastodon", external_id="real-1", text="a collected post",
                                       created_at=now, author_external_id="someone")], now=now)


def _posts(db) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return (s.scalar(select(func.count()).select_from(Post)),
                s.scalar(select(func.count()).select_from(Post).where(Post.synthetic.is_(True))))


def test_the_demo_refuses_a_database_with_collected_posts(db):
    _collected_post(db)
    with pytest.raises(InputError, match=r"holds data that is not from the demo \(1 collected post\)"):
        build_demo(db, posts=100, seed=1, end=dt.date(2026, 6, 30))
    assert _posts(db) == (1, 0)


def test_the_demo_cli_refuses_and_says_what_to_do(tmp_path, cfg):
    db = open_database(cfg[-1])
    _collected_post(db)
    result = run(*cfg, "demo", "--posts", "100", "--no-serve")
    assert result.exit_code == 2 and one_paragraph(result.output), result.output
    assert "1 collected post" in result.output and "--database-url sqlite:///demo.db" in result.output
    assert _posts(db) == (1, 0)
    db.dispose()


def test_the_demo_may_rebuild_its_own_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    for _ in range(2):
        result = run("--database-url", url, "demo", "--posts", "80", "--seed", "2", "--no-analyze", "--no-serve")
        assert result.exit_code == 0, result.output
    db = open_database(url)
    assert _posts(db) == (80, 80)
    db.dispose()


# 10.5: unknown values exit 2 with the known ones and a suggestion
@pytest.mark.parametrize(("args", "needles"), [
    (["articles", "top", "--topic", "nonsense"], ["'nonsense' is not a known subspecialty or theme", "neuro", "ai"]),
    (["articles", "top", "--topic", "nuero"], ["Did you mean 'neuro'?"]),
    (["export", "posts", "--platform", "twitter"], ["'twitter' is not a known platform", "Did you mean 'x'?",
                                                    "bluesky, mastodon, reddit, x"]),
    (["export", "posts", "--source", "x:#Radiolgy"], ["Did you mean 'x:#Radiology'?"]),
    (["trends", "emerging", "--platform", "redit"], ["Did you mean 'reddit'?"]),
    (["trends", "topics", "--platform", "feeds"], ["'feeds' is not a known platform"]),
    (["subscribers", "add", "a@example.org", "--topic", "cardio"], ["Did you mean 'cardiac'?"]),
    (["digest", "preview", "--topic", "AI-stuff"], ["is not a known subspecialty or theme"]),
    (["review", "list", "--flag", "spma"], ["Did you mean 'spam'?"]),
    (["export", "posts", "--since", "last tuesday"], ["'last tuesday' is not a date or a span", "7d", "2026-11-01"]),
    (["articles", "top", "--since", "3m"], ["unknown unit 'm'", "90d"]),
    (["export", "posts", "--since", "2026-02-01", "--until", "2026-01-01"], ["The window is empty"]),
])
def test_unknown_values_exit_2_listing_the_known_ones(cfg, args, needles):
    result = run(*cfg, *args)
    assert result.exit_code == 2 and one_paragraph(result.output), result.output
    for needle in needles:
        assert needle in result.output, result.output


def test_known_values_pass_in_any_case_and_subscribers_may_choose_themes(cfg):
    added = run(*cfg, "subscribers", "add", "a@example.org", "--topic", "ai", "--topic", "Neuro")
    assert added.exit_code == 0 and "topics: ai, neuro" in added.output, added.output
    assert run(*cfg, "export", "posts", "--platform", "X", "--source", "x:#radiology").exit_code == 0


# 10.7: the dashboard on a busy port
def test_the_dashboard_on_a_busy_port_fails_before_announcing_itself(cfg):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run(*cfg, "dashboard", "--port", str(port))
    assert result.exit_code == 2 and one_paragraph(result.output), result.output
    assert f"Port {port} on 127.0.0.1 is already in use" in result.output and "--port" in result.output
    assert "Dashboard on" not in result.output


def test_the_demo_checks_the_port_before_building(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        result = run("--database-url", url, "demo", "--posts", "50", "--port", str(holder.getsockname()[1]))
    assert result.exit_code == 2 and "already in use" in result.output
    assert "Demo database ready" not in result.output and not (tmp_path / "demo.db").exists()


def test_usage_errors_are_one_paragraph_too():
    result = run("export", "posts", "--format", "xlsx")
    assert result.exit_code == 2 and one_paragraph(result.output) and "export posts --help" in result.output
    assert run("nosuchcommand").exit_code == 2


def test_report_is_the_real_board_pack_command():
    from radpulse.cli.main import COMMANDS

    assert COMMANDS["report"] == "radpulse.cli.cmd_report:report"
    assert run("report").exit_code == 2  # --from, --to and --out are required


# the group's options are accepted after the command too, as users type them
def test_global_options_after_the_command(tmp_path):
    path = tmp_path / "radpulse.toml"
    url = f"sqlite:///{tmp_path / 'after.db'}"
    result = run("init", "--config", str(path), f"--database-url={url}")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "after.db").exists() and path.exists()
    status = run("status", "--json", "--database-url", url, "--config", str(path))
    assert status.exit_code == 0, status.output
    missing = run("status", "--database-url", f"sqlite:///{tmp_path / 'nope.db'}")
    assert missing.exit_code == 2 and "nope.db" in missing.output


def test_hoisting_leaves_command_arguments_alone():
    from radpulse.cli.main import hoist_global_options

    assert hoist_global_options(["demo", "--debug", "-n", "5"]) == ["--debug", "demo", "-n", "5"]
    assert hoist_global_options(["annotate", "--", "--debug"]) == ["annotate", "--", "--debug"]
    assert hoist_global_options(["status", "--database-url"]) == ["status", "--database-url"]
