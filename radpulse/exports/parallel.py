"""Reading many posts on several cores: the ids cut into parts, each part read, typed and
de-identified in a worker process with its own database connection, the frames returned in order.

`Dataset.posts()` uses this for large reads (at least `PARALLEL_MIN_ROWS` posts in its window):
building a frame is Python work per post (pseudonyms, scrubbing the text, JSON lists) that one
interpreter runs on one core, and SQLite reads a connection's rows on one core too. Every column
a worker returns is kept in Arrow buffers (text, lists, numbers), so sending a part back costs a
copy of its buffers, not a Python object per value.

Workers are started with `fork` on Linux when the calling process runs no other thread (nothing
can hold a lock across the fork), else with `forkserver` (or `spawn` where there is no fork): the
tests run both. The pseudonym key is settled before any worker starts, so all parts use the same one.
"""

from __future__ import annotations

import datetime as dt
import functools
import multiprocessing
import os
import pickle
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from radpulse.db.engine import Database, open_database
from radpulse.db.queries.filters import PostFilters
from radpulse.db.queries.posts import id_ranges, time_cuts
from radpulse.errors import InputError
from radpulse.db import arrow_read
from radpulse.db.queries import people
from radpulse.exports.posts import AuthorCache, export_key, iter_post_frames, post_table_sql, time_order


#: a read of fewer posts than this runs in the calling process (starting workers costs more)
PARALLEL_MIN_ROWS = 200_000
#: posts per part at most: a worker holds a part's rows in Arrow and its frames until the part is
#: done (about 1.3 GB per million posts), so parts this size keep each worker under ~600 MB
PART_ROWS = 250_000
#: the most workers used by default
MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """The CPUs this process may run on, at most `MAX_DEFAULT_WORKERS`."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    return max(1, min(usable, MAX_DEFAULT_WORKERS))


def time_parts(db: Database, f: PostFilters, rows: int, workers: int) -> list[PostFilters]:
    """`f` cut into consecutive time ranges [start, end) of about the same number of posts (at
    most `PART_ROWS`, at least one part per worker): the parts' posts, each part in time order,
    one after the other are all the posts in time order. The cuts are read from the created_at
    index with OFFSET (SQLite steps an index in C: 0.05 s for three cuts at a million posts; a
    row_number() window over the same entries took ten times as long)."""
    count = min(max(workers, -(-rows // PART_ROWS)), max(1, rows))
    found = time_cuts(db, f, rows, count)
    cuts: list[dt.datetime] = []
    for cut in found:
        if cut is None:  # fewer posts than `rows` (an upper bound): the rest is one part
            break
        cut = cut if cut.tzinfo else cut.replace(tzinfo=dt.UTC)
        if not cuts or cut > cuts[-1]:
            cuts.append(cut)
    bounds = [f.start, *cuts, f.end]
    return [replace(f, start=lo, end=hi) for lo, hi in zip(bounds, bounds[1:])]


def warm_up() -> None:
    """Start the fork server in the background when reads would use one (see `_context`), so that
    a session's first large read does not wait for it to start and import radpulse."""
    if _context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        threading.Thread(target=forkserver.ensure_running, name="radpulse-forkserver", daemon=True).start()


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    # fork only on Linux (macOS's system libraries are not safe to fork, as CPython's default says)
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        # the fork server imports what every worker runs (a worker forked from it starts warm)
        context.set_forkserver_preload([__name__, "radpulse.db.arrow_read", "adbc_driver_sqlite.dbapi", "pyarrow.compute"])
        return context
    return multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class _Part:
    """What a worker needs to read one time part: the filters, the part's ids, and on SQLite the
    SQL that reads them (written by the calling process, run by the worker through ADBC)."""

    url: str
    key: str | None
    f: PostFilters
    deidentify: bool
    folder: str
    index: int
    ids: tuple[int, int]
    path: str | None = None
    sql: tuple[str, tuple, dict[str, str]] | None = None


#: each worker's open database and its cache of authors, by URL (the SQLAlchemy path)
_OPEN: dict[str, tuple[Database, AuthorCache]] = {}
#: each worker's author cache reading through ADBC, by file
_ADBC_AUTHORS: dict[str, AuthorCache] = {}


