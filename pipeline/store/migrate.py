"""Bringing a database to the schema this version needs, with Alembic, safely under concurrency.

Every open of the store upgrades it to the head revision. Two processes starting together on a
fresh (or old) database never race: the check and the upgrade run in ONE write transaction
(SQLite: BEGIN IMMEDIATE with transactional DDL; PostgreSQL: behind the advisory lock every write
transaction takes, see engine.py), so one creates or upgrades while the other waits, then finds
the database at head. A store made by v0.1 (tables, but no `alembic_version`) is recognised,
completed with any v0.1 table it never needed, stamped 0001, then upgraded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from pipeline.store.errors import UnknownRevision
from pipeline.store.migrations import v0_1

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
V0_1_REVISION = "0001"


def alembic_config(connection: Any = None) -> Config:
    """Alembic's configuration for our scripts (no ini file), sharing `connection` with env.py."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this version of the pipeline knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    """Every revision this version knows."""
    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def current_revision(conn: Any) -> str | None:
    """The revision the database is at (None: no `alembic_version`, i.e. empty or v0.1)."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(store: Any) -> tuple[str | None, str]:
    """Bring the store's database to head; returns (revision before, revision after)."""
    head = head_revision()
    with store.reading() as conn:  # the common case: nothing to do, and no write lock taken
        before = current_revision(conn)
    if before == head:
        return before, head
    with store.writing() as conn:
        before = current_revision(conn)  # again, now that no one else can be upgrading
        if before == head:
            return before, head
        if before is not None and before not in known_revisions():
            raise UnknownRevision(before, head)
        config = alembic_config(conn)
        if before is None and inspect(conn).has_table("ledger"):
            # v0.1 created each module's tables on first use: complete the set, then say so
            v0_1.metadata.create_all(conn, checkfirst=True)
            command.stamp(config, V0_1_REVISION)
        command.upgrade(config, "head")
        return before, head
