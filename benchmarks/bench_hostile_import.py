"""Peak memory of importing hostile files: one huge line (a 300 MB "tweet", a file without newlines)
among ordinary tweets, through `radpulse import twarc` and `radpulse annotate`.

    .venv/bin/python benchmarks/bench_hostile_import.py                  # 300 MB line
    .venv/bin/python benchmarks/bench_hostile_import.py --line-mb 16     # quick

Each case runs in a child process on a fresh SQLite database; its peak resident memory
(ru_maxrss) is printed beside a baseline child that imports the same file without the huge line.
Lines over `[limits] max_record_bytes` (4 MiB) are quarantined without being held, so the peak
should not grow with the size of the line. Nothing here is asserted: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import resource, sys, time
from pathlib import Path
kind, path, db = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
t = time.perf_counter()
if kind == "twarc":
    from radpulse.collectors.archive import import_twarc
    from radpulse.db.engine import open_database
    s = import_twarc(open_database(db), path)
    result = f"new={s.new} quarantined={s.failed}"
else:
    import io
    from radpulse.analysis.annotate import annotate_file
    s = annotate_file(path, io.StringIO())
    result = f"annotated={s.annotated} errors={s.errors}"
print(f"{result} seconds={time.perf_counter() - t:.1f} peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
"""


def tweet(i: int) -> str:
    return json.dumps({"id": str(1760000000000000000 + i), "text": f"CT case {i} #radiology",
                       "created_at": "2026-01-05T10:00:00.000Z", "author_id": "7",
                       "author": {"id": "7", "username": "rad", "name": "Rad"}})


def write(path: Path, tweets: int, line_mb: int, newline_at_end: bool) -> None:
    with path.open("w") as fh:
        for i in range(tweets // 2):
            fh.write(tweet(i) + "\n")
        if line_mb:
            fh.write('{"id": "1", "text": "')
            chunk = "x" * (1 << 20)
            for _ in range(line_mb):
                fh.write(chunk)
            fh.write('"}\n')
        for i in range(tweets // 2, tweets):
            fh.write(tweet(i) + "\n")
        if line_mb and not newline_at_end:
            for _ in range(line_mb):  # the same again, as a last line without any newline
                fh.write(chunk)


def run(kind: str, path: Path, tmp: Path) -> str:
    db = f"sqlite:///{tmp / (path.stem + kind + '.db')}"
    proc = subprocess.run([sys.executable, "-c", CHILD, kind, str(path), db], capture_output=True, text=True)
    return proc.stdout.strip() or proc.stderr.strip().splitlines()[-1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--line-mb", type=int, default=300, help="size of the huge line (MB)")
    ap.add_argument("--tweets", type=int, default=2000, help="ordinary tweets around it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        base, huge = tmp / "baseline.jsonl", tmp / "huge.jsonl"
        write(base, args.tweets, 0, True)
        write(huge, args.tweets, args.line_mb, False)
        print(f"file with a {args.line_mb} MB line and a {args.line_mb} MB unterminated last line: "
              f"{huge.stat().st_size / 1e6:,.0f} MB; baseline {base.stat().st_size / 1e6:,.1f} MB")
        for kind in ("twarc", "annotate"):
            print(f"  {kind:8} baseline: {run(kind, base, tmp)}")
            print(f"  {kind:8} huge:     {run(kind, huge, tmp)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
