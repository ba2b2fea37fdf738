"""interactions: the edge table of the conversation network, filled from the stored posts

One row per reply, quote, repost and mention between two accounts (radpulse/db/edges.py), with
indexes for the window, for each account's side and for edges waiting for their referenced
post; an index on authors (platform, lower(handle)) for resolving mentions. The upgrade fills
the table from the posts already stored (`radpulse db rebuild-edges` does the same later).

Revision ID: 0007e
Revises: 0004l
Create Date: 2026-12-02 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007e'
down_revision = '0004l'
branch_labels = None
depends_on = None

CHUNK = 50_000


def upgrade() -> None:
    op.create_table(
        "interactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=240), nullable=False),
        sa.Column("target", sa.String(length=340), nullable=True),
        sa.Column("target_post", sa.String(length=300), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_interactions_post_id_posts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
    )
    op.create_index("ix_interactions_source", "interactions", ["source"])
    op.create_index("ix_interactions_target", "interactions", ["target"])
    op.create_index(op.f("ix_interactions_post_id"), "interactions", ["post_id"])
    op.create_index("ix_interactions_pending", "interactions", ["target_post", "target"],
                    sqlite_where=sa.text("target IS NULL"), postgresql_where=sa.text("target IS NULL"))
    op.create_index("ix_authors_platform_handle", "authors", ["platform", sa.text("lower(handle)")])

    from radpulse.db.edges import fill_edges  # the same SQL the store writes with

    bind = op.get_bind()
    top = bind.execute(sa.text("SELECT MAX(id) FROM posts")).scalar() or 0
    for low in range(0, top, CHUNK):
        fill_edges(bind, low, low + CHUNK)


def downgrade() -> None:
    op.drop_index("ix_authors_platform_handle", table_name="authors")
    op.drop_table("interactions")
