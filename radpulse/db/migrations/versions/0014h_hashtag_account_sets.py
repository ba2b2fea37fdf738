"""Hashtag account sets: the accounts of each hashtag, day and platform as one sorted set

`rollup_account_keys` numbers each account (platform + id) the hashtag rollups have seen;
`rollup_hashtag_account_sets` holds, per (hashtag, day, platform), those numbers as sorted
little-endian int64 (radpulse/db/hashtag_sets.py), so distinct accounts of a few hashtags over
any window are a union of a few hundred small sets. Filled here from
`rollup_hashtag_author_daily` (a database with rollups needs no rebuild); a refresh keeps them.

Revision ID: 0014h
Revises: 0013s
Create Date: 2026-12-02 05:50:00
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0014h'
down_revision = '0013s'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rollup_account_keys',
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("author_id", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f('pk_rollup_account_keys')),
        sa.UniqueConstraint("platform", "author_id", name=op.f('uq_rollup_account_keys_platform')),
    )
    op.create_table(
        'rollup_hashtag_account_sets',
        sa.Column("hashtag", sa.String(300), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("accounts", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("hashtag", "day", "platform", name=op.f('pk_rollup_hashtag_account_sets')),
        sqlite_with_rowid=False,
    )
    from radpulse.db.hashtag_sets import refresh_hashtag_sets

    bind = op.get_bind()
    days = [row[0] for row in bind.execute(sa.text("SELECT DISTINCT day FROM rollup_hashtag_author_daily ORDER BY day"))]
    days = [dt.date.fromisoformat(d[:10]) if isinstance(d, str) else d for d in days]  # SQLite: the stored text
    for start in range(0, len(days), 31):
        refresh_hashtag_sets(bind, days[start:start + 31])


def downgrade() -> None:
    op.drop_table('rollup_hashtag_account_sets')
    op.drop_table('rollup_account_keys')
