"""Research export of N posts in each format, on SQLite and PostgreSQL: rows written, time, peak memory.

    python benchmarks/bench_export.py [--posts 300000] [--postgres URL]

Builds a demo database of N posts (`radpulse demo --no-analyze`), then runs the user's command
`radpulse export posts --format F --out FILE` in a fresh process per format and reports the
rows in the file (every public post must be there once), the wall time and the process's peak
memory (target: < 300 MB whatever N is).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pg import DEFAULT_PG, drop_pg, fresh_pg  # noqa: E402

#: runs the export in this process and prints its peak RSS (MB) on the last line
RUNNER = """
import resource, sys
from radpulse.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    if exit.code not in (0, None):
        raise
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)
"""


def count_rows(path: Path, fmt: str) -> tuple[int, int]:
    """(rows, distinct post pseudonyms) in an export file."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        col = pq.read_table(path, columns=["post"]).column("post").to_pylist()
        return len(col), len(set(col))
    if fmt == "csv":
        import pandas as pd

        col = pd.read_csv(path, usecols=["post"])["post"]
        return len(col), col.nunique()
    ids = [json.loads(line)["post"] for line in path.open(encoding="utf-8")]
    return len(ids), len(set(ids))


def public_posts(url: str) -> int:
    from radpulse.db.engine import open_database
    from radpulse.db.queries import PostFilters
    from radpulse.exports.posts import count_posts

    db = open_database(url)
    try:
        return count_posts(db, PostFilters())
    finally:
        db.dispose()


def bench(url: str, label: str, tmp: Path) -> None:
    expected = public_posts(url)
    for fmt in ("csv", "parquet", "jsonl"):
        out = tmp / f"posts.{fmt}"
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", RUNNER, "--database-url", url, "export", "posts",
                               "--format", fmt, "--out", str(out)], capture_output=True, text=True)
        took = time.perf_counter() - start
        if proc.returncode != 0:
            print(f"{label:10} {fmt:8} FAILED: {proc.stderr.strip()[-400:]}")
            continue
        peak = float(proc.stderr.strip().splitlines()[-1])
        rows, distinct = count_rows(out, fmt)
        ok = "all rows" if rows == distinct == expected else f"MISMATCH (expected {expected:,})"
        print(f"{label:10} {fmt:8} {rows:>9,} rows {ok:9}  {took:6.1f} s  {rows / took:>9,.0f} rows/s  "
              f"peak {peak:5.0f} MB (target < 300 MB)  {out.stat().st_size / 1e6:6.1f} MB file", flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=300_000)
    ap.add_argument("--postgres", nargs="?", const=DEFAULT_PG, default=DEFAULT_PG,
                    help="admin URL of a PostgreSQL server (default: the local test server)")
    ap.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        targets = [("sqlite", f"sqlite:///{tmp}/demo.db")]
        if not args.no_postgres:
            targets.append(("postgresql", fresh_pg(args.postgres, "radpulse_bench_export")))
        try:
            for label, url in targets:
                start = time.perf_counter()
                subprocess.run([sys.executable, "-m", "radpulse", "--database-url", url, "demo", "--posts",
                                str(args.posts), "--no-serve", "--no-analyze", "--end", "2026-11-27"],
                               check=True, stdout=subprocess.DEVNULL)
                print(f"{label:10} demo of {args.posts:,} posts built in {time.perf_counter() - start:.0f} s",
                      flush=True)
                bench(url, label, tmp)
        finally:
            if not args.no_postgres:
                drop_pg(args.postgres, "radpulse_bench_export")


if __name__ == "__main__":
    main()
