"""candidate reads by window: a covering index for events by entity and date

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 15:40:00

Placement reads the events of a type involving some entities in a date window. The entity
index ``(entity_id, sort_date)`` becomes ``(entity_id, sort_date, event_id)``, so that read
is one index range with no table lookups until the event rows themselves; the events of a
type in a window use ``event (type, sort_date)`` (since 0001).
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_event_entity_entity_date_event", "event_entity",
                    ["entity_id", "sort_date", "event_id"], unique=False)
    op.drop_index("ix_event_entity_entity_date", table_name="event_entity")


def downgrade() -> None:
    op.create_index("ix_event_entity_entity_date", "event_entity", ["entity_id", "sort_date"],
                    unique=False)
    op.drop_index("ix_event_entity_entity_date_event", table_name="event_entity")
