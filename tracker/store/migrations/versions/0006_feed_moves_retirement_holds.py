"""feed moves, retirement, server holds and parse warnings

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-07 08:40:00

- ``moved_to``: where a chain of permanent redirects (301/308) said the feed now lives; the
  config URL stays the feed's identity, the fetch goes here.
- ``retired_at``: set when the server answered 410 Gone; a retired feed is not polled.
- ``retry_after``: the instant a 429/503 Retry-After asked us to wait until; ``poll --once``
  honours it unless ``--force``.
- ``last_warning``: the last problem a fetch survived (bytes replaced while decoding, items
  past the cap, unreadable dates), shown by ``tracker feeds``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moved_to", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("retry_after", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_warning", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feed", schema=None) as batch_op:
        batch_op.drop_column("last_warning")
        batch_op.drop_column("retry_after")
        batch_op.drop_column("retired_at")
        batch_op.drop_column("moved_to")
