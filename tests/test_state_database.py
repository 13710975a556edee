"""The state database: path, URL and memory forms, migrations on open, refusals, SQLite set-up."""

from __future__ import annotations

import importlib.util
import logging
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, event, text

from conftest import SECRET_MARK
from lucca_cards import ConfigurationError
from lucca_cards.state import (
    DEFAULT_DATABASE,
    Database,
    LinkStore,
    TrainingLedger,
    _migrate,
    _schema,
)
from lucca_cards.state import database as database_module
from lucca_cards.state._migrate import VERSION_TABLE
from lucca_cards.sync import LinkStore as SyncLinkStore

HEAD = "0004"
TABLES = {"lucca_cards_version", "links", "cards_events", "training_states", "lucca_events",
          "published_files"}

# The first release's link store, verbatim (src/lucca_cards/sync/links.py before `state/`).
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS links (
    employee_id   TEXT PRIMARY KEY,
    cards_user_id TEXT NOT NULL,
    email         TEXT NOT NULL,
    linked_at     TEXT NOT NULL
)
"""
OLD_INSERT = "INSERT OR REPLACE INTO links VALUES (?, ?, ?, ?)"
OLD_LINKS = [("416", "9c44-a", "jdoe@acme.fr", "2026-03-01T08:00:00+00:00"),
             ("417", "9c44-b", "ana@acme.fr", "2026-03-01T08:00:01+00:00")]


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    raw.close()
    return {name for (name,) in rows}


def sql_of(path: Path, query: str) -> list[tuple[Any, ...]]:
    raw = sqlite3.connect(path)
    try:
        return raw.execute(query).fetchall()
    finally:
        raw.close()


def old_link_store(path: Path) -> None:
    """Write a link-store file exactly as the first release did."""
    raw = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    raw.execute(OLD_SCHEMA)
    for link in OLD_LINKS:
        raw.execute(OLD_INSERT, link)
    raw.close()


def refusal(target: str | Path) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        Database(target)
    error = caught.value
    assert error.setting == "state_database"
    # No driver exception rides along, to be printed or to leak: not even as the context.
    assert error.__cause__ is None
    assert error.__context__ is None
    assert "Traceback" not in str(error)
    return error


# --- forms ------------------------------------------------------------------------------


def test_the_default_is_a_file_in_the_current_directory(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with Database() as db:
        assert DEFAULT_DATABASE == "lucca-cards.sqlite"
        assert db.url == f"sqlite:///{tmp_path / DEFAULT_DATABASE}"
    assert tables(tmp_path / DEFAULT_DATABASE) == TABLES


@pytest.mark.parametrize("form", ["str", "path", "url"])
def test_a_path_or_a_sqlite_url_opens_and_migrates_a_file(tmp_path: Path, form: str) -> None:
    path = tmp_path / "state.sqlite"
    given: str | Path = {"str": str(path), "path": path, "url": f"sqlite:///{path}"}[form]
    with Database(given) as db:
        assert db.engine.dialect.name == "sqlite"
    assert tables(path) == TABLES
    assert sql_of(path, "SELECT version_num FROM lucca_cards_version") == [(HEAD,)]


def test_a_relative_path_stays_where_it_was_opened(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = Database("relative.sqlite")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    with LinkStore(db) as links:
        links.record("1", "u1", "a@acme.fr")
    db.close()
    assert sql_of(tmp_path / "relative.sqlite", "SELECT employee_id FROM links") == [("1",)]
    assert not (tmp_path / "elsewhere" / "relative.sqlite").exists()


@pytest.mark.parametrize("memory", [":memory:", "sqlite://"])
def test_a_memory_database_is_private_and_shared_by_threads(memory: str) -> None:
    with Database(memory) as db, Database(memory) as other:
        LinkStore(db).record("1", "u1", "a@acme.fr")
        seen: list[dict[str, str]] = []
        reader = threading.Thread(target=lambda: seen.append(LinkStore(db).all()))
        reader.start()
        reader.join()
        assert seen == [{"1": "u1"}]
        assert LinkStore(other).all() == {}
        assert repr(db) == "Database('sqlite://')"


def test_a_closed_database_says_so() -> None:
    db = Database(":memory:")
    db.close()
    with pytest.raises(RuntimeError, match="closed"):
        LinkStore(db).all()


def test_stores_share_an_open_database_and_leave_it_open(tmp_path: Path) -> None:
    with Database(tmp_path / "shared.sqlite") as db:
        with LinkStore(db) as links, TrainingLedger(db) as ledger:
            links.record("1", "u1", "a@acme.fr")
            assert ledger.event_count() == 0
        assert LinkStore(db).all() == {"1": "u1"}  # still open after both closed


def test_a_path_of_another_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="path or a URL"):
        Database(42)  # type: ignore[arg-type]


# --- migrations -------------------------------------------------------------------------


def test_an_old_link_store_file_is_migrated_without_losing_a_link(tmp_path: Path) -> None:
    path = tmp_path / "lucca-cards.sqlite"
    old_link_store(path)
    assert tables(path) == {"links"}

    with LinkStore(path) as links:
        assert links.all() == {"416": "9c44-a", "417": "9c44-b"}
        links.record("418", "9c44-c", "new@acme.fr")

    assert tables(path) == TABLES
    assert sql_of(path, "SELECT version_num FROM lucca_cards_version") == [(HEAD,)]
    rows = sql_of(path, "SELECT * FROM links ORDER BY employee_id")
    assert [row[:4] for row in rows[:2]] == OLD_LINKS  # emails and link times too
    assert [row[4:] for row in rows[:2]] == [(None,) * 5] * 2  # life-cycle columns: unknown
    assert rows[2][:3] == ("418", "9c44-c", "new@acme.fr")


def test_a_new_database_is_created_at_the_head_and_a_reopen_changes_nothing(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "state.sqlite"
    caplog.set_level(logging.INFO, logger="alembic")
    Database(path).close()
    assert [r for r in caplog.records if r.name.startswith("alembic")] == []
    assert sql_of(path, "SELECT version_num FROM lucca_cards_version") == [(HEAD,)]
    schema = sql_of(path, "SELECT type, name, sql FROM sqlite_master ORDER BY name")

    Database(path).close()
    assert [r for r in caplog.records if r.name.startswith("alembic")] == []
    assert sql_of(path, "SELECT type, name, sql FROM sqlite_master ORDER BY name") == schema


def schema_of(path: Path) -> dict[str, Any]:
    """Every table's columns, indexes and their columns, as SQLite describes them."""
    names = [name for (name,) in sql_of(
        path, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {name: (sql_of(path, f"PRAGMA table_info({name})"),
                   [(index, sql_of(path, f"PRAGMA index_info({index[1]})"))
                    for index in sql_of(path, f"PRAGMA index_list({name})")])
            for name in names}


def migrated_from_empty(path: Path) -> None:
    """Run every revision on an empty file, as a database made before 0004 was."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        _migrate.upgrade(connection, str(path))
    engine.dispose()


def test_a_database_created_at_the_head_is_the_one_every_revision_makes(
        tmp_path: Path) -> None:
    created, migrated = tmp_path / "created.sqlite", tmp_path / "migrated.sqlite"
    Database(created).close()
    migrated_from_empty(migrated)
    assert sql_of(migrated, "SELECT version_num FROM lucca_cards_version") == [(HEAD,)]
    assert schema_of(created) == schema_of(migrated)
    assert schema_of(created)["published_files"][0]  # the newest table is there


def test_the_head_known_without_alembic_is_the_last_revision_file() -> None:
    # Opens compare the database with _migrate.HEAD, so that Alembic is imported only to
    # migrate: a revision added without moving HEAD would never run.
    assert _migrate.scripts_head() == _migrate.HEAD


def test_reopening_a_database_at_the_head_does_not_import_alembic(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    Database(path).close()
    code = ("import sys; from lucca_cards.state import Database; "
            f"Database({str(path)!r}).close(); print('alembic' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True,  # noqa: S603
                          text=True, check=True, timeout=60)
    assert done.stdout.strip() == "False"


def test_the_migrated_schema_is_the_one_the_stores_use(tmp_path: Path) -> None:
    # The revisions spell out their tables; _schema.py follows the head. They must agree.
    path = tmp_path / "state.sqlite"
    migrated_from_empty(path)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        differences = compare_metadata(context, _schema.metadata)
    engine.dispose()
    assert differences == []


def test_a_database_from_a_newer_release_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    Database(path).close()
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("UPDATE lucca_cards_version SET version_num = '0099'")
    raw.close()

    error = refusal(path)

    assert "newer lucca-cards" in str(error)
    assert "'0099'" in str(error)
    assert "upgrade lucca-cards" in str(error)
    assert sql_of(path, "SELECT version_num FROM lucca_cards_version") == [("0099",)]


def test_a_links_table_of_another_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE links (url TEXT, title TEXT)")
    raw.close()

    assert "did not create" in str(refusal(path))
    assert tables(path) == {"links"}


# --- refusals ---------------------------------------------------------------------------


def test_a_text_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just notes\n" * 20, encoding="utf-8")

    error = refusal(path)

    assert "is not a lucca-cards state database" in str(error)
    assert str(path) in str(error)
    assert path.read_text(encoding="utf-8") == "not a database, just notes\n" * 20


@pytest.mark.parametrize("where", ["under a file", "missing folder"])
def test_a_path_that_cannot_be_created_is_refused(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    parent = blocker if where == "under a file" else tmp_path / "missing"
    error = refusal(parent / "state.sqlite")
    assert "cannot create or open" in str(error)
    assert "folder exists" in str(error)


def test_a_read_only_database_that_needs_migrating_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lucca-cards.sqlite"
    old_link_store(path)
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"  # works even for root

    assert "is read-only" in str(refusal(read_only))

    assert tables(path) == {"links"}
    Database(path).close()  # migrated: now a read-only open needs no write, and works
    with LinkStore(read_only) as links:
        assert links.all() == {"416": "9c44-a", "417": "9c44-b"}


@pytest.mark.parametrize("url", ["nosuchdialect://host/db", "postgresql://host:notaport/db"])
def test_a_url_that_is_not_a_database_url_is_refused(url: str) -> None:
    assert "URL" in str(refusal(url))


def test_an_empty_path_is_refused() -> None:
    assert "is empty" in str(refusal("  "))


def test_a_postgresql_url_never_shows_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql+psycopg://lucca:{SECRET_MARK}-pw@db.internal:5432/state"
    # Not connecting: the engine is an in-memory SQLite one, only the URL is under test.
    monkeypatch.setattr(database_module, "_open",
                        lambda *args: create_engine("sqlite://"))

    db = Database(url)

    assert db.url == "postgresql+psycopg://lucca:***@db.internal:5432/state"
    assert repr(db) == "Database('postgresql+psycopg://lucca:***@db.internal:5432/state')"
    assert SECRET_MARK not in repr(LinkStore(db)) + repr(TrainingLedger(db))


@pytest.mark.skipif(importlib.util.find_spec("psycopg") is not None,
                    reason="psycopg is installed here")
def test_a_postgresql_url_whose_driver_is_missing_says_what_to_install() -> None:
    url = f"postgresql+psycopg://lucca:{SECRET_MARK}-pw@127.0.0.1:9/state"

    error = refusal(url)

    assert "pip install" in str(error)
    assert SECRET_MARK not in str(error)
    assert "***" in str(error)


def test_a_link_store_url_never_shows_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database_module, "_open", lambda *args: create_engine("sqlite://"))
    store = LinkStore(f"postgresql+psycopg://u:{SECRET_MARK}@h/db")
    assert store.path == "postgresql+psycopg://u:***@h/db"
    assert SECRET_MARK not in repr(store)


# --- SQLite set-up ----------------------------------------------------------------------


def test_a_file_database_is_in_wal_mode_with_a_busy_timeout_and_foreign_keys(
        tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with Database(path) as db, db.reading() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    # WAL is a property of the file: a plain connection sees it too.
    assert sql_of(path, "PRAGMA journal_mode") == [("wal",)]


def test_writes_begin_immediate_and_reads_do_not(tmp_path: Path) -> None:
    with Database(tmp_path / "state.sqlite") as db:
        sent: list[str] = []
        event.listen(db.engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *args: sent.append(statement))
        links = LinkStore(db)
        links.record("1", "u1", "a@acme.fr")
        writes = list(sent)
        sent.clear()
        links.get("1")
    assert writes[0] == "BEGIN IMMEDIATE"
    # The link store may read the current link first: inside the same write transaction.
    assert any(statement.startswith("INSERT INTO links") for statement in writes[1:])
    assert sent[0] == "BEGIN"
    assert sent[1].startswith("SELECT")


def test_a_reader_does_not_block_a_writer(tmp_path: Path) -> None:
    # WAL: an open read transaction elsewhere (here a plain sqlite3 connection) must not
    # make a write wait, nor see it half-way.
    path = tmp_path / "state.sqlite"
    with LinkStore(path) as links:
        links.record("1", "u1", "a@acme.fr")
        reader = sqlite3.connect(path, isolation_level=None)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM links").fetchone() == (1,)
        links.record("2", "u2", "b@acme.fr")
        assert reader.execute("SELECT count(*) FROM links").fetchone() == (1,)
        reader.execute("COMMIT")
        assert reader.execute("SELECT count(*) FROM links").fetchone() == (2,)
        reader.close()


# --- the link store on the database -----------------------------------------------------


def test_the_link_store_keeps_its_first_release_behaviour(tmp_path: Path) -> None:
    assert SyncLinkStore is LinkStore
    path = tmp_path / "links.sqlite"
    with SyncLinkStore(path) as links:
        assert links.get("416") is None
        links.record("416", "9c44-a", "jdoe@acme.fr")
        links.record("416", "9c44-b", "jdoe@acme.fr")  # replaced, not duplicated
        links.record("417", "9c44-c", "ana@acme.fr")
        assert repr(links) == f"LinkStore({str(path)!r})"
    with SyncLinkStore(os.fspath(path)) as links:
        assert links.get("416") == "9c44-b"
        assert links.all() == {"416": "9c44-b", "417": "9c44-c"}
    assert SyncLinkStore().path == ":memory:"


def test_a_text_query_runs_through_the_public_engine(tmp_path: Path) -> None:
    with Database(tmp_path / "state.sqlite") as db, db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM links")).scalar() == 0
