"""per-chat send gates (next send time, flood waits); subscribers' quiet low-priority alerts

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-07 08:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_gate",
        sa.Column("chat_id", sa.String(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flood_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("chat_id"),
    )
    with op.batch_alter_table("subscriber") as batch:
        batch.add_column(sa.Column("quiet_low", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("subscriber") as batch:
        batch.drop_column("quiet_low")
    op.drop_table("chat_gate")
