"""Hashtag account sets: which accounts used each hashtag on each day and platform, one row per
(hashtag, day, platform) holding the accounts' numbers (`rollup_account_keys`) as a sorted array
of little-endian 64-bit integers (`rollup_hashtag_account_sets`).

Distinct accounts of a hashtag over a window are then the size of a union of small sets (numpy,
`radpulse.db.queries.rollups.hashtag_accounts_per`) instead of a DISTINCT over every (hashtag,
day, account) row of the window. Kept from `rollup_hashtag_author_daily` for the days a refresh
touches, in the refresh's transaction; rebuilt with the other rollups.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

import numpy as np
from sqlalchemy import Connection, and_, delete, insert, select

from radpulse.db.engine import insert_for
from radpulse.db.models import RollupAccountKey, RollupHashtagAccountSet, RollupHashtagAuthorDaily

#: sets written per INSERT
_ROWS = 5_000


def pack(numbers: Sequence[int] | np.ndarray) -> bytes:
    """Account numbers as a stored set: sorted, distinct, little-endian int64."""
    return np.unique(np.asarray(numbers, dtype=np.int64)).astype("<i8").tobytes()


def unpack(blob: bytes) -> np.ndarray:
    """A stored set's account numbers."""
    return np.frombuffer(blob, dtype="<i8")


def refresh_hashtag_sets(conn: Connection, days: Sequence[dt.date]) -> None:
    """Rewrite the sets of `days` from their `rollup_hashtag_author_daily` rows (numbering the
    accounts not numbered yet)."""
    h, k, s = RollupHashtagAuthorDaily, RollupAccountKey, RollupHashtagAccountSet
    if not days:
        return
    unseen = select(h.platform, h.author_id).where(h.day.in_(days)).distinct()
    conn.execute(insert_for(conn, k.__table__).from_select(["platform", "author_id"], unseen)
                 .on_conflict_do_nothing(index_elements=["platform", "author_id"]))
    conn.execute(delete(s).where(s.day.in_(days)))
    rows = conn.execute(
        select(h.hashtag, h.day, h.platform, k.id)
        .join(k, and_(k.platform == h.platform, k.author_id == h.author_id))
        .where(h.day.in_(days)).order_by(h.hashtag, h.day, h.platform)).all()  # all read before writing
    batch: list[dict] = []
    for (tag, day, platform), members in itertools.groupby(rows, key=lambda r: (r[0], r[1], r[2])):
        batch.append({"hashtag": tag, "day": day, "platform": platform, "accounts": pack([m[3] for m in members])})
        if len(batch) >= _ROWS:
            conn.execute(insert(s), batch)
            batch = []
    if batch:
        conn.execute(insert(s), batch)
