"""collection runs record the process that runs them (killed runs are found and marked interrupted)

Revision ID: 0004n
Revises: 0005r
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004n"
down_revision = "0008o"  # chained after the migrations on main (0004l, 0007e, 0005r, 0008o)
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("collection_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("process_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("host", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("collection_runs", schema=None) as batch_op:
        batch_op.drop_column("host")
        batch_op.drop_column("process_id")
