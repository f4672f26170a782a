"""What the pipeline is doing now: mode, pause, daemon, channels, counts, next items, failures;
and the history of publications in a date range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pipeline.errors import Invalid
from pipeline.ledger import Entry, Pause
from pipeline.metrics.budget import XReads
from pipeline.states import State
from pipeline.store import LockHolder
from pipeline.timing import resolve_local
from pipeline.workspace import Workspace

NEXT = 10  # upcoming items shown
FAILURES = 10  # recent failures shown


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
class Status:
    """The whole status report."""

    mode: str
    pause: Pause | None
    daemon: LockHolder | None
    channels: list[ChannelStatus]
    counts: dict[State, int]
    upcoming: list[Entry]
    recent_failures: list[Entry]
    x_spend: XSpend

    def as_json(self) -> dict[str, Any]:
        """The documented JSON shape of `wst status --json`."""
        p, d = self.pause, self.daemon
        return {
            "mode": self.mode,
            "pause": None if p is None else {
                "reason": p.reason, "by": p.by, "since": p.started_at.isoformat(),
                "until": p.until.isoformat() if p.until else None, "keep_help": p.keep_help},
            "daemon": None if d is None else {
                "pid": d.pid, "host": d.host, "heartbeat": d.heartbeat_at.isoformat()},
            "next": [{"id": e.item_id, "channel": e.channel, "due": e.due.isoformat(),
                      "state": e.state.value} for e in self.upcoming],
            "channels": {c.name: {
                "kind": c.kind, "dry_run": c.dry_run, "credentials": c.credentials,
                "flagged": c.flagged,
                "rate_limited_until": c.rate_limited_until.isoformat() if c.rate_limited_until else None,
            } for c in self.channels},
            "counts": {state.value: n for state, n in self.counts.items()},
            "x_read_spend": {"spent_usd": round(self.x_spend.spent_usd, 3),
                             "budget_usd": self.x_spend.budget_usd, "month": self.x_spend.month},
            "recent_failures": [{"id": e.item_id, "channel": e.channel, "state": e.state.value,
                                 "error": e.last_error,
                                 "kind": e.error_kind.value if e.error_kind else None}
                                for e in self.recent_failures],
        }


def status(ws: Workspace, now: datetime) -> Status:
    """Mode, pause, the daemon, each channel's health, counts, what is next, recent failures."""
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
    upcoming = [e for e in ledger.publications.entries(states=[State.PLANNED, State.APPROVED])
                if e.due >= now]
    return Status(config.settings.mode, ledger.pauses.active(now), ws.store.lock_holder(), channels,
                  ledger.reads.counts_by_state(), sorted(upcoming, key=lambda e: e.due)[:NEXT],
                  ledger.reads.recent_failures(FAILURES), spend)


def history(ws: Workspace, first: date, last: date) -> list[Entry]:
    """Every publication due from `first` to `last` (local dates, inclusive)."""
    if last < first:
        raise Invalid(f"--to {last} is before --from {first}", field="--to")
    tz = ws.config.tz
    lo = resolve_local(first, time.min, tz).due
    hi = resolve_local(last + timedelta(days=1), time.min, tz).due
    return ws.ledger.reads.history(lo, hi)


def entry_json(e: Entry) -> dict[str, Any]:
    """The documented JSON shape of one `wst history --json` row."""
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {"id": e.item_id, "key": e.key, "channel": e.channel, "state": e.state.value,
            "remote_id": e.remote_id, "url": e.url, "due": iso(e.due),
            "published_at": iso(e.published_at), "attempts": e.attempts,
            "last_error": e.last_error, "error_kind": e.error_kind.value if e.error_kind else None,
            "hold_reason": e.hold_reason.value if e.hold_reason else None,
            "dry_run": e.dry_run, "version": e.version, "campaign": e.campaign, "kind": e.kind,
            "lateness_seconds": e.lateness_seconds}
