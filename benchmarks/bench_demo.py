"""Time and peak memory of `radpulse demo --posts N --no-serve` (target: 1,000,000 posts < 3 min, < 1 GB).

    python benchmarks/bench_demo.py [--posts 1000000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "radpulse", "--database-url", f"sqlite:///{tmp}/demo.db", "demo",
               "--posts", str(args.posts), "--no-serve", "--end", "2026-11-27"]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        took = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"radpulse demo --posts {args.posts:,} --no-serve: {took:.1f} s wall "
          f"({args.posts / took:,.0f} posts/s), peak memory {peak_mb:,.0f} MB (targets: < 180 s, < 1024 MB)")


if __name__ == "__main__":
    main()
