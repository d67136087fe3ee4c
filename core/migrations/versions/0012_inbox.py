"""inbox: every platform update is stored before it is acknowledged, with the replies decided
for it and which of them went out (issue 13); its delivery keys replace processed_updates

Revision ID: 0012_inbox
Revises: 0011_unanswered_user (re-chained after merging main; written on 0008)
Create Date: 2026-12-03 06:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0012_inbox"
down_revision: str | None = "0011_unanswered_user"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("replies", sa.JSON(), nullable=True),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("channel", "key", name=op.f("uq_inbox_channel")),
    )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_inbox_pending", ["state", "lease_until"], unique=False)
        batch_op.create_index("ix_inbox_user", ["channel", "user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_user")
        batch_op.drop_index("ix_inbox_pending")
        batch_op.drop_index(batch_op.f("ix_inbox_created_at"))
    op.drop_table("inbox")
