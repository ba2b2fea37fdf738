"""Rollups for exact hashtag accounts and example posts: accounts per hashtag and day, top engagement per row

`rollup_hashtag_author_daily` (hashtag, day, platform, author_id) lets the dashboard count the
distinct accounts of a few hashtags over any window from an index range instead of expanding
the JSON hashtags of every post. `rollup_daily.max_engagement` (the most engaged post of the
row) tells which day holds a cell's top post, so an example post is one day's indexed read. Like 0005r, an upgraded database with posts gets every day
marked stale, so the next writer (or `radpulse db rebuild-rollups`) fills it.

Revision ID: 0010d
Revises: 0004n
Create Date: 2026-12-01 14:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010d'
down_revision = '0004n'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rollup_hashtag_author_daily',
        sa.Column("hashtag", sa.String(300), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("author_id", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("hashtag", "day", "platform", "author_id", name=op.f('pk_rollup_hashtag_author_daily')),
    )
    op.create_index('ix_rollup_hashtag_author_daily_day', 'rollup_hashtag_author_daily', ['day'])
    with op.batch_alter_table('rollup_daily') as batch:
        batch.add_column(sa.Column("max_engagement", sa.BigInteger(), server_default="0", nullable=False))
    op.execute(
        "INSERT INTO rollup_stale_days (day) SELECT DISTINCT "
        + ("substr(created_at, 1, 10)" if op.get_bind().dialect.name == "sqlite"
           else "(created_at AT TIME ZONE 'UTC')::date")
        + " FROM posts WHERE created_at IS NOT NULL ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    with op.batch_alter_table('rollup_daily') as batch:
        batch.drop_column("max_engagement")
    op.drop_index('ix_rollup_hashtag_author_daily_day', table_name='rollup_hashtag_author_daily')
    op.drop_table('rollup_hashtag_author_daily')
