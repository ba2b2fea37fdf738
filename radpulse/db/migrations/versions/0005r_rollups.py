"""Rollups: public posts, accounts, hashtags and articles per day, refreshed by the days touched

Replaces the never-filled `daily_rollups` (one row per day, platform, dimension and value) by
tables the dashboard reads instead of `posts`: `rollup_daily` (posts and engagement per day x
platform x source x subspecialty x theme x sentiment x author type x language),
`rollup_author_daily` (the same per account, for distinct counts), `rollup_hashtag_daily`,
`rollup_article_daily`, and `rollup_stale_days` (days waiting for a refresh). The new tables
are filled by `radpulse db rebuild-rollups` (and by every collection or analysis afterwards).

Revision ID: 0005r
Revises: 0007e
Create Date: 2026-12-01 12:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005r'
down_revision = '0007e'  # brief: '0003'; chained after the migrations now on main (0004l, 0007e)
branch_labels = None
depends_on = None

DIMS = ("platform", "source", "subspecialty", "theme", "sentiment", "author_type", "language", "first_source",
        "first_theme")
SIZES = {"platform": 32, "source": 300, "subspecialty": 32, "theme": 64, "sentiment": 16, "author_type": 32,
         "language": 16}


def _dims() -> list[sa.Column]:
    return [sa.Column("day", sa.Date(), nullable=False)] + [
        sa.Column(name, sa.String(SIZES[name]) if name in SIZES else sa.Boolean(), nullable=False) for name in DIMS
    ]


def _counts(*names: str) -> list[sa.Column]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in names]


def upgrade() -> None:
    op.drop_table('daily_rollups')
    op.create_table(
        'rollup_daily', *_dims(), *_counts("posts", "engagement", "likes", "reposts", "replies", "quotes", "score"),
        sa.PrimaryKeyConstraint("day", *DIMS, name=op.f('pk_rollup_daily')),
    )
    op.create_table(
        'rollup_author_daily', *_dims(), sa.Column("author_id", sa.String(200), nullable=False),
        *_counts("posts", "engagement"),
        sa.PrimaryKeyConstraint("day", *DIMS, "author_id", name=op.f('pk_rollup_author_daily')),
    )
    op.create_table(
        'rollup_hashtag_daily',
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("hashtag", sa.String(300), nullable=False),
        *_counts("posts", "authors"),
        sa.PrimaryKeyConstraint("day", "platform", "hashtag", name=op.f('pk_rollup_hashtag_daily')),
    )
    op.create_index('ix_rollup_hashtag_daily_hashtag', 'rollup_hashtag_daily', ['hashtag', 'day'])
    op.create_table(
        'rollup_article_daily',
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        *_counts("mentions", "authors"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE",
                                name=op.f('fk_rollup_article_daily_article_id_articles')),
        sa.PrimaryKeyConstraint("day", "platform", "article_id", name=op.f('pk_rollup_article_daily')),
    )
    op.create_index(op.f('ix_rollup_article_daily_article_id'), 'rollup_article_daily', ['article_id'])
    op.create_table(
        'rollup_stale_days',
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f('pk_rollup_stale_days')),
    )
    # an upgraded database with posts gets every day of them refreshed by the next writer
    op.execute(
        "INSERT INTO rollup_stale_days (day) SELECT DISTINCT "
        + ("substr(created_at, 1, 10)" if op.get_bind().dialect.name == "sqlite"
           else "(created_at AT TIME ZONE 'UTC')::date")
        + " FROM posts"
    )


def downgrade() -> None:
    op.drop_table('rollup_stale_days')
    op.drop_index(op.f('ix_rollup_article_daily_article_id'), table_name='rollup_article_daily')
    op.drop_table('rollup_article_daily')
    op.drop_index('ix_rollup_hashtag_daily_hashtag', table_name='rollup_hashtag_daily')
    op.drop_table('rollup_hashtag_daily')
    op.drop_table('rollup_author_daily')
    op.drop_table('rollup_daily')
    op.create_table('daily_rollups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('dimension', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.Column('posts', sa.Integer(), nullable=False),
    sa.Column('authors', sa.Integer(), nullable=False),
    sa.Column('likes', sa.BigInteger(), nullable=False),
    sa.Column('reposts', sa.BigInteger(), nullable=False),
    sa.Column('replies', sa.BigInteger(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_rollups')),
    sa.UniqueConstraint('day', 'platform', 'dimension', 'value', name=op.f('uq_daily_rollups_day'))
    )
