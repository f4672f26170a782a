"""The SQLite file under a running daemon: the file's identity when it was opened, and an OS
lock the daemon holds while it runs, kept OUTSIDE the store's folder (in the system temp folder,
named by a hash of the store's absolute path), so deleting the folder does not delete the lock.

A daemon whose file is deleted or replaced would go on writing to the old, unlinked file through
its open connections; it checks the identity at every heartbeat and stops. Until it has stopped,
a command that finds the file missing sees the OS lock held and refuses to create a new, empty
store beside the running daemon (which would defeat the one-daemon lock).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from typing import IO


class StoreFile:
    """The file of one SQLite store and the daemon's OS lock on it."""

    def __init__(self, path: Path, lock_dir: Path):
        self.path = path.absolute()
        digest = hashlib.sha256(str(self.path).encode("utf-8")).hexdigest()[:20]
        self.lock_path = lock_dir / f"wst-store-{digest}.lock"
        self.identity: tuple[int, int] | None = None
        self._held: IO[str] | None = None

    def remember(self) -> None:
        """Note the identity (device, inode) of the file as it is now: the one this store opened."""
        st = os.stat(self.path)
        self.identity = (st.st_dev, st.st_ino)

    def problem(self) -> str | None:
        """'deleted' or 'replaced' if the file is no longer the one opened, else None."""
        if self.identity is None:
            return None
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return "deleted"
        return None if (st.st_dev, st.st_ino) == self.identity else "replaced"

    def holder(self) -> int | None:
        """The pid of a process holding the OS lock (0 if it could not be read), else None."""
        try:
            handle = open(self.lock_path, encoding="ascii")  # noqa: SIM115 (closed below)
        except FileNotFoundError:
            return None
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                text = handle.read().strip()
                return int(text) if text.isdigit() else 0
            fcntl.flock(handle, fcntl.LOCK_UN)
            return None

    def hold(self, pid: int) -> int | None:
        """Take the OS lock for this process (writing its pid in the lock file); None if taken,
        else the pid of the process that holds it (0 if unknown)."""
        if self._held is not None:
            return None
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.lock_path, "a+", encoding="ascii")  # noqa: SIM115 (kept open: the lock)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read().strip()
            handle.close()
            return int(text) if text.isdigit() else 0
        handle.seek(0)
        handle.truncate()
        handle.write(f"{pid}\n")
        handle.flush()
        self._held = handle
        return None

    def release(self) -> None:
        """Let the OS lock go (the kernel also does when the process ends, however it ends)."""
        if self._held is not None:
            fcntl.flock(self._held, fcntl.LOCK_UN)
            self._held.close()
            self._held = None
