"""Bring a database to the head revision with Alembic, in one write transaction.

Alembic is driven in code, the way MLflow drives it for its tracking store: a
:class:`alembic.config.Config` whose ``script_location`` is the ``migrations`` folder
beside this module, and the open connection handed to ``env.py`` through
``config.attributes``. No ``alembic.ini`` is read, and Alembic configures no logging.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    insert,
    inspect,
    select,
)

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import Connection

#: The setting every error about the state database names.
SETTING = "state_database"
#: The revision of a link-store file written before migrations existed.
FIRST_REVISION = "0001"
#: The newest revision in ``migrations/versions`` (a test holds it to Alembic's own
#: answer). Every open compares the database with it: knowing it without Alembic saves
#: importing Alembic and reading the revision files, a tenth of a second per run.
HEAD = "0004"
_MIGRATIONS = Path(__file__).with_name("migrations")
_OLD_LINK_COLUMNS = {"employee_id", "cards_user_id", "email", "linked_at"}

#: Where the revision is kept: not Alembic's default ``alembic_version``, so that a
#: PostgreSQL database shared with another Alembic-managed application keeps both apart.
VERSION_TABLE = "lucca_cards_version"

# To read the revision (cheaper and quieter than an Alembic MigrationContext, which logs
# at INFO every time it is built, and this runs at every open), and to stamp a database
# created at the head: the table as Alembic creates it.
_version = Table(VERSION_TABLE, MetaData(),
                 Column("version_num", String(32), nullable=False),
                 PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"))


def scripts_head() -> str | None:
    """Return the head Alembic finds in ``migrations/versions`` (what :data:`HEAD` says)."""
    return _scripts().get_current_head()


def revisions(connection: Connection) -> tuple[str, ...]:
    """Return the revisions the database is stamped with (empty if it never was)."""
    if not inspect(connection).has_table(_version.name):
        return ()
    return tuple(sorted(connection.scalars(select(_version.c.version_num))))


def is_empty(connection: Connection) -> bool:
    """Tell whether the database holds no table at all (a new file, or in memory)."""
    return not inspect(connection).get_table_names()


def create(connection: Connection) -> None:
    """Create the head's tables in an empty database and stamp it, without Alembic.

    What running every revision would leave (a test holds the two to the same schema),
    a tenth of a second sooner: an in-memory database, the default of the link store, is
    new at every run.
    """
    from . import _schema  # the head's tables

    _schema.metadata.create_all(connection)
    _version.create(connection)
    connection.execute(insert(_version).values(version_num=HEAD))


def upgrade(connection: Connection, shown: str) -> None:
    """Upgrade the database to the head, inside the caller's (write) transaction.

    An unstamped database holding the first release's ``links`` table is stamped at
    revision ``0001`` first, so that the upgrade keeps its links.

    Raises:
        ConfigurationError: the database holds a revision this version does not know (a
            newer lucca-cards wrote it), or a ``links`` table that is not lucca-cards'.
    """
    from alembic import command  # on demand: importing Alembic costs a tenth of a second

    found = revisions(connection)
    known = {script.revision for script in _scripts().walk_revisions()}
    unknown = [revision for revision in found if revision not in known]
    if unknown:
        raise ConfigurationError(SETTING, (
            f"{shown} was written by a newer lucca-cards (schema revision {unknown[0]!r}; "
            f"this one knows up to {HEAD!r}); upgrade lucca-cards "
            "(pip install -U lucca-cards), or give another database"))
    config = _config(connection)
    if not found and _is_old_link_store(connection, shown):
        command.stamp(config, FIRST_REVISION)
    command.upgrade(config, "head")


def _is_old_link_store(connection: Connection, shown: str) -> bool:
    """Tell whether the database holds the first release's ``links`` table."""
    inspector = inspect(connection)
    if not inspector.has_table("links"):
        return False
    columns = {column["name"] for column in inspector.get_columns("links")}
    if columns != _OLD_LINK_COLUMNS:
        raise ConfigurationError(SETTING, (
            f"{shown} holds a 'links' table that lucca-cards did not create (columns "
            f"{', '.join(sorted(columns))}); give another database"))
    return True


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("path_separator", "os")  # else Alembic warns about the legacy one
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    # Loaded once per process: it reads every revision file.
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())
