"""Comms freezes: a pause holds what is waiting until a person decides what happens to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, or_, select

from pipeline.ledger import audit
from pipeline.ledger.rows import Actor, Entry, Pause, PauseError, actor_of, aware
from pipeline.states import State
from pipeline.store import Store, ledger_table, pauses_table

ACTIVE = (select(pauses_table)
          .where(pauses_table.c.ended_at.is_(None),
                 or_(pauses_table.c.until.is_(None), pauses_table.c.until > bindparam("now")))
          .order_by(pauses_table.c.id.desc()))


def active_in(conn: Connection, now: datetime) -> Pause | None:
    """The pause in force at `now` (one whose `until` has passed is not), read in `conn`."""
    row = conn.execute(ACTIVE, {"now": now}).mappings().first()
    return None if row is None else Pause.from_row(row)


class Pauses:
    """Starting, ending and reading pauses."""

    def __init__(self, store: Store):
        self.store = store

    def pause(self, reason: str, by: str | Actor, now: datetime, until: datetime | None = None,
              keep_help: bool = False) -> Pause:
        """Freeze comms from now (until `until`, if given): what falls due while it lasts is
        held at its time (help posts too, unless `keep_help`); what falls due after it is not
        touched, so ending the pause restores the schedule by itself."""
        aware("now", now)
        if until is not None:
            aware("until", until)
            if until <= now:
                raise PauseError(f"a pause until {until.isoformat()} would already be over")
        if not reason.strip():
            raise PauseError("a pause needs a reason, for the audit trail and the people who resume it")
        with self.store.writing() as conn:
            current = active_in(conn, now)
            if current is not None:
                raise PauseError(f"already paused by {current.by} since {current.started_at.isoformat()} "
                                 f"({current.reason}); resume first")
            pause_id = conn.execute(pauses_table.insert().values(
                reason=reason, by=actor_of(by).person, started_at=now, until=until,
                keep_help=keep_help)
            ).inserted_primary_key[0]
            audit.record(conn, now, "pause", by, details={
                "pause_id": int(pause_id), "reason": reason, "keep_help": keep_help,
                "until": until.isoformat() if until else None})
        return Pause(int(pause_id), reason, actor_of(by).person, now, until, keep_help)

    def resume(self, by: str | Actor, now: datetime) -> list[Entry]:
        """End the pause; returns the items it held, still held, for a person to release or cancel."""
        aware("now", now)
        with self.store.writing() as conn:
            row = conn.execute(select(pauses_table).where(pauses_table.c.ended_at.is_(None))
                               .order_by(pauses_table.c.id.desc())).mappings().first()
            if row is None:
                raise PauseError("not paused")
            conn.execute(pauses_table.update().where(pauses_table.c.id == row["id"])
                         .values(ended_at=now, ended_by=actor_of(by).person))
            held = conn.execute(select(ledger_table).where(
                ledger_table.c.held_pause_id == row["id"], ledger_table.c.state == State.HELD)
                .order_by(ledger_table.c.due)).mappings().all()
            audit.record(conn, now, "resume", by, details={
                "pause_id": row["id"], "reason": row["reason"], "held": len(held)})
        return [Entry.from_row(r) for r in held]

    def ended(self, now: datetime) -> list[tuple[Pause, datetime]]:
        """Pauses that are over at `now` (ended by a person, or reached their `until`), newest
        first, each with when it ended."""
        aware("now", now)
        with self.store.reading() as conn:
            rows = conn.execute(select(pauses_table).order_by(pauses_table.c.id.desc())).mappings().all()
        out = []
        for r in rows:
            end = r["ended_at"] or (r["until"] if r["until"] is not None and r["until"] <= now else None)
            if end is not None:
                out.append((Pause.from_row(r), end))
        return out

    def latest(self) -> Pause | None:
        """The most recent pause, in force or over."""
        with self.store.reading() as conn:
            row = conn.execute(select(pauses_table).order_by(pauses_table.c.id.desc())).mappings().first()
        return None if row is None else Pause.from_row(row)

    def active(self, now: datetime) -> Pause | None:
        """The pause in force at `now`, if any."""
        aware("now", now)
        with self.store.reading() as conn:
            return active_in(conn, now)
