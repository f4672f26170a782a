"""Approvals: an Accountable person's sign-off of one exact version of an item."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from pipeline.config import Settings
from pipeline.ledger import audit
from pipeline.ledger.rows import Actor, Approval, ApprovalRefused, Entry, UnknownEntry, actor_of, aware
from pipeline.ledger.transitions import move
from pipeline.policy import approval_refusal
from pipeline.states import State
from pipeline.store import Store, approvals_table, ledger_table

_STANDING = (select(approvals_table)
             .where(approvals_table.c.item_id == bindparam("item_id"),
                    approvals_table.c.version == bindparam("version"),
                    approvals_table.c.voided_at.is_(None))
             .order_by(approvals_table.c.id))


def standing(conn: Connection, item_id: str, version: str) -> Any:
    """The approval of this exact version that still counts, or None."""
    return conn.execute(_STANDING, {"item_id": item_id, "version": version}).mappings().first()


def ready_state(conn: Connection, row: Any) -> State:
    """Where a row goes when nothing holds it back: approved if its version's approval stands."""
    return State.APPROVED if standing(conn, row["item_id"], row["version"]) is not None else State.PLANNED


def void(conn: Connection, item_id: str, version: str, now: datetime) -> None:
    """An edit replaced this version: its approval no longer counts (not even for a revert)."""
    conn.execute(approvals_table.update().where(
        approvals_table.c.item_id == item_id, approvals_table.c.version == version,
        approvals_table.c.voided_at.is_(None)).values(voided_at=now))


class Approvals:
    """Recording approvals and reading them; who may approve is `pipeline.policy`'s decision."""

    def __init__(self, store: Store):
        self.store = store

    def approve(self, item_id: str, version: str, by: str | Actor, now: datetime, settings: Settings, *,
                blocking_errors: Sequence[str] = (), identifying: Sequence[str] = (),
                accept_identifying: bool = False) -> int:
        """Approve the EXACT version as an Accountable person; returns the approval's id."""
        aware("now", now)
        person = actor_of(by).person
        if blocking_errors:
            raise ApprovalRefused(item_id, version, "it fails its checks: " + "; ".join(blocking_errors))
        if identifying and not accept_identifying:
            raise ApprovalRefused(item_id, version,
                                  "it may identify someone (" + "; ".join(identifying) + "); "
                                  "accept that detail by name to approve it")
        t = ledger_table
        with self.store.writing() as conn:
            rows = conn.execute(select(t).where(t.c.item_id == item_id)).mappings().all()
            if not rows:
                raise UnknownEntry(item_id)
            mine = [r for r in rows if r["version"] == version]
            current = [r for r in rows if r["state"] != State.SUPERSEDED]
            if not mine:
                raise ApprovalRefused(item_id, version, "no such version of this item")
            if all(r["state"] == State.SUPERSEDED for r in mine):
                newer = ", ".join(sorted({r["version"] for r in current})) or "none"
                raise ApprovalRefused(item_id, version,
                                      f"an edit replaced this version; approve the current one ({newer})")
            refusal = approval_refusal(settings, mine[0]["responsibility"], person)
            if refusal:
                raise ApprovalRefused(item_id, version, refusal)
            previous = standing(conn, item_id, version)
            if previous is not None:
                raise ApprovalRefused(item_id, version,
                                      f"already approved by {previous['person']} at "
                                      f"{previous['at'].isoformat()}")
            if not any(r["state"] in (State.PLANNED, State.HELD, State.FAILED) for r in mine):
                states = ", ".join(sorted({r["state"] for r in mine}))
                raise ApprovalRefused(item_id, version, f"it is already {states}")
            approval_id = conn.execute(approvals_table.insert().values(
                item_id=item_id, version=version, person=person, at=now,
                accepted_identifying=accept_identifying)).inserted_primary_key[0]
            for r in mine:
                # A held row stays held (the hold is a separate decision); it is released approved.
                if r["state"] == State.PLANNED:
                    move(conn, r, State.APPROVED, now)
            audit.record(conn, now, "approve", by, item_id=item_id,
                         details={"version": version, "accepted_identifying": accept_identifying,
                                  "identifying": list(identifying)})
        return int(approval_id)

    def pending(self, now: datetime) -> list[Entry]:
        """Rows waiting for an approval, soonest due first (one per item version)."""
        aware("now", now)
        t = ledger_table
        with self.store.reading() as conn:
            rows = conn.execute(select(t).where(t.c.state == State.PLANNED)
                                .order_by(t.c.due, t.c.dry_run, t.c.item_id)).mappings().all()
        seen: set[tuple[str, str]] = set()
        out: list[Entry] = []
        for row in rows:
            # The live and dry-run rows of one version share one approval.
            if (row["item_id"], row["version"]) in seen:
                continue
            seen.add((row["item_id"], row["version"]))
            out.append(Entry.from_row(row))
        return out

    def standing(self) -> dict[tuple[str, str], Approval]:
        """Every approval that still counts, by (item id, version) (the first, if several)."""
        with self.store.reading() as conn:
            rows = conn.execute(select(approvals_table).where(approvals_table.c.voided_at.is_(None))
                                .order_by(approvals_table.c.id.desc())).mappings().all()
        return {(r["item_id"], r["version"]): Approval.from_row(r) for r in rows}

    def of(self, item_id: str) -> list[Approval]:
        """Every approval recorded for an item, oldest first, voided ones included."""
        with self.store.reading() as conn:
            rows = conn.execute(select(approvals_table).where(approvals_table.c.item_id == item_id)
                                .order_by(approvals_table.c.id)).mappings().all()
        return [Approval.from_row(r) for r in rows]
