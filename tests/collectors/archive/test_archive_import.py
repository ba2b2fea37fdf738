"""Importing twarc2 JSONL and X account exports written by the tests from the recorded X payloads."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from radpulse.cli.main import cli
from radpulse.collectors.archive import import_twarc, import_x_archive
from radpulse.db.engine import open_database
from radpulse.db.models import Author, CollectionRun, Post, Quarantine
from radpulse.errors import InputError

UTC = dt.timezone.utc
STAMP = {"url": "https://api.twitter.com/2/tweets/search/recent?query=%23Radiology", "version": "2.14.0",
         "retrieved_at": "2024-03-01T12:00:00+00:00"}


def _v2(fixtures_dir: Path, name: str) -> dict:
    return json.loads((fixtures_dir / "x" / "v2-bodies" / name).read_text())


def _twarc_lines(fixtures_dir: Path) -> list[dict]:
    """What `twarc2 search` (pages) and `twarc2 flatten` (tweets) write, from the v2 fixtures."""
    search = {**_v2(fixtures_dir, "apis_searches_search_tweets_query.json"), "__twarc": STAMP}
    lookup = {**_v2(fixtures_dir, "apis_tweet_tweets_resp.json"), "__twarc": STAMP}
    tweet = _v2(fixtures_dir, "models_tweet.json")
    expansions = _v2(fixtures_dir, "models_expansions.json")
    flat = {**tweet, "author": expansions["users"][0], "__twarc": STAMP}
    empty = {"meta": {"result_count": 0}, "__twarc": STAMP}
    return [search, lookup, flat, empty]


def _write_jsonl(path: Path, items: list) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in items))
    return path


def _count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_twarc_jsonl_imported_twice_stores_each_tweet_once(db, fixtures_dir, tmp_path):
    lines = _twarc_lines(fixtures_dir)
    path = _write_jsonl(tmp_path / "radiology.jsonl", lines)
    ids = {t["id"] for t in lines[0]["data"]} | {t["id"] for t in lines[1]["data"]} | {lines[2]["id"]}
    seen: list[tuple[int, int]] = []
    first = import_twarc(db, path, progress=lambda done, total: seen.append((done, total)))
    assert first.status == "success", first.error
    assert (first.fetched, first.new, first.updated, first.failed) == (7, 7, 0, 0)
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    second = import_twarc(db, path)
    assert (second.fetched, second.new, second.updated) == (7, 0, 7)
    assert _count(db, Post) == 7
    with db.session() as s:
        posts = {p.external_id: p for p in s.scalars(select(Post))}
        assert set(posts) == ids
        flat = posts[lines[2]["id"]]
        assert flat.like_count == 40 and flat.repost_count == 8 and flat.author_external_id == "2244994945"
        assert flat.url == "https://x.com/TwitterDev/status/1212092628029698048"
        assert flat.metrics_read_at == dt.datetime(2024, 3, 1, 12, tzinfo=UTC)  # twarc's retrieved_at
        assert flat.provenance["client"] == "twarc/2.14.0" and flat.provenance["endpoint"] == STAMP["url"]
        reply = posts["1276035977375477760"]
        assert reply.in_reply_to_id == "1275653067283759104" and reply.mentions == ["snowman"]
        assert reply.links == ["https://twitter.com/happycamper/status/1276035977375477760/photo/1"]
        assert reply.raw == lines[0]["data"][0]
        handles = {a.handle for a in s.scalars(select(Author))}
        assert {"happycamper", "snowman", "jellybeanjones", "TwitterDev", "Twitter"} <= handles
        runs = s.scalars(select(CollectionRun).order_by(CollectionRun.id)).all()
        assert [(r.task, r.status, r.source_name) for r in runs] == [("import", "success", "import:twarc:radiology.jsonl")] * 2


def test_bad_lines_are_quarantined_and_the_rest_kept(db, fixtures_dir, tmp_path):
    lines = _twarc_lines(fixtures_dir)
    path = _write_jsonl(tmp_path / "mixed.jsonl", [lines[0], '{"data": [ truncated', "[1, 2, 3]", lines[1], ""])
    summary = import_twarc(db, path)
    assert summary.status == "warning" and summary.failed == 2 and summary.new == 6
    with db.session() as s:
        rows = s.scalars(select(Quarantine).order_by(Quarantine.id)).all()
        assert [r.raw["line"] for r in rows] == [2, 3]
        assert rows[0].raw["text"].startswith('{"data": [ truncated')
        assert rows[0].error.startswith("line 2: not JSON") and "twarc2" in rows[0].error
        assert rows[1].error.startswith("line 3: a JSON list, not an object")
        assert all(r.run_id == summary.run_id for r in rows)


def test_a_bad_first_line_does_not_lose_the_good_ones_after_it(db, fixtures_dir, tmp_path):
    lines = _twarc_lines(fixtures_dir)
    path = _write_jsonl(tmp_path / "late.jsonl", ["not json at all", lines[1]])
    summary = import_twarc(db, path)
    assert summary.new == 2 and summary.failed == 1


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "is empty"),
        ("hello\nworld\n", "line 1: not JSON"),
        ('{"foo": 1}\n', "line 1: an object with neither"),
        (json.dumps([{"data": []}], indent=2), "line 1: not JSON"),
    ],
)
def test_unusable_twarc_files_raise_input_error(db, tmp_path, content, needle):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        import_twarc(db, path)
    assert str(path) in str(info.value) and needle in str(info.value)
    assert "twarc2" in info.value.hint
    assert _count(db, Post) == 0
    with db.session() as s:
        run = s.scalar(select(CollectionRun))
        assert run.task == "import" and run.status == "failed" and needle in run.error


def _x_export(fixtures_dir: Path, folder: Path, with_account: bool = True) -> Path:
    """data/tweets.js of an X export holding the recorded v1.1 statuses in the export's shape."""
    statuses = []
    for name in ("testgetstatus.json", "testidcursorpages.json"):
        cassette = json.loads((fixtures_dir / "x" / name).read_text())
        for inter in cassette["interactions"]:
            value = json.loads(inter["response"]["body"]["string"])
            statuses += value if isinstance(value, list) else [value]
    items = []
    for status in statuses:
        tweet = {k: v for k, v in status.items() if k not in ("user", "text")}  # exports omit the user
        tweet["full_text"] = status["text"]
        tweet["id"] = str(status["id"])
        tweet["favorite_count"] = str(status["favorite_count"])  # exports write counts as strings
        items.append({"tweet": tweet})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tweets.js"
    path.write_text("window.YTD.tweets.part0 = " + json.dumps(items, indent=2))
    if with_account:
        (folder / "account.js").write_text('window.YTD.account.part0 = [{"account": {"accountId": "783214", '
                                           '"username": "Twitter", "accountDisplayName": "Twitter"}}]')
    return path


