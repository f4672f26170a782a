"""Reading the ledger for people: history, counts and recent failures (never for deciding)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from pipeline.ledger.rows import Entry, aware
from pipeline.states import State
from pipeline.store import Store, ledger_table

_t = ledger_table


class LedgerReads:
    """The reporting reads: one consistent snapshot each, never the write lock."""

    def __init__(self, store: Store):
        self.store = store

    def history(self, start: datetime, end: datetime, *,
                include_superseded: bool = False) -> list[Entry]:
        """Rows due from `start` (inclusive) to `end` (exclusive), in due order."""
        aware("start", start)
        aware("end", end)
        query = select(_t).where(_t.c.due >= start, _t.c.due < end).order_by(_t.c.due, _t.c.item_id)
        if not include_superseded:
            query = query.where(_t.c.state != State.SUPERSEDED)
        with self.store.reading() as conn:
            return [Entry.from_row(r) for r in conn.execute(query).mappings().all()]

    def first_seen(self) -> datetime | None:
        """When the ledger recorded its first item: the pipeline's first run on this store."""
        with self.store.reading() as conn:
            return conn.execute(select(func.min(_t.c.created_at))).scalar()

    def counts_by_state(self) -> dict[State, int]:
        """How many rows are in each state (states with none are left out)."""
        with self.store.reading() as conn:
            rows = conn.execute(select(_t.c.state, func.count()).group_by(_t.c.state)).all()
        return {State(state): int(n) for state, n in rows}

    def recent_failures(self, n: int = 10) -> list[Entry]:
        """The `n` most recently changed rows that failed or are unconfirmed, newest first."""
        with self.store.reading() as conn:
            rows = conn.execute(select(_t).where(_t.c.state.in_((State.FAILED, State.UNCONFIRMED)))
                                .order_by(_t.c.updated_at.desc(), _t.c.key).limit(n)).mappings().all()
        return [Entry.from_row(r) for r in rows]

    def item_ids(self) -> list[str]:
        """Every item id the ledger knows (for 'did you mean')."""
        with self.store.reading() as conn:
            return [r[0] for r in conn.execute(select(_t.c.item_id).distinct())]
