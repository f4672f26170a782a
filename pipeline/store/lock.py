"""The one-daemon lock: a row naming the daemon that publishes from this store, kept fresh by its
heartbeat. Another daemon takes it over only when it is stale (or, on the same host, when the
holder's process is gone), so two daemons never both publish, on one machine or on two.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pipeline.store.schema import daemon_lock_table

# A daemon that has not refreshed its heartbeat for this long is presumed dead ([store]
# lock_stale_seconds overrides it).
DEFAULT_STALE_SECONDS = 120
LOCK_NAME = "daemon"


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


class DaemonLock:
    """The lock row of one store; `store` gives the transactions (Store.writing/reading)."""

    def __init__(self, store: Any, stale_after: float = DEFAULT_STALE_SECONDS):
        self.store = store
        self.stale_after = timedelta(seconds=stale_after)
        # Identity of this process for the lock; attributes so a test can pose as another machine.
        self.pid = os.getpid()
        self.host = socket.gethostname()

    def acquire(self, owner: str, now: datetime) -> bool:
        """Take (or refresh) the lock; False while another live daemon holds it."""
        try:
            return self._acquire(owner, now)
        except IntegrityError:
            # Another process inserted the first lock row between our read and our insert: it
            # won. (Write transactions are serialised, so this is a belt and braces.)
            return False

    def _acquire(self, owner: str, now: datetime) -> bool:
        t = daemon_lock_table
        with self.store.writing() as conn:
            row = conn.execute(select(t).where(t.c.name == LOCK_NAME).with_for_update()
                               ).mappings().first()
            values = {"owner": owner, "pid": self.pid, "host": self.host, "heartbeat_at": now}
            if row is None:
                conn.execute(t.insert().values(name=LOCK_NAME, acquired_at=now, **values))
                return True
            if self._is_mine(row, owner):
                conn.execute(t.update().where(t.c.name == LOCK_NAME).values(heartbeat_at=now))
                return True
            if not self._abandoned(row, now):
                return False
            conn.execute(t.update().where(t.c.name == LOCK_NAME).values(acquired_at=now, **values))
            return True

    def heartbeat(self, owner: str, now: datetime) -> bool:
        """Refresh the lock; False means it was lost (taken over): stop publishing."""
        t = daemon_lock_table
        with self.store.writing() as conn:
            result = conn.execute(t.update().where(*self._mine(owner)).values(heartbeat_at=now))
            return result.rowcount == 1

    def release(self, owner: str) -> bool:
        """Give the lock up if this process holds it; True if it did."""
        t = daemon_lock_table
        with self.store.writing() as conn:
            return conn.execute(t.delete().where(*self._mine(owner))).rowcount == 1

    def holder(self) -> LockHolder | None:
        """The current holder, if any (it may be stale)."""
        t = daemon_lock_table
        with self.store.reading() as conn:
            row = conn.execute(select(t).where(t.c.name == LOCK_NAME)).mappings().first()
        if row is None:
            return None
        return LockHolder(row["owner"], row["pid"], row["host"], row["acquired_at"],
                          row["heartbeat_at"])

    def running(self, now: datetime) -> LockHolder | None:
        """The holder if it is alive at `now` (its heartbeat is fresh), else None."""
        holder = self.holder()
        if holder is None or now - holder.heartbeat_at > self.stale_after:
            return None
        return holder

    def wait(self, owner: str, clock: Callable[[], datetime], stop: threading.Event,
             every: float, on_waiting: Callable[[LockHolder | None], None] | None = None) -> bool:
        """A standby: try the lock every `every` seconds until it is taken (True) or `stop` is
        set (False). `on_waiting` hears about the holder once, when the first try fails."""
        told = False
        while not stop.is_set():
            if self.acquire(owner, clock()):
                return True
            if not told and on_waiting is not None:
                on_waiting(self.holder())
                told = True
            stop.wait(every)
        return False

    def _mine(self, owner: str) -> tuple[Any, ...]:
        t = daemon_lock_table
        return (t.c.name == LOCK_NAME, t.c.owner == owner, t.c.pid == self.pid,
                t.c.host == self.host)

    def _is_mine(self, row: Any, owner: str) -> bool:
        return row["owner"] == owner and row["pid"] == self.pid and row["host"] == self.host

    def _abandoned(self, row: Any, now: datetime) -> bool:
        # Staleness alone is enough: a pid can be reused after a crash, so "alive" is not proof.
        if now - row["heartbeat_at"] > self.stale_after:
            return True
        return row["host"] == self.host and row["pid"] != self.pid and not pid_alive(row["pid"])
