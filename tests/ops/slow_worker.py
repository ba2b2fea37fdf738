"""A `radpulse run --once` worker for the two-process tests: a slow fake X collector that logs
when it holds each source (run as a subprocess: python tests/ops/slow_worker.py URL LOG
[SOURCES PAGES LATENCY]; by default 8 sources x 4 pages of 0.1 s, benchmarks/bench_scheduler.py
asks for more)."""

from __future__ import annotations

import json
import os
import sys
import threading
import time

from radpulse.collectors import registry
from radpulse.records import Batch, PostRecord
from radpulse.scheduler import run_once
from tests.conftest import make_settings
from tests.core.test_runner import T0, FakeCollector

TAGS = [f"#tag{i}" for i in range(8)]
PAGES, LATENCY = 4, 0.1


class SlowX(FakeCollector):
    platform = "x"
    log_path = ""

    def collect(self, source, cursor):  # type: ignore[no-untyped-def]
        start = time.time()
        for page in range((cursor or {}).get("page", -1) + 1, PAGES):
            threading.Event().wait(LATENCY)  # a slow API
            yield Batch(posts=[PostRecord("x", f"{source.value}-{page}-{k}", f"post {k}", T0) for k in range(3)],
                        cursor={"page": page})
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"source": source.name, "pid": os.getpid(), "start": start, "end": time.time()}) + "\n")


def settings(tags: list[str] = TAGS):  # type: ignore[no-untyped-def]
    return make_settings({"x": {"hashtags": tags}, "reddit": {"enabled": False}, "mastodon": {"enabled": False},
                          "bluesky": {"enabled": False}, "pubmed": {"enabled": False}, "crossref": {"enabled": False},
                          "feeds": []})


if __name__ == "__main__":
    registry._load()
    SlowX.log_path = sys.argv[2]
    registry._REGISTRY["x"] = SlowX
    tags = TAGS
    if len(sys.argv) > 3:
        tags = [f"#tag{i}" for i in range(int(sys.argv[3]))]
        PAGES, LATENCY = int(sys.argv[4]), float(sys.argv[5])
    print(json.dumps(run_once(settings(tags), sys.argv[1], ["collect"])))
