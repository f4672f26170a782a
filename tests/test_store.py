"""The store on a real SQLite file and on a real PostgreSQL database: the tables, the two kinds
of transaction, and the one-daemon lock raced by real processes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import bindparam, inspect, select, text

from pipeline.store import DEFAULT_STALE_SECONDS, ledger_table, metadata, open_store, pid_alive
from pipeline.store.engine import PG_WRITE_LOCK

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2025, 3, 30, 0, 30, tzinfo=UTC)

# A separate interpreter that opens the store, says "ready", waits for a line, tries the lock,
# prints the outcome, then stays alive until its stdin closes (or it is killed).
CHILD = r"""
import sys
from datetime import datetime
from pipeline.store import open_store
url, owner, now, host = sys.argv[1:5]
store = open_store(url)
if host:
    store.lock.host = host
print("ready", flush=True)
sys.stdin.readline()
won = store.acquire_daemon_lock(owner, datetime.fromisoformat(now))
print("won" if won else "lost", flush=True)
sys.stdin.read()
"""


def child(url: str, owner: str, now: datetime, host: str = "") -> subprocess.Popen[str]:
    """Start a child process that will try the daemon lock when told to."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, url, owner, now.isoformat(), host],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def go(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()


def outcome(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    return proc.stdout.readline().strip()


def finish(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    assert proc.stdout is not None
    proc.stdout.close()


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL: no cleanup runs, so the lock row is left behind as a crash would leave it."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)  # reaped, so its pid is really gone
    for pipe in (proc.stdin, proc.stdout):
        assert pipe is not None
        pipe.close()
    assert not pid_alive(proc.pid)


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A SQLite store (for what only SQLite has: the file, WAL, PRAGMAs)."""
    return f"sqlite:///{tmp_path / 'var' / 'deeper' / 'wst.sqlite'}"


def test_open_store_creates_every_table_of_the_schema(store_url: str) -> None:
    """Opening an empty database creates every table of the schema; reopening is fine."""
    store = open_store(store_url)
    names = set(inspect(store.engine).get_table_names())
    assert set(metadata.tables) | {"alembic_version"} == names
    store.close()
    open_store(store_url).close()


def test_open_store_creates_folder_tables_and_wal(url: str, tmp_path: Path) -> None:
    """The folder and every table are created, the journal is WAL, and a reopen keeps the data."""
    store = open_store(url)
    path = tmp_path / "var" / "deeper" / "wst.sqlite"
    assert path.exists()
    with sqlite3.connect(path) as raw:
        names = {r[0] for r in raw.execute("select name from sqlite_master where type='table'")}
        assert raw.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert {"ledger", "approvals", "events", "pauses", "channel_health", "daemon_lock"} <= names
    # APScheduler creates its own table in the same file; ours must never claim the name.
    assert "apscheduler_jobs" not in metadata.tables
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("pragma busy_timeout").scalar() >= 1000
    store.close()
    open_store(url).close()  # opening again over existing tables is fine


def test_times_are_stored_as_utc_text_and_naive_times_refused(store_url: str) -> None:
    """A London time is stored as UTC text and read back as the same instant; a naive time is refused."""
    store = open_store(store_url)
    london_summer = timezone(timedelta(hours=1))
    due = datetime(2025, 6, 1, 10, 0, tzinfo=london_summer)
    row = dict(key="k", item_id="i", channel="x", version="v", kind="post", campaign="c", title="",
               responsibility="", help=False, due=due, state="planned", attempts=0, dry_run=False,
               created_at=NOW, updated_at=NOW)
    with store.writing() as conn:
        conn.execute(ledger_table.insert().values(**row))
    with store.reading() as conn:  # the column's text, as another program would read it
        assert conn.execute(text("select due from ledger")).scalar() == \
            "2025-06-01T09:00:00.000000+00:00"
    with store.reading() as conn:
        assert conn.execute(select(ledger_table.c.due)).scalar() == due
    with pytest.raises(Exception, match="naive"), store.writing() as conn:
        conn.execute(ledger_table.insert().values(**{**row, "key": "k2", "due": datetime(2025, 6, 1)}))
    store.close()


def test_lock_is_taken_refreshed_and_released(store_url: str) -> None:
    """The holder refreshes its own lock; another owner waits; after release the other gets it."""
    store = open_store(store_url)
    assert store.lock_holder() is None
    assert store.acquire_daemon_lock("daemon-a", NOW)
    assert store.acquire_daemon_lock("daemon-a", NOW + timedelta(seconds=30))
    holder = store.lock_holder()
    assert holder is not None
    assert (holder.owner, holder.pid) == ("daemon-a", os.getpid())
    assert holder.acquired_at == NOW and holder.heartbeat_at == NOW + timedelta(seconds=30)
    assert not store.acquire_daemon_lock("daemon-b", NOW + timedelta(seconds=31))
    assert not store.release_daemon_lock("daemon-b")
    assert store.release_daemon_lock("daemon-a")
    assert store.acquire_daemon_lock("daemon-b", NOW + timedelta(seconds=32))
    store.close()


def test_heartbeat_reports_a_lost_lock(store_url: str) -> None:
    """A daemon whose heartbeat went stale is taken over, and its next heartbeat says so."""
    first = open_store(store_url)
    second = open_store(store_url)
    second.lock.host = "another-host"  # pose as a daemon elsewhere, so only staleness decides
    assert first.acquire_daemon_lock("a", NOW)
    assert first.heartbeat("a", NOW + timedelta(seconds=60))
    later = NOW + timedelta(seconds=60 + DEFAULT_STALE_SECONDS - 1)
    assert not second.acquire_daemon_lock("b", later)
    assert second.acquire_daemon_lock("b", later + timedelta(seconds=2))
    assert not first.heartbeat("a", later + timedelta(seconds=3))
    first.close()
    second.close()


def test_two_real_processes_race_and_exactly_one_wins(store_url: str) -> None:
    """Four processes try the lock at the same moment; exactly one holds it."""
    open_store(store_url).close()
    procs = [child(store_url, f"daemon-{i}", NOW) for i in range(4)]
    try:
        for proc in procs:
            go(proc)
        results = [outcome(proc) for proc in procs]
    finally:
        for proc in procs:
            finish(proc)
    assert sorted(results) == ["lost", "lost", "lost", "won"]


def test_killed_holder_on_this_host_is_taken_over_at_once(store_url: str) -> None:
    """SIGKILL the holder: its pid is gone, so the lock is free without waiting for staleness."""
    proc = child(store_url, "crashing", NOW)
    go(proc)
    assert outcome(proc) == "won"
    store = open_store(store_url)
    assert not store.acquire_daemon_lock("successor", NOW + timedelta(seconds=1))  # still alive
    kill(proc)
    assert store.acquire_daemon_lock("successor", NOW + timedelta(seconds=2))
    holder = store.lock_holder()
    assert holder is not None and holder.owner == "successor" and holder.pid == os.getpid()
    store.close()


def test_killed_holder_elsewhere_is_taken_over_after_the_stale_time(store_url: str) -> None:
    """A killed holder whose pid can't be checked (another host) blocks only until its heartbeat is stale."""
    proc = child(store_url, "crashing", NOW, host="another-host")
    go(proc)
    assert outcome(proc) == "won"
    kill(proc)
    store = open_store(store_url)
    assert not store.acquire_daemon_lock("successor", NOW + timedelta(seconds=DEFAULT_STALE_SECONDS))
    assert store.acquire_daemon_lock("successor", NOW + timedelta(seconds=DEFAULT_STALE_SECONDS + 1))
    store.close()


def test_live_holder_keeps_the_lock_from_another_process(store_url: str) -> None:
    """A live daemon in another process keeps the lock; a second process is refused."""
    holder = child(store_url, "first", NOW)
    other = child(store_url, "second", NOW + timedelta(seconds=5))
    try:
        go(holder)
        assert outcome(holder) == "won"
        go(other)
        assert outcome(other) == "lost"
    finally:
        finish(holder)
        finish(other)


def _noop() -> None:
    """A job target for the shared-engine test."""


def test_apscheduler_job_store_shares_the_engine(store_url: str) -> None:
    """APScheduler's job store works over the store's own engine, beside the ledger's tables."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    store = open_store(store_url)
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(engine=store.engine)},
                                    timezone=UTC)
    scheduler.start(paused=True)
    try:
        # Far in the future: the scheduler's thread reads the real clock, and must not run it.
        scheduler.add_job(_noop, "date", run_date=datetime(2999, 1, 1, tzinfo=UTC), id="publish:x")
        assert [job.id for job in scheduler.get_jobs()] == ["publish:x"]
        assert store.acquire_daemon_lock("daemon", NOW)  # our tables still work on the same file
    finally:
        scheduler.shutdown(wait=False)
        store.close()


OPENER = r"""
import sys, time
from pipeline.store import open_store
url, start = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))  # all open the brand-new file at the same moment
open_store(url).close()
print("opened", flush=True)
"""


def test_processes_opening_a_brand_new_store_together_all_succeed(store_url: str) -> None:
    """Switching a new file to WAL needs a moment's exclusive lock: the others wait for it."""
    import time

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.time() + 1.0
    procs = [subprocess.Popen([sys.executable, "-c", OPENER, store_url, str(start)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(12)]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), [err for _, err in results]
    assert all(out.strip() == "opened" for out, _ in results)


def test_every_sqlite_connection_syncs_fully_with_foreign_keys(url: str) -> None:
    """One engine: every connection flushes each commit to the disk (synchronous=FULL), so the
    `publishing` mark survives a power cut, and enforces foreign keys."""
    store = open_store(url)
    try:
        with store.writing() as a, store.reading() as b:  # two pooled connections at once
            for conn in (a, b):
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        store.close()


def _row(key: str, state: str = "approved") -> dict:
    return {"key": key, "item_id": f"item/{key}", "channel": "x", "version": "v1", "kind": "post",
            "campaign": "c", "title": "t", "responsibility": "r", "help": False, "due": NOW,
            "state": state, "attempts": 0, "dry_run": False, "created_at": NOW, "updated_at": NOW}


class OtherWriter:
    """Another process's write transaction on the same database, through its own driver
    connection: SQLite's BEGIN IMMEDIATE, or PostgreSQL's transaction holding the write lock."""

    def __init__(self, url: str):
        if url.startswith("sqlite"):
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            import psycopg

            self.conn = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
            self.conn.execute(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")

    def execute(self, sql: str) -> None:
        self.conn.execute(sql)

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()


def test_a_write_waits_for_another_process_writer_and_a_read_does_not(store_url: str) -> None:
    """A compare-and-set in writing() returns the rows it changed and, like every write, waits
    (not fails) while another process holds the write lock; reading() does not wait, and sees
    the last commit."""
    import threading
    import time

    store = open_store(store_url)
    try:
        with store.writing() as conn:
            conn.execute(ledger_table.insert(), [_row("a"), _row("b", "published")])
        cas = (ledger_table.update().where(ledger_table.c.state == "approved")
               .values(state="publishing", attempts=ledger_table.c.attempts + 1)
               .returning(ledger_table.c.key, ledger_table.c.attempts))

        def write() -> None:
            with store.writing() as conn:
                found.extend(conn.execute(cas).all())

        other = OtherWriter(store_url)
        other.execute("UPDATE ledger SET title = 'edited' WHERE key = 'a'")
        found: list = []
        worker = threading.Thread(target=write)
        worker.start()
        time.sleep(0.5)
        assert worker.is_alive() and found == []  # waiting for the other writer
        with store.reading() as conn:  # a read does not wait, and sees the last commit
            assert conn.execute(select(ledger_table.c.title)
                                .where(ledger_table.c.key == "a")).scalar() == "t"
        other.commit()
        worker.join(30)
        assert [tuple(r) for r in found] == [("a", 1)]
        with store.writing() as conn:
            assert conn.execute(cas).all() == []  # nothing matches any more: nothing changed
        with store.reading() as conn:
            rows = conn.execute(select(ledger_table.c.key, ledger_table.c.state, ledger_table.c.title)
                                .order_by(ledger_table.c.key)).all()
        assert [tuple(r) for r in rows] == [("a", "publishing", "edited"), ("b", "published", "t")]
    finally:
        store.close()


def test_reading_takes_no_write_lock_and_writing_takes_it_at_begin(url: str) -> None:
    """On SQLite a read is a deferred BEGIN (another process may start writing meanwhile); a
    write is BEGIN IMMEDIATE (another process can't start writing until it ends)."""
    store = open_store(url)
    other = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=0)
    try:
        with store.reading() as conn:
            conn.execute(select(ledger_table.c.key)).all()
            other.execute("BEGIN IMMEDIATE")  # free to write while we read
            other.execute("ROLLBACK")
        with store.writing(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")  # held from our BEGIN, before any statement
    finally:
        other.close()
        store.close()


def test_a_returning_write_gives_typed_rows(store_url: str) -> None:
    """`UPDATE ... RETURNING` in writing() returns rows typed as the schema says (UTC times as
    aware datetimes, booleans as bools) on either database; a second run matches nothing."""
    store = open_store(store_url)
    try:
        with store.writing() as conn:
            conn.execute(ledger_table.insert(), [_row("a"), _row("b")])
        cas = (ledger_table.update().where(ledger_table.c.key == bindparam("k"),
                                           ledger_table.c.state == "approved")
               .values(state="publishing", updated_at=bindparam("now"))
               .returning(*ledger_table.c))
        later = NOW + timedelta(minutes=1)
        with store.writing() as conn:
            (one,) = conn.execute(cas, {"k": "a", "now": later}).mappings().all()
        assert one["updated_at"] == later and one["help"] is False and one["due"] == NOW
        assert one["state"] == "publishing" and one["error_kind"] is None
        read = select(ledger_table).where(ledger_table.c.key == bindparam("key"))
        with store.reading() as conn:
            assert dict(conn.execute(read, {"key": "a"}).mappings().one()) == dict(one)
        with store.writing() as conn:
            assert conn.execute(cas, {"k": "a", "now": later}).all() == []  # no longer approved
    finally:
        store.close()


def test_the_stale_time_comes_from_the_store_settings(store_url: str) -> None:
    """`[store] lock_stale_seconds` (passed as stale_after) decides when a holder elsewhere is
    presumed dead."""
    first = open_store(store_url)
    second = open_store(store_url, stale_after=10)
    second.lock.host = "another-host"
    try:
        assert first.acquire_daemon_lock("a", NOW)
        assert not second.acquire_daemon_lock("b", NOW + timedelta(seconds=10))
        assert second.acquire_daemon_lock("b", NOW + timedelta(seconds=11))
    finally:
        first.close()
        second.close()


def test_a_standby_waits_for_the_lock_and_stops_when_told(store_url: str) -> None:
    """DaemonLock.wait polls until the holder's heartbeat is stale, then takes the lock; it
    says who holds it once; and it gives up when its stop event is set."""
    import threading

    first = open_store(store_url)
    second = open_store(store_url, stale_after=30)
    second.lock.host = "another-host"
    clock = [NOW]
    told: list = []
    try:
        assert first.acquire_daemon_lock("active", NOW)
        stop = threading.Event()

        def tick() -> datetime:
            clock[0] += timedelta(seconds=10)  # each try is ten seconds later
            return clock[0]
        assert second.lock.wait("standby", tick, stop, 0.01, told.append)
        assert clock[0] == NOW + timedelta(seconds=40)  # first past the stale time
        assert [h.owner for h in told] == ["active"]
        assert second.lock_holder().owner == "standby"
        assert not first.heartbeat("active", clock[0])
        stop.set()
        assert not first.lock.wait("again", tick, stop, 0.01)  # stopped: never took it
    finally:
        first.close()
        second.close()
