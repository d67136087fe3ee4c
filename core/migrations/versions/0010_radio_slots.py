"""radio slots: an area's own daily bulletin times, set in the operator console

Revision ID: 0010_radio_slots
Revises: 0008
Create Date: 2026-12-03 06:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = '0010_radio_slots'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('radio_slots',
    sa.Column('area_code', sa.String(length=8), nullable=False),
    sa.Column('slots', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('area_code', name=op.f('pk_radio_slots'))
    )


def downgrade() -> None:
    op.drop_table('radio_slots')
