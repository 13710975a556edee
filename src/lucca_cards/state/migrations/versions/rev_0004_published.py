"""Revision 0004: what the statistics publisher last found, or put, on each employee file.

* ``published_files``: one row per Lucca user whose training field was found up to date
  or written by a publish: the digests of what that file's plan depended on (the Cards
  trainings and the publish settings; the learner's events and the field as Lucca holds
  it), and whether the file held occurrences. A later publish that finds the same
  digests knows the file is still up to date without planning it again.
  A new table only: nothing of revisions 0001 to 0003 changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``published_files``."""
    op.create_table(
        "published_files",
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("holding", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    """Drop ``published_files``."""
    op.drop_table("published_files")
