"""What the store refuses, each with a message that says what to do."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import WstError


class StoreError(WstError):
    """Base of the store's refusals."""


class StoreInUse(StoreError):
    """The SQLite store file is missing, but a daemon is still running on the file it was."""

    def __init__(self, path: Path, pid: int | None):
        self.path = path
        self.pid = pid
        who = f"pid {pid}" if pid else "a process whose pid could not be read"
        super().__init__(
            f"the store {path} is missing, but `wst run` ({who}) is still running on the file "
            f"that was there; not creating a new, empty store beside it. That daemon stops at "
            f"its next heartbeat and alerts; put the file back (or wait for it to stop), then "
            f"run this again")


class StoreFileChanged(StoreError):
    """The SQLite store file a daemon opened was deleted or replaced under it."""

    def __init__(self, path: Path, what: str):
        self.path = path
        self.what = what
        super().__init__(
            f"the store {path} was {what} while `wst run` was using it; stopped without "
            f"publishing more. Find out what {what} it, restore the right file, then start "
            f"`wst run` again")


class UnknownRevision(StoreError):
    """The database was migrated by a newer version of the pipeline."""

    def __init__(self, revision: str, head: str):
        self.revision = revision
        self.head = head
        super().__init__(
            f"the store is at migration {revision}, which this version of wst does not know "
            f"(it knows up to {head}): run the newer version that migrated it, or restore a "
            f"backup made before")