def test_x_archive_import(db, fixtures_dir, tmp_path):
    path = _x_export(fixtures_dir, tmp_path / "data")
    summary = import_x_archive(db, path)
    assert summary.status == "success" and summary.new == 3
    again = import_x_archive(db, path)
    assert again.new == 0 and again.updated == 3 and _count(db, Post) == 3
    with db.session() as s:
        posts = {p.external_id: p for p in s.scalars(select(Post))}
        rt = posts["266367358078169089"]
        assert rt.created_at == dt.datetime(2012, 11, 8, 2, 31, 41, tzinfo=UTC)
        assert rt.text.startswith("RT @TwitterEng: Bolstering")
        assert rt.like_count == 144 and rt.repost_count == 211
        assert rt.links == ["https://engineering.twitter.com/2012/11/bolstering-our-infrastructure.html"]
        assert rt.mentions == ["TwitterEng"] and rt.hashtags == []
        assert rt.author_external_id == "783214" and rt.url == "https://x.com/Twitter/status/266367358078169089"
        assert rt.language == "en" and rt.provenance["client"] == "x-archive"
        assert posts["1149868110373171201"].has_media is True
        author = s.scalar(select(Author).where(Author.external_id == "783214"))
        assert author.handle == "Twitter"


def test_x_archive_bad_input(db, fixtures_dir, tmp_path):
    empty = tmp_path / "empty.js"
    empty.write_text("")
    with pytest.raises(InputError, match="is empty"):
        import_x_archive(db, empty)
    broken = tmp_path / "broken.js"
    broken.write_text('window.YTD.tweets.part0 = [\n  {"tweet": {"id_str": "1"}},\n  {oops}\n]')
    with pytest.raises(InputError) as info:
        import_x_archive(db, broken)
    assert "broken.js line 3: not valid JSON" in str(info.value) and "window.YTD.tweets.part0" in info.value.hint
    obj = tmp_path / "obj.js"
    obj.write_text('window.YTD.tweets.part0 = {"tweet": {}}')
    with pytest.raises(InputError, match="not an array of tweets"):
        import_x_archive(db, obj)
    # one unusable item among good ones is quarantined, the rest stored
    path = _x_export(fixtures_dir, tmp_path / "data", with_account=False)
    text = path.read_text().replace("window.YTD.tweets.part0 = [", 'window.YTD.tweets.part0 = [{"tweet": {"full_text": "no id"}}, ', 1)
    path.write_text(text)
    summary = import_x_archive(db, path)
    assert summary.new == 3 and summary.failed == 1
    with db.session() as s:
        q = s.scalar(select(Quarantine))
        assert q.raw == {"full_text": "no id"} and q.error.startswith("item 1:")
        assert s.scalar(select(Post).where(Post.external_id == "266367358078169089")).author_external_id is None


