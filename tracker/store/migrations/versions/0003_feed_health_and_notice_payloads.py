"""feed health and notice payloads

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 04:33:05.489163
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed", schema=None) as batch_op:
        batch_op.add_column(sa.Column("health", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("health_reasons", sa.String(), nullable=True))

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("payload")

    with op.batch_alter_table("feed", schema=None) as batch_op:
        batch_op.drop_column("health_reasons")
        batch_op.drop_column("health")
