"""Every README example runs as written: the bash blocks, the command table and the pandas snippet.

Examples are read from README.md, not copied here. A synopsis such as
`radpulse articles top [--since 7d] [--topic T] [--limit N] [--json]` runs twice: as written
without its optional parts, and with every optional part (a placeholder such as T gets a value
from PLACEHOLDERS, `a|b` takes the first choice, an option shown without a value gets one from
OPTION_VALUES). Everything runs against one temporary config and SQLite database, in README
order. What is not run is listed in NOT_RUN with the reason, so the list can be reviewed; a new
README example that is neither runnable nor listed fails the test.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from radpulse.cli.main import cli
from tests.collectors.archive.test_archive_import import _twarc_lines, _write_jsonl, _x_export

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
TODAY = dt.date.today().isoformat()

#: examples that are not run, with why (network, credentials, or they serve until interrupted)
NOT_RUN = {
    "make demo": "serves the dashboard until interrupted (its parts run below: demo --no-serve)",
    "make test": "is this test suite",
    "pip install -c constraints.txt -e .": "needs the package index (network)",
    "export X_BEARER_TOKEN=...": "sets a credential",
    "export REDDIT_CLIENT_ID=... REDDIT_CLIENT_SECRET=...": "sets credentials",
    "export BLUESKY_HANDLE=you.bsky.social BLUESKY_APP_PASSWORD=...": "sets credentials",
    "radpulse collect": "calls the platforms' APIs (network, credentials)",
    "radpulse demo": "serves the dashboard until interrupted (the --no-serve form runs)",
    "radpulse dashboard": "serves until interrupted (its port check is tested in test_cli_errors.py)",
    "radpulse dashboard --host 127.0.0.1 --port 8050": "serves until interrupted",
    "radpulse digest send": "sends mail through the configured SMTP server (the --dry-run form runs)",
    "radpulse run": "runs the scheduler until interrupted",
    "radpulse run --once --job collect": "collects from the platforms' APIs (network, credentials)",
    "radpulse digest resend EMAIL --week DATE": "sends mail (tests/ops/test_digest_once.py runs it on loopback)",
    "radpulse digest resend EMAIL --week DATE --json": "sends mail (tests/ops/test_digest_once.py)",
    "radpulse alerts send": "sends mail (tests/ops/test_spike_alerts.py sends on loopback)",
    "radpulse alerts send --day DATE --json": "sends mail (tests/ops/test_spike_alerts.py)",
    "radpulse db copy --to URL": "needs a new, empty PostgreSQL database per run (tests/core/test_dbcopy.py runs it)",
    "radpulse db copy --to URL --batch-size N --json": "the same (tests/core/test_dbcopy.py runs this form)",
}
NOT_RUN_PREFIXES = ("radpulse collect ",)  # every form of collect needs the network


def _flagged_post(state: dict) -> str:
    result = CliRunner().invoke(cli, ["review", "list", "--all", "--json"], env=state["env"], catch_exceptions=False)
    items = json.loads(result.stdout)
    assert items, "the demo has no flagged post to review"
    return str(items[0]["post_id"])


Value = str | Callable[[dict], str]
#: placeholder -> value, per command path ("" for every command)
PLACEHOLDERS: dict[str, dict[str, Value]] = {
    "": {"DATE": TODAY, "N": "300", "S": "7", "T": "neuro", "P": "x", "R": "head", "SUBSPECIALTY": "neuro",
         "EMAIL": "ada@example.org", "FILE": lambda s: str(s["tmp"] / "out.html"), "ID": _flagged_post},
    "db downgrade": {"REV": lambda s: s["head"]},
    # enough posts that the README's 30-day topic examples (-k 10, one platform) have posts to model
    "demo": {"N": "800"},
    "sources add": {"KIND": "hashtag", "VALUE": "RSNA2031"},
    "sources remove": {"NAME": "x:#RSNA2031"},
    "import twarc": {"FILE": lambda s: str(_write_jsonl(s["tmp"] / "t.jsonl", _twarc_lines(s["fixtures"])))},
    "import x-archive": {"FILE": lambda s: str(_x_export(s["fixtures"], s["tmp"] / "data"))},
    "annotate": {"IN": lambda s: str(_write_jsonl(s["tmp"] / "in.jsonl", [{"id": 1, "text": "CT negative for PE"}])),
                 "OUT": lambda s: str(s["tmp"] / "annotated.jsonl")},
    "subscribers add": {"N": "Ada"},
    "export dataset": {"DIR": lambda s: tempfile.mkdtemp(dir=s["tmp"])},  # a new, empty folder each time
}
#: values for options the README shows without one
OPTION_VALUES = {"--since": "2026-01-01", "--until": "2099-01-01", "--platform": "x", "--source": "demo:x",
                 "--host": "127.0.0.1", "--port": "8050", "--format": "csv"}


def bash_examples() -> list[str]:
    """Each command line of the README's ```bash blocks, without comments."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.DOTALL):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line:
                lines.append(line)
    return lines


