"""The recorded fixtures: an explicit location, a clear stop when missing, a correct fetch list."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "fixtures.py"


def _load():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("ci_fixtures", SCRIPT)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _check(script: Path, env_value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RADPULSE_FIXTURES"}
    if env_value is not None:
        env["RADPULSE_FIXTURES"] = env_value
    return subprocess.run([sys.executable, str(script), "check"], capture_output=True, text=True, env=env, timeout=60)


def test_missing_fixtures_named_in_one_paragraph(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "fixtures"
    result = _check(SCRIPT, str(missing))
    assert result.returncode == 2 and result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message and str(missing) in message and "RADPULSE_FIXTURES is set" in message
    assert "make fixtures" in message and "Traceback" not in message


def test_without_the_variable_the_folder_beside_the_project_is_named(tmp_path: Path) -> None:
    clone = tmp_path / "clone"  # a clone with no ../shared next to it
    (clone / ".ci").mkdir(parents=True)
    shutil.copy(SCRIPT, clone / ".ci" / "fixtures.py")
    result = _check(clone / ".ci" / "fixtures.py", None)
    assert result.returncode == 2
    assert str(tmp_path / "shared" / "fixtures") in result.stderr and "not set" in result.stderr
    (tmp_path / "shared" / "fixtures").mkdir(parents=True)
    (tmp_path / "shared" / "fixtures" / "README.md").write_text("x")
    assert _check(clone / ".ci" / "fixtures.py", None).returncode == 0


def test_make_test_stops_before_pytest_when_fixtures_are_missing(tmp_path: Path) -> None:
    if shutil.which("make") is None:  # pragma: no cover - make is how the project is run
        pytest.fail("make is required")
    env = {**os.environ, "RADPULSE_FIXTURES": str(tmp_path / "missing")}
    result = subprocess.run(["make", "-s", "test"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode != 0 and str(tmp_path / "missing") in result.stderr
    # make stopped at the check: no venv step, no services, no test session
    assert "[Makefile" in result.stderr and "check-fixtures] Error 2" in result.stderr
    assert "test session starts" not in result.stdout and "passed" not in result.stdout and "services" not in result.stderr


def test_lock_lists_every_recorded_file_with_its_checksum_and_the_readme_commits(fixtures_dir: Path) -> None:
    module = _load()
    rows = {local: (repo, commit, sha) for local, repo, commit, _, sha in module.entries()}
    on_disk = {str(p.relative_to(fixtures_dir)) for p in fixtures_dir.rglob("*") if p.is_file()} - {"README.md"}
    assert set(rows) == on_disk
    for local, (_, _, sha) in rows.items():
        assert hashlib.sha256((fixtures_dir / local).read_bytes()).hexdigest() == sha, local
    readme = (fixtures_dir / "README.md").read_text()
    full = dict(re.findall(r"- ([0-9a-f]{7}) = ([0-9a-f]{40})", readme))
    for local, (repo, commit, _) in rows.items():
        if repo == "local":
            continue
        assert repo in readme, repo
        short = commit[:7]
        assert short in readme or repo == "kokeksibir/react-native-rss-parser", (local, commit)
        if short in full:
            assert commit == full[short], local  # the full id from the README, not a guess


def test_fetch_picks_the_candidate_with_the_recorded_checksum() -> None:
    module = _load()
    wanted = b"ID\tmean\ttext\r\n1\t2.5\tgood"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("hutto_ICWSM_2014/tweets_GroundTruth.txt")
        info.size = len(wanted)
        tar.addfile(info, io.BytesIO(wanted))
    raw = module.RAW.format
    cache = {raw(repo="o/r", commit="c", path="a.tar.gz"): buf.getvalue(),
             raw(repo="o/r", commit="c", path="old.json"): b"stale",
             raw(repo="o/r", commit="c", path="new.json"): b"fresh",
             raw(repo="o/r", commit="c", path="s.js"): b"module.exports = `<rdf>feed</rdf>`;"}
    sha = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    assert module.fetch_one("o/r", "c", ["a.tar.gz!tweets_GroundTruth.txt"], sha(wanted), cache) == wanted
    assert module.fetch_one("o/r", "c", ["old.json", "new.json"], sha(b"fresh"), cache) == b"fresh"
    assert module.fetch_one("o/r", "c", ["s.js!js-template"], sha(b"<rdf>feed</rdf>"), cache) == b"<rdf>feed</rdf>"
