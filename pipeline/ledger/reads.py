"""Reading the ledger for what it has seen: when it first ran, and every item id it knows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from pipeline.store import Store, ledger_table

_t = ledger_table


class LedgerReads:
    """The reporting reads: one consistent snapshot each, never the write lock."""

    def __init__(self, store: Store):
        self.store = store

    def first_seen(self) -> datetime | None:
        """When the ledger recorded its first item: the pipeline's first run on this store."""
        with self.store.reading() as conn:
            return conn.execute(select(func.min(_t.c.created_at))).scalar()

    def item_ids(self) -> list[str]:
        """Every item id the ledger knows (for 'did you mean')."""
        with self.store.reading() as conn:
            return [r[0] for r in conn.execute(select(_t.c.item_id).distinct())]
