"""``Database``: the one state database every store of the SDK shares.

One SQLite file by default (``lucca-cards.sqlite``), or any database SQLAlchemy reaches by
URL (PostgreSQL for a deployment with several hosts). The stores are written in SQLAlchemy
Core only, with no SQLite-only SQL, so the same code runs on both.

SQLite is set up for several writers, threads and processes alike (a webhook receiver's
threads, a nightly publisher in another process):

* WAL journal (file databases): readers never block the writer, nor the writer readers;
* ``busy_timeout`` of 30 s: a writer waits for the one before it instead of failing;
* ``foreign_keys`` on;
* every write transaction starts with ``BEGIN IMMEDIATE`` (SQLAlchemy's pysqlite recipe:
  the driver's own transaction handling is switched off and SQLAlchemy emits the
  ``BEGIN``). A transaction that read first and wrote second would otherwise ask for the
  write lock mid-way, and SQLite fails such an upgrade at once with "database is locked"
  instead of waiting, to avoid a deadlock. Reads begin a plain (deferred) transaction,
  which in WAL mode never waits for a writer.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from .._secret import without_password
from ..errors import ConfigurationError
from . import _migrate
from ._migrate import SETTING

#: Where the state lives when nothing else is said: this file, in the current directory.
DEFAULT_DATABASE = "lucca-cards.sqlite"
#: How long a SQLite writer waits for the one before it, in milliseconds.
BUSY_TIMEOUT_MS = 30_000

_READ_ONLY = "lucca_cards_read_only"  # execution option: begin a deferred transaction
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_EXAMPLES = ("give a file path, or a URL such as sqlite:///lucca-cards.sqlite or "
             "postgresql+psycopg://user:password@host/database")


class Database:
    """The state database: links, training ledger; migrated to the current schema on open.

    Args:
        url_or_path: a file path (``"lucca-cards.sqlite"``, a :class:`~pathlib.Path`),
            ``":memory:"`` (a private in-memory database, shared by every thread of this
            object, gone when it is closed), or a SQLAlchemy URL (``"sqlite:///x.sqlite"``,
            ``"sqlite://"``, ``"postgresql+psycopg://user:password@host/db"``; install
            the driver the URL names).

    Opening creates the file if needed and applies the missing Alembic migrations; a
    link-store file of the first release is migrated without losing a link.

    Attributes:
        url: the database's URL, password masked (``***``): safe to print.
        engine: the SQLAlchemy engine (for the stores; its URL holds the password).

    Raises:
        ConfigurationError: (setting ``state_database``) the path cannot be created or
            written, the file is not a database, a newer lucca-cards wrote it, the URL is
            malformed, its driver is missing or the server cannot be reached.

    >>> with Database(":memory:") as db:
    ...     db
    Database('sqlite://')
    """

    def __init__(self, url_or_path: str | os.PathLike[str] = DEFAULT_DATABASE) -> None:
        url, shown = _parse(url_or_path)
        self.url: str = _shown(url)
        # An in-memory SQLite database lives in one connection that every thread shares
        # (StaticPool): transactions must then take turns, which this lock ensures.
        self._single_connection = url.get_backend_name() == "sqlite" and _is_memory(url)
        self._lock = threading.RLock()
        self._closed = False
        self.engine: Engine = _open(url, shown, self._single_connection)

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """Give a connection in a write transaction, committed on success, else rolled back.

        On SQLite the transaction starts with ``BEGIN IMMEDIATE``: it waits (up to 30 s)
        for the current writer, then holds the write lock until it ends.
        """
        with self._turn(), self.engine.connect() as connection, connection.begin():
            yield connection

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """Give a connection in a read transaction (one consistent snapshot; never waits)."""
        with self._turn(), self.engine.connect() as connection:
            connection.execution_options(**{_READ_ONLY: True})
            with connection.begin():
                yield connection

    @property
    def single_connection(self) -> bool:
        """``True`` for an in-memory SQLite database, whose one connection threads share."""
        return self._single_connection

    def close(self) -> None:
        """Close every connection (an in-memory database is then gone)."""
        with self._lock:
            self._closed = True
            self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database({self.url!r})"

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        lock = self._lock if self._single_connection else contextlib.nullcontext()
        with lock:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed")
            yield


def _parse(url_or_path: str | os.PathLike[str]) -> tuple[URL, str]:
    """Return the URL and how to name the database in a message (password masked)."""
    if isinstance(url_or_path, os.PathLike):
        text = os.fspath(url_or_path)
        is_url = False
    elif isinstance(url_or_path, str):
        text, is_url = url_or_path, bool(_SCHEME.match(url_or_path))
    else:
        raise TypeError("the state database is a path or a URL (str or os.PathLike), not "
                        f"{type(url_or_path).__name__}")
    if not text.strip():
        raise ConfigurationError(SETTING, f"is empty; {_EXAMPLES}")
    if text == ":memory:":
        return URL.create("sqlite"), "the in-memory database"
    if not is_url:
        path = os.path.abspath(text)  # a later chdir must not move the database
        return URL.create("sqlite", database=path), repr(path)
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        url = None
    if url is None:  # raised here, not in the except: no foreign exception in the chain
        raise ConfigurationError(SETTING, f"is not a database URL; {_EXAMPLES}")
    return url, repr(_shown(url))


def _shown(url: URL) -> str:
    """Return the URL as it may be shown: the credentials' and the query's passwords masked."""
    return without_password(url.render_as_string(hide_password=True))


def database_file(url_or_path: str | os.PathLike[str]) -> str | None:
    """Return the file a SQLite path or URL names (``None``: in memory, or a server).

    >>> database_file("sqlite:////var/lib/lucca-cards/state.sqlite")
    '/var/lib/lucca-cards/state.sqlite'
    """
    url, _ = _parse(url_or_path)
    if url.get_backend_name() != "sqlite" or _is_memory(url):
        return None
    return str(url.database)


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def _open(url: URL, shown: str, single_connection: bool) -> Engine:
    """Create the engine and migrate the database; every failure becomes a ConfigurationError.

    The ConfigurationError is raised outside the ``except`` block, so that it carries no
    driver exception (``__context__``) whose text or traceback would only confuse.
    """
    try:
        engine = _engine(url, single_connection)
    except (ImportError, SQLAlchemyError) as error:
        problem = _problem(error, shown, url)
    else:
        try:
            _migrate_on_open(engine, shown)
            return engine
        except ConfigurationError:
            engine.dispose()
            raise
        except Exception as error:
            engine.dispose()
            if not _is_database_error(error, engine):
                raise
            problem = _problem(error, shown, url)
    raise ConfigurationError(SETTING, problem)


def _engine(url: URL, single_connection: bool) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)  # a server may drop idle connections
    if single_connection:
        engine = create_engine(url, poolclass=StaticPool,
                               connect_args={"check_same_thread": False})
    else:
        engine = create_engine(url)
    _set_up_sqlite(engine, wal=not single_connection)
    return engine


def _set_up_sqlite(engine: Engine, *, wal: bool) -> None:
    """Apply the pragmas and the ``BEGIN IMMEDIATE`` recipe (see the module's note)."""

    @event.listens_for(engine, "connect")
    def _connected(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN: SQLAlchemy does
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: switching to WAL may itself wait for another connection.
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if wal:
                _switch_to_wal(cursor)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _switch_to_wal(cursor: Any, sleep: Callable[[float], None] = time.sleep,
                   clock: Callable[[], float] = time.monotonic) -> None:
    """Turn WAL on, retrying while another connection is creating the file or switching.

    SQLite does not call its busy handler for this: when twenty threads open a new file at
    once, all but one are told "database is locked" at once. They retry, backing off, for
    as long as the busy timeout would have let them wait.
    """
    deadline = clock() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error).lower() or clock() >= deadline:
                raise
        sleep(delay)
        delay = min(delay * 2, 0.1)


#: Held while a database of this process migrates (see :func:`_migrate_on_open`).
_MIGRATING = threading.Lock()
#: The PostgreSQL advisory lock taken to migrate ("lucca" in ASCII).
_PG_LOCK_KEY = 0x6C75636361


def _migrate_on_open(engine: Engine, shown: str) -> None:
    """Upgrade to the head unless the database is there (then no write lock is taken)."""
    with engine.connect() as connection:
        connection.execution_options(**{_READ_ONLY: True})
        with connection.begin():
            if _migrate.revisions(connection) == (_migrate.HEAD,):
                return
        # Checked again under the write lock: another process may be migrating it now.
        # Alembic's `op` and `context` are global to the process: two migrations at once,
        # even of two databases, would run each other's steps. One at a time, then.
        connection.execution_options(**{_READ_ONLY: False})
        with _MIGRATING, connection.begin():
            if connection.dialect.name == "postgresql":
                # What BEGIN IMMEDIATE is on SQLite: one migrating process at a time.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
            if _migrate.is_empty(connection):
                _migrate.create(connection)
            else:
                _migrate.upgrade(connection, shown)


def _is_database_error(error: Exception, engine: Engine) -> bool:
    dbapi = engine.dialect.loaded_dbapi
    return isinstance(error, (SQLAlchemyError, dbapi.Error))


def _problem(error: BaseException, shown: str, url: URL) -> str:
    """Say what went wrong opening the database, and what to do, in one sentence."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    reason = lines[0] if lines else type(cause).__name__
    # A driver may quote the URL it was given. A very short password is not searched for:
    # masking "p" would mangle every word of the message, and it is no secret to keep.
    reason = reason.replace(url.render_as_string(hide_password=False), shown.strip("'"))
    secrets = [url.password, url.query.get("password"), url.query.get("sslpassword")]
    for secret in secrets:
        for text in (secret if isinstance(secret, tuple) else (secret,)):
            if text and len(str(text)) >= 4:
                reason = reason.replace(str(text), "***")
    said = reason.lower()
    if isinstance(error, ImportError):
        return (f"the database driver for {shown} is not installed ({reason}); install it "
                "(for postgresql+psycopg://, pip install 'psycopg[binary]')")
    if isinstance(error, (NoSuchModuleError, ArgumentError)):
        return f"{shown} is not a database URL SQLAlchemy knows ({reason}); {_EXAMPLES}"
    if "not a database" in said or "encrypted" in said:
        return (f"{shown} is not a lucca-cards state database (it is not an SQLite file); "
                "give the path of the state database, or of a file that does not exist yet")
    if "unable to open" in said:
        return (f"cannot create or open {shown}: check that its folder exists and that this "
                "user may write in it, or give another path")
    if "readonly" in said or "read-only" in said:
        return (f"{shown} is read-only: the state database must be writable (give another "
                "path, or fix the file's permissions)")
    if "locked" in said:
        return (f"{shown} stayed locked by another program for {BUSY_TIMEOUT_MS // 1000} s; "
                "stop it (or wait for it to finish) and try again")
    return (f"cannot use {shown} as the state database ({reason}); check the path or URL, "
            "and that the database server is reachable")
