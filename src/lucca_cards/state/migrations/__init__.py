"""Alembic migrations of the state database, applied by :class:`~lucca_cards.state.Database`.

There is no ``alembic.ini``: ``Database`` builds the Alembic configuration in code and
hands its open connection to ``env.py``. To add a revision, write a new file in
``versions/`` whose ``down_revision`` is the current head, spelling out its own tables
(never importing ``lucca_cards.state._schema``, which follows the head), and update
``_schema.py`` to match; ``tests/test_state_database.py`` checks that they agree.
"""
