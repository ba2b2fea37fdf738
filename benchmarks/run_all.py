"""Run every benchmark in this folder and print its figures (`make bench`).

    python benchmarks/run_all.py [--quick]

--quick runs each with smaller inputs (for a smoke check); the figures quoted in closing notes
come from the full run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: quick-mode arguments per benchmark script (scripts not listed run with their defaults)
QUICK = {
    "bench_upsert.py": ["--posts", "20000"],
    "bench_demo.py": ["--posts", "20000"],
    "bench_annotate.py": ["--posts", "5000", "--db-posts", "0"],
    "bench_collect_reddit.py": ["--posts", "5000"],
    "bench_collect_social.py": ["--posts", "5000"],
    "bench_collect_x.py": ["--posts", "5000"],
    "bench_literature.py": ["--items", "2000", "--posts", "50000"],
    "bench_hostile_import.py": ["--line-mb", "16"],
    "bench_export.py": ["--posts", "20000"],
    "bench_rollups.py": ["--posts", "20000", "--new", "2000"],
    "bench_scheduler.py": ["--seconds", "10"],
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small inputs, for a smoke check")
    ap.add_argument("only", nargs="*", help="run only these scripts (e.g. bench_upsert.py)")
    args = ap.parse_args()
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        if args.only and script.name not in args.only:
            continue
        print(f"\n== {script.name}", flush=True)
        extra = QUICK.get(script.name, []) if args.quick else []
        proc = subprocess.run([sys.executable, str(script), *extra])
        failed += proc.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
