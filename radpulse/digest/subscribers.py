"""Who receives the digest: add, list, remove, and unsubscribe by the token in every email.

Addresses are validated and normalised by `radpulse.digest.addresses` before they are stored.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select, update

from radpulse.db.engine import Database
from radpulse.db.models import Subscriber
from radpulse.digest.addresses import normalise_email
from radpulse.errors import InputError
from radpulse.records import utcnow


def add_subscriber(db: Database, email: str, *, name: str | None = None, topics: list[str] | None = None,
                   alerts: bool | None = None) -> tuple[Subscriber, bool]:
    """Add (or re-activate and update) a subscriber; (row, created). `alerts`: opt in to spike
    alerts (None: unchanged; off for a new subscriber)."""
    from radpulse.analysis.lexicon import GENERAL, SUBSPECIALTIES, THEMES

    address = normalise_email(email)
    if name is not None and len(name) > 200:
        raise InputError(f"--name is {len(name)} characters long; at most 200 are kept.", hint="Give a shorter name.")
    unknown = sorted(set(topics or []) - {*SUBSPECIALTIES, GENERAL, *THEMES})
    if unknown:
        raise InputError(f"unknown subspecialty {', '.join(unknown)} (not a theme either).",
                         hint=f"Choose from: {', '.join(SUBSPECIALTIES)} (subspecialties), {', '.join(THEMES)} (themes).")
    with db.session() as s:
        row = s.execute(select(Subscriber).where(Subscriber.email == address)).scalar_one_or_none()
        created = row is None
        if row is None:
            row = Subscriber(email=address, unsubscribe_token=secrets.token_urlsafe(32), created_at=utcnow())
            s.add(row)
        row.name = name or row.name
        row.topics = list(topics or row.topics or [])
        row.active = True
        if alerts is not None:
            row.alerts = alerts
        elif created:
            row.alerts = False
        s.flush()
        s.expunge(row)
    return row, created


def remove_subscriber(db: Database, email: str) -> bool:
    """Delete a subscriber (and the record of what they were sent); False when unknown."""
    text = email.strip()
    with db.session() as s:
        row = s.execute(select(Subscriber).where(Subscriber.email == text)).scalar_one_or_none()
        if row is None:  # as stored first, so an address stored before validation can still go
            address = normalise_email(text)
            row = s.execute(select(Subscriber).where(Subscriber.email == address)).scalar_one_or_none()
        if row is None:
            return False
        s.delete(row)
    return True


def unsubscribe(db: Database, token: str) -> str | None:
    """Deactivate the subscriber with this token; their address, or None for an unknown token."""
    with db.engine.begin() as conn:
        email = conn.execute(select(Subscriber.email).where(Subscriber.unsubscribe_token == token)).scalar()
        if email is not None:
            conn.execute(update(Subscriber).where(Subscriber.unsubscribe_token == token).values(active=False))
    return email


def list_subscribers(db: Database) -> list[dict[str, Any]]:
    """Every subscriber: email, name, topics, active, created_at (tokens stay in the database)."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(Subscriber.email, Subscriber.name, Subscriber.topics, Subscriber.active, Subscriber.created_at)
            .order_by(Subscriber.email))
        return [dict(r._mapping) for r in rows]


def subscriber_for_token(db: Database, token: str) -> tuple[str, bool] | None:
    """(address, active) of the subscriber with this unsubscribe token; None for an unknown token."""
    with db.engine.connect() as conn:
        row = conn.execute(select(Subscriber.email, Subscriber.active)
                           .where(Subscriber.unsubscribe_token == token)).first()
    return None if row is None else (row.email, bool(row.active))
