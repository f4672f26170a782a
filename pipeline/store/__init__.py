"""The store: one database (SQLite by default, or PostgreSQL) holding the ledger, its audit trail,
the daemon lock, reactive posts, deliveries, metrics and records, migrated by Alembic.

    store = open_store(url)          # upgraded to the head revision
    with store.reading() as conn:    # a read-only transaction (never takes the write lock)
        ...
    with store.writing() as conn:    # a write transaction (BEGIN IMMEDIATE on SQLite)
        ...
"""

from pipeline.store.engine import BUSY_TIMEOUT_SECONDS
from pipeline.store.errors import (
    StoreError,
    StoreFileChanged,
    StoreInUse,
    StoreUnusable,
    UnknownRevision,
    unusable,
)
from pipeline.store.lock import DEFAULT_STALE_SECONDS, LockHolder, pid_alive
from pipeline.store.schema import (
    UTCDateTime,
    approvals_table,
    channel_health_table,
    daemon_lock_table,
    events_table,
    ledger_table,
    metadata,
    notices_table,
    pauses_table,
)
from pipeline.store.store import Store, open_store

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "DEFAULT_STALE_SECONDS",
    "LockHolder",
    "Store",
    "StoreError",
    "StoreFileChanged",
    "StoreInUse",
    "StoreUnusable",
    "UTCDateTime",
    "UnknownRevision",
    "approvals_table",
    "channel_health_table",
    "daemon_lock_table",
    "events_table",
    "ledger_table",
    "metadata",
    "notices_table",
    "open_store",
    "pauses_table",
    "pid_alive",
    "unusable",
]
