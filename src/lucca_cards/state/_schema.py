"""The tables the store code reads and writes (SQLAlchemy Core).

This is the schema at the **head** revision. The migrations in ``migrations/versions``
do not import it: each revision spells out its own tables, as they were when it was
written, so that an old revision never changes behind a file it already migrated. A test
compares the migrated database with these definitions.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
)

metadata = MetaData()

#: Employee id → Cards user id (revision 1, the table of the first release; revision 3
#: added the life-cycle columns, all nullable: a link made before knows none of them).
links = Table(
    "links",
    metadata,
    Column("employee_id", Text, primary_key=True),
    Column("cards_user_id", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("linked_at", Text, nullable=False),  # ISO 8601 text, as the first release wrote
    Column("created", Boolean),  # the integration created the Cards account
    Column("department_id", Text),  # the employee's department when last applied
    Column("group_name", Text),  # the department group the integration put the account in
    Column("offboarded", Text),  # the LeaverAction value applied, if any
    Column("offboarded_at", Text),  # ISO 8601 text, like linked_at
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

#: Every Lucca webhook event received, once per source and id, until applied (revision 3).
lucca_events = Table(
    "lucca_events",
    metadata,
    Column("source", Text, primary_key=True),  # the tenant's URL: ids are unique per source
    Column("event_id", Text, primary_key=True),
    Column("topic", Text, nullable=False),
    Column("occurred_at", DateTime, nullable=False),  # naive UTC: events apply in this order
    Column("received_at", DateTime, nullable=False),  # naive UTC, the inbox's clock
    Column("employee_id", Text),
    Column("payload", Text, nullable=False),  # the JSON body as text (a BOM dropped)
    Column("status", Text, nullable=False),  # pending | applied | failed | held
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime),  # naive UTC; a failed event's retry
    Column("last_error", Text),
    Column("applied_at", DateTime),  # naive UTC
    Index("ix_lucca_events_due", "status", "occurred_at"),
)

#: What the statistics publisher last found, or put, on each employee file (revision 4):
#: the digests its plan depended on, so that an unchanged file is not planned again.
published_files = Table(
    "published_files",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),  # the Lucca user
    Column("context", Text, nullable=False),  # the trainings and the publish settings
    Column("digest", Text, nullable=False),  # the learner's events and the field's value
    Column("holding", Boolean, nullable=False),  # whether the file held occurrences
)
