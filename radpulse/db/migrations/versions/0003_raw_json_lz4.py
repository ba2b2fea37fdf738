"""PostgreSQL: raw payloads as json kept as sent, compressed with lz4

Raw payloads are stored as the services sent them. PostgreSQL's jsonb rewrites a document (keys
reordered, spacing and duplicate keys dropped) and parsing it costs most of the server's time
in bulk collection; json keeps the text as sent and only checks it. The payloads of Mastodon and
Bluesky posts (2-4 KB) are above the TOAST threshold, so every one is compressed: lz4 does that
several times faster than the default pglz (PostgreSQL 14+ built with lz4; otherwise the server's
default stays). SQLite stores JSON as text already: nothing changes there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 05:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TABLES = ("posts", "authors", "articles", "quarantine")


def _lz4_available(bind: sa.engine.Connection) -> bool:
    return bool(bind.execute(sa.text(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
    )).scalar())


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    lz4 = _lz4_available(bind)
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN raw TYPE json USING raw::json")
        if lz4:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN raw SET COMPRESSION lz4")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN raw TYPE jsonb USING raw::jsonb")
        if _lz4_available(bind):
            op.execute(f"ALTER TABLE {table} ALTER COLUMN raw SET COMPRESSION default")
