"""The ledger: one row per (item, channel, content version), so publication is on time, once, and signed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select, true

from pipeline.store import (
    Store,
    approvals_table,
    channel_health_table,
    events_table,
    ledger_table,
    open_store,
    pauses_table,
)

PLANNED = "planned"
APPROVED = "approved"
PUBLISHING = "publishing"
PUBLISHED = "published"
FAILED = "failed"
UNCONFIRMED = "unconfirmed"
HELD = "held"
SUPERSEDED = "superseded"  # an edit replaced this version before it went out
CANCELLED = "cancelled"    # a person decided it will not go out
STATES = (PLANNED, APPROVED, PUBLISHING, PUBLISHED, FAILED, UNCONFIRMED, HELD, SUPERSEDED, CANCELLED)

# Every legal move; anything else raises IllegalTransition. Published and cancelled are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    PLANNED: frozenset({APPROVED, PUBLISHING, HELD, SUPERSEDED, CANCELLED}),
    APPROVED: frozenset({PUBLISHING, HELD, SUPERSEDED, CANCELLED, PUBLISHED}),
    PUBLISHING: frozenset({PUBLISHED, FAILED, UNCONFIRMED}),
    FAILED: frozenset({PUBLISHING, HELD, SUPERSEDED, CANCELLED, PUBLISHED, APPROVED, PLANNED}),
    UNCONFIRMED: frozenset({PUBLISHED, APPROVED, PLANNED}),
    HELD: frozenset({APPROVED, PLANNED, SUPERSEDED, CANCELLED, PUBLISHED}),
    PUBLISHED: frozenset(),
    # Only a revert to the same words revives a superseded row (it never went out).
    SUPERSEDED: frozenset({PLANNED, APPROVED, HELD}),
    CANCELLED: frozenset(),
}
# Rows that are still waiting to go out (an edit may replace them, a pause may hold them).
WAITING = (PLANNED, APPROVED, HELD, FAILED)
# Rows a person may resolve by hand.
RESOLVABLE = (UNCONFIRMED, FAILED, HELD, APPROVED)
SYSTEM = "system"  # the `by` of changes the daemon makes on its own

# The queries every publication runs, built once with bound parameters: building a SQLAlchemy
# statement anew on every call cost more CPU than SQLite spent running it.
_ROW = select(ledger_table).where(ledger_table.c.key == bindparam("key"))
_STANDING_APPROVAL = (select(approvals_table)
                      .where(approvals_table.c.item_id == bindparam("item_id"),
                             approvals_table.c.version == bindparam("version"),
                             approvals_table.c.voided_at.is_(None))
                      .order_by(approvals_table.c.id))
_ACTIVE_PAUSE = (select(pauses_table)
                 .where(pauses_table.c.ended_at.is_(None),
                        or_(pauses_table.c.until.is_(None), pauses_table.c.until > bindparam("now")))
                 .order_by(pauses_table.c.id.desc()))
_HEALTH = select(channel_health_table).where(channel_health_table.c.channel == bindparam("channel"))
# Which rows may move to `publishing`: a rehearsal from any state that allows it; a live row only
# from approved (or failed, to try again) and only while an approval of this exact version stands.
# (Written as `=` tests, not IN lists, so the statement compiles once to fixed SQL.)
def _state_is(*states: str) -> Any:
    return or_(*(ledger_table.c.state == s for s in states))


_MAY_PUBLISH = or_(
    and_(ledger_table.c.dry_run.is_(True),
         _state_is(*sorted(s for s, to in TRANSITIONS.items() if PUBLISHING in to))),
    and_(ledger_table.c.dry_run.is_(False), _state_is(APPROVED, FAILED),
         select(approvals_table.c.id)
         .where(approvals_table.c.item_id == ledger_table.c.item_id,
                approvals_table.c.version == ledger_table.c.version,
                approvals_table.c.voided_at.is_(None)).exists()))
# What a publication checks first, in one statement: its row, the pause in force, its channel's health.
_PAUSE_NOW = _ACTIVE_PAUSE.limit(1).subquery("pause_now")
_VIEW = (select(ledger_table,
                *(c.label(f"pause_{c.name}") for c in _PAUSE_NOW.c),
                *(c.label(f"health_{c.name}") for c in channel_health_table.c))
         .select_from(ledger_table
                      .outerjoin(_PAUSE_NOW, true())
                      .outerjoin(channel_health_table,
                                 channel_health_table.c.channel == bindparam("channel")))
         .where(ledger_table.c.key == bindparam("key")))
# The two transitions of every publication, each one compare-and-set statement.
_BEGIN = (ledger_table.update()
          .where(ledger_table.c.key == bindparam("k"), _MAY_PUBLISH)
          .values(state=PUBLISHING, attempts=ledger_table.c.attempts + 1,
                  updated_at=bindparam("now"))
          .returning(*ledger_table.c))
_PUBLISHED = (ledger_table.update()
              .where(ledger_table.c.key == bindparam("k"), ledger_table.c.state == PUBLISHING)
              .values(state=PUBLISHED, remote_id=bindparam("remote_id"), url=bindparam("url"),
                      published_at=bindparam("now"), lateness_seconds=bindparam("lateness"),
                      last_error=None, updated_at=bindparam("now"))
              .returning(*ledger_table.c))


class LedgerError(Exception):
    """Base of every ledger refusal."""


class UnknownEntry(LedgerError):
    """No ledger row matches."""

    def __init__(self, what: str):
        self.what = what
        super().__init__(f"no ledger entry for {what}; run the plan sync first")


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
    state: str
    attempts: int
    remote_id: str | None
    url: str | None
    last_error: str | None
    published_at: datetime | None
    lateness_seconds: float | None
    dry_run: bool
    held_pause_id: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Entry:
        """Build from a SQLAlchemy mapping row."""
        return cls(**{f.name: row[f.name] for f in fields(cls)})


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


@dataclass(frozen=True)
class SyncResult:
    """What a sync changed: keys inserted, superseded by an edit, newly held, and edits not taken."""

    inserted: list[str]
    superseded: list[str]
    held: list[str]
    # Keys of new versions not inserted because an older version went out (or may have).
    skipped: list[str]


def _labels(item: Any) -> dict[str, Any]:
    """What sync_planned refreshes on an existing row of the same version."""
    return dict(due=item.due, title=item.title, help=item.help, responsibility=item.responsibility,
                kind=item.kind, campaign=item.campaign)


@dataclass(frozen=True)
class PublishView:
    """What a publication checks first, read in one snapshot: its row (None if not synced yet),
    the pause in force and its channel's health."""

    entry: Entry | None
    pause: Pause | None
    health: dict[str, Any] | None

    def in_sync(self, item: Any) -> bool:
        """True if sync_planned([item]) would change nothing, so a publication can skip its write
        transaction: the row of this exact version exists, is not superseded, carries the item's
        labels, and the calendar does not hold the item."""
        e = self.entry
        return (e is not None and e.state != SUPERSEDED and item.status != HELD
                and all(getattr(e, k) == v for k, v in _labels(item).items()))

    def blocked(self, now: datetime) -> str | None:
        """Why the channel can't publish at `now`, as Ledger.channel_blocked says."""
        return _blocked(self.health, now)


