"""The open store: one engine, read and write transactions, the daemon lock, and (SQLite) the file."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from pipeline.store import migrate
from pipeline.store.engine import make_engine, reading_options, sqlite_path
from pipeline.store.errors import StoreError, StoreInUse, unusable
from pipeline.store.file import StoreFile
from pipeline.store.lock import DEFAULT_STALE_SECONDS, DaemonLock, LockHolder
from pipeline.store.schema import metadata


class Store:
    """The open database: its engine, its two kinds of transaction and the one-daemon lock."""

    def __init__(self, engine: Engine, *, stale_after: float = DEFAULT_STALE_SECONDS,
                 file: StoreFile | None = None):
        self.engine = engine
        self.metadata = metadata
        self.lock = DaemonLock(self, stale_after)
        self.file = file  # the SQLite file, if the store is one
        self._reading = reading_options(engine)

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only transaction: one consistent snapshot that never takes the write lock (nor
        waits for it). Nothing read here may be trusted by a later write: writes re-read."""
        with self.engine.connect() as conn:
            conn.execution_options(**self._reading)
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction, serialised against every other writer in any process (BEGIN
        IMMEDIATE on SQLite), committed when the block ends, rolled back if it raises."""
        with self.engine.begin() as conn:
            yield conn

    def close(self) -> None:
        """Release every pooled connection (and the OS lock on the file, if held)."""
        self.engine.dispose()
        if self.file is not None:
            self.file.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the daemon lock (pipeline/store/lock.py) ---------------------------------------------

    def acquire_daemon_lock(self, owner: str, now: datetime) -> bool:
        """Take (or refresh) the one-daemon lock; False while another live daemon holds it."""
        return self.lock.acquire(owner, now)

    def heartbeat(self, owner: str, now: datetime) -> bool:
        """Refresh the lock; False means it was lost (taken over): stop publishing."""
        return self.lock.heartbeat(owner, now)

    def release_daemon_lock(self, owner: str) -> bool:
        """Give the lock up (and the OS lock on the file) if this process holds it."""
        if self.file is not None:
            self.file.release()
        return self.lock.release(owner)

    def lock_holder(self) -> LockHolder | None:
        """The current holder of the daemon lock, if any (it may be stale)."""
        return self.lock.holder()

    def running_daemon(self, now: datetime) -> LockHolder | None:
        """The daemon publishing from this store at `now` (a fresh heartbeat), if any."""
        return self.lock.running(now)

    # -- the SQLite file under a daemon (pipeline/store/file.py) ------------------------------

    def hold_file(self) -> int | None:
        """For the daemon: hold the OS lock that keeps commands from re-creating a deleted store
        file under it. None when held (or not a SQLite file), else the pid that holds it."""
        return None if self.file is None else self.file.hold(self.lock.pid)

    def file_problem(self) -> str | None:
        """'deleted' or 'replaced' if the SQLite file is no longer the one opened, else None."""
        return None if self.file is None else self.file.problem()


def open_store(url: str, *, stale_after: float = DEFAULT_STALE_SECONDS, upgrade: bool = True,
               lock_dir: Path | None = None) -> Store:
    """Open the database at `url` and bring it to the schema this version needs (creating a
    SQLite file and its folder if missing, unless a daemon still runs on the one deleted).
    Raises a StoreError that says what is wrong and the fix; never the driver's exception."""
    try:
        return _open(url, stale_after, upgrade, lock_dir)
    except StoreError:
        raise
    except (SQLAlchemyError, OSError, ImportError) as exc:
        raise unusable(exc, url) from None


def _open(url: str, stale_after: float, upgrade: bool, lock_dir: Path | None) -> Store:
    path = sqlite_path(url)
    file = None
    if path is not None:
        file = StoreFile(path, lock_dir or Path(tempfile.gettempdir()))
        if not path.exists():
            holder = file.holder()
            if holder is not None:
                raise StoreInUse(file.path, holder)
        path.parent.mkdir(parents=True, exist_ok=True)
    store = Store(make_engine(url), stale_after=stale_after, file=file)
    try:
        if upgrade:
            migrate.upgrade(store)
        if file is not None:
            with store.reading():
                pass  # the first connection creates the file
            file.remember()
    except BaseException:
        store.close()
        raise
    return store
