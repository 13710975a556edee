"""Alembic's environment: run the migrations on the connection the database opened.

``Database`` passes its connection, already inside a write transaction, through
``config.attributes["connection"]``; Alembic then runs every step in that transaction
(and commits nothing itself). There is no logging set-up here on purpose: the library
leaves logging to the application, so no ``fileConfig``.
"""

from __future__ import annotations

from alembic import context

from lucca_cards.state._migrate import VERSION_TABLE

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "the state database migrates itself when it is opened: "
        "use lucca_cards.state.Database(...), not the alembic command")

context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
