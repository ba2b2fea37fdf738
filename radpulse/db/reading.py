"""Helpers for long reads: the next chunk read while this one is worked on, and no cyclic GC
while a chunk of plain values is built."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T_ = TypeVar("T_")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: building a chunk allocates millions of lists and
    strings (never cycles), and each full collection would walk every live object again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_ahead(chunks: Iterator[T_]) -> Iterator[T_]:
    """`chunks`, the next one read in a worker thread while the caller works on this one (the
    database drivers let other threads run while a query executes). The generator `chunks` runs
    and is closed in that one thread, also when the caller stops early."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="radpulse-read") as pool:
        try:
            pending = pool.submit(next, chunks, None)
            while (chunk := pending.result()) is not None:
                pending = pool.submit(next, chunks, None)
                yield chunk
        finally:
            pool.submit(chunks.close).result()  # after the pending read: one worker, in order
