"""The one engine of a store, and the two kinds of transaction everything runs in.

A write transaction is serialised against every other writer, whichever process it is in, so a
read-then-write (a state transition, the daemon lock, an approval) can't interleave with
another: on SQLite it starts with `BEGIN IMMEDIATE`; on PostgreSQL it first takes one
transaction-level advisory lock (`pg_advisory_xact_lock`), released by its COMMIT or ROLLBACK.
A read-only transaction takes neither: on SQLite a plain deferred `BEGIN` reads a WAL snapshot
beside the writer; on PostgreSQL it is `REPEATABLE READ READ ONLY`, one snapshot too.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

# Seconds a writer waits for another's write transaction before giving up.
BUSY_TIMEOUT_SECONDS = 30
# Connection execution option: this transaction only reads.
READING = "wst_reading"
# Pooled connection's record_info key: it holds the engine's in-process write lock.
HOLDS_WRITE_LOCK = "wst_holds_write_lock"
# The advisory lock every PostgreSQL write transaction takes (an arbitrary 63-bit constant;
# advisory locks are per database, so two stores on one server never share it).
PG_WRITE_LOCK = 0x5753_5400_0001


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None (another database, or SQLite in memory)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def is_postgresql(engine: Engine) -> bool:
    """Whether the engine talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


def make_engine(url: str) -> Engine:
    """The store's engine for `url`, with its transactions set up as the module says."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
        _tune_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True)
        if is_postgresql(engine):
            _tune_postgresql(engine)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit transactions would start DEFERRED; we issue BEGIN ourselves
        # (the recipe in SQLAlchemy's SQLite dialect documentation).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout first: switching a new file to WAL needs a moment's exclusive lock,
        # and two processes started together on a fresh store must wait, not fail.
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        _retry_locked(lambda: cursor.execute("PRAGMA journal_mode=WAL"))
        cursor.execute("PRAGMA foreign_keys=ON")
        # Every commit reaches the disk before it returns: the `publishing` mark written before
        # a platform is called must survive a power cut, or an item could be posted twice.
        # A FULL commit costs about 0.17 ms here, too little to keep a second, faster path.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    # Threads of this process queue for SQLite's write lock here, not in SQLite's busy handler.
    # That handler polls with sleeps of 1, 2, 5, 10 ... 100 ms, so in a burst (500 items due at
    # once, 32 workers and the scheduler thread) a writer could sleep far longer than the
    # writes before it took: bench/publish.py measured p99 lateness 3.7 s at 500 items (0.76 s
    # at 100) without this, the daemon at 54% of a core: waiting, not working; with it 1.8 s
    # (0.37 s) and 66%. A Python lock hands over the moment the holder is done. It is only an
    # aid: SQLite's lock still decides, and still keeps other processes out; after the busy
    # timeout a waiter goes on to SQLite regardless. Taken as a write transaction begins; let
    # go when its connection goes back to the pool, i.e. after its COMMIT (or ROLLBACK) has
    # finished, so the next writer's BEGIN IMMEDIATE never meets a commit still in progress.
    write_lock = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READING):
            conn.exec_driver_sql("BEGIN")
            return
        held = conn.connection.record_info
        if not held.get(HOLDS_WRITE_LOCK):
            held[HOLDS_WRITE_LOCK] = write_lock.acquire(timeout=BUSY_TIMEOUT_SECONDS)
        # IMMEDIATE takes the write lock up front, so no other writer can come between this
        # transaction's reads and its writes; WAL readers carry on meanwhile.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record.record_info.pop(HOLDS_WRITE_LOCK, False):
            write_lock.release()


def _tune_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if not conn.get_execution_options().get(READING):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")


def reading_options(engine: Engine) -> dict[str, Any]:
    """The execution options of a read-only transaction on this engine."""
    if is_postgresql(engine):
        # reset by SQLAlchemy when the connection goes back to the pool
        return {READING: True, "isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    return {READING: True}


def _retry_locked(action, attempts: int = 50, pause: float = 0.1) -> None:
    """Run `action`, waiting out 'database is locked' (the busy timeout does not cover it)."""
    for attempt in range(attempts):
        try:
            action()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(pause)
