"""Mention rollup: each public post's citations, by the post's day, with what the attention score reads

`rollup_mention_daily` holds one row per (day, post, article) of a public post citing an article,
with the post's platform, author, time, kind (original, reply, repost) and engagement, so a
window's mentions are one range of it (the papers page, the report). Filled here from the
stored posts and mentions (the read layer's public rule); a refresh keeps it.

Revision ID: 0015m
Revises: 0014h
Create Date: 2026-12-02 06:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015m'
down_revision = '0014h'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rollup_mention_daily',
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("author_id", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("likes", sa.BigInteger(), nullable=True),
        sa.Column("reposts", sa.BigInteger(), nullable=True),
        sa.Column("replies", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("day", "post_id", "article_id", name=op.f('pk_rollup_mention_daily')),
        sqlite_with_rowid=False,
    )
    from radpulse.db.models import Mention, Post
    from radpulse.db.queries.filters import PostFilters, public_where
    from radpulse.db.rollups import mention_rollup_insert, utc_day

    bind = op.get_bind()
    p, m = Post.__table__.c, Mention.__table__.c
    public = (sa.select(p.id.label("post_id"), utc_day(p.created_at, bind.dialect.name).label("day"), p.platform,
                        p.author_external_id.label("author_id"))
              .where(p.id.in_(sa.select(m.post_id)), public_where(PostFilters(), p)).subquery("public_citing"))
    bind.execute(mention_rollup_insert(public))


def downgrade() -> None:
    op.drop_table('rollup_mention_daily')
