"""The audit trail: who did what, when, to which item; written in the same transaction as the change."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from pipeline.ledger.rows import Actor, Event, actor_of
from pipeline.store import Store, events_table


def record(conn: Connection, now: datetime, kind: str, by: str | Actor, *, key: str | None = None,
           item_id: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Add one event inside the caller's transaction, with who acted, through which face and
    from where."""
    actor = actor_of(by)
    conn.execute(events_table.insert().values(
        at=now, kind=kind, by=actor.person, key=key, item_id=item_id,
        details=json.dumps(details or {}, sort_keys=True), via=actor.via or None,
        origin=actor.origin or None))


class AuditTrail:
    """Reading the audit trail (and adding events that change nothing else)."""

    def __init__(self, store: Store):
        self.store = store

    def add(self, now: datetime, kind: str, by: str | Actor, *, key: str | None = None,
            item_id: str | None = None, details: dict[str, Any] | None = None) -> None:
        """Record an event on its own (a comment, a test send, a sign-in)."""
        with self.store.writing() as conn:
            record(conn, now, kind, by, key=key, item_id=item_id, details=details)

    def events(self, kind: str | None = None, *, item_id: str | None = None) -> list[Event]:
        """The trail, oldest first, optionally of one kind or one item."""
        query = select(events_table).order_by(events_table.c.id)
        if kind is not None:
            query = query.where(events_table.c.kind == kind)
        if item_id is not None:
            query = query.where(events_table.c.item_id == item_id)
        with self.store.reading() as conn:
            rows = conn.execute(query).mappings().all()
        return [_event(r) for r in rows]

    def search(self, *, since: datetime | None = None, before: datetime | None = None,
               by: str = "", kind: str = "", via: str = "", item_prefix: str = "",
               limit: int | None = None) -> list[Event]:
        """Events matching every filter given (`since` <= at < `before`; an item id starting
        with `item_prefix`), newest first, at most `limit` of them."""
        t = events_table
        query = select(t).order_by(t.c.at.desc(), t.c.id.desc())
        if since is not None:
            query = query.where(t.c.at >= since)
        if before is not None:
            query = query.where(t.c.at < before)
        for column, value in ((t.c.by, by), (t.c.kind, kind), (t.c.via, via)):
            if value:
                query = query.where(column == value)
        if item_prefix:
            query = query.where(t.c.item_id.startswith(item_prefix, autoescape=True))
        if limit is not None:
            query = query.limit(limit)
        with self.store.reading() as conn:
            rows = conn.execute(query).mappings().all()
        return [_event(r) for r in rows]

    def kinds(self) -> list[str]:
        """Every kind of event in the trail, sorted."""
        with self.store.reading() as conn:
            return sorted(r[0] for r in conn.execute(select(events_table.c.kind).distinct()))

    def people(self) -> list[str]:
        """Everyone who appears in the trail as acting, sorted."""
        with self.store.reading() as conn:
            return sorted(r[0] for r in conn.execute(select(events_table.c.by).distinct()))


def _event(r: Any) -> Event:
    return Event(r["id"], r["at"], r["kind"], r["by"], r["key"], r["item_id"],
                 json.loads(r["details"]), r["via"] or "", r["origin"] or "")
