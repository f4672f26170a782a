"""ledger.error_kind and ledger.hold_reason: why a row failed or is held, typed.

The one place the old message text is read: a one-time backfill of the two columns from
`last_error` as v0.1 wrote it. From here on the code writes the kinds and never matches text.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# How v0.1 began the note of a held row (pipeline/jobs.py, pipeline/ledger.py, pipeline/plan.py)
# → pipeline.states.HoldReason. A calendar blackout was "held: <window>" or "held by the calendar".
HELD_PREFIXES = (
    ("paused:", "pause"),
    ("content checks failed", "check-failed"),
    ("not approved", "not-approved"),
    ("missed its time", "missed"),
    ("post by hand", "by-hand"),
    ("held", "blackout"),
)
# ... and of a failed row → pipeline.states.ErrorKind; anything else was a transient failure.
FAILED_PREFIXES = (
    ("duplicate content, never retried", "duplicate"),
    ("refused, never retried", "rejected"),
    ("gave up after", "gave-up"),
)
CHUNK = 500  # keys per UPDATE, well below SQLite's limit on bound values

ledger = sa.table("ledger", sa.column("key", sa.String), sa.column("state", sa.String),
                  sa.column("last_error", sa.Text), sa.column("error_kind", sa.String),
                  sa.column("hold_reason", sa.String))


def hold_reason(text: str | None) -> str | None:
    """The HoldReason value of a v0.1 held row's note (None if it says none)."""
    note = (text or "").strip()
    if re.match(r"channel \S+ is flagged", note):
        return "channel-flagged"
    return next((kind for prefix, kind in HELD_PREFIXES if note.startswith(prefix)), None)


def error_kind(text: str | None) -> str:
    """The ErrorKind value of a v0.1 failed row's message."""
    message = (text or "").strip()
    for prefix, kind in FAILED_PREFIXES:
        if message.startswith(prefix):
            return kind
    # RateLimited's message always ends "; retry at <time>"; most adapters say "rate limited"
    if "; retry at " in message or "rate limited" in message.lower():
        return "rate-limited"
    return "transient"


def upgrade() -> None:
    """Add the two columns, then fill them in once from the v0.1 text."""
    op.add_column("ledger", sa.Column("error_kind", sa.String(20), nullable=True))
    op.add_column("ledger", sa.Column("hold_reason", sa.String(20), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(ledger.c.key, ledger.c.state, ledger.c.last_error)
                        .where(ledger.c.state.in_(("held", "failed")))).all()
    updates: dict[tuple[str, str], list[str]] = {}
    for key, state, last_error in rows:
        column, value = (("hold_reason", hold_reason(last_error)) if state == "held"
                         else ("error_kind", error_kind(last_error)))
        if value is not None:
            updates.setdefault((column, value), []).append(key)
    for (column, value), keys in sorted(updates.items()):
        for start in range(0, len(keys), CHUNK):
            bind.execute(ledger.update().where(ledger.c.key.in_(keys[start:start + CHUNK]))
                         .values({column: value}))


def downgrade() -> None:
    """Not supported: restore a backup instead."""
    raise NotImplementedError("downgrades are not supported; restore a backup")
