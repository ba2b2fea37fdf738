"""Claiming a delivery before sending it: one sender per (subscriber, period), whatever runs.

A delivery is one row of `sent_digests` (subscriber, week) or `sent_alerts` (subscriber,
subject, day), unique on that key. Its states:

    claimed  a sender holds it until `lease_until` (composing the message, talking to the server)
    sending  the Message-ID is written; the message is going to the SMTP server right now
    sent     the server accepted it (250 after DATA)
    failed   the server refused it, or could not be reached after the retries: a later run tries again
    unknown  the connection dropped during DATA, or a sender died while 'sending': it may have
             been delivered, so it is never resent automatically (`radpulse status` lists it;
             `radpulse digest resend EMAIL --week DATE` sends it again)

A claim is one statement, atomic on SQLite and PostgreSQL alike: an INSERT ... ON CONFLICT DO
NOTHING of a new row, or an UPDATE of a 'failed' row or of a 'claimed' row whose lease has
expired (a sender that died before sending). Under READ COMMITTED PostgreSQL re-checks the
UPDATE's condition on the row a concurrent claimer committed, and SQLite has one writer, so of
two senders exactly one gets the row. Every later change names the holder: a sender whose
lease was taken over can no longer mark the row, and does not send.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update

from radpulse.db.engine import Database
from radpulse.db.store import insert_for
from radpulse.records import utcnow

#: how long a claim holds before another sender may take it over
LEASE = dt.timedelta(minutes=10)


def new_holder() -> str:
    """A name for this sender, unique across processes and hosts."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass
class Claims:
    """Claims on one delivery table (`SentDigest` or `SentAlert`), held by one sender."""

    db: Database
    model: Any
    holder: str
    lease: dt.timedelta = LEASE

    def _where(self, key: dict[str, Any]) -> Any:
        return and_(*(getattr(self.model, k) == v for k, v in key.items()))

    def settle(self, now: dt.datetime | None = None) -> int:
        """Rows left 'sending' by a sender that died (lease expired) become 'unknown'; how many."""
        now = now or utcnow()
        with self.db.engine.begin() as conn:
            return conn.execute(
                update(self.model).where(self.model.status == "sending", self.model.lease_until < now)
                .values(status="unknown", error="the sender stopped after handing the message to the SMTP server "
                                                "and before recording the answer: it may have been delivered")
            ).rowcount

    def states(self, fixed: dict[str, Any], ids: list[int]) -> dict[int, str]:
        """subscriber_id -> status for the rows of `fixed` (e.g. the week) among `ids`."""
        if not ids:
            return {}
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(self.model.subscriber_id, self.model.status)
                                .where(self._where(fixed), self.model.subscriber_id.in_(ids)))
            return dict(rows.all())

    def claim(self, key: dict[str, Any], extra: dict[str, Any] | None = None, *, now: dt.datetime | None = None,
              force: bool = False) -> bool:
        """Take the delivery `key` for this sender; False when another sender has it or it is done.

        `force` (an operator's resend) also takes 'sent' and 'unknown' rows, never one that a
        live sender holds."""
        now = now or utcnow()
        values = {"status": "claimed", "claimed_by": self.holder, "lease_until": now + self.lease, "sent_at": now,
                  "error": None, **(extra or {})}
        with self.db.engine.begin() as conn:
            ins = insert_for(conn, self.model.__table__)
            inserted = conn.execute(ins.values(**key, **values, attempts=1)
                                    .on_conflict_do_nothing(index_elements=list(key)).returning(self.model.id)).first()
            if inserted is not None:  # (rowcount is -1 for this statement on psycopg)
                return True
            takeable = [self.model.status == "failed",
                        and_(self.model.status == "claimed", self.model.lease_until < now)]
            if force:
                takeable.append(self.model.status.in_(("sent", "unknown")))
                takeable.append(and_(self.model.status == "sending", self.model.lease_until < now))
            return conn.execute(
                update(self.model).where(self._where(key), or_(*takeable))
                .values(**values, attempts=self.model.attempts + 1)
            ).rowcount == 1

    def mark(self, key: dict[str, Any], status: str, *, message_id: str | None = None, error: str | None = None,
             now: dt.datetime | None = None) -> bool:
        """Move this sender's delivery to `status`; False when the claim is no longer this sender's."""
        now = now or utcnow()
        values: dict[str, Any] = {"status": status, "error": error, "sent_at": now}
        if message_id is not None:
            values["message_id"] = message_id
        if status in ("claimed", "sending"):
            values["lease_until"] = now + self.lease  # renewed for the exchange about to happen
        with self.db.engine.begin() as conn:
            return conn.execute(
                update(self.model).where(self._where(key), self.model.claimed_by == self.holder,
                                         self.model.status.in_(("claimed", "sending")))
                .values(**values)
            ).rowcount == 1
