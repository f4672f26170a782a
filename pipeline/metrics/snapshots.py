"""Every metric snapshot ever collected, kept as the platform named it, so history survives
renames; normalised measures are derived from these when a report is built."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from pipeline.store import Store
from pipeline.store.schema import snapshots_table


@dataclass(frozen=True)
class Snapshot:
    """One metric value (or its absence) for one published item at one time."""

    item_id: str
    channel: str
    platform: str
    remote_id: str
    field: str
    measure: str | None
    value: float | None
    collected_at: datetime
    api_version: str = ""
    missing: bool = False
    reason: str = ""


class Snapshots:
    """Append-only snapshot storage."""

    def __init__(self, store: Store):
        self.store = store

    def add(self, snapshots: Iterable[Snapshot]) -> int:
        """Store snapshots in one transaction; returns how many."""
        rows = [dict(item_id=s.item_id, channel=s.channel, platform=s.platform,
                     remote_id=s.remote_id, field=s.field, measure=s.measure, value=s.value,
                     missing=s.missing, reason=s.reason or None, api_version=s.api_version,
                     collected_at=s.collected_at) for s in snapshots]
        if rows:
            with self.store.writing() as conn:
                conn.execute(snapshots_table.insert(), rows)
        return len(rows)

    def all(self, since: datetime | None = None, until: datetime | None = None) -> list[Snapshot]:
        """Snapshots collected in [since, until), oldest first."""
        t = snapshots_table
        query = select(t).order_by(t.c.collected_at, t.c.id)
        if since is not None:
            query = query.where(t.c.collected_at >= since)
        if until is not None:
            query = query.where(t.c.collected_at < until)
        with self.store.reading() as conn:
            rows = conn.execute(query).mappings().all()
        return [Snapshot(r["item_id"], r["channel"], r["platform"], r["remote_id"], r["field"],
                         r["measure"], r["value"], r["collected_at"], r["api_version"],
                         r["missing"], r["reason"] or "") for r in rows]

    def last_collected(self) -> dict[tuple[str, str], datetime]:
        """(item id, channel) → when it was last collected."""
        t = snapshots_table
        with self.store.reading() as conn:
            rows = conn.execute(select(t.c.item_id, t.c.channel, func.max(t.c.collected_at))
                                .group_by(t.c.item_id, t.c.channel)).all()
        return {(r[0], r[1]): r[2] for r in rows}
