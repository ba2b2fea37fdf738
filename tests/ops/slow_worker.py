"""A `radpulse run --once` worker for the two-process tests: a slow fake X collector that logs
when it holds each source (run as a subprocess: python tests/ops/slow_worker.py URL LOG)."""

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


class SlowX(FakeCollector):
    platform = "x"
    log_path = ""

    def collect(self, source, cursor):  # type: ignore[no-untyped-def]
        start = time.time()
        for page in range((cursor or {}).get("page", -1) + 1, 4):
            threading.Event().wait(0.1)  # a slow API
            yield Batch(posts=[PostRecord("x", f"{source.value}-{page}-{k}", f"post {k}", T0) for k in range(3)],
                        cursor={"page": page})
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"source": source.name, "pid": os.getpid(), "start": start, "end": time.time()}) + "\n")


def settings():  # type: ignore[no-untyped-def]
    return make_settings({"x": {"hashtags": TAGS}, "reddit": {"enabled": False}, "mastodon": {"enabled": False},
                          "bluesky": {"enabled": False}, "pubmed": {"enabled": False}, "crossref": {"enabled": False},
                          "feeds": []})


if __name__ == "__main__":
    registry._load()
    SlowX.log_path = sys.argv[2]
    registry._REGISTRY["x"] = SlowX
    print(json.dumps(run_once(settings(), sys.argv[1], ["collect"])))
