"""Revision 0001: the ``links`` table, exactly as the first release created it.

A link-store file of that release has this table and no version table (``lucca_cards_version``): the
database stamps it at this revision, then upgrades it, so no link is lost.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``links``: employee id → Cards user id, the email, when it was linked."""
    op.create_table(
        "links",
        sa.Column("employee_id", sa.Text(), primary_key=True),
        sa.Column("cards_user_id", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("linked_at", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    """Drop ``links``."""
    op.drop_table("links")
