"""Rollups for the People and account pages: accounts per day and in total, author types, public edges per day

`rollup_account_daily` (an account's public posts, engagement and top post's engagement per
day, clustered by account), `rollup_account_totals` (the same over all days: the bound that lets
a window's top accounts be found from a few accounts), `rollup_author_type_daily` and
`rollup_author_type_monthly` (posts per author type, distinct accounts per calendar month) and
`rollup_edge_daily` (the network's public edges per day: the held rule applied once at refresh
instead of for every edge of every window read). `ix_posts_author` gains `created_at` and
`rollup_author_daily` an index by account, so one account's window is one index range. Like
0005r, an upgraded database with posts gets every day marked stale, so the next writer (or
`radpulse db rebuild-rollups`) fills them.

Revision ID: 0012p
Revises: 0011t
Create Date: 2026-12-01 16:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012p'
down_revision = '0011t'
branch_labels = None
depends_on = None


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def upgrade() -> None:
    op.drop_index('ix_posts_author', table_name='posts')
    op.create_index('ix_posts_author', 'posts', ['platform', 'author_external_id', 'created_at'])
    op.create_index('ix_rollup_author_daily_account', 'rollup_author_daily', ['platform', 'author_id', 'day'])
    op.create_table(
        'rollup_account_daily',
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("author_id", sa.String(200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("author_type", sa.String(32), nullable=False),
        _count("posts"), _count("engagement"), _count("max_engagement"),
        sa.PrimaryKeyConstraint("platform", "author_id", "day", name=op.f('pk_rollup_account_daily')),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_rollup_account_daily_day', 'rollup_account_daily', ['day', 'author_type', 'posts', 'engagement'])
    op.create_table(
        'rollup_account_totals',
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("author_id", sa.String(200), nullable=False),
        sa.Column("author_type", sa.String(32), nullable=False),
        _count("posts"), _count("engagement"),
        sa.PrimaryKeyConstraint("platform", "author_id", name=op.f('pk_rollup_account_totals')),
    )
    op.create_index('ix_rollup_account_totals_engagement', 'rollup_account_totals', ['engagement'])
    op.create_table(
        'rollup_author_type_daily',
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("author_type", sa.String(32), nullable=False),
        _count("posts"), _count("engagement"),
        sa.PrimaryKeyConstraint("day", "platform", "author_type", name=op.f('pk_rollup_author_type_daily')),
    )
    op.create_table(
        'rollup_author_type_monthly',
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("author_type", sa.String(32), nullable=False),
        _count("accounts"),
        sa.PrimaryKeyConstraint("month", "platform", "author_type", name=op.f('pk_rollup_author_type_monthly')),
    )
    op.create_table(
        'rollup_edge_daily',
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("source", sa.String(240), nullable=False),
        sa.Column("target", sa.String(340), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        _count("interactions"),
        sa.PrimaryKeyConstraint("day", "platform", "source", "target", "kind", name=op.f('pk_rollup_edge_daily')),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_rollup_edge_daily_source', 'rollup_edge_daily', ['source', 'day', 'interactions'])
    op.create_index('ix_rollup_edge_daily_target', 'rollup_edge_daily', ['target', 'day', 'interactions'])
    op.execute(
        "INSERT INTO rollup_stale_days (day) SELECT DISTINCT "
        + ("substr(created_at, 1, 10)" if op.get_bind().dialect.name == "sqlite"
           else "(created_at AT TIME ZONE 'UTC')::date")
        + " FROM posts WHERE created_at IS NOT NULL ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    for table in ('rollup_edge_daily', 'rollup_author_type_monthly', 'rollup_author_type_daily',
                  'rollup_account_totals', 'rollup_account_daily'):
        op.drop_table(table)
    op.drop_index('ix_rollup_author_daily_account', table_name='rollup_author_daily')
    op.drop_index('ix_posts_author', table_name='posts')
    op.create_index('ix_posts_author', 'posts', ['platform', 'author_external_id'])
