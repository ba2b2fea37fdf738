"""Monthly slices: `rollup_slice_daily` summed per calendar month

`rollup_slice_monthly` holds the same sums per (dim, month, platform, value, sentiment), clustered
by the cut, so a year of one dimension by month reads a dozen rows per value. Filled here from
the daily slices (a database with rollups needs no rebuild); a refresh keeps it current.

Revision ID: 0013s
Revises: 0012p
Create Date: 2026-12-02 05:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013s'
down_revision = '0012p'
branch_labels = None
depends_on = None

COUNTS = ("posts", "engagement", "likes", "reposts", "replies", "quotes", "score", "max_engagement")


def upgrade() -> None:
    op.create_table(
        'rollup_slice_monthly',
        sa.Column("dim", sa.String(16), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("sentiment", sa.String(16), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in COUNTS),
        sa.PrimaryKeyConstraint("dim", "month", "platform", "value", "sentiment", name=op.f('pk_rollup_slice_monthly')),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    month = "strftime('%Y-%m-01', day)" if bind.dialect.name == "sqlite" else "CAST(date_trunc('month', day) AS DATE)"
    sums = ", ".join(f"{'max' if c == 'max_engagement' else 'sum'}({c})" for c in COUNTS)
    op.execute(f"INSERT INTO rollup_slice_monthly (dim, month, platform, value, sentiment, {', '.join(COUNTS)}) "
               f"SELECT dim, {month}, platform, value, sentiment, {sums} FROM rollup_slice_daily "
               f"GROUP BY dim, {month}, platform, value, sentiment")


def downgrade() -> None:
    op.drop_table('rollup_slice_monthly')
