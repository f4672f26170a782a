"""Notices to approvers: which person was told about which item version, and how (queued,
reminder), so each is told once however often the daemon looks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from pipeline.ledger.rows import aware
from pipeline.store import Store, notices_table

QUEUED = "queued"        # it entered the person's approvals queue
REMINDER = "reminder"    # it falls due soon and is still not approved


class Notices:
    """Recording and reading the notices given."""

    def __init__(self, store: Store):
        self.store = store

    def given(self, kind: str) -> set[tuple[str, str, str]]:
        """(person, item id, version) of every notice of this kind."""
        t = notices_table
        with self.store.reading() as conn:
            rows = conn.execute(select(t.c.person, t.c.item_id, t.c.version)
                                .where(t.c.kind == kind)).all()
        return {(r[0], r[1], r[2]) for r in rows}

    def record(self, kind: str, told: Iterable[tuple[str, str, str]], now: datetime) -> None:
        """Note that each (person, item id, version) was told, once (a repeat changes nothing)."""
        aware("now", now)
        t = notices_table
        with self.store.writing() as conn:
            have = {(r[0], r[1], r[2]) for r in conn.execute(
                select(t.c.person, t.c.item_id, t.c.version).where(t.c.kind == kind)).all()}
            new = [n for n in dict.fromkeys(told) if n not in have]
            if new:
                conn.execute(t.insert(), [{"person": p, "item_id": i, "version": v, "kind": kind,
                                           "at": now} for p, i, v in new])
