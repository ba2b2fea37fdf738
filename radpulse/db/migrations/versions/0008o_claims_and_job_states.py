"""Deliveries claimed before sending, spike alerts, job states for health and operator alerts

`sent_digests` gains a lease (`claimed_by`, `lease_until`) and an attempt count: a row is
inserted as 'claimed' before the message is composed and marked 'sending' (with its Message-ID)
right before the SMTP DATA, so two senders never send one (subscriber, week) and a crash is
never followed by a blind resend (radpulse/digest/claims.py). Existing rows keep their status.
`sent_alerts` records spike alerts the same way, one per (subscriber, subject, day);
`subscribers.alerts` is the opt-in. `job_states` holds each scheduled job's last outcome and
consecutive failures (`radpulse status`, `/healthz`, operator alerts).

Revision ID: 0008o
Revises: 0005r
Create Date: 2026-12-02 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from radpulse.db.models import UTCDateTime

revision = '0008o'
down_revision = '0005r'  # brief: '0003'; chained after the migrations now on main
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _lease_columns() -> list[sa.Column]:
    return [
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("sent_digests", schema=None) as batch_op:
        for column in _lease_columns():
            batch_op.add_column(column)
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alerts", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "sent_alerts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("subscriber_id", BigId, nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        *_lease_columns(),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], name=op.f("fk_sent_alerts_subscriber_id_subscribers"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_alerts")),
        sa.UniqueConstraint("subscriber_id", "subject", "day", name=op.f("uq_sent_alerts_subscriber_id")),
    )
    op.create_table(
        "job_states",
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("last_started_at", UTCDateTime(), nullable=True),
        sa.Column("last_finished_at", UTCDateTime(), nullable=True),
        sa.Column("last_status", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("alerted_at", UTCDateTime(), nullable=True),
        sa.Column("holder", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_states")),
    )


def downgrade() -> None:
    op.drop_table("job_states")
    op.drop_table("sent_alerts")
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_column("alerts")
    with op.batch_alter_table("sent_digests", schema=None) as batch_op:
        for name in ("attempts", "lease_until", "claimed_by"):
            batch_op.drop_column(name)