def table_synopses() -> list[str]:
    """Each `radpulse ...` synopsis in the first column of the README's command table."""
    out = []
    for row in README.splitlines():
        if row.startswith("| `radpulse"):
            cell = row.split(" | ")[0].replace("\\|", "|")
            out += re.findall(r"`(radpulse [^`]*)`", cell)
    return out


def command_of(words: list[str]) -> tuple[click.Command, str]:
    """The click command a word list names, and its path ('db downgrade')."""
    command: click.Command = cli
    path: list[str] = []
    for word in words:
        if not isinstance(command, click.Group) or word.startswith("-"):
            break
        sub = command.get_command(click.Context(command), word)
        if sub is None:
            break
        command, path = sub, [*path, word]
    return command, " ".join(path)


def expand(synopsis: str, full: bool) -> str:
    """The synopsis with its optional parts dropped, or (full) all of them given."""
    if not full:
        return re.sub(r"\s*\[[^\]]*\]", "", synopsis)
    command, _ = command_of(synopsis.split()[1:])
    parts = []
    for group in re.findall(r"\[([^\]]*)\]", synopsis):
        tokens = [t for t in group.split() if t != "..."]
        tokens = [t.split("|")[0].split("/")[0] for t in tokens]
        opt = tokens[0]
        param = next((p for p in command.params if opt in p.opts), None)
        if param is not None and not getattr(param, "is_flag", False) and len(tokens) == 1:
            tokens.append(OPTION_VALUES[opt])
        parts += tokens
    return re.sub(r"\s*\[[^\]]*\]", "", synopsis) + (" " + " ".join(parts) if parts else "")


def argv_of(example: str, state: dict) -> list[str]:
    """The argument list of an example, its placeholders replaced."""
    words = shlex.split(example)[1:]
    _, path = command_of(words)
    values = {**PLACEHOLDERS[""], **PLACEHOLDERS.get(path, {})}
    argv = []
    for word in words:
        value = values.get(word) if re.fullmatch(r"[A-Z]+", word) else None
        argv.append(value(state) if callable(value) else value if value is not None else word)
    return argv


def examples() -> list[str]:
    out: list[str] = []
    for line in bash_examples():
        out.append(line)
    for synopsis in table_synopses():
        for form in (expand(synopsis, False), expand(synopsis, True)):
            if form not in out:
                out.append(form)
    return out


def test_the_readme_lists_examples_of_every_kind():
    found = examples()
    assert "radpulse init" in found and "radpulse status" in found
    assert "radpulse review dismiss ID" in found  # the form issue 10 found failing
    assert any(e.startswith("radpulse export posts --format csv --since") for e in found)
    stale = [e for e in NOT_RUN if e not in found]
    assert not stale, f"NOT_RUN names examples the README no longer has: {stale}"


def test_every_readme_example_runs_as_written(tmp_path, fixtures_dir, monkeypatch):
    from radpulse.db.engine import head_revision

    env = {"RADPULSE_CONFIG": str(tmp_path / "radpulse.toml"),
           "RADPULSE_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'radpulse.db'}"}
    state = {"env": env, "tmp": tmp_path, "fixtures": fixtures_dir, "head": head_revision()}
    ran, failures = [], []
    for example in examples():
        if example in NOT_RUN or example.startswith(NOT_RUN_PREFIXES):
            continue
        assert example.startswith("radpulse "), f"README example neither runnable nor in NOT_RUN: {example!r}"
        argv = argv_of(example, state)
        result = CliRunner().invoke(cli, argv, env=env, input="y\n")
        ran.append(example)
        if result.exit_code != 0:
            failures.append(f"{example!r} -> {argv}: exit {result.exit_code}\n{result.output}{result.exception!r}"
                                + ("".join(traceback.format_exception(*result.exc_info))[-1500:] if result.exit_code == 1 and result.exc_info else ""))
    assert not failures, "\n\n".join(failures)
    assert len(ran) >= 40 and "radpulse review dismiss ID" in ran and "radpulse import twarc FILE" in ran

    # the pandas snippet, on the same database
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    (snippet,) = re.findall(r"```python\n(.*?)```", README, re.DOTALL)
    scope: dict = {}
    exec(compile(snippet, "README.md", "exec"), scope)  # noqa: S102 - our own README
    assert len(scope["posts"]) > 0 and set(scope["posts"]["platform"]) <= {"bluesky", "mastodon"}
    assert len(scope["papers"]) > 0
    assert len(scope["daily"]) > 0 and scope["g"].number_of_nodes() == len(set(scope["edges"]["source"])
                                                                           | set(scope["edges"]["target"]))
    scope["ds"].close()


@pytest.mark.parametrize("synopsis", ["radpulse trends emerging [--days 7] [--until DATE] [--platform P ...]"])
def test_a_synopsis_expands_to_what_a_user_would_type(synopsis):
    assert expand(synopsis, False) == "radpulse trends emerging"
    assert expand(synopsis, True) == "radpulse trends emerging --days 7 --until DATE --platform P"
