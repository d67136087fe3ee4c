"""unanswered questions carry a user key (so /xoadulieu deletes them); stored texts re-masked

Revision ID: 0011_unanswered_user
Revises: 0008
Create Date: 2026-12-03 06:40:00.000000

Rows logged before this revision cannot be tied to anyone (their key stays NULL); they go
after ``retention_days`` as before. Texts already stored are masked again with the wider
masking of ``core.privacy`` (phones written with commas, slashes, parentheses...).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.privacy import mask_numbers

revision: str = '0011_unanswered_user'
down_revision: str | None = '0010_radio_slots'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, text column) holding what citizens typed, masked when written.
_TEXTS = (("message_log", "text"), ("unanswered", "text"), ("feedback", "question"))
_BATCH = 1000


def _remask(table: str, column: str) -> None:
    conn = op.get_bind()
    t = sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.Text))
    last = 0
    while True:
        rows = conn.execute(sa.select(t.c.id, t.c[column]).where(t.c.id > last)
                            .order_by(t.c.id).limit(_BATCH)).all()
        if not rows:
            return
        for row_id, text in rows:
            if text and mask_numbers(text) != text:
                conn.execute(t.update().where(t.c.id == row_id)
                             .values({column: mask_numbers(text)}))
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("unanswered", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_key", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_unanswered_user_key"), ["user_key"], unique=False)
    for table, column in _TEXTS:
        _remask(table, column)


def downgrade() -> None:
    with op.batch_alter_table("unanswered", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unanswered_user_key"))
        batch_op.drop_column("user_key")
