"""a person takes over a chat: handovers, their transcript (with the delivery of operator
messages), operators on duty

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02 16:16:19
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('handovers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('area', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('open', sa.Integer(), nullable=True),
    sa.Column('requested_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('closed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=160), nullable=True),
    sa.Column('close_reason', sa.String(length=16), nullable=True),
    sa.Column('changed_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claimed_by'], ['console_users.id'], name=op.f('fk_handovers_claimed_by_console_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers')),
    sa.UniqueConstraint('channel', 'user_id', 'open', name=op.f('uq_handovers_channel'))
    )
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handovers_changed_at'), ['changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_handovers_claimed_by'), ['claimed_by'], unique=False)
        batch_op.create_index('ix_handovers_queue', ['state', 'area', 'requested_at'], unique=False)

    op.create_table('operator_duty',
    sa.Column('operator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('until', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['operator_id'], ['console_users.id'], name=op.f('fk_operator_duty_operator_id_console_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('operator_id', name=op.f('pk_operator_duty'))
    )
    op.create_table('handover_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('handover_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('author', sa.String(length=12), nullable=False),
    sa.Column('operator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('buttons', sa.JSON(), nullable=False),
    sa.Column('to_channel', sa.String(length=16), nullable=True),
    sa.Column('to_user', sa.String(length=128), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_until', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('sent_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], name=op.f('fk_handover_messages_handover_id_handovers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['operator_id'], ['console_users.id'], name=op.f('fk_handover_messages_operator_id_console_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_messages'))
    )
    with op.batch_alter_table('handover_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_messages_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_handover_messages_due', ['state', 'not_before'], unique=False)
        batch_op.create_index(batch_op.f('ix_handover_messages_handover_id'), ['handover_id'], unique=False)
        batch_op.create_index('ix_handover_messages_user', ['channel', 'user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('handover_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_handover_messages_user')
        batch_op.drop_index(batch_op.f('ix_handover_messages_handover_id'))
        batch_op.drop_index('ix_handover_messages_due')
        batch_op.drop_index(batch_op.f('ix_handover_messages_created_at'))

    op.drop_table('handover_messages')
    op.drop_table('operator_duty')
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_index('ix_handovers_queue')
        batch_op.drop_index(batch_op.f('ix_handovers_claimed_by'))
        batch_op.drop_index(batch_op.f('ix_handovers_changed_at'))

    op.drop_table('handovers')
