"""What the ledger hands out: its rows, pauses and views as frozen dataclasses, its key, and
the refusals it raises."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from pipeline.errors import NotFound, WstError
from pipeline.states import ErrorKind, HoldReason, State

SYSTEM = "system"  # the `by` of changes the daemon makes on its own


@dataclass(frozen=True)
class Actor:
    """Who acts: a person (a key of [people]), the face they used and where from. The audit
    trail keeps all three, so an action taken at the command line (by an operating-system user
    on the server) is never mistaken for one a signed-in person took on the web."""

    person: str
    via: str = "cli"        # "cli", "web" or "daemon"
    os_user: str = ""       # at the command line: the operating-system user
    address: str = ""       # on the web: the client's address

    @property
    def is_system(self) -> bool:
        """True for the daemon acting on its own."""
        return self.person == SYSTEM

    @property
    def origin(self) -> str:
        """Where the action came from: the operating-system user, or the client's address."""
        return self.os_user if self.via == "cli" else self.address


def actor_of(by: str | Actor) -> Actor:
    """`by` as an Actor: a bare person id says nothing of the face (the daemon's is its own)."""
    if isinstance(by, Actor):
        return by
    return Actor(by, via="daemon" if by == SYSTEM else "")


class LedgerError(WstError):
    """Base of every ledger refusal."""


class UnknownEntry(LedgerError, NotFound):
    """No ledger row matches."""

    def __init__(self, what: str):
        LedgerError.__init__(self, f"no ledger entry for {what}; run the plan sync first")
        self.what = what
        self.hint = ""
        self.field = ""


class IllegalTransition(LedgerError):
    """A state change the reliability model forbids."""

    def __init__(self, key: str, item_id: str, current: str, wanted: str, why: str = ""):
        self.key = key
        self.item_id = item_id
        self.current = current
        self.wanted = wanted
        reason = f": {why}" if why else ""
        super().__init__(f"{item_id} [{key}] can't go from {current} to {wanted}{reason}")


class ApprovalRefused(LedgerError):
    """An approval that would let unsigned or unchecked content out."""

    def __init__(self, item_id: str, version: str, reason: str):
        self.item_id = item_id
        self.version = version
        self.reason = reason
        super().__init__(f"approval of {item_id} version {version} refused: {reason}")


class PauseError(LedgerError):
    """Pausing while paused, or resuming while not paused."""


def ledger_key(item_id: str, channel: str, version: str, dry_run: bool = False) -> str:
    """The idempotency key: a short hash of (item id, channel, version); dry-run rows get their own."""
    digest = hashlib.sha256("\x1f".join((item_id, channel, version)).encode("utf-8")).hexdigest()[:20]
    # A rehearsal must never stand in for the real publication, so it lives under another key.
    return f"dry-{digest}" if dry_run else digest


