"""Stored trends, narrow rollups (one dimension at a time; distinct accounts by lag), engagement index

`trend_terms` holds, per day D and platform, the accounts and posts of each term or hashtag in
the 7 days ending D with its baseline (the four 7-day windows before) and the hashtags that
cover it; `trend_topics` the NMF topics of each ISO week (all platforms and per platform);
`trend_stale_days` the days whose posts changed since (marked with the rollups' marks). The
analysis job fills them (analysis/trends.py); an upgraded database with posts gets every day
marked, so the next `radpulse analyze` (or `radpulse trends refresh`) computes them.

`rollup_slice_daily` is `rollup_daily` cut by one dimension at a time (with platform and
sentiment): a year of a panel reads tens of thousands of rows instead of the million that the
full cross of dimensions has at a million posts. `rollup_accounts_lag` holds, per day, platform
and lag, the distinct accounts of the lag + 1 days ending that day: any window's accounts are
one row per platform. Both are filled by the next rollup refresh: every day is marked stale.

`ix_annotations_flagged` (a partial index of the few flagged annotations) lets the held rule
tell a public post by one probe of a small index instead of reading its annotation.
`ix_posts_engagement` indexes posts by the read layer's engagement expression (most engaged
first, ties by id): the drill-down list of posts reads its first page in index order instead of
ranking every post of the window.

Revision ID: 0011t
Revises: 0010d
Create Date: 2026-12-01 16:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql.elements import Grouping

from radpulse.db.models import engagement_sql

revision = '0011t'
down_revision = '0010d'
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
#: the columns the engagement expression reads (a table of its own: the migration never imports Post)
_posts = sa.Table("posts", sa.MetaData(), sa.Column("id", sa.Integer()), sa.Column("platform", sa.String()),
                  *(sa.Column(c, sa.BigInteger()) for c in ("like_count", "repost_count", "reply_count", "quote_count",
                                                            "score")))


def upgrade() -> None:
    op.create_table(
        'trend_terms',
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("term", sa.String(300), nullable=False),
        sa.Column("authors", sa.Integer(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("base_authors", sa.Integer(), nullable=False),
        sa.Column("covered_by", JSONType, nullable=False),
        sa.PrimaryKeyConstraint("day", "platform", "kind", "term", name=op.f('pk_trend_terms')),
    )
    op.create_table(
        'trend_topics',
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("topic", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("terms", JSONType, nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("sample_posts", sa.Integer(), nullable=False),
        sa.Column("week_posts", sa.Integer(), nullable=False),
        sa.Column("examples", JSONType, nullable=False),
        sa.PrimaryKeyConstraint("week", "platform", "topic", name=op.f('pk_trend_topics')),
    )
    op.create_table(
        'trend_stale_days',
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f('pk_trend_stale_days')),
    )
    counts = [sa.Column(c, sa.BigInteger(), nullable=False) for c in
              ("posts", "engagement", "likes", "reposts", "replies", "quotes", "score", "max_engagement")]
    op.create_table(
        'rollup_slice_daily',
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("dim", sa.String(16), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("sentiment", sa.String(16), nullable=False),
        *counts,
        sa.PrimaryKeyConstraint("day", "platform", "dim", "value", "sentiment", name=op.f('pk_rollup_slice_daily')),
    )
    op.create_table(
        'rollup_accounts_lag',
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("lag", sa.Integer(), nullable=False),
        sa.Column("accounts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "platform", "lag", name=op.f('pk_rollup_accounts_lag')),
    )
    op.execute(
        "INSERT INTO rollup_stale_days (day) SELECT DISTINCT "
        + ("substr(created_at, 1, 10)" if op.get_bind().dialect.name == "sqlite"
           else "(created_at AT TIME ZONE 'UTC')::date")
        + " FROM posts WHERE created_at IS NOT NULL ON CONFLICT DO NOTHING"
    )
    op.create_index("ix_annotations_flagged", "annotations", ["post_id", "model_name"],
                    sqlite_where=sa.text("flags <> '[]'"), postgresql_where=sa.text("flags <> '[]'::jsonb"))
    engagement = sa.Index("ix_posts_engagement", Grouping(engagement_sql(_posts.c)).desc(), _posts.c.id)
    op.execute(CreateIndex(engagement))
    op.execute(
        "INSERT INTO trend_stale_days (day) SELECT DISTINCT "
        + ("substr(created_at, 1, 10)" if op.get_bind().dialect.name == "sqlite"
           else "(created_at AT TIME ZONE 'UTC')::date")
        + " FROM posts WHERE created_at IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index('ix_posts_engagement', table_name='posts')
    op.drop_index('ix_annotations_flagged', table_name='annotations')
    op.drop_table('rollup_accounts_lag')
    op.drop_table('rollup_slice_daily')
    op.drop_table('trend_stale_days')
    op.drop_table('trend_topics')
    op.drop_table('trend_terms')
