"""the web desk: installation id and the item search index

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-07 09:00:00

``installation`` holds one row: an id made once per database, so calendar UIDs of two
installations never collide. ``item_search`` holds the match key of each item's text (with
the ids of the entities its events involve); the desk fills it in batches. SQLite searches it
through an FTS5 index kept in step by triggers, PostgreSQL through a GIN index over
``to_tsvector('simple', body)``. Two indexes serve the desk's timeline filtered by type or
status, newest first.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the desk's timeline filtered by type or by status, newest first
    op.create_index("ix_event_type_sort_date", "event", ["type", "sort_date"])
    op.create_index("ix_event_status_sort_date", "event", ["status", "sort_date"])
    op.create_table(
        "installation",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    table = sa.table("installation", sa.column("id", sa.String()),
                     sa.column("created_at", sa.DateTime(timezone=True)))
    now = datetime.now(UTC)
    op.bulk_insert(table, [{"id": uuid.uuid4().hex,
                            "created_at": now.replace(tzinfo=None)
                            if op.get_bind().dialect.name == "sqlite" else now}])
    op.create_table(
        "item_search",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.PrimaryKeyConstraint("item_id"),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE item_fts USING fts5(body, content='item_search', "
                   "content_rowid='item_id', tokenize='unicode61 remove_diacritics 0')")
        op.execute("CREATE TRIGGER item_search_ai AFTER INSERT ON item_search BEGIN "
                   "INSERT INTO item_fts(rowid, body) VALUES (new.item_id, new.body); END")
        op.execute("CREATE TRIGGER item_search_ad AFTER DELETE ON item_search BEGIN "
                   "INSERT INTO item_fts(item_fts, rowid, body) "
                   "VALUES ('delete', old.item_id, old.body); END")
    else:
        op.execute("CREATE INDEX ix_item_search_tsv ON item_search "
                   "USING gin (to_tsvector('simple', body))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER item_search_ad")
        op.execute("DROP TRIGGER item_search_ai")
        op.execute("DROP TABLE item_fts")
    op.drop_table("item_search")
    op.drop_table("installation")
    op.drop_index("ix_event_status_sort_date", table_name="event")
    op.drop_index("ix_event_type_sort_date", table_name="event")
