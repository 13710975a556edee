"""The tables the store code reads and writes (SQLAlchemy Core).

This is the schema at the **head** revision. The migrations in ``migrations/versions``
do not import it: each revision spells out its own tables, as they were when it was
written, so that an old revision never changes behind a file it already migrated. A test
compares the migrated database with these definitions.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, Integer, MetaData, Table, Text

metadata = MetaData()

#: Employee id → Cards user id (revision 1, exactly the table of the first release).
links = Table(
    "links",
    metadata,
    Column("employee_id", Text, primary_key=True),
    Column("cards_user_id", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("linked_at", Text, nullable=False),  # ISO 8601 text, as the first release wrote
)

#: Every Cards webhook event recorded, once per event id (revision 2).
cards_events = Table(
    "cards_events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("type", Text, nullable=False),
    Column("received_at", DateTime, nullable=False),  # naive UTC, the ledger's clock
    Column("email", Text),  # the learner's key, when the event names one
    Column("training_id", Text),
    Column("action_at", DateTime),  # the learner's action time, naive as Cards sends it
    Column("payload", Text, nullable=False),  # JSON text
    Index("ix_cards_events_learner", "email", "training_id"),
)

#: One learner's latest state in one training (revision 2).
training_states = Table(
    "training_states",
    metadata,
    Column("email", Text, primary_key=True),
    Column("training_id", Text, primary_key=True),
    Column("title", Text),
    Column("chapters_count", Integer),
    Column("progress", Float, nullable=False),
    Column("points", Integer),
    Column("max_points", Integer),
    Column("last_action_at", DateTime, nullable=False),
    Column("last_completed_at", DateTime),
    Column("updated_at", DateTime, nullable=False),  # naive UTC, the ledger's clock
    Column("cards_user_id", Text),
    Index("ix_training_states_updated_at", "updated_at"),
)
