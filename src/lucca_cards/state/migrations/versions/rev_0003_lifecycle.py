"""Revision 0003: the life cycle (the Lucca events inbox, and what a link remembers of it).

* ``lucca_events``: every Lucca webhook event received, once per ``source`` + ``id``, with
  where it stands (``pending``, ``applied``, ``failed`` with its next attempt, ``held``);
* ``links`` gains five nullable columns: whether the integration created the account, the
  employee's department when last applied, the department group the integration put the
  account in, and the offboarding applied, with its time.
  Added columns only: every link of revisions 0001 and 0002 stays as it was.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_LINK_COLUMNS = ("created", "department_id", "group_name", "offboarded", "offboarded_at")


def upgrade() -> None:
    """Create ``lucca_events`` and its index; add the life-cycle columns to ``links``."""
    op.create_table(
        "lucca_events",
        sa.Column("source", sa.Text(), primary_key=True),
        sa.Column("event_id", sa.Text(), primary_key=True),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("employee_id", sa.Text()),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime()),
        sa.Column("last_error", sa.Text()),
        sa.Column("applied_at", sa.DateTime()),
    )
    op.create_index("ix_lucca_events_due", "lucca_events", ["status", "occurred_at"])
    # SQLite adds a nullable column in place (ALTER TABLE … ADD COLUMN): no table copy.
    op.add_column("links", sa.Column("created", sa.Boolean()))
    op.add_column("links", sa.Column("department_id", sa.Text()))
    op.add_column("links", sa.Column("group_name", sa.Text()))
    op.add_column("links", sa.Column("offboarded", sa.Text()))
    op.add_column("links", sa.Column("offboarded_at", sa.Text()))


def downgrade() -> None:
    """Drop ``lucca_events`` and the life-cycle columns of ``links``."""
    op.drop_index("ix_lucca_events_due", table_name="lucca_events")
    op.drop_table("lucca_events")
    with op.batch_alter_table("links") as batch:  # SQLite drops columns by copying
        for name in reversed(_LINK_COLUMNS):
            batch.drop_column(name)
