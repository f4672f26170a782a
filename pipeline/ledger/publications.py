"""The publication state machine: one row per (item, channel, content version), so publication is
on time, exactly once, and only of what was signed off."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, true

from pipeline.ledger import audit
from pipeline.ledger.approvals import ready_state, standing, void
from pipeline.ledger.pauses import ACTIVE, active_in
from pipeline.ledger.rows import (
    SYSTEM,
    Actor,
    Entry,
    Health,
    IllegalTransition,
    LedgerError,
    Pause,
    PublishView,
    SyncResult,
    UnknownEntry,
    actor_of,
    aware,
    labels,
    ledger_key,
)
from pipeline.ledger.transitions import check, move, row_of
from pipeline.states import TRANSITIONS, ErrorKind, HoldReason, State
from pipeline.store import Store, approvals_table, channel_health_table, ledger_table

# Rows that are still waiting to go out (an edit may replace them, a pause may hold them).
WAITING = (State.PLANNED, State.APPROVED, State.HELD, State.FAILED)
# Rows a person may resolve by hand.
RESOLVABLE = (State.UNCONFIRMED, State.FAILED, State.HELD, State.APPROVED)

_t = ledger_table
# Which rows may move to `publishing`: a rehearsal from any state that allows it; a live row only
# from approved (or failed, to try again) and only while an approval of this exact version stands.
_MAY_PUBLISH = or_(
    and_(_t.c.dry_run.is_(True),
         _t.c.state.in_(sorted(s.value for s, to in TRANSITIONS.items() if State.PUBLISHING in to))),
    and_(_t.c.dry_run.is_(False), _t.c.state.in_((State.APPROVED.value, State.FAILED.value)),
         select(approvals_table.c.id)
         .where(approvals_table.c.item_id == _t.c.item_id,
                approvals_table.c.version == _t.c.version,
                approvals_table.c.voided_at.is_(None)).exists()))
# What a publication checks first, in one statement: its row, the pause in force, its channel's health.
_PAUSE_NOW = ACTIVE.limit(1).subquery("pause_now")
_VIEW = (select(_t, *(c.label(f"pause_{c.name}") for c in _PAUSE_NOW.c),
                *(c.label(f"health_{c.name}") for c in channel_health_table.c))
         .select_from(_t.outerjoin(_PAUSE_NOW, true())
                      .outerjoin(channel_health_table,
                                 channel_health_table.c.channel == bindparam("channel")))
         .where(_t.c.key == bindparam("key")))
# The two transitions of every publication, each one compare-and-set statement.
_BEGIN = (_t.update().where(_t.c.key == bindparam("k"), _MAY_PUBLISH)
          .values(state=State.PUBLISHING.value, attempts=_t.c.attempts + 1,
                  updated_at=bindparam("now"))
          .returning(*_t.c))
_PUBLISHED = (_t.update().where(_t.c.key == bindparam("k"), _t.c.state == State.PUBLISHING.value)
              .values(state=State.PUBLISHED.value, remote_id=bindparam("remote_id"),
                      url=bindparam("url"), published_at=bindparam("now"),
                      lateness_seconds=bindparam("lateness"), last_error=None, error_kind=None,
                      updated_at=bindparam("now"))
              .returning(*_t.c))


def _late(due: datetime, now: datetime) -> float:
    """Seconds after its due time that a row went out (never below zero)."""
    return max(0.0, (now - due).total_seconds())


class Publications:
    """The ledger's rows and every move between their states."""

    def __init__(self, store: Store):
        self.store = store

    # -- the plan -------------------------------------------------------------------------------

    def sync_planned(self, items: Iterable[Any], now: datetime,
                     dry_run: bool | Callable[[str], bool] = False) -> SyncResult:
        """Insert planned rows for new (item, version)s; an edit supersedes the unpublished old version."""
        aware("now", now)
        is_dry = dry_run if callable(dry_run) else (lambda _channel: bool(dry_run))
        inserted: list[str] = []
        superseded: list[str] = []
        held: list[str] = []
        skipped: list[str] = []
        with self.store.writing() as conn:
            for item in items:
                dry = bool(is_dry(item.channel))
                key = ledger_key(item.id, item.channel, item.version, dry)
                blackout = item.status == State.HELD
                hold_note = item.note or "held by the calendar"
                existing = conn.execute(select(_t).where(_t.c.key == key)).mappings().first()
                if existing is not None and existing["state"] != State.SUPERSEDED:
                    # Same content: only the time or labels may have moved; written only if
                    # something moved, since every job and start-up syncs its items.
                    new_labels = labels(item)
                    if existing["state"] in (State.PLANNED, State.APPROVED, State.HELD) and any(
                            existing[k] != v for k, v in new_labels.items()):
                        conn.execute(_t.update().where(_t.c.key == key).values(**new_labels))
                    if blackout and existing["state"] in (State.PLANNED, State.APPROVED):
                        move(conn, existing, State.HELD, now, last_error=hold_note,
                             hold_reason=HoldReason.BLACKOUT.value)
                        held.append(key)
                    continue
                lane = and_(_t.c.item_id == item.id, _t.c.channel == item.channel,
                            _t.c.dry_run == dry, _t.c.version != item.version)
                out = conn.execute(select(_t.c.key).where(
                    lane, _t.c.state.in_((State.PUBLISHING, State.UNCONFIRMED, State.PUBLISHED)))).first()
                if out is not None:
                    # An edit after it went out (or may have) must not post it a second time;
                    # once an unconfirmed row is settled, the next sync sees the edit again.
                    skipped.append(key)
                    continue
                for old in conn.execute(select(_t).where(lane, _t.c.state.in_(WAITING))).mappings().all():
                    move(conn, old, State.SUPERSEDED, now,
                         last_error=f"replaced by version {item.version}")
                    # The approval was of the old words; it must not carry to a revert either.
                    void(conn, item.id, old["version"], now)
                    superseded.append(old["key"])
                # A pause holds an item when it falls due, not now (see Publisher.publish).
                state, note, reason = State.PLANNED, None, None
                if standing(conn, item.id, item.version) is not None:
                    state = State.APPROVED
                if blackout:
                    state, note, reason = State.HELD, hold_note, HoldReason.BLACKOUT
                values = dict(
                    kind=item.kind, campaign=item.campaign, title=item.title,
                    responsibility=item.responsibility, help=item.help, due=item.due,
                    dry_run=dry, last_error=note, error_kind=None,
                    hold_reason=reason.value if reason else None, held_pause_id=None)
                if existing is None:
                    conn.execute(_t.insert().values(
                        key=key, item_id=item.id, channel=item.channel, version=item.version,
                        state=state.value, attempts=0, created_at=now, updated_at=now, **values))
                else:
                    # A revert to words that were replaced before going out: the same key, so the
                    # same row comes back, needing a fresh approval.
                    move(conn, existing, state, now, **values)
                inserted.append(key)
                if state == State.HELD:
                    held.append(key)
        return SyncResult(inserted, superseded, held, skipped)

    # -- publishing -----------------------------------------------------------------------------

    def publish_view(self, key: str, channel: str, now: datetime) -> PublishView:
        """The row, the pause in force and the channel's health, read by one statement; all None
        if the row is not there yet. Only for deciding: begin_publishing is a compare-and-set on
        the row, so a view that is stale by the time it is used can't let anything out twice."""
        aware("now", now)
        with self.store.reading() as conn:
            row = conn.execute(_VIEW, {"key": key, "channel": channel, "now": now}).mappings().first()
        if row is None:
            return PublishView(None, None, None)
        pause = None if row["pause_id"] is None else Pause.from_row(row, "pause_")
        health = None if row["health_channel"] is None else Health.from_row(row, "health_")
        return PublishView(Entry.from_row(row), pause, health)

    def begin_publishing(self, key: str, now: datetime) -> Entry:
        """Write `publishing` (and count the attempt) BEFORE the platform is called: one
        compare-and-set statement that only matches a row allowed to go."""
        aware("now", now)
        with self.store.writing() as conn:
            row = conn.execute(_BEGIN, {"k": key, "now": now}).mappings().first()
        if row is not None:
            return Entry.from_row(row)
        with self.store.reading() as conn:  # it did not match: say why
            row = row_of(conn, key)
            if not row["dry_run"]:
                if row["state"] not in (State.APPROVED, State.FAILED):
                    raise IllegalTransition(key, row["item_id"], row["state"], State.PUBLISHING,
                                            "only an approved item is published live")
                # Belt and braces: the approval of this exact version must still stand.
                if standing(conn, row["item_id"], row["version"]) is None:
                    raise IllegalTransition(key, row["item_id"], row["state"], State.PUBLISHING,
                                            "no standing approval of this exact version")
        raise IllegalTransition(key, row["item_id"], row["state"], State.PUBLISHING)

    def mark_published(self, key: str, remote_id: str, url: str, now: datetime,
                       lateness: timedelta | float | None = None) -> Entry:
        """Record the platform's id and link after it accepted the publication (one
        compare-and-set statement: only a `publishing` row becomes `published`)."""
        aware("now", now)
        if lateness is None:
            seconds = _late(self.entry(key).due, now)
        else:  # measured by the caller from the start of the call
            seconds = lateness.total_seconds() if isinstance(lateness, timedelta) else float(lateness)
        with self.store.writing() as conn:
            row = conn.execute(_PUBLISHED, {"k": key, "now": now, "remote_id": remote_id,
                                            "url": url, "lateness": seconds}).mappings().first()
        if row is not None:
            return Entry.from_row(row)
        current = self.entry(key)  # it did not match: say why
        raise IllegalTransition(key, current.item_id, current.state, State.PUBLISHED)

    def mark_failed(self, key: str, error: str, now: datetime, *, kind: ErrorKind) -> Entry:
        """The platform refused or could not be reached before accepting: it did not go out."""
        return self._after_attempt(key, State.FAILED, error, kind, now)

    def mark_unconfirmed(self, key: str, error: str, now: datetime) -> Entry:
        """It may or may not have gone out (a timeout): ask the platform, never retry blind."""
        return self._after_attempt(key, State.UNCONFIRMED, error, ErrorKind.UNCONFIRMED, now)

    def _after_attempt(self, key: str, state: State, error: str, kind: ErrorKind,
                       now: datetime) -> Entry:
        aware("now", now)
        with self.store.writing() as conn:
            row = row_of(conn, key)
            check(row, state, allowed_from=(State.PUBLISHING,))
            return move(conn, row, state, now, last_error=error, error_kind=kind.value)

    def mark_held(self, key: str, note: str, now: datetime, *, reason: HoldReason) -> Entry:
        """Keep an item back for a person to decide; `note` says why in words."""
        aware("now", now)
        with self.store.writing() as conn:
            row = row_of(conn, key)
            check(row, State.HELD, allowed_from=(State.PLANNED, State.APPROVED, State.FAILED))
            pause = active_in(conn, now)
            return move(conn, row, State.HELD, now, last_error=note, hold_reason=reason.value,
                        held_pause_id=pause.id if pause is not None else None)

    def recover_after_crash(self, now: datetime) -> list[str]:
        """Turn every `publishing` row into `unconfirmed` (a crash hid the outcome); returns the keys."""
        aware("now", now)
        with self.store.writing() as conn:
            rows = conn.execute(select(_t).where(_t.c.state == State.PUBLISHING)).mappings().all()
            for row in rows:
                move(conn, row, State.UNCONFIRMED, now, error_kind=ErrorKind.UNCONFIRMED.value,
                     last_error="interrupted while publishing; ask the platform before any retry")
                audit.record(conn, now, "recover", SYSTEM, key=row["key"])
        return [r["key"] for r in rows]

    # -- decisions by a person ----------------------------------------------------------------

    def resolve(self, item_id: str, channel: str, published_as: str | None, not_published: bool,
                by: str | Actor, now: datetime, *, url: str | None = None) -> Entry:
        """A person settles an item: it went out as `published_as` (id or link), or it did not."""
        aware("now", now)
        if (published_as is None) == (not not_published):
            raise LedgerError("resolve needs exactly one of: published_as (the post's id or link), "
                              "or not_published=True")
        with self.store.writing() as conn:
            rows = conn.execute(select(_t).where(
                _t.c.item_id == item_id, _t.c.channel == channel, _t.c.state.in_(RESOLVABLE))
                .order_by(_t.c.dry_run, _t.c.updated_at.desc())).mappings().all()
            if not rows:
                raise UnknownEntry(f"{item_id} on {channel} in a state a person can resolve "
                                   f"({', '.join(RESOLVABLE)})")
            row = rows[0]
            if published_as is not None:
                if url is None and published_as.startswith(("http://", "https://")):
                    url = published_as
                check(row, State.PUBLISHED, allowed_from=RESOLVABLE)
                entry = move(conn, row, State.PUBLISHED, now, remote_id=published_as, url=url,
                             published_at=now, lateness_seconds=_late(row["due"], now),
                             last_error=None, error_kind=None, hold_reason=None)
            else:
                if row["state"] == State.APPROVED:
                    raise IllegalTransition(row["key"], item_id, State.APPROVED, State.APPROVED,
                                            "it has not been attempted")
                state = ready_state(conn, row)
                check(row, state, allowed_from=RESOLVABLE)
                entry = move(conn, row, state, now, held_pause_id=None, hold_reason=None,
                             error_kind=None,
                             last_error=f"confirmed not published by {actor_of(by).person}")
            audit.record(conn, now, "resolve", by, key=row["key"], item_id=item_id,
                         details={"channel": channel, "published_as": published_as,
                                  "not_published": not_published, "was": row["state"]})
            return entry

    def release(self, key: str, by: str | Actor, now: datetime) -> Entry:
        """Let a held item go ahead: approved again if its exact version still has an approval."""
        aware("now", now)
        with self.store.writing() as conn:
            row = row_of(conn, key)
            state = ready_state(conn, row)
            check(row, state, allowed_from=(State.HELD,))
            entry = move(conn, row, state, now, held_pause_id=None, last_error=None, hold_reason=None,
                         released_at=now)
            audit.record(conn, now, "release", by, key=key, item_id=row["item_id"],
                         details={"was": row["hold_reason"]})
            return entry

    def cancel(self, key: str, reason: str, by: str | Actor, now: datetime) -> Entry:
        """Decide an item will not go out at all."""
        aware("now", now)
        with self.store.writing() as conn:
            row = row_of(conn, key)
            check(row, State.CANCELLED, allowed_from=WAITING)
            entry = move(conn, row, State.CANCELLED, now, last_error=reason)
            audit.record(conn, now, "cancel", by, key=key, item_id=row["item_id"],
                         details={"reason": reason})
            return entry

    # -- reading --------------------------------------------------------------------------------

    def entry(self, key: str) -> Entry:
        """One row by its key."""
        with self.store.reading() as conn:
            return Entry.from_row(row_of(conn, key))

    def entries(self, *, item_id: str | None = None, states: Iterable[State] | None = None,
                hold_reason: HoldReason | None = None, channel: str | None = None,
                pause_id: int | None = None) -> list[Entry]:
        """Rows, soonest due first, optionally for one item, in some states, held for one reason,
        on one channel, or held by one pause."""
        query = select(_t).order_by(_t.c.due, _t.c.item_id, _t.c.created_at)
        if item_id is not None:
            query = query.where(_t.c.item_id == item_id)
        if states is not None:
            query = query.where(_t.c.state.in_([State(s).value for s in states]))
        if hold_reason is not None:
            query = query.where(_t.c.hold_reason == hold_reason.value)
        if channel is not None:
            query = query.where(_t.c.channel == channel)
        if pause_id is not None:
            query = query.where(_t.c.held_pause_id == pause_id)
        with self.store.reading() as conn:
            return [Entry.from_row(r) for r in conn.execute(query).mappings().all()]

    def due(self, now: datetime) -> list[Entry]:
        """Rows whose time has come and that may be published now: approved live rows, or dry-run rows."""
        aware("now", now)
        ready = or_(_t.c.state == State.APPROVED,
                    and_(_t.c.dry_run.is_(True), _t.c.state == State.PLANNED))
        with self.store.reading() as conn:
            rows = conn.execute(select(_t).where(_t.c.due <= now, ready)
                                .order_by(_t.c.due, _t.c.item_id)).mappings().all()
        return [Entry.from_row(r) for r in rows]
