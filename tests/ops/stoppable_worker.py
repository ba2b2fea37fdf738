"""`radpulse run` (the real command, signals and all) with a slow fake X collector, for the stop
tests: python tests/ops/stoppable_worker.py PAGE_SECONDS radpulse-arguments...

Each source has PAGES pages of PER_PAGE posts; a page takes PAGE_SECONDS (a slow API). The
process prints nothing of its own: the test reads the database.
"""

from __future__ import annotations

import sys
import threading

from radpulse.collectors import registry
from radpulse.records import Batch, PostRecord
from tests.core.test_runner import T0, FakeCollector

PAGES, PER_PAGE = 40, 5


class PagedX(FakeCollector):
    """X, as a fake: pages after the cursor, `delay` seconds each."""

    platform = "x"
    delay = 0.0

    def collect(self, source, cursor):  # type: ignore[no-untyped-def]
        for page in range((cursor or {}).get("page", -1) + 1, PAGES):
            threading.Event().wait(self.delay)
            yield Batch(posts=[PostRecord("x", f"{source.value}-{page}-{k}", f"post {page} {k}", T0)
                               for k in range(PER_PAGE)], cursor={"page": page})


def use_fake_x(delay: float) -> None:
    """Put the fake X collector in the registry of this process."""
    registry._load()
    PagedX.delay = delay
    registry._REGISTRY["x"] = PagedX


if __name__ == "__main__":
    from radpulse.cli.main import cli

    use_fake_x(float(sys.argv[1]))
    cli.main(sys.argv[2:], prog_name="radpulse")
