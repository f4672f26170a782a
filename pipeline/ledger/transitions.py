"""The one gate every state change passes through, so no path can skip the rules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from pipeline.ledger.rows import Entry, IllegalTransition, UnknownEntry
from pipeline.states import TRANSITIONS, State
from pipeline.store import ledger_table

_ROW = select(ledger_table).where(ledger_table.c.key == bindparam("key"))


def row_of(conn: Connection, key: str) -> Any:
    """The row with this key, or UnknownEntry."""
    row = conn.execute(_ROW, {"key": key}).mappings().first()
    if row is None:
        raise UnknownEntry(f"key {key}")
    return row


def check(row: Any, wanted: State, allowed_from: Iterable[State]) -> None:
    """IllegalTransition unless `row` may go to `wanted` from where it is, by this path."""
    current = State(row["state"])
    if current not in allowed_from or wanted not in TRANSITIONS[current]:
        raise IllegalTransition(row["key"], row["item_id"], current, wanted)


def move(conn: Connection, row: Any, state: State, now: datetime, **values: Any) -> Entry:
    """Move a row the caller read in this same write transaction (BEGIN IMMEDIATE: nobody else
    can have changed it since) to `state`, with `values`; returns the row as it now is."""
    current = State(row["state"])
    if state not in TRANSITIONS[current]:
        raise IllegalTransition(row["key"], row["item_id"], current, state)
    values = dict(values, state=state.value, updated_at=now)
    conn.execute(ledger_table.update().where(ledger_table.c.key == row["key"]).values(**values))
    return Entry.from_row({**row, **values})


def set_state(conn: Connection, key: str, state: State, now: datetime, **values: Any) -> Entry:
    """Read the row with this key and move it (see move())."""
    return move(conn, row_of(conn, key), state, now, **values)
