"""Where the recorded test fixtures are, and how to fetch them from their upstream repositories.

    python .ci/fixtures.py check    exit 2 with one paragraph when the folder is missing
    python .ci/fixtures.py fetch    download every file of .ci/fixtures.lock at its pinned commit

The folder is `RADPULSE_FIXTURES` when set, else `../shared/fixtures` beside the project (the
same rule as tests/conftest.py). The payloads are other projects' test recordings under their
own licences (kept next to them); they are not copied into this repository. `fetch` reads them
from raw.githubusercontent.com at the commits listed in the fixtures README, checks each file
against the sha256 of the copy the tests were written for, and leaves a file out (exit 1) when
it differs. Standard library only: it runs before the virtual environment exists.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = Path(__file__).with_name("fixtures.lock")
RAW = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
NOTICE_RSS = ("rss10_elsevier_dc_prism.xml: the RSS 1.0 feed text embedded in kokeksibir/react-native-rss-parser "
              "test/samples/rssv2-dc-prism.js (MIT licence), extracted from its JS wrapper.\n")


def fixtures_dir() -> Path:
    """RADPULSE_FIXTURES if set, else ../shared/fixtures from the project root."""
    value = os.environ.get("RADPULSE_FIXTURES")
    return Path(value).expanduser() if value else ROOT.parent / "shared" / "fixtures"


def check() -> int:
    """0 when the fixtures folder exists; else one paragraph saying which folder and what to do."""
    folder = fixtures_dir()
    if folder.is_dir() and any(folder.iterdir()):
        return 0
    how = ("RADPULSE_FIXTURES is set to it" if os.environ.get("RADPULSE_FIXTURES")
           else "RADPULSE_FIXTURES is not set, so the folder beside the project is used")
    print(f"The recorded test fixtures were not found at {folder} ({how}). The tests replay these real "
          "payloads (X, Reddit, Mastodon, Bluesky, PubMed, Crossref, feeds, sentiment ratings) and cannot run "
          f"without them. Run `make fixtures` to download them from their public upstream repositories into "
          f"{folder}, or set RADPULSE_FIXTURES to a folder that holds them, then run `make test` again.",
          file=sys.stderr)
    return 2


def entries() -> list[tuple[str, str, str, list[str], str]]:
    """(local path, repo, commit, upstream candidates, sha256) for every line of the lock file."""
    rows = []
    for line in LOCK.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        local, source, upstream, sha = line.split()
        repo, _, commit = source.partition("@")
        rows.append((local, repo, commit, upstream.split("|"), sha))
    return rows


def _download(url: str, cache: dict[str, bytes]) -> bytes | None:
    if url not in cache:
        try:
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - fixed https URLs
                cache[url] = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
            return None
    return cache[url]


def _template_literal(js: bytes) -> bytes:
    """The text of a JS module's first template literal (`...`), as the feed sample is kept."""
    m = re.search(rb"`(.*?)`", js, re.DOTALL)
    return m.group(1) if m else js


def _member(archive: bytes, name: str) -> bytes | None:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for info in tar.getmembers():
            if info.isfile() and Path(info.name).name == name and (f := tar.extractfile(info)):
                return f.read()
    return None


def fetch_one(repo: str, commit: str, candidates: list[str], sha: str, cache: dict[str, bytes]) -> bytes | None:
    """The first candidate whose content has the expected sha256 (else the first found), or None."""
    found = None
    for candidate in candidates:
        path, _, inner = candidate.partition("!")
        data = _download(RAW.format(repo=repo, commit=commit, path=path), cache)
        if data is None:
            continue
        if inner == "js-template":
            data = _template_literal(data)
        elif inner:
            data = _member(data, inner)
            if data is None:
                continue
        if hashlib.sha256(data).hexdigest() == sha:
            return data
        found = found if found is not None else data
    return found


def fetch() -> int:
    """Download every fixture into the fixtures folder; 1 when some could not be fetched as recorded."""
    folder = fixtures_dir()
    cache: dict[str, bytes] = {}
    problems = []
    for local, repo, commit, candidates, sha in entries():
        target = folder / local
        if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == sha:
            continue
        if repo == "local":
            data: bytes | None = NOTICE_RSS.encode()
        else:
            try:
                data = fetch_one(repo, commit, candidates, sha, cache)
            except (urllib.error.URLError, OSError) as exc:
                problems.append(f"{local}: {exc}")
                continue
        if data is None:
            problems.append(f"{local}: not found in {repo} at {commit} ({', '.join(candidates)})")
            continue
        if hashlib.sha256(data).hexdigest() != sha:
            problems.append(f"{local}: {repo}@{commit} differs from the recorded copy (sha256 mismatch); left out")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    print(json.dumps({"folder": str(folder), "files": len(entries()), "problems": problems}, indent=2))
    return 1 if problems else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command not in ("check", "fetch"):
        print("usage: python .ci/fixtures.py check|fetch (see the module docstring)", file=sys.stderr)
        sys.exit(2)
    sys.exit(check() if command == "check" else fetch())
