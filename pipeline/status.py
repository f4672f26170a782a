"""One status per item and channel, decided here and only here, from the plan and the ledger.

Every view (plan, preview, calendar file, approvals, status, history, report, the web
workspace) shows what `decide` says, so none of them can disagree with another. The status
says what has happened or, for an item still to come, what will happen at its time as things
stand now: a pause, a flagged channel or a failing check holds it; without an approval it is
held as not approved; with one it goes out (scheduled, when a daemon is running to send it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pipeline.ledger.rows import Approval, Entry, Health, Pause
from pipeline.states import ErrorKind, HoldReason, State


class Status(StrEnum):
    """What a person is told about one item on one channel."""

    DRAFT = "draft"                    # still being written: can't be approved
    NEEDS_APPROVAL = "needs approval"  # waiting for an Accountable person
    APPROVED = "approved"              # approved, but no daemon is running to send it
    SCHEDULED = "scheduled"            # approved, and the running daemon sends it at its time
    HELD = "held"                      # kept back (see the reason)
    PUBLISHING = "publishing"          # being sent right now
    PUBLISHED = "published"            # out, with its link
    UNCONFIRMED = "unconfirmed"        # may have gone out: the platform is being asked
    FAILED = "failed"                  # an attempt did not go out (see the kind)
    CANCELLED = "cancelled"            # a person decided it will not go out
    MISSED = "missed"                  # its time passed and it did not go out


# Statuses that need someone to act.
ATTENTION = frozenset({Status.DRAFT, Status.NEEDS_APPROVAL, Status.HELD, Status.UNCONFIRMED,
                       Status.FAILED, Status.MISSED})
# Statuses that say what a publication did or will do: in a dry run, a rehearsal of it.
REHEARSED = frozenset({Status.SCHEDULED, Status.HELD, Status.PUBLISHING, Status.PUBLISHED,
                       Status.UNCONFIRMED, Status.FAILED, Status.MISSED})


@dataclass(frozen=True)
class ItemStatus:
    """The status of one item on one channel, with what a person needs to know about it."""

    status: Status
    hold: HoldReason | None = None        # why it is (or will be) held
    error: ErrorKind | None = None        # what kind of failure
    note: str = ""                        # the reason in words
    approval: Approval | None = None      # the standing approval of the current version
    url: str = ""                         # where it was published
    rehearsal: bool = False               # a dry-run: nothing reaches the platform

    @property
    def label(self) -> str:
        """The status in words, with its reason: 'held: pause', 'failed: rejected'; what a dry
        run did (or will do) says so."""
        reason = self.hold or self.error
        words = (f"{self.status}: {reason}" if reason and reason.value != self.status.value
                 else str(self.status))
        return f"{words} (dry run)" if self.rehearsal and self.status in REHEARSED else words


@dataclass(frozen=True)
class Facts:
    """What a status is decided from, for one item on one channel (gathered by the caller)."""

    due: datetime                         # when its job runs (a bulletin's hand-over time)
    entry: Entry | None                   # the ledger row of the current version, if any
    approval: Approval | None             # the standing approval of the current version
    draft: str = ""                       # why the content is a draft ('' when it is not)
    blackout: str = ""                    # the calendar holds it: the blackout's note
    check_errors: tuple[str, ...] = ()    # content check errors, in words
    help_post: bool = False
    dry_run: bool = False
    gone: bool = False                    # the plan no longer has it (its content was removed)
    answers_pause: bool = False           # a reactive statement confirmed to answer the pause
    goes_out: datetime | None = None      # when readers see it, if not `due` (a bulletin's send)


def pause_gate(pause: Pause | None, *, due: datetime, help_post: bool, answers_pause: bool,
               released_at: datetime | None) -> tuple[bool, str]:
    """Whether a pause holds an item due at `due`, and why, in words. The one rule, used by the
    publisher at the item's time and by every view before it: a pause holds what falls due
    while it lasts, except help posts when it keeps them going, a reactive statement an
    Accountable person confirmed answers its event, and an item a person released during it."""
    if pause is None or not pause.holds(due, help_post):
        return False, "no pause holds it"
    if answers_pause:
        return False, f"goes out in the pause: it answers '{pause.reason}'"
    if released_at is not None and released_at >= pause.started_at:
        return False, f"released by a person during the pause '{pause.reason}'"
    return True, f"paused: {pause.reason}"


def decide(facts: Facts, *, now: datetime, grace: timedelta, pause: Pause | None,
           health: Health | None, daemon_running: bool) -> ItemStatus:
    """The one decision. Ledger outcomes first (they are what happened); then, for what is
    still to come, what its time will bring under the pause, the channel, the checks and the
    approval as they are now; and an item whose time passed without going out is missed."""
    e, dry = facts.entry, facts.dry_run
    if e is not None:
        if e.state == State.PUBLISHED:
            return ItemStatus(Status.PUBLISHED, url=e.url or "", approval=facts.approval,
                              rehearsal=dry)
        if e.state == State.CANCELLED:
            return ItemStatus(Status.CANCELLED, note=e.last_error or "", rehearsal=dry)
        if e.state == State.PUBLISHING:
            return ItemStatus(Status.PUBLISHING, approval=facts.approval, rehearsal=dry)
        if e.state == State.UNCONFIRMED:
            return ItemStatus(Status.UNCONFIRMED, error=ErrorKind.UNCONFIRMED,
                              note=e.last_error or "", rehearsal=dry)
        if e.state == State.HELD:
            if e.hold_reason == HoldReason.MISSED:
                return ItemStatus(Status.MISSED, hold=HoldReason.MISSED, note=e.last_error or "",
                                  rehearsal=dry)
            note = e.last_error or ""
            if e.hold_reason == HoldReason.NOT_APPROVED and facts.approval is not None:
                note = (f"approved since by {facts.approval.person}; release it to send it now "
                        f"(`wst release {e.item_id}`)")
            return ItemStatus(Status.HELD, hold=e.hold_reason, note=note,
                              approval=facts.approval, rehearsal=dry)
        if e.state == State.FAILED:
            return ItemStatus(Status.FAILED, error=e.error_kind, note=e.last_error or "",
                              approval=facts.approval, rehearsal=dry)
    if facts.gone:
        return ItemStatus(Status.CANCELLED, note="no longer in the calendar or content",
                          rehearsal=dry)
    if facts.draft:
        return ItemStatus(Status.DRAFT, note=facts.draft, rehearsal=dry)
    # a person who released it after its time let it go late on purpose: late from then
    start = max(facts.due, e.released_at) if e is not None and e.released_at else facts.due
    if now > start + grace:
        return ItemStatus(Status.MISSED, hold=HoldReason.MISSED,
                          note="its time passed and it did not go out", rehearsal=dry)
    held = _held(facts, pause, health, now)
    if held is not None:
        return ItemStatus(Status.HELD, hold=held[0], note=held[1], approval=facts.approval,
                          rehearsal=dry)
    if facts.approval is None:
        return ItemStatus(Status.NEEDS_APPROVAL, rehearsal=dry)
    if daemon_running:
        return ItemStatus(Status.SCHEDULED, approval=facts.approval, rehearsal=dry)
    return ItemStatus(Status.APPROVED, approval=facts.approval,
                      note="no `wst run` is running to send it", rehearsal=dry)


def _held(facts: Facts, pause: Pause | None, health: Health | None,
          now: datetime) -> tuple[HoldReason, str] | None:
    """What would hold a waiting item at its time, as things stand now."""
    if facts.blackout:
        return HoldReason.BLACKOUT, facts.blackout
    released = facts.entry.released_at if facts.entry is not None else None
    held, words = pause_gate(pause, due=facts.goes_out or facts.due, help_post=facts.help_post,
                             answers_pause=facts.answers_pause, released_at=released)
    if held:
        return HoldReason.PAUSE, words
    if health is not None and health.flagged:
        return HoldReason.CHANNEL_FLAGGED, f"channel {health.channel} is flagged: {health.reason}"
    if facts.check_errors:
        return HoldReason.CHECK_FAILED, "content checks failed: " + "; ".join(facts.check_errors)
    return None
