"""Revision 0002: the training ledger (Cards webhook events and learner states)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``cards_events`` and ``training_states``, with their indexes."""
    op.create_table(
        "cards_events",
        sa.Column("event_id", sa.Text(), primary_key=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("email", sa.Text()),
        sa.Column("training_id", sa.Text()),
        sa.Column("action_at", sa.DateTime()),
        sa.Column("payload", sa.Text(), nullable=False),
    )
    op.create_index("ix_cards_events_learner", "cards_events", ["email", "training_id"])
    op.create_table(
        "training_states",
        sa.Column("email", sa.Text(), primary_key=True),
        sa.Column("training_id", sa.Text(), primary_key=True),
        sa.Column("title", sa.Text()),
        sa.Column("chapters_count", sa.Integer()),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("points", sa.Integer()),
        sa.Column("max_points", sa.Integer()),
        sa.Column("last_action_at", sa.DateTime(), nullable=False),
        sa.Column("last_completed_at", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("cards_user_id", sa.Text()),
    )
    op.create_index("ix_training_states_updated_at", "training_states", ["updated_at"])


def downgrade() -> None:
    """Drop the ledger's tables."""
    op.drop_table("training_states")
    op.drop_table("cards_events")
