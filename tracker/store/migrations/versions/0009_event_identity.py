"""event identity: what placement reads of an event, outlets counted distinctly

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:30:00

``event`` gains the event sentence of its first report, the figures its reports state
(JSON list of ``unit:value``), the number of distinct outlets that reported it, whether its
first report was a recap, the earliest publication time of its reports, a few of its
reports' event sentences and its first report's entities (what identity compares; an
existing event falls back to its sentence and merged entities). Existing events
count one outlet per source until a new source recounts them. ``event_source`` gains the
reason a source joined its event (``tracker timeline --explain``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sentence", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("figures", sa.Text(), nullable=False,
                                      server_default="[]"))
        batch_op.add_column(sa.Column("outlet_count", sa.Integer(), nullable=False,
                                      server_default="1"))
        batch_op.add_column(sa.Column("recap", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("first_reported", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("sentences", sa.Text(), nullable=False,
                                      server_default="[]"))
        batch_op.add_column(sa.Column("first_entities", sa.Text(), nullable=False,
                                      server_default="[]"))
    op.execute("UPDATE event SET outlet_count = (SELECT COUNT(DISTINCT outlet) FROM "
               "event_source WHERE event_source.event_id = event.id) "
               "WHERE EXISTS (SELECT 1 FROM event_source WHERE event_source.event_id = event.id)")
    with op.batch_alter_table("event_source", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event_source", schema=None) as batch_op:
        batch_op.drop_column("reason")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("first_entities")
        batch_op.drop_column("sentences")
        batch_op.drop_column("first_reported")
        batch_op.drop_column("recap")
        batch_op.drop_column("outlet_count")
        batch_op.drop_column("figures")
        batch_op.drop_column("sentence")