def _blocked(health: dict[str, Any] | None, now: datetime) -> str | None:
    if health is None:
        return None
    if health["flagged"]:
        return f"flagged: {health['reason']}"
    if health["rate_limited_until"] is not None and health["rate_limited_until"] > now:
        return f"rate limited until {health['rate_limited_until'].isoformat()}"
    return None


def _health(row: Any) -> dict[str, Any]:
    return {"flagged": row["flagged"], "reason": row["reason"], "since": row["flagged_at"],
            "rate_limited_until": row["rate_limited_until"], "updated_at": row["updated_at"]}


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")
    return value


class Ledger:
    """The ledger and its audit trail, pauses and channel health, over an open Store."""

    def __init__(self, store: Store):
        self.store = store

    # -- plan ---------------------------------------------------------------------------------

    def sync_planned(self, items: Iterable[Any], now: datetime,
                     dry_run: bool | Callable[[str], bool] = False) -> SyncResult:
        """Insert planned rows for new (item, version)s; an edit supersedes the unpublished old version."""
        _aware("now", now)
        is_dry = dry_run if callable(dry_run) else (lambda _channel: bool(dry_run))
        inserted: list[str] = []
        superseded: list[str] = []
        held: list[str] = []
        skipped: list[str] = []
        t = ledger_table
        with self.store.writing() as conn:
            pause = self._active_pause(conn, now)
            for item in items:
                dry = bool(is_dry(item.channel))
                key = ledger_key(item.id, item.channel, item.version, dry)
                blackout = item.status == HELD
                existing = conn.execute(select(t).where(t.c.key == key)).mappings().first()
                if existing is not None and existing["state"] != SUPERSEDED:
                    # Same content: only the time or labels may have moved.
                    labels = _labels(item)
                    # written only if something moved: every job and start-up syncs its items
                    if existing["state"] in (PLANNED, APPROVED, HELD) and any(
                            existing[k] != v for k, v in labels.items()):
                        conn.execute(t.update().where(t.c.key == key).values(**labels))
                    if blackout and existing["state"] in (PLANNED, APPROVED):
                        self._set(conn, key, HELD, now, last_error=item.note or "held by the calendar")
                        held.append(key)
                    continue
                lane = and_(t.c.item_id == item.id, t.c.channel == item.channel, t.c.dry_run == dry,
                            t.c.version != item.version)
                out = conn.execute(select(t.c.key).where(
                    lane, t.c.state.in_((PUBLISHING, UNCONFIRMED, PUBLISHED)))).first()
                if out is not None:
                    # An edit after it went out (or may have) must not post it a second time;
                    # once an unconfirmed row is settled, the next sync sees the edit again.
                    skipped.append(key)
                    continue
                for old_key, old_version in conn.execute(
                        select(t.c.key, t.c.version).where(lane, t.c.state.in_(WAITING))).all():
                    self._set(conn, old_key, SUPERSEDED, now,
                              last_error=f"replaced by version {item.version}")
                    # The approval was of the old words; it must not carry to a revert either.
                    conn.execute(approvals_table.update().where(
                        approvals_table.c.item_id == item.id, approvals_table.c.version == old_version,
                        approvals_table.c.voided_at.is_(None)).values(voided_at=now))
                    superseded.append(old_key)
                state, note, pause_id = PLANNED, None, None
                if self._approval(conn, item.id, item.version) is not None:
                    state = APPROVED
                if blackout:
                    state, note = HELD, item.note or "held by the calendar"
                elif pause is not None and pause.holds(item.due, item.help):
                    state, note, pause_id = HELD, f"paused: {pause.reason}", pause.id
                values = dict(
                    kind=item.kind, campaign=item.campaign, title=item.title,
                    responsibility=item.responsibility, help=item.help, due=item.due,
                    dry_run=dry, last_error=note, held_pause_id=pause_id)
                if existing is None:
                    conn.execute(t.insert().values(
                        key=key, item_id=item.id, channel=item.channel, version=item.version,
                        state=state, attempts=0, created_at=now, updated_at=now, **values))
                else:
                    # A revert to words that were replaced before going out: the same key, so the
                    # same row comes back, needing a fresh approval.
                    self._set(conn, key, state, now, **values)
                inserted.append(key)
                if state == HELD:
                    held.append(key)
        return SyncResult(inserted, superseded, held, skipped)

    # -- approval -----------------------------------------------------------------------------

    def approve(self, item_id: str, version: str, by_person: str, now: datetime, config: Any, *,
                blocking_errors: Sequence[str] = (), identifying: Sequence[str] = (),
                accept_identifying: bool = False) -> int:
        """Approve the EXACT version as an Accountable person; returns the approval's id."""
        _aware("now", now)
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
            current = [r for r in rows if r["state"] != SUPERSEDED]
            if not mine:
                raise ApprovalRefused(item_id, version, "no such version of this item")
            if all(r["state"] == SUPERSEDED for r in mine):
                newer = ", ".join(sorted({r["version"] for r in current})) or "none"
                raise ApprovalRefused(item_id, version,
                                      f"an edit replaced this version; approve the current one ({newer})")
            responsibility = mine[0]["responsibility"]
            self._check_accountable(config, item_id, version, responsibility, by_person)
            previous = self._approval(conn, item_id, version)
            if previous is not None:
                raise ApprovalRefused(item_id, version,
                                      f"already approved by {previous['person']} at "
                                      f"{previous['at'].isoformat()}")
            if not any(r["state"] in (PLANNED, HELD, FAILED) for r in mine):
                states = ", ".join(sorted({r["state"] for r in mine}))
                raise ApprovalRefused(item_id, version, f"it is already {states}")
            approval_id = conn.execute(approvals_table.insert().values(
                item_id=item_id, version=version, person=by_person, at=now,
                accepted_identifying=accept_identifying)).inserted_primary_key[0]
            for r in mine:
                # A held row stays held (the hold is a separate decision); it is released approved.
                if r["state"] == PLANNED:
                    self._set(conn, r["key"], APPROVED, now)
            self._event(conn, now, "approve", by_person, item_id=item_id,
                        details={"version": version, "accepted_identifying": accept_identifying,
                                 "identifying": list(identifying)})
        return int(approval_id)

    @staticmethod
    def _check_accountable(config: Any, item_id: str, version: str, responsibility: str,
                           by_person: str) -> None:
        settings = config.settings
        if by_person not in settings.people:
            raise ApprovalRefused(item_id, version, f"'{by_person}' is not in [people] in config.toml")
        resp = settings.responsibilities.get(responsibility)
        if resp is None:
            raise ApprovalRefused(item_id, version,
                                  f"its responsibility '{responsibility}' is not in [responsibilities], "
                                  f"so nobody is accountable for it")
        if by_person not in config.people_with(list(resp.accountable)):
            allowed = ", ".join(config.people_with(list(resp.accountable))) or "nobody"
            raise ApprovalRefused(item_id, version,
                                  f"'{by_person}' does not hold an accountable role for '{responsibility}' "
                                  f"({', '.join(resp.accountable)}); it may be approved by: {allowed}")

    def approvals_pending(self, now: datetime) -> list[Entry]:
        """Rows waiting for an approval, soonest due first (one per item version)."""
        _aware("now", now)
        t = ledger_table
        with self.store.reading() as conn:
            rows = conn.execute(select(t).where(t.c.state == PLANNED)
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

    def approvals(self, item_id: str) -> list[dict[str, Any]]:
        """Every approval recorded for an item, oldest first, voided ones included."""
        with self.store.reading() as conn:
            rows = conn.execute(select(approvals_table).where(approvals_table.c.item_id == item_id)
                                .order_by(approvals_table.c.id)).mappings().all()
        return [dict(r) for r in rows]

    # -- publishing ---------------------------------------------------------------------------

    def begin_publishing(self, key: str, now: datetime) -> Entry:
        """Write `publishing` (and count the attempt) BEFORE the platform is called: one
        compare-and-set statement, flushed to the disk, that only matches a row allowed to go."""
        _aware("now", now)
        with self.store.writing() as conn:
            rows = conn.execute(_BEGIN, {"k": key, "now": now}).mappings().all()
        if rows:
            return Entry.from_row(rows[0])
        with self.store.reading() as conn:  # it did not match: say why
            row = self._row(conn, key)
            if not row["dry_run"]:
                if row["state"] not in (APPROVED, FAILED):
                    raise IllegalTransition(key, row["item_id"], row["state"], PUBLISHING,
                                            "only an approved item is published live")
                # Belt and braces: the approval of this exact version must still stand.
                if self._approval(conn, row["item_id"], row["version"]) is None:
                    raise IllegalTransition(key, row["item_id"], row["state"], PUBLISHING,
                                            "no standing approval of this exact version")
        raise IllegalTransition(key, row["item_id"], row["state"], PUBLISHING)

    def mark_published(self, key: str, remote_id: str, url: str, now: datetime,
                       lateness: timedelta | float | None = None) -> Entry:
        """Record the platform's id and link after it accepted the publication (one
        compare-and-set statement: only a `publishing` row becomes `published`)."""
        _aware("now", now)
        # without a lateness, a read for the due time; the statement below still decides
        seconds = self._lateness({"due": self.entry(key).due} if lateness is None else {},
                                 now, lateness)
        with self.store.writing() as conn:
            rows = conn.execute(_PUBLISHED, {"k": key, "now": now, "remote_id": remote_id,
                                             "url": url, "lateness": seconds}).mappings().all()
        if rows:
            return Entry.from_row(rows[0])
        current = self.entry(key)  # it did not match: say why
        raise IllegalTransition(key, current.item_id, current.state, PUBLISHED)

    def mark_failed(self, key: str, error: str, now: datetime) -> Entry:
        """The platform refused or could not be reached before accepting: it did not go out."""
        return self._after_attempt(key, FAILED, error, now)

    def mark_unconfirmed(self, key: str, error: str, now: datetime) -> Entry:
        """It may or may not have gone out (a timeout): ask the platform, never retry blind."""
        return self._after_attempt(key, UNCONFIRMED, error, now)

    def _after_attempt(self, key: str, state: str, error: str, now: datetime) -> Entry:
        _aware("now", now)
        with self.store.writing() as conn:
            row = self._row(conn, key)
            self._check(row, state, allowed_from=(PUBLISHING,))
            return self._move(conn, row, state, now, last_error=error)

    def mark_held(self, key: str, reason: str, now: datetime) -> Entry:
        """Keep an item back (pause, blackout, flagged channel, missed its time) for a person to decide."""
        _aware("now", now)
        with self.store.writing() as conn:
            row = self._row(conn, key)
            self._check(row, HELD, allowed_from=(PLANNED, APPROVED, FAILED))
            pause = self._active_pause(conn, now)
            self._set(conn, key, HELD, now, last_error=reason,
                      held_pause_id=pause.id if pause is not None else None)
            return Entry.from_row(self._row(conn, key))

    def recover_after_crash(self, now: datetime) -> list[str]:
        """Turn every `publishing` row into `unconfirmed` (a crash hid the outcome); returns the keys."""
        _aware("now", now)
        t = ledger_table
        with self.store.writing() as conn:
            keys = list(conn.execute(select(t.c.key).where(t.c.state == PUBLISHING)).scalars())
            for key in keys:
                self._set(conn, key, UNCONFIRMED, now,
                          last_error="interrupted while publishing; ask the platform before any retry")
                self._event(conn, now, "recover", SYSTEM, key=key)
        return keys

    # -- decisions by a person ---------------------------------------------------------------

    def resolve(self, item_id: str, channel: str, published_as: str | None, not_published: bool,
                by: str, now: datetime, *, url: str | None = None) -> Entry:
        """A person settles an item: it went out as `published_as` (id or link), or it did not."""
        _aware("now", now)
        if (published_as is None) == (not not_published):
            raise LedgerError("resolve needs exactly one of: published_as (the post's id or link), "
                              "or not_published=True")
        t = ledger_table
        with self.store.writing() as conn:
            rows = conn.execute(select(t).where(
                t.c.item_id == item_id, t.c.channel == channel, t.c.state.in_(RESOLVABLE))
                .order_by(t.c.dry_run, t.c.updated_at.desc())).mappings().all()
            if not rows:
                raise UnknownEntry(f"{item_id} on {channel} in a state a person can resolve "
                                   f"({', '.join(RESOLVABLE)})")
            row = rows[0]
            key = row["key"]
            if published_as is not None:
                if url is None and published_as.startswith(("http://", "https://")):
                    url = published_as
                self._check(row, PUBLISHED, allowed_from=RESOLVABLE)
                self._set(conn, key, PUBLISHED, now, remote_id=published_as, url=url, published_at=now,
                          lateness_seconds=self._lateness(row, now, None), last_error=None)
            else:
                if row["state"] == APPROVED:
                    raise IllegalTransition(key, item_id, APPROVED, APPROVED, "it has not been attempted")
                state = self._ready_state(conn, row)
                self._check(row, state, allowed_from=RESOLVABLE)
                self._set(conn, key, state, now, held_pause_id=None,
                          last_error=f"confirmed not published by {by}")
            self._event(conn, now, "resolve", by, key=key, item_id=item_id,
                        details={"channel": channel, "published_as": published_as,
                                 "not_published": not_published, "was": row["state"]})
            return Entry.from_row(self._row(conn, key))

    def release(self, key: str, by: str, now: datetime) -> Entry:
        """Let a held item go ahead: approved again if its exact version still has an approval."""
        _aware("now", now)
        with self.store.writing() as conn:
            row = self._row(conn, key)
            state = self._ready_state(conn, row)
            self._check(row, state, allowed_from=(HELD,))
            self._set(conn, key, state, now, held_pause_id=None, last_error=None)
            self._event(conn, now, "release", by, key=key, item_id=row["item_id"])
            return Entry.from_row(self._row(conn, key))

    def cancel(self, key: str, reason: str, by: str, now: datetime) -> Entry:
        """Decide an item will not go out at all."""
        _aware("now", now)
        with self.store.writing() as conn:
            row = self._row(conn, key)
            self._check(row, CANCELLED, allowed_from=(PLANNED, APPROVED, HELD, FAILED))
            self._set(conn, key, CANCELLED, now, last_error=reason)
            self._event(conn, now, "cancel", by, key=key, item_id=row["item_id"],
                        details={"reason": reason})
            return Entry.from_row(self._row(conn, key))

    # -- pause --------------------------------------------------------------------------------

    def pause(self, reason: str, by: str, now: datetime, until: datetime | None = None,
              keep_help: bool = False) -> list[str]:
        """Freeze comms at once: hold every waiting item (optionally not help posts); returns held keys."""
        _aware("now", now)
        if until is not None:
            _aware("until", until)
            if until <= now:
                raise PauseError(f"a pause until {until.isoformat()} would already be over")
        if not reason.strip():
            raise PauseError("a pause needs a reason, for the audit trail and the people who resume it")
        t = ledger_table
        with self.store.writing() as conn:
            current = self._active_pause(conn, now)
            if current is not None:
                raise PauseError(f"already paused by {current.by} since {current.started_at.isoformat()} "
                                 f"({current.reason}); resume first")
            pause_id = conn.execute(pauses_table.insert().values(
                reason=reason, by=by, started_at=now, until=until, keep_help=keep_help)
            ).inserted_primary_key[0]
            pause = Pause(int(pause_id), reason, by, now, until, keep_help)
            rows = conn.execute(select(t.c.key, t.c.due, t.c.help)
                                .where(t.c.state.in_((PLANNED, APPROVED, FAILED)))).all()
            held = [key for key, due, help_post in rows if pause.holds(due, help_post)]
            for key in held:
                self._set(conn, key, HELD, now, last_error=f"paused: {reason}", held_pause_id=pause.id)
            self._event(conn, now, "pause", by, details={
                "pause_id": pause.id, "reason": reason, "keep_help": keep_help,
                "until": until.isoformat() if until else None, "held": len(held)})
        return held

    def resume(self, by: str, now: datetime) -> list[Entry]:
        """End the pause; returns the items it held, still held, for a person to release or cancel."""
        _aware("now", now)
        with self.store.writing() as conn:
            row = conn.execute(select(pauses_table).where(pauses_table.c.ended_at.is_(None))
                               .order_by(pauses_table.c.id.desc())).mappings().first()
            if row is None:
                raise PauseError("not paused")
            conn.execute(pauses_table.update().where(pauses_table.c.id == row["id"])
                         .values(ended_at=now, ended_by=by))
            held = conn.execute(select(ledger_table).where(
                ledger_table.c.held_pause_id == row["id"], ledger_table.c.state == HELD)
                .order_by(ledger_table.c.due)).mappings().all()
            self._event(conn, now, "resume", by, details={
                "pause_id": row["id"], "reason": row["reason"], "held": len(held)})
        return [Entry.from_row(r) for r in held]

    def active_pause(self, now: datetime) -> Pause | None:
        """The pause in force at `now`, if any (one whose `until` has passed is not)."""
        _aware("now", now)
        with self.store.reading() as conn:
            return self._active_pause(conn, now)

    @staticmethod
    def _active_pause(conn: Connection, now: datetime) -> Pause | None:
        row = conn.execute(_ACTIVE_PAUSE, {"now": now}).mappings().first()
        if row is None:
            return None
        return Pause(row["id"], row["reason"], row["by"], row["started_at"], row["until"], row["keep_help"])

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The audit trail, oldest first, with details decoded."""
        query = select(events_table).order_by(events_table.c.id)
        if kind is not None:
            query = query.where(events_table.c.kind == kind)
        with self.store.reading() as conn:
            rows = conn.execute(query).mappings().all()
        return [{**r, "details": json.loads(r["details"])} for r in rows]

    # -- channel health -----------------------------------------------------------------------

    def flag_channel(self, channel: str, reason: str, now: datetime) -> None:
        """Mark a channel unusable (e.g. expired credentials) until a person clears it."""
        _aware("now", now)
        self._upsert_health(channel, flagged=True, reason=reason, flagged_at=now, updated_at=now)

    def clear_channel(self, channel: str, now: datetime) -> None:
        """The channel works again."""
        _aware("now", now)
        self._upsert_health(channel, flagged=False, reason=None, flagged_at=None, updated_at=now)

    def rate_limited_until(self, channel: str, when: datetime | None, now: datetime | None = None) -> None:
        """Record the platform's reset time (None clears it); items for the channel wait until then."""
        if when is not None:
            _aware("when", when)
        values: dict[str, Any] = {"rate_limited_until": when}
        if now is not None:
            values["updated_at"] = _aware("now", now)
        self._upsert_health(channel, **values)

    def channel_health(self) -> dict[str, dict[str, Any]]:
        """Every channel with a recorded health state: flagged, reason, since, rate_limited_until."""
        with self.store.reading() as conn:
            rows = conn.execute(select(channel_health_table)
                                .order_by(channel_health_table.c.channel)).mappings().all()
        return {r["channel"]: _health(r) for r in rows}

    def channel_blocked(self, channel: str, now: datetime) -> str | None:
        """Why the channel can't publish at `now` (flagged or rate-limited), or None if it can."""
        _aware("now", now)
        return _blocked(self.channel_health().get(channel), now)

    def publish_view(self, key: str, channel: str, now: datetime) -> PublishView:
        """The row, the pause in force and the channel's health, read by ONE statement (a
        publication used to spend three transactions on them); all None if the row is not
        there yet. Only for deciding: begin_publishing is a compare-and-set on the row, so a
        view that is stale by the time it is used can't let anything out twice."""
        _aware("now", now)
        with self.store.reading() as conn:
            rows = conn.execute(_VIEW, {"key": key, "channel": channel, "now": now}).mappings().all()
        if not rows:
            return PublishView(None, None, None)
        row = rows[0]
        pause = None if row["pause_id"] is None else Pause(
            row["pause_id"], row["pause_reason"], row["pause_by"], row["pause_started_at"],
            row["pause_until"], row["pause_keep_help"])
        health = None if row["health_channel"] is None else _health(
            {name.removeprefix("health_"): value for name, value in row.items()
             if name.startswith("health_")})
        return PublishView(Entry.from_row(row), pause, health)

    def _upsert_health(self, channel: str, **values: Any) -> None:
        h = channel_health_table
        with self.store.writing() as conn:
            found = conn.execute(select(h.c.channel).where(h.c.channel == channel)).first()
            if found is None:
                conn.execute(h.insert().values(channel=channel, **{"flagged": False, **values}))
            else:
                conn.execute(h.update().where(h.c.channel == channel).values(**values))

    # -- reading ------------------------------------------------------------------------------
    # Reads use Store.reading(): a deferred BEGIN that does not queue for SQLite's write lock.

    def entry(self, key: str) -> Entry:
        """One row by its key."""
        with self.store.reading() as conn:
            return Entry.from_row(self._row(conn, key))

    def entries(self, *, item_id: str | None = None, states: Iterable[str] | None = None) -> list[Entry]:
        """Rows, soonest due first, optionally for one item or in some states."""
        t = ledger_table
        query = select(t).order_by(t.c.due, t.c.item_id, t.c.created_at)
        if item_id is not None:
            query = query.where(t.c.item_id == item_id)
        if states is not None:
            query = query.where(t.c.state.in_(list(states)))
        with self.store.reading() as conn:
            return [Entry.from_row(r) for r in conn.execute(query).mappings().all()]

    def due(self, now: datetime) -> list[Entry]:
        """Rows whose time has come and that may be published now: approved live rows, or dry-run rows."""
        _aware("now", now)
        t = ledger_table
        ready = or_(t.c.state == APPROVED, and_(t.c.dry_run.is_(True), t.c.state == PLANNED))
        with self.store.reading() as conn:
            rows = conn.execute(select(t).where(t.c.due <= now, ready)
                                .order_by(t.c.due, t.c.item_id)).mappings().all()
        return [Entry.from_row(r) for r in rows]

    def history(self, start: datetime, end: datetime, *,
                include_superseded: bool = False) -> list[dict[str, Any]]:
        """Rows due from `start` (inclusive) to `end` (exclusive), in due order, as plain dicts."""
        _aware("start", start)
        _aware("end", end)
        t = ledger_table
        query = select(t).where(t.c.due >= start, t.c.due < end).order_by(t.c.due, t.c.item_id)
        if not include_superseded:
            query = query.where(t.c.state != SUPERSEDED)
        with self.store.reading() as conn:
            rows = conn.execute(query).mappings().all()
        return [{"id": r["item_id"], "key": r["key"], "channel": r["channel"], "state": r["state"],
                 "remote_id": r["remote_id"], "url": r["url"], "due": r["due"],
                 "published_at": r["published_at"], "attempts": r["attempts"],
                 "last_error": r["last_error"], "dry_run": r["dry_run"], "version": r["version"],
                 "campaign": r["campaign"], "kind": r["kind"],
                 "lateness_seconds": r["lateness_seconds"]} for r in rows]

    def first_seen(self) -> datetime | None:
        """When the ledger recorded its first item: the pipeline's first run on this store."""
        with self.store.reading() as conn:
            return conn.execute(select(func.min(ledger_table.c.created_at))).scalar()

    def counts_by_state(self) -> dict[str, int]:
        """How many rows are in each state (states with none are left out)."""
        t = ledger_table
        with self.store.reading() as conn:
            rows = conn.execute(select(t.c.state, func.count()).group_by(t.c.state)).all()
        return {state: int(n) for state, n in rows}

    def recent_failures(self, n: int = 10) -> list[Entry]:
        """The `n` most recently changed rows that failed or are unconfirmed, newest first."""
        t = ledger_table
        with self.store.reading() as conn:
            rows = conn.execute(select(t).where(t.c.state.in_((FAILED, UNCONFIRMED)))
                                .order_by(t.c.updated_at.desc(), t.c.key).limit(n)).mappings().all()
        return [Entry.from_row(r) for r in rows]

    # -- internals ----------------------------------------------------------------------------

    @staticmethod
    def _row(conn: Connection, key: str) -> Any:
        row = conn.execute(_ROW, {"key": key}).mappings().first()
        if row is None:
            raise UnknownEntry(f"key {key}")
        return row

    @staticmethod
    def _check(row: Any, wanted: str, allowed_from: Iterable[str]) -> None:
        current = row["state"]
        if current not in allowed_from or wanted not in TRANSITIONS[current]:
            raise IllegalTransition(row["key"], row["item_id"], current, wanted)

    @staticmethod
    def _set(conn: Connection, key: str, state: str, now: datetime, **values: Any) -> None:
        row = conn.execute(select(ledger_table.c.state, ledger_table.c.item_id)
                           .where(ledger_table.c.key == key)).first()
        assert row is not None
        # The one gate every state change passes through, so no path can skip the rules.
        if state not in TRANSITIONS[row.state]:
            raise IllegalTransition(key, row.item_id, row.state, state)
        conn.execute(ledger_table.update().where(ledger_table.c.key == key)
                     .values(state=state, updated_at=now, **values))

    @staticmethod
    def _move(conn: Connection, row: Any, state: str, now: datetime, **values: Any) -> Entry:
        """_set for a row the caller read in this same write transaction (BEGIN IMMEDIATE: nobody
        else can have changed it since), without reading it twice more: the same transition gate,
        one UPDATE, and the Entry built from the row and the new values. In a burst every
        statement inside a write transaction is time other publications queue for the lock."""
        if state not in TRANSITIONS[row["state"]]:
            raise IllegalTransition(row["key"], row["item_id"], row["state"], state)
        values = dict(values, state=state, updated_at=now)
        conn.execute(ledger_table.update().where(ledger_table.c.key == row["key"]).values(**values))
        return Entry.from_row({**row, **values})

    @staticmethod
    def _approval(conn: Connection, item_id: str, version: str) -> Any:
        return conn.execute(_STANDING_APPROVAL, {"item_id": item_id, "version": version}).mappings().first()

    def _ready_state(self, conn: Connection, row: Any) -> str:
        return APPROVED if self._approval(conn, row["item_id"], row["version"]) is not None else PLANNED

    @staticmethod
    def _lateness(row: Any, now: datetime, lateness: timedelta | float | None) -> float:
        if lateness is None:
            return max(0.0, (now - row["due"]).total_seconds())
        if isinstance(lateness, timedelta):
            return lateness.total_seconds()
        return float(lateness)

    @staticmethod
    def _event(conn: Connection, now: datetime, kind: str, by: str, *, key: str | None = None,
               item_id: str | None = None, details: dict[str, Any] | None = None) -> None:
        conn.execute(events_table.insert().values(at=now, kind=kind, by=by, key=key, item_id=item_id,
                                                  details=json.dumps(details or {}, sort_keys=True)))


def open_ledger(url: str) -> Ledger:
    """Open the store at `url` and the ledger over it."""
    return Ledger(open_store(url))
