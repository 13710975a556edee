"""``--state``: where the commands keep their state database, and opening it."""

from __future__ import annotations

import argparse
import os

from ..config import Settings
from ..errors import ConfigurationError
from ..state import Database
from ..state.database import database_file

#: A database nobody keeps: what a preview of a file that does not exist yet reads.
_NOTHING = ":memory:"


def add_state_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--state PATH|URL`` (default: the ``state_database`` setting)."""
    parser.add_argument("--state", metavar="PATH|URL", default=None,
                        help="the state database: which Cards account each employee was "
                        "linked to, and the training ledger; a file path or a database URL "
                        "(default: the state_database setting, lucca-cards.sqlite in the "
                        "current directory)")


def state_path(args: argparse.Namespace, settings: Settings) -> str:
    """Return the database ``--state`` names, or the ``state_database`` setting."""
    return str(args.state or settings.state_database)


def open_state(args: argparse.Namespace, settings: Settings, *, create: bool = True
               ) -> Database:
    """Open the state database; with ``create=False`` a missing file is not created.

    Raises:
        ConfigurationError: the database cannot be used; named ``--state`` when the path
            came from that option, else ``state_database``.
    """
    path = state_path(args, settings)
    try:
        file = database_file(path)
    except ConfigurationError as error:
        raise _named(error, args) from None
    if not create and file is not None and not os.path.exists(file):
        return Database(_NOTHING)
    try:
        return Database(path)
    except ConfigurationError as error:
        raise _named(error, args) from None


def _named(error: ConfigurationError, args: argparse.Namespace) -> ConfigurationError:
    """Name the error's setting ``--state`` when the database came from that option."""
    return error if args.state is None else ConfigurationError("--state", error.problem)
