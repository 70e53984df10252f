"""timeline entities and status history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 04:16:16.472131
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_entity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("sort_date", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "entity_id", name="uq_event_entity"),
    )
    with op.batch_alter_table("event_entity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_entity_entity_date", ["entity_id", "sort_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_event_entity_event_id"), ["event_id"], unique=False)

    op.create_table(
        "event_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event_status", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_status_event_id"), ["event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_status_event_id"))

    op.drop_table("event_status")
    with op.batch_alter_table("event_entity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_entity_event_id"))
        batch_op.drop_index("ix_event_entity_entity_date")

    op.drop_table("event_entity")