def aware(name: str, value: datetime) -> datetime:
    """`value`, or ValueError if it has no time zone (a naive time is ambiguous at clock changes)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")
    return value


@dataclass(frozen=True)
class Entry:
    """One ledger row."""

    key: str
    item_id: str
    channel: str
    version: str
    kind: str
    campaign: str
    title: str
    responsibility: str
    help: bool
    due: datetime
    state: State
    attempts: int
    remote_id: str | None
    url: str | None
    last_error: str | None
    error_kind: ErrorKind | None
    hold_reason: HoldReason | None
    published_at: datetime | None
    lateness_seconds: float | None
    dry_run: bool
    held_pause_id: int | None
    released_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Entry:
        """Build from a SQLAlchemy mapping row (or a dict with the same keys)."""
        values = {f.name: row[f.name] for f in fields(cls)}
        values["state"] = State(values["state"])
        if values["error_kind"] is not None:
            values["error_kind"] = ErrorKind(values["error_kind"])
        if values["hold_reason"] is not None:
            values["hold_reason"] = HoldReason(values["hold_reason"])
        return cls(**values)


@dataclass(frozen=True)
class Pause:
    """A comms freeze: who, why, from when, until when, and whether help posts keep running."""

    id: int
    reason: str
    by: str
    started_at: datetime
    until: datetime | None
    keep_help: bool

    def holds(self, due: datetime, help_post: bool) -> bool:
        """Whether an item due at `due` is held by this pause."""
        if self.keep_help and help_post:
            return False
        return self.until is None or due < self.until

    @classmethod
    def from_row(cls, row: Any, prefix: str = "") -> Pause:
        """Build from a row of the pauses table (columns optionally prefixed)."""
        return cls(row[f"{prefix}id"], row[f"{prefix}reason"], row[f"{prefix}by"],
                   row[f"{prefix}started_at"], row[f"{prefix}until"], row[f"{prefix}keep_help"])


@dataclass(frozen=True)
class Health:
    """A channel's recorded health: flagged (with why and since), or rate-limited until a time."""

    channel: str
    flagged: bool
    reason: str | None
    since: datetime | None
    rate_limited_until: datetime | None
    updated_at: datetime | None

    def blocked(self, now: datetime) -> str | None:
        """Why the channel can't publish at `now`, or None if it can."""
        if self.flagged:
            return f"flagged: {self.reason}"
        if self.rate_limited_until is not None and self.rate_limited_until > now:
            return f"rate limited until {self.rate_limited_until.isoformat()}"
        return None

    @classmethod
    def from_row(cls, row: Any, prefix: str = "") -> Health:
        """Build from a row of the channel_health table (columns optionally prefixed)."""
        return cls(row[f"{prefix}channel"], bool(row[f"{prefix}flagged"]), row[f"{prefix}reason"],
                   row[f"{prefix}flagged_at"], row[f"{prefix}rate_limited_until"],
                   row[f"{prefix}updated_at"])


@dataclass(frozen=True)
class SyncResult:
    """What a sync changed: keys inserted, superseded by an edit, newly held, and edits not taken."""

    inserted: list[str]
    superseded: list[str]
    held: list[str]
    # Keys of new versions not inserted because an older version went out (or may have).
    skipped: list[str]


def labels(item: Any) -> dict[str, Any]:
    """What a sync refreshes on an existing row of the same version."""
    return dict(due=item.due, title=item.title, help=item.help, responsibility=item.responsibility,
                kind=item.kind, campaign=item.campaign)


@dataclass(frozen=True)
class PublishView:
    """What a publication checks first, read in one snapshot: its row (None if not synced yet),
    the pause in force and its channel's health."""

    entry: Entry | None
    pause: Pause | None
    health: Health | None

    def in_sync(self, item: Any) -> bool:
        """True if a sync of this item would change nothing, so a publication can skip its
        write transaction: the row of this exact version exists, is not superseded, carries the
        item's labels, and the calendar does not hold the item."""
        e = self.entry
        return (e is not None and e.state != State.SUPERSEDED and item.status != State.HELD
                and all(getattr(e, k) == v for k, v in labels(item).items()))

    def blocked(self, now: datetime) -> str | None:
        """Why the channel can't publish at `now` (flagged or rate limited), or None."""
        return None if self.health is None else self.health.blocked(now)


@dataclass(frozen=True)
class Approval:
    """One approval of one version of an item (voided when an edit replaced that version)."""

    id: int
    item_id: str
    version: str
    person: str
    at: datetime
    accepted_identifying: bool
    voided_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Approval:
        """Build from a row of the approvals table."""
        return cls(**{f.name: row[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Event:
    """One line of the audit trail."""

    id: int
    at: datetime
    kind: str
    by: str
    key: str | None
    item_id: str | None
    details: dict[str, Any]
    via: str = ""          # "cli", "web", "daemon" ('' on events recorded before revision 0004)
    origin: str = ""       # the operating-system user (cli) or the client's address (web)