def _adbc_authors(path: str) -> AuthorCache:
    """This worker's author cache reading through ADBC on `path` (its only copy of SQLite)."""
    if path not in _ADBC_AUTHORS:
        _ADBC_AUTHORS[path] = AuthorCache(lookup=functools.partial(people.authors_of_file, path))
    return _ADBC_AUTHORS[path]


def _read_part(part: _Part) -> str | None:
    """In a worker: one part's posts as frames in time order (with `_order`), pickled to a file
    in the part's folder (a pipe moves hundreds of megabytes several times slower); its path, or
    None when the part has no posts.

    On SQLite the part is read through ADBC and nothing else in this process opens the file (two
    copies of SQLite must not share a file in one process: `radpulse.db.arrow_read`); when ADBC
    cannot read it, this worker reads through SQLAlchemy alone from then on."""
    frames = None
    if part.path is not None and part.sql is not None and part.url not in _OPEN:
        from radpulse.db.arrow_read import read_sql

        table = read_sql(part.path, *part.sql)
        if table is not None:
            frames = list(iter_post_frames(None, part.f, deidentify=part.deidentify, key=part.key,  # type: ignore[arg-type]
                                           order_key=True, ids=part.ids, authors=_adbc_authors(part.path),
                                           arrow_in_time_order=True, table=table))
            del table
    if frames is None:
        if part.url not in _OPEN:
            db = open_database(part.url, migrate=False, create=False)
            _OPEN[part.url] = (db, AuthorCache(db))
        db, authors = _OPEN[part.url]
        frames = list(iter_post_frames(db, part.f, deidentify=part.deidentify, key=part.key, order_key=True,
                                       ids=part.ids, authors=authors))
    if not frames:
        return None
    order = time_order(np.concatenate([frame["created_at"].array.asi8 for frame in frames]),
                       np.concatenate([frame["_order"].to_numpy() for frame in frames]))
    if order is not None:  # read in id order (no Arrow): sorted here
        frames = [pd.concat(frames, ignore_index=True).take(order).reset_index(drop=True)]
    path = os.path.join(part.folder, f"part-{part.index}.pickle")
    with open(path, "wb") as handle:
        pickle.dump(frames, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path


#: bytes a part's file takes per post, about (text, pseudonyms, lists), for the space check
_BYTES_PER_POST = 1_000


def _scratch(rows: int) -> str | None:
    """A folder in memory for the parts when the system has one with room for them (Linux:
    /dev/shm, often small in containers), else the temp folder."""
    try:
        room = shutil.disk_usage("/dev/shm").free if os.access("/dev/shm", os.W_OK) else 0
    except OSError:
        room = 0
    return "/dev/shm" if room > 2 * rows * _BYTES_PER_POST else None


def parallel_post_frames(db: Database, f: PostFilters, *, deidentify: bool, key: str | None, rows: int,
                         workers: int) -> Iterator[pd.DataFrame]:
    """The frames of `iter_post_frames(..., order_key=True)` for `f`, read by `workers` processes
    (each a time part, `time_parts`), all of them in time order."""
    parts = time_parts(db, f, rows, workers)
    url = db.engine.url.render_as_string(hide_password=False)
    # settled here, before any worker starts: the same key for every part (a random one stored once)
    key = export_key(db, key) if deidentify else key
    path = db.engine.url.database if db.dialect == "sqlite" and arrow_read.available() else None
    try:
        with tempfile.TemporaryDirectory(prefix="radpulse-posts-", dir=_scratch(rows)) as folder:
            tasks = [_Part(url, key, part, deidentify, folder, i, ids, path,
                           post_table_sql(db, part, deidentify=deidentify, ids=ids) if path else None)
                     for i, (part, ids) in enumerate(zip(parts, id_ranges(db, parts)))  # a worker reads only their pages
                     if ids is not None]
            if not tasks:
                return
            with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=_context()) as pool:
                for done in pool.map(_read_part, tasks):
                    if done is not None:
                        with open(done, "rb") as handle:
                            frames = pickle.load(handle)
                        os.unlink(done)
                        yield from frames
    except BrokenProcessPool as exc:
        raise InputError("A worker process reading posts stopped before it finished (out of memory, or killed).",
                         hint="Read with fewer workers (radpulse.open(..., workers=1)) or a narrower window, "
                              "or stream with iter_posts(chunksize=...).") from exc
