"""Text printed to a terminal carries no escape or control sequence from the internet (issue 12.9)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from digest_helpers import IN_WEEK, seed
from hypothesis import given
from hypothesis import strategies as st

from radpulse.cli.main import cli
from radpulse.db.engine import open_database
from radpulse.db.store import upsert_posts
from radpulse.records import PostRecord
from radpulse.terminal import terminal_safe

ESC, BEL, ST = "\x1b", "\x07", "\x1b\\"
HOSTILE = (f"Big news{ESC}]0;pwned title{BEL} read"
           f" {ESC}]8;;https://evil.example/{ST}this link{ESC}]8;;{ST}"
           f" {ESC}[2J{ESC}[31mred{ESC}[0m \x9b1;31m8-bit\x9d0;c1 title\x9c end{ESC}P1$qm{ST} {ESC}c!")


@pytest.mark.parametrize("raw,shown", [
    (f"{ESC}]0;title{BEL}after", "after"),
    (f"{ESC}]8;;https://evil.example/{ST}text{ESC}]8;;{ST}", "text"),
    (f"{ESC}[1;31mred{ESC}[0m", "red"),
    (f"\x9b31mred", "red"),
    (f"\x9d0;t\x9cok", "ok"),
    (f"{ESC}]52;c;ZXZpbA=={BEL}clip", "clip"),
    ("bell\x07 nul\x00 back\x08 del\x7f cr\r", "bell nul back del cr"),
    ("tab\tnew\nline, ünïcödé, 日本, emoji 🩻", "tab\tnew\nline, ünïcödé, 日本, emoji 🩻"),
    ("bidi \u202eevil\u202c", "bidi evil"),
])
def test_terminal_safe(raw, shown):
    assert terminal_safe(raw) == shown


@given(st.text())
def test_terminal_safe_leaves_no_control_character(text):
    out = terminal_safe(text)
    assert not any((ord(c) < 32 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F for c in out)
    assert terminal_safe(out) == out


def test_digest_preview_prints_post_text_without_osc_or_csi_sequences(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    db = open_database(url)
    seed(db)
    with db.engine.begin() as conn:
        upsert_posts(conn, [PostRecord("bluesky", "at://evil/1", HOSTILE, IN_WEEK, author_external_id="did:evil",
                                       like_count=10_000, title=f"{ESC}]0;title too{BEL}Headline")])
    db.dispose()
    result = CliRunner().invoke(cli, ["--database-url", url, "digest", "preview", "--week", "2026-11-18"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert ESC not in out and BEL not in out and not any(0x80 <= ord(c) <= 0x9F for c in out)
    assert "Headline Big news read this link red 8-bit end !" in out  # the visible words stay
    assert "pwned title" not in out and "evil.example" not in out


def test_subscriber_list_shows_a_hostile_name_as_plain_text(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    open_database(url).dispose()  # only init and demo create a database
    base = ["--database-url", url, "subscribers"]
    name = f"Al{ESC}]0;x{BEL}i\x9b2Jce"
    added = CliRunner().invoke(cli, [*base, "add", "a@example.org", "--name", name])
    assert added.exit_code == 0
    listed = CliRunner().invoke(cli, [*base, "list"])
    assert "Alice" in listed.stdout and ESC not in listed.stdout
    raw_json = CliRunner().invoke(cli, [*base, "list", "--json"]).stdout
    assert ESC not in raw_json and "\x9b" not in raw_json and "\\u009b" in raw_json
    assert json.loads(raw_json)[0]["name"] == name  # the data itself is kept, JSON escapes it
