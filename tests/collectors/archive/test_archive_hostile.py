"""Hostile import files (issue 12): NUL characters, impossible ids and over-long lines are handled
per record, the good tweets beside them stored, on SQLite and the real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from radpulse import safetext
from radpulse.cli.main import cli
from radpulse.collectors.archive import import_twarc
from radpulse.db.models import Post, Quarantine


def _flat(fixtures_dir: Path, tweet_id: str, text: str, **extra) -> dict:
    """A twarc2-flattened tweet cloned from the recorded v2 fixtures."""
    base = fixtures_dir / "x" / "v2-bodies"
    tweet = json.loads((base / "models_tweet.json").read_text())
    author = json.loads((base / "models_expansions.json").read_text())["users"][0]
    return {**tweet, "id": tweet_id, "text": text, "author": author, **extra}


def _rows(db, model):
    with db.session() as s:
        return s.scalars(select(model).order_by(model.id)).all()


def test_import_twarc_stores_a_nul_bearing_tweet_beside_a_good_one(db, db_url, fixtures_dir, tmp_path):
    path = tmp_path / "nul.jsonl"
    lines = [_flat(fixtures_dir, "1760000000000000001", "CT\x00 angiogram \x1b[2J\x07 today\r\nok"),
             _flat(fixtures_dir, "1760000000000000002", "a good tweet about #MRI")]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))  # json writes NUL as \u0000
    result = CliRunner().invoke(cli, ["--database-url", db_url, "import", "twarc", str(path), "--json"])
    assert result.exit_code == 0, result.output
    texts = {p.external_id: p.text for p in _rows(db, Post)}
    assert texts == {"1760000000000000001": "CT angiogram  today\nok",  # the whole escape sequence goes
                     "1760000000000000002": "a good tweet about #MRI"}


def test_an_impossible_id_is_quarantined_and_the_lines_around_it_kept(db, db_url, fixtures_dir, tmp_path):
    good = _flat(fixtures_dir, "1760000000000000003", "before")
    bad = _flat(fixtures_dir, "9" * 60, "no created_at and a 60-digit id")
    bad.pop("created_at", None)
    after = _flat(fixtures_dir, "1760000000000000004", "after")
    path = tmp_path / "overflow.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in (good, bad, after)))
    result = CliRunner().invoke(cli, ["--database-url", db_url, "import", "twarc", str(path)])
    assert result.exit_code == 1, result.output  # partial: one record quarantined
    assert "Traceback" not in result.output
    assert sorted(p.text for p in _rows(db, Post)) == ["after", "before"]
    (q,) = _rows(db, Quarantine)
    assert "not a snowflake id" in q.error and q.external_id == "9" * 60


@pytest.fixture
def small_limits():
    old = safetext.LIMITS
    safetext.set_limits(safetext.Limits(max_record_bytes=64 * 1024))
    yield safetext.LIMITS
    safetext.set_limits(old)


def test_an_over_long_line_is_quarantined_unread_and_the_rest_stored(db, fixtures_dir, tmp_path, small_limits):
    path = tmp_path / "long.jsonl"
    with path.open("w") as fh:
        fh.write(json.dumps(_flat(fixtures_dir, "1760000000000000005", "first")) + "\n")
        fh.write('{"id": "1", "text": "' + "x" * 1_000_000 + '"}\n')  # one 1 MB line
        fh.write(json.dumps(_flat(fixtures_dir, "1760000000000000006", "second")) + "\n")
        fh.write("y" * 300_000)  # a last line without any newline
    summary = import_twarc(db, path)
    assert (summary.new, summary.failed) == (2, 2)
    assert sorted(p.text for p in _rows(db, Post)) == ["first", "second"]
    quarantined = _rows(db, Quarantine)
    assert [q.raw["line"] for q in quarantined] == [2, 4]
    assert "line 2: 1,000,024 bytes, over the limit of 65,536" in quarantined[0].error
    assert "300,000 bytes" in quarantined[1].error
    assert all(len(q.raw["text"]) <= 100_000 for q in quarantined)


def test_a_post_over_the_text_limit_is_quarantined_by_the_normaliser(fixtures_dir):
    from radpulse.collectors.x.normalise import normalise_page

    page = {"data": [_flat(fixtures_dir, "1760000000000000007", "z" * (safetext.LIMITS.max_text_chars + 1)),
                     _flat(fixtures_dir, "1760000000000000008", "fine")]}
    import datetime as dt

    posts, _, bad = normalise_page(page, provenance={}, read_at=dt.datetime.now(dt.timezone.utc))
    assert [p.text for p in posts] == ["fine"]
    assert len(bad) == 1 and "text has 100,001 characters, over the limit of 100,000" in bad[0].error
