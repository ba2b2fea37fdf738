"""`radpulse annotate`, `analyze` and `review` from the command line."""

from __future__ import annotations

import json

import pytest
from analysis_helpers import add_authors, add_posts
from click.testing import CliRunner

from radpulse.analysis import annotate as annotate_mod
from radpulse.analysis.annotate import annotate_file
from radpulse.analysis.pipeline import Annotator
from radpulse.cli.main import cli
from radpulse.db.engine import open_database

FIELDS = {"id", "sentiment", "sentiment_score", "subspecialty", "subspecialties", "themes",
          "flags", "language"}


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_annotate_jsonl(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "CTA negative for PE #ChestRad"}\n\n'
                   '{"text": "Love being short staffed again"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run("annotate", str(src), "--out", str(out))
    assert result.exit_code == 0, result.output
    recs = records(out)
    assert [r["id"] for r in recs] == ["a", 3]
    assert all(FIELDS <= set(r) for r in recs)
    assert recs[0]["sentiment"] == "neutral" and recs[0]["subspecialty"] == "chest"
    assert recs[1]["sentiment"] == "negative" and recs[1]["subspecialties"] == ["general"]
    assert recs[0]["sentiment"] in {"positive", "neutral", "negative"}


def test_annotate_csv_to_stdout(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text('id,text,other\n1,"Great #IRad case, TIPS today",x\n2,"Multi\nline post",y\n',
                   encoding="utf-8")
    result = run("annotate", str(src))
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r["id"] for r in lines] == ["1", "2"]
    assert lines[0]["subspecialty"] == "ir"


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.jsonl", b"", "is empty"),
        ("blank.csv", b"\n\n", "no 'text' column"),
        ("cols.csv", b"id,body\n1,hello\n", "no 'text' column (columns: 'id', 'body')"),
        ("header.csv", b"id,text\n", "has no records"),
    ],
)
def test_annotate_whole_file_errors(tmp_path, name, content, message):
    src = tmp_path / name
    src.write_bytes(content)
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["annotate", str(src), "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


def test_annotate_missing_file(tmp_path):
    result = CliRunner().invoke(cli, ["annotate", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_annotate_per_line_errors(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": 1, "text": "fine post about #NeuroRad"}\n'
                    b'{"id": 2, "text": "bad \xff\xfe bytes"}\n'
                    b'not json at all\n'
                    b'{"id": 4}\n'
                    b'[1, 2]\n'
                    b'{"id": 6, "text": "still going"}\n')
    out = tmp_path / "out.jsonl"
    result = run("annotate", str(src), "--out", str(out))
    assert result.exit_code == 1  # bad records: every line written, and a non-zero exit
    recs = records(out)
    assert [r.get("id") for r in recs] == [1, None, None, 4, None, 6]
    assert "error" not in recs[0] and "error" not in recs[5]
    assert "UTF-8" in recs[1]["error"] and recs[1]["line"] == 2
    assert "JSON" in recs[2]["error"]
    assert "text" in recs[3]["error"]
    assert "object" in recs[4]["error"]
    assert "4 with errors" in result.stderr


def test_annotate_csv_bad_bytes(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(b"id,text\n1,ok post here\n2,bad \xff bytes\n3,another fine post\n")
    out = tmp_path / "out.jsonl"
    assert run("annotate", str(src), "-o", str(out)).exit_code == 1
    recs = records(out)
    assert [r["id"] for r in recs] == ["1", "2", "3"]
    assert "UTF-8" in recs[1]["error"] and "error" not in recs[2]


def test_annotate_one_megabyte_post(tmp_path):
    big = "Great #NeuroRad case. " * 50_000  # about 1.1 MB
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "big", "text": big}) + "\n" + '{"id": "small", "text": "hi there"}\n')
    out = tmp_path / "out.jsonl"
    assert run("annotate", str(src), "--out", str(out)).exit_code == 0
    recs = records(out)
    assert recs[0]["id"] == "big" and recs[0]["truncated"] is True
    # analysed on its beginning: the same labels as the first MAX_CHARS characters alone
    from radpulse.analysis.pipeline import MAX_CHARS, Annotator
    [head] = Annotator().annotate([big[:MAX_CHARS]])
    assert (recs[0]["subspecialty"], recs[0]["sentiment"]) == (head.subspecialty, head.sentiment)
    assert recs[1]["id"] == "small" and "truncated" not in recs[1]


def test_annotate_crash_keeps_finished_lines(tmp_path, monkeypatch):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": f"post {i}"}) + "\n" for i in range(6)))
    calls = {"n": 0}
    real = Annotator.annotate

    def flaky(self, texts, ids=None, has_media=None):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("boom")
        return real(self, texts, ids, has_media)

    monkeypatch.setattr(Annotator, "annotate", flaky)
    out = tmp_path / "out.jsonl"
    with open(out, "w", encoding="utf-8") as fh, pytest.raises(RuntimeError):
        annotate_file(src, fh, batch_size=2)
    assert [r["id"] for r in records(out)] == [0, 1]


def test_open_output_error(tmp_path):
    with pytest.raises(annotate_mod.InputError, match="Cannot write"):
        annotate_mod.open_output(str(tmp_path / "missing" / "dir" / "out.jsonl"))


def test_analyze_and_review_commands(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = open_database(url)
    add_posts(db)
    add_authors(db)
    db.dispose()

    first = run("--database-url", url, "analyze", "--json")
    assert first.exit_code == 0
    data = json.loads(first.stdout)
    assert data["annotated"] == 6 and data["new"] == 6 and data["authors"] == 3
    again = json.loads(run("--database-url", url, "analyze", "--json").stdout)
    assert again["annotated"] == 0 and again["authors"] == 0
    assert "Annotated 0 posts" in run("--database-url", url, "analyze").stdout

    listed = json.loads(run("--database-url", url, "review", "list", "--json").stdout)
    assert {tuple(i["flags"]) for i in listed} >= {("privacy_risk",), ("medical_advice_request",)}
    target = next(i for i in listed if i["flags"] == ["privacy_risk"])
    assert "privacy_risk" in run("--database-url", url, "review", "list").stdout

    bad_flag = CliRunner().invoke(cli, ["--database-url", url, "review", "dismiss", str(target["post_id"]),
                                        "--flag", "privacy"])
    assert bad_flag.exit_code == 2 and "Did you mean 'privacy_risk'?" in bad_flag.output
    done = run("--database-url", url, "review", "dismiss", str(target["post_id"]))  # as the README shows it
    assert done.exit_code == 0 and "dismissed" in done.stdout and "no reason given" in done.stdout
    pending = json.loads(run("--database-url", url, "review", "list", "--json").stdout)
    assert target["post_id"] not in [i["post_id"] for i in pending]
    everything = json.loads(run("--database-url", url, "review", "list", "--all", "--json").stdout)
    decided = next(i for i in everything if i["post_id"] == target["post_id"])
    assert decided["decisions"] == {"privacy_risk": "dismissed"} and decided["held"] is False
    from sqlalchemy import select

    from radpulse.db.models import ReviewDecision

    recorded = open_database(url)
    with recorded.session() as s:
        assert s.scalars(select(ReviewDecision.reason).where(ReviewDecision.post_id == target["post_id"])).all() \
            == ["no reason given"]
    recorded.dispose()

    wrong = CliRunner().invoke(cli, ["--database-url", url, "review", "confirm", str(target["post_id"]),
                                     "--flag", "spam", "--reason", "x"])
    assert wrong.exit_code == 2 and "not flagged 'spam'" in wrong.output
    advice = next(i for i in listed if i["flags"] == ["medical_advice_request"])
    ok = run("--database-url", url, "review", "confirm", str(advice["post_id"]), "--reason", "asks for a read")
    assert ok.exit_code == 0
    assert "No flagged posts" in run("--database-url", url, "review", "list").stdout


from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LINES = st.one_of(
    st.builds(lambda t, i: json.dumps({"id": i, "text": t}), st.text(max_size=200), st.integers()),
    st.binary(max_size=80).map(lambda b: b.replace(b"\n", b" ").decode("latin-1")),
    st.just('{"text": null}'),
    st.just("[]"),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(LINES, min_size=1, max_size=12))
def test_annotate_any_jsonl_gives_one_line_per_record(tmp_path, lines):
    src = tmp_path / "any.jsonl"
    src.write_bytes(b"\n".join(line.encode("latin-1", "replace") if not line.startswith("{")
                               else line.encode("utf-8") for line in lines) + b"\n")
    # a UTF-8 byte-order mark opening the file is not a record (annotate strips it)
    expected = sum(1 for line in src.read_bytes().removeprefix(b"\xef\xbb\xbf").split(b"\n") if line.strip())
    out = tmp_path / "any.out"
    with open(out, "w", encoding="utf-8") as fh:
        if expected == 0:
            with pytest.raises(annotate_mod.InputError):
                annotate_file(src, fh, batch_size=5)
            return
        summary = annotate_file(src, fh, batch_size=5)
    recs = records(out)
    assert len(recs) == expected == summary.annotated + summary.errors
    assert all(("error" in r) != ("sentiment" in r) for r in recs)
