"""The store: one database (SQLite by default) holding the ledger, its audit trail and the daemon lock."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator

# Seconds a writer waits for another process's write transaction before giving up.
BUSY_TIMEOUT_SECONDS = 30
# A daemon that has not refreshed its heartbeat for this long is presumed dead.
DEFAULT_STALE_SECONDS = 120
LOCK_NAME = "daemon"
READ_ONLY = "wst_read_only"  # connection info flag: this transaction only reads


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored as fixed-width UTC ISO text, so text order is time order."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            # A naive time is ambiguous on the days the clocks change; refuse rather than guess.
            raise ValueError(f"naive datetime {value.isoformat()}: pass a timezone-aware time")
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return datetime.fromisoformat(value)


metadata = MetaData()

# Named `ledger`, `approvals`, ... never `apscheduler_jobs`: APScheduler owns that table in the same file.
ledger_table = Table(
    "ledger", metadata,
    Column("key", String(40), primary_key=True),
    Column("item_id", String(300), nullable=False, index=True),
    Column("channel", String(80), nullable=False),
    Column("version", String(40), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("campaign", String(120), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("responsibility", String(80), nullable=False, default=""),
    Column("help", Boolean, nullable=False, default=False),
    Column("due", UTCDateTime, nullable=False, index=True),
    Column("state", String(20), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("remote_id", Text),
    Column("url", Text),
    Column("last_error", Text),
    Column("error_kind", String(20)),    # a pipeline.states.ErrorKind, with last_error's words
    Column("hold_reason", String(20)),   # a pipeline.states.HoldReason, with last_error's words
    Column("published_at", UTCDateTime),
    Column("lateness_seconds", Float),
    Column("dry_run", Boolean, nullable=False, default=False),
    Column("held_pause_id", Integer, ForeignKey("pauses.id")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

approvals_table = Table(
    "approvals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(300), nullable=False, index=True),
    Column("version", String(40), nullable=False),
    Column("person", String(80), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("accepted_identifying", Boolean, nullable=False, default=False),
    # Set when an edit replaces this version: the approval no longer counts.
    Column("voided_at", UTCDateTime),
)

events_table = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("by", String(80), nullable=False),
    Column("key", String(40)),
    Column("item_id", String(300)),
    Column("details", Text, nullable=False, default="{}"),
)

pauses_table = Table(
    "pauses", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reason", Text, nullable=False),
    Column("by", String(80), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("until", UTCDateTime),
    Column("keep_help", Boolean, nullable=False, default=False),
    Column("ended_at", UTCDateTime),
    Column("ended_by", String(80)),
)

channel_health_table = Table(
    "channel_health", metadata,
    Column("channel", String(80), primary_key=True),
    Column("flagged", Boolean, nullable=False, default=False),
    Column("reason", Text),
    Column("flagged_at", UTCDateTime),
    Column("rate_limited_until", UTCDateTime),
    Column("updated_at", UTCDateTime),
)

daemon_lock_table = Table(
    "daemon_lock", metadata,
    Column("name", String(40), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("host", String(255), nullable=False),
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
)


@dataclass(frozen=True)
class LockHolder:
    """Who holds the daemon lock, and when they last said they were alive."""

    owner: str
    pid: int
    host: str
    acquired_at: datetime
    heartbeat_at: datetime


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (signal 0 checks without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists but belongs to someone else
    except OSError:
        return False
    return True


class Store:
    """The open database: an engine, the tables, and the one-daemon lock."""

    def __init__(self, engine: Engine, *, stale_after: float = DEFAULT_STALE_SECONDS,
                 durable_engine: Engine | None = None, write_lock: threading.RLock | None = None):
        self.engine = engine
        # The same database through connections that flush every commit to the disk (on
        # SQLite, synchronous=FULL set once per connection); `engine` itself syncs NORMAL.
        self.durable_engine = durable_engine or engine
        # SQLite: read_one() and atomic() run on the driver directly (see _Direct).
        self._direct = _Direct(write_lock) if write_lock is not None else None
        self.metadata = metadata
        self.stale_after = timedelta(seconds=stale_after)
        # Identity of this process for the lock; attributes so a test can pose as another machine.
        self.pid = os.getpid()
        self.host = socket.gethostname()

    @contextlib.contextmanager
    def durable(self):
        """A transaction that is on disk when it commits (power-cut safe), for the marks that
        decide whether a platform is called again."""
        with self.durable_engine.begin() as conn:
            yield conn

    def read_one(self, statement: Any, params: dict[str, Any] | None = None) -> list[Any]:
        """Run ONE reading statement and return its rows: one consistent snapshot, no write
        lock (on SQLite as its own implicit transaction, with no BEGIN or COMMIT around it)."""
        if self._direct is not None:
            return self._direct.run(self.engine, statement, params or {}, write=False)
        with self.reading() as conn:
            return list(conn.execute(statement, params or {}).mappings())

    def atomic(self, statement: Any, params: dict[str, Any] | None = None, *,
               durable: bool = False) -> list[Any]:
        """Run ONE writing statement as its own transaction and return its rows (RETURNING).

        For the transitions a publication makes on its hot path: a compare-and-set
        `UPDATE ... WHERE ... RETURNING ...` needs no transaction around it, and on SQLite it
        then costs one statement instead of BEGIN IMMEDIATE, a read, the write and COMMIT.
        `durable` flushes it to the disk before returning, as `durable()` does."""
        engine = self.durable_engine if durable else self.engine
        if self._direct is not None:
            return self._direct.run(engine, statement, params or {}, write=True)
        with engine.begin() as conn:
            return list(conn.execute(statement, params or {}).mappings())

    @contextlib.contextmanager
    def reading(self):
        """A transaction that only reads: on SQLite a plain deferred BEGIN, so it takes no write
        lock and never waits for (or holds up) a writer; it sees one consistent snapshot.
        Nothing read here may be trusted by a later write: writes re-read under BEGIN IMMEDIATE."""
        with self.engine.connect() as conn:
            conn.info[READ_ONLY] = True
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop(READ_ONLY, None)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()
        if self.durable_engine is not self.engine:
            self.durable_engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def acquire_daemon_lock(self, owner: str, now: datetime) -> bool:
        """Take (or refresh) the one-daemon lock; False while another live daemon holds it."""
        try:
            return self._acquire(owner, now)
        except IntegrityError:
            # Another process inserted the first lock row between our read and our insert (a server
            # database without SQLite's BEGIN IMMEDIATE): it won.
            return False

    def _acquire(self, owner: str, now: datetime) -> bool:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(daemon_lock_table).where(daemon_lock_table.c.name == LOCK_NAME)
                .with_for_update()
            ).mappings().first()
            values = {"owner": owner, "pid": self.pid, "host": self.host, "heartbeat_at": now}
            if row is None:
                conn.execute(daemon_lock_table.insert().values(name=LOCK_NAME, acquired_at=now, **values))
                return True
            if self._is_mine(row, owner):
                conn.execute(daemon_lock_table.update()
                             .where(daemon_lock_table.c.name == LOCK_NAME)
                             .values(heartbeat_at=now))
                return True
            if not self._abandoned(row, now):
                return False
            conn.execute(daemon_lock_table.update()
                         .where(daemon_lock_table.c.name == LOCK_NAME)
                         .values(acquired_at=now, **values))
            return True

    def heartbeat(self, owner: str, now: datetime) -> bool:
        """Refresh the lock; False means it was lost (taken over) and this daemon must stop publishing."""
        with self.engine.begin() as conn:
            result = conn.execute(
                daemon_lock_table.update()
                .where(daemon_lock_table.c.name == LOCK_NAME, daemon_lock_table.c.owner == owner,
                       daemon_lock_table.c.pid == self.pid, daemon_lock_table.c.host == self.host)
                .values(heartbeat_at=now))
            return result.rowcount == 1

    def release_daemon_lock(self, owner: str) -> bool:
        """Give the lock up if this process holds it; True if it did."""
        with self.engine.begin() as conn:
            result = conn.execute(
                daemon_lock_table.delete()
                .where(daemon_lock_table.c.name == LOCK_NAME, daemon_lock_table.c.owner == owner,
                       daemon_lock_table.c.pid == self.pid, daemon_lock_table.c.host == self.host))
            return result.rowcount == 1

    def lock_holder(self) -> LockHolder | None:
        """The current holder of the daemon lock, if any (it may be stale)."""
        with self.reading() as conn:
            row = conn.execute(select(daemon_lock_table)
                               .where(daemon_lock_table.c.name == LOCK_NAME)).mappings().first()
        if row is None:
            return None
        return LockHolder(row["owner"], row["pid"], row["host"], row["acquired_at"], row["heartbeat_at"])

    def _is_mine(self, row: Any, owner: str) -> bool:
        return row["owner"] == owner and row["pid"] == self.pid and row["host"] == self.host

    def _abandoned(self, row: Any, now: datetime) -> bool:
        # Staleness alone is enough: a pid can be reused after a crash, so "alive" is not proof.
        if now - row["heartbeat_at"] > self.stale_after:
            return True
        return row["host"] == self.host and row["pid"] != self.pid and not pid_alive(row["pid"])


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


class _SQLiteConnection(sqlite3.Connection):
    """A driver connection that lets go of its engine's in-process write lock when the write
    transaction ends (commit, rollback or close), whichever way SQLAlchemy or the pool ends it."""

    wst_write_lock: threading.RLock | None = None
    wst_holds = False

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._wst_release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._wst_release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._wst_release()

    def _wst_release(self) -> None:
        if self.wst_holds:
            self.wst_holds = False
            with contextlib.suppress(RuntimeError):  # never let bookkeeping mask the real outcome
                self.wst_write_lock.release()


def _tune_sqlite(engine: Engine, write_lock: threading.RLock, synchronous: str) -> None:
    """WAL, a busy timeout, a sync level, and BEGIN IMMEDIATE so two processes never both write."""
    # Threads of one process queue for the write lock here, not in SQLite's busy handler: that
    # handler polls with sleeps of up to 100 ms, so with dozens of workers (and the scheduler
    # thread deleting each due job) a write waited far longer than the writes before it took.
    # A Python lock hands over at once. It is only an aid: SQLite's lock still decides (and
    # still keeps other processes out), and after the busy timeout a waiter goes on to SQLite.
    # The store's two engines (NORMAL and FULL sync) share one write lock.

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, _SQLiteConnection):
            dbapi_connection.wst_write_lock = write_lock
        # The driver's own implicit transactions would start DEFERRED; we issue BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout first: switching a new file to WAL needs a moment's exclusive lock,
        # and two daemons started together on a fresh store must wait, not fail.
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        _retry_locked(lambda: cursor.execute("PRAGMA journal_mode=WAL"))
        cursor.execute("PRAGMA foreign_keys=ON")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a commit stays atomic and
        # survives a crash of the process, but a power cut may undo the last ones. That is fine
        # for bookkeeping, not for the `publishing` mark written before a platform is called
        # (losing it could post twice), so that goes through the FULL engine (`Store.durable()`,
        # `Store.atomic(durable=True)`), whose commit also makes every earlier commit durable.
        # Set once per connection: each engine keeps its own pool, so no transaction pays for
        # switching a connection's level.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.info.get(READ_ONLY):
            # A read needs no write lock. A deferred BEGIN in WAL reads a snapshot alongside
            # writers instead of queueing behind them (~half a publication's transactions are
            # reads; under IMMEDIATE they were serialised).
            conn.exec_driver_sql("BEGIN")
            return
        dbapi = conn.connection.dbapi_connection
        if isinstance(dbapi, _SQLiteConnection) and not dbapi.wst_holds:
            dbapi.wst_holds = write_lock.acquire(timeout=BUSY_TIMEOUT_SECONDS)
        try:
            # IMMEDIATE takes the write lock up front, so a read-then-write transaction (the lock,
            # a state transition) can't interleave with another process's; WAL readers proceed.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if isinstance(dbapi, _SQLiteConnection):
                dbapi._wst_release()
            raise


class _Compiled:
    """A Core statement compiled once for SQLite: its SQL, its parameters in order with their
    bind processing, and its result columns with their result processing."""

    def __init__(self, statement: Any, dialect: Any):
        compiled = statement.compile(dialect=dialect)
        self.compiled = compiled
        self.sql = compiled.string
        self.order = compiled.positiontup or []
        self.binds = {name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                      for name in set(self.order)}
        columns = list(statement.exported_columns)  # a RETURNING's, or a SELECT's
        self.names = [c.key for c in columns]
        self.results = [c.type.dialect_impl(dialect).result_processor(dialect, None)
                        for c in columns]

    def parameters(self, params: dict[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(params)
        out = []
        for name in self.order:
            value, process = values[name], self.binds[name]
            out.append(process(value) if process is not None else value)
        return out

    def rows(self, raw: list[tuple]) -> list[dict[str, Any]]:
        names, results = self.names, self.results
        return [{n: (f(v) if f is not None else v) for n, f, v in zip(names, results, row, strict=True)}
                for row in raw]


class _Direct:
    """The SQLite fast path of Store.read_one() and Store.atomic(): the statement, compiled once,
    runs on the pooled driver connection itself. SQLAlchemy's per-execution machinery (a
    Connection, its transaction and events, a cursor result) cost several times what SQLite
    spent, and in a burst of publications that CPU is what every worker queues for. Same
    pool, same connections (their PRAGMAs), same in-process write lock as every other write."""

    def __init__(self, write_lock: threading.RLock):
        self.write_lock = write_lock
        self._compiled: dict[int, tuple[Any, _Compiled]] = {}

    def _compile(self, engine: Engine, statement: Any) -> _Compiled:
        found = self._compiled.get(id(statement))
        if found is None or found[0] is not statement:  # keep the statement: ids are reused
            found = self._compiled[id(statement)] = (statement, _Compiled(statement, engine.dialect))
        return found[1]

    def run(self, engine: Engine, statement: Any, params: dict[str, Any], *, write: bool) -> list[Any]:
        compiled = self._compile(engine, statement)
        args = compiled.parameters(params)
        raw = engine.raw_connection()
        try:
            dbapi = raw.driver_connection
            if write and isinstance(dbapi, _SQLiteConnection) and not dbapi.wst_holds:
                dbapi.wst_holds = self.write_lock.acquire(timeout=BUSY_TIMEOUT_SECONDS)
            try:
                # the driver is in autocommit mode: the statement is its own transaction
                rows = dbapi.execute(compiled.sql, args).fetchall()
            finally:
                if isinstance(dbapi, _SQLiteConnection):
                    dbapi._wst_release()
        finally:
            raw.close()  # back to the pool
        return compiled.rows(rows)


def _retry_locked(action, attempts: int = 50, pause: float = 0.1) -> None:
    """Run `action`, waiting out 'database is locked' (not covered by the busy timeout)."""
    import sqlite3
    import time

    for attempt in range(attempts):
        try:
            action()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(pause)


def open_store(url: str, *, stale_after: float = DEFAULT_STALE_SECONDS) -> Store:
    """Open the database at `url`, creating the SQLite file's folder and any missing tables."""
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_lock = threading.RLock()
        engine, durable = (create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS,
                                                            "factory": _SQLiteConnection})
                           for _ in range(2))
        _tune_sqlite(engine, write_lock, "NORMAL")
        _tune_sqlite(durable, write_lock, "FULL")
    else:
        engine = durable = create_engine(url)
        write_lock = None
    metadata.create_all(engine)
    return Store(engine, stale_after=stale_after, durable_engine=durable,
                 write_lock=write_lock if path is not None else None)
