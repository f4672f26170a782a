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


class StoreUnusable(StoreError):
    """The store could not be opened or used: its URL, its driver, its file or its folder."""

    def __init__(self, problem: str, fix: str):
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}: {fix}")


# How to write [store] url, for the messages that ask for another.
URL_FORMS = "sqlite:///var/wst.sqlite or postgresql+psycopg://USER@HOST/DATABASE"


def unusable(exc: BaseException, url: str | None) -> StoreUnusable:
    """What a failure to open or use the store at `url` means, and the fix, in words; the
    password in the URL (and the driver's own words) never shown."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from pipeline.problems import display_path
    from pipeline.redaction import Redactor

    try:
        parsed = make_url(url) if url else None
    except (ArgumentError, ValueError):
        parsed = None
    if parsed is None or (isinstance(exc, ArgumentError) and not isinstance(exc, NoSuchModuleError)):
        return StoreUnusable("the [store] url in config.toml is not a database URL",
                             f"write e.g. {URL_FORMS}")
    shown = parsed.render_as_string(hide_password=True)
    database = (parsed.database or "").removeprefix("file:").split("?")[0]  # a URI filename too
    is_file = parsed.drivername.startswith("sqlite") and database not in ("", ":memory:")
    where = f"the store {display_path(Path(database))}" if is_file else f"the store at {shown}"
    if isinstance(exc, NoSuchModuleError):
        return StoreUnusable(f"[store] url names a kind of database wst cannot use "
                             f"('{parsed.drivername}')", f"write e.g. {URL_FORMS}")
    if isinstance(exc, ImportError):
        return StoreUnusable(f"the database driver for {shown} is not installed (no module "
                             f"'{exc.name}')", "install it (for PostgreSQL: pip install "
                             "'wst-pipeline[postgres]'), or use sqlite:///var/wst.sqlite")
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        return StoreUnusable(f"cannot make the folder of {where}: a file is in the way "
                             f"({display_path(Path(exc.filename))})", "move that file, or set "
                             "[store] url to another path")
    if isinstance(exc, PermissionError):
        return StoreUnusable(f"cannot make the folder of {where}: permission denied",
                             "let this user write there, or set [store] url to another path")
    words = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc) else ""
    lower = words.lower()
    if "not a database" in lower or "malformed" in lower:
        return StoreUnusable(f"{where} is not a SQLite database (damaged, or another kind of "
                             f"file)", "restore it from a backup, or move it away to start an "
                             "empty store")
    if "readonly" in lower or "read-only" in lower:
        return StoreUnusable(f"{where} is read-only", "let this user write to it and to its "
                             "folder, or set [store] url to a writable path")
    if "unable to open" in lower:
        return StoreUnusable(f"cannot open {where}", "make sure its folder exists and this user "
                             "may write there")
    if "disk is full" in lower or "disk i/o" in lower:
        return StoreUnusable(f"cannot write {where} ({words})", "free disk space or fix the disk, "
                             "then run this again")
    if isinstance(exc, (SQLAlchemyError, OSError)):
        # the driver's own words, e.g. a refused connection, minus any password they repeat
        return StoreUnusable(f"cannot use {where}: {Redactor([parsed.password])(words)}",
                             "check that the database is running and [store] url is right")
    return StoreUnusable(f"cannot use {where}: {type(exc).__name__}", "see the log, and check "
                         "[store] url")