def test_cli_import_commands(db_url, fixtures_dir, tmp_path):
    runner = CliRunner()
    good = _write_jsonl(tmp_path / "good.jsonl", _twarc_lines(fixtures_dir))
    base = ["--database-url", db_url]
    open_database(db_url).dispose()  # only init and demo create a database
    result = runner.invoke(cli, [*base, "import", "twarc", str(good), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["new"], data["quarantined"], data["status"]) == (7, 0, "success")
    result = runner.invoke(cli, [*base, "import", "twarc", str(good)])
    assert result.exit_code == 0 and "updated" in result.stdout and "twarc import" in result.stdout

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = runner.invoke(cli, [*base, "import", "twarc", str(empty)])
    assert result.exit_code == 2 and "empty" in result.stderr and "Traceback" not in result.output

    mixed = _write_jsonl(tmp_path / "mixed.jsonl", [_twarc_lines(fixtures_dir)[1], "garbage"])
    result = runner.invoke(cli, [*base, "import", "twarc", str(mixed), "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["quarantined"] == 1

    archive = _x_export(fixtures_dir, tmp_path / "export")
    result = runner.invoke(cli, [*base, "import", "x-archive", str(archive), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["new"] == 3

    for sub in ("twarc", "x-archive"):
        result = runner.invoke(cli, ["import", sub, "--help"])
        assert result.exit_code == 0 and "FILE" in result.output and "--json" in result.output


def test_gzipped_twarc_file_and_flatten_variants(db, fixtures_dir, tmp_path):
    import gzip

    lines = _twarc_lines(fixtures_dir)
    flat = dict(lines[2])
    del flat["author_id"]  # the author only inline, as some flatteners write it
    errors_only = {"errors": [{"value": "1", "detail": "Could not find tweet with ids: [1].",
                               "title": "Not Found Error", "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
    path = tmp_path / "search.jsonl.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(x) + "\n" for x in [lines[0], flat, errors_only]).encode()))
    summary = import_twarc(db, path)
    assert (summary.new, summary.failed, summary.status) == (5, 0, "success")
    with db.session() as s:
        post = s.scalar(select(Post).where(Post.external_id == flat["id"]))
        assert post.author_external_id == flat["author"]["id"] and post.url.startswith("https://x.com/TwitterDev/")

    damaged = tmp_path / "damaged.jsonl.gz"
    damaged.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(InputError, match="gzip data is damaged"):
        import_twarc(db, damaged)
