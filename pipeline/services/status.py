"""What the pipeline is doing now: mode, pause, daemon, channels, every item's status counted,
next items, what needs a person; and the history of publications in a date range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pipeline.ledger import Pause
from pipeline.metrics.budget import XReads
from pipeline.services import statuses
from pipeline.services.statuses import Line
from pipeline.status import Status
from pipeline.store import LockHolder
from pipeline.workspace import Workspace

NEXT = 10  # upcoming items shown
ATTENTION = 20  # items needing a person shown


@dataclass(frozen=True)
class ChannelStatus:
    """One enabled channel as the pipeline sees it."""

    name: str
    kind: str
    dry_run: bool
    missing_credentials: tuple[str, ...]   # environment variable names that are not set
    flagged: str | None
    rate_limited_until: datetime | None

    @property
    def credentials(self) -> str:
        """'set', or 'missing: NAME, NAME'."""
        return ("missing: " + ", ".join(self.missing_credentials)) if self.missing_credentials else "set"


@dataclass(frozen=True)
class XSpend:
    """What reading X posts cost this calendar month (UTC), against the budget."""

    month: str
    spent_usd: float
    budget_usd: float


@dataclass(frozen=True)
class Report:
    """The whole status report."""

    mode: str
    pause: Pause | None
    daemon: LockHolder | None
    channels: list[ChannelStatus]
    counts: dict[Status, int]      # every recorded item by its one status
    upcoming: list[Line]              # the next items still to go out
    attention: list[Line]             # what a person must act on, most recent first
    x_spend: XSpend
    # the daemon that held the lock last, even if its heartbeat is stale (when it was last
    # heard from); None if no daemon ever ran on this store
    last_seen: LockHolder | None = None

    def as_json(self) -> dict[str, Any]:
        """The documented JSON shape of `wst status --json`."""
        p, d = self.pause, self.daemon
        return {
            "mode": self.mode,
            "pause": None if p is None else {
                "id": p.id, "reason": p.reason, "by": p.by, "since": p.started_at.isoformat(),
                "until": p.until.isoformat() if p.until else None, "keep_help": p.keep_help},
            "daemon": None if d is None else {
                "pid": d.pid, "host": d.host, "heartbeat": d.heartbeat_at.isoformat()},
            "next": [line.as_json() for line in self.upcoming],
            "channels": {c.name: {
                "kind": c.kind, "dry_run": c.dry_run, "credentials": c.credentials,
                "flagged": c.flagged,
                "rate_limited_until": c.rate_limited_until.isoformat() if c.rate_limited_until else None,
            } for c in self.channels},
            "counts": {status.value: n for status, n in self.counts.items()},
            "x_read_spend": {"spent_usd": round(self.x_spend.spent_usd, 3),
                             "budget_usd": self.x_spend.budget_usd, "month": self.x_spend.month},
            "attention": [line.as_json() for line in self.attention],
        }


# What still goes out by itself, for the "next" list.
_TO_COME = frozenset({Status.NEEDS_APPROVAL, Status.APPROVED, Status.SCHEDULED,
                      Status.HELD, Status.DRAFT})


def status(ws: Workspace, now: datetime) -> Report:
    """Mode, pause, the daemon, each channel's health, every item's status counted, what is
    next, and what needs a person."""
    config = ws.config
    ledger = ws.ledger
    health = ledger.health.all()
    channels = []
    for name, c in config.enabled_channels().items():
        h = health.get(name)
        limited = h.rate_limited_until if h else None
        channels.append(ChannelStatus(
            name, c.kind, ws.catalog.dry_run_for(name),
            tuple(v for v in c.env_names.values() if not ws.environ.get(v)),
            h.reason if h and h.flagged else None,
            limited if limited and limited > now else None))
    month = now.astimezone(UTC)
    spend = XSpend(f"{month:%Y-%m}", XReads(ws.store).spent_usd(month.year, month.month),
                   config.settings.metrics.x_monthly_budget_usd)
    lines = statuses.current(ws, now)
    upcoming = [line for line in lines if line.due >= now and line.status.status in _TO_COME]
    attention = [line for line in lines if line.status.status in (
        Status.FAILED, Status.UNCONFIRMED, Status.MISSED, Status.HELD)]
    attention.sort(key=lambda line: line.entry.updated_at if line.entry else line.due, reverse=True)
    return Report(config.settings.mode, ledger.pauses.active(now), ws.store.running_daemon(now),
                  channels, statuses.counts(lines), upcoming[:NEXT], attention[:ATTENTION], spend,
                  ws.store.lock_holder())


def history(ws: Workspace, now: datetime, first: date, last: date) -> list[Line]:
    """Every item the ledger recorded as due from `first` to `last` (local dates, inclusive),
    with its one status."""
    return statuses.in_range(ws, now, first, last, recorded_only=True).lines


def line_json(line: Line) -> dict[str, Any]:
    """The documented JSON shape of one `wst history --json` row: the item's status and what
    the ledger recorded of its publication."""
    e = line.entry

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {**line.as_json(),
            # the row's own state in the ledger (for operators); `status` is what views show
            "state": e.state.value if e else None,
            "key": e.key if e else None, "remote_id": e.remote_id if e else None,
            "published_at": iso(e.published_at) if e else None,
            "attempts": e.attempts if e else 0, "last_error": e.last_error if e else None,
            "lateness_seconds": e.lateness_seconds if e else None}
