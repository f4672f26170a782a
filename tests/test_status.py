"""The one status decision: what happened first, then what the item's time will bring."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.ledger.rows import Approval, Entry, Health, Pause
from pipeline.states import ErrorKind, HoldReason, State
from pipeline.status import Facts, Status, decide

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
DUE = NOW + timedelta(days=2)
GRACE = timedelta(minutes=60)
APPROVAL = Approval(1, "c/p/2027-02-03/x", "v1", "lead", NOW - timedelta(days=1), False, None)


def entry(state: State, **values) -> Entry:
    base = dict(key="k", item_id="c/p/2027-02-03/x", channel="x", version="v1", kind="post",
                campaign="c", title="t", responsibility="campaign-posts", help=False, due=DUE,
                state=state, attempts=0, remote_id=None, url=None, last_error=None,
                error_kind=None, hold_reason=None, published_at=None, lateness_seconds=None,
                dry_run=False, held_pause_id=None, released_at=None, created_at=NOW, updated_at=NOW)
    return Entry(**{**base, **values})


def status(facts: Facts, *, now: datetime = NOW, pause: Pause | None = None,
           health: Health | None = None, daemon: bool = True):
    return decide(facts, now=now, grace=GRACE, pause=pause, health=health, daemon_running=daemon)


def test_what_happened_wins_over_what_would_happen() -> None:
    published = entry(State.PUBLISHED, url="https://x.com/wst/status/1")
    done = status(Facts(DUE, published, APPROVAL), pause=Pause(1, "mourning", "lead", NOW, None, False))
    assert (done.status, done.url, done.label) == (Status.PUBLISHED, "https://x.com/wst/status/1",
                                                   "published")
    assert status(Facts(DUE, entry(State.CANCELLED), None)).status == Status.CANCELLED
    assert status(Facts(DUE, entry(State.PUBLISHING), APPROVAL)).status == Status.PUBLISHING
    failed = status(Facts(DUE, entry(State.FAILED, error_kind=ErrorKind.REJECTED), APPROVAL))
    assert (failed.status, failed.error, failed.label) == (Status.FAILED, ErrorKind.REJECTED,
                                                           "failed: rejected")
    held = status(Facts(DUE, entry(State.HELD, hold_reason=HoldReason.PAUSE), APPROVAL))
    assert held.label == "held: pause"
    missed = status(Facts(DUE, entry(State.HELD, hold_reason=HoldReason.MISSED), APPROVAL))
    assert missed.status == Status.MISSED


@pytest.mark.parametrize(("facts", "kwargs", "label"), [
    (Facts(DUE, None, None), {}, "needs approval"),
    (Facts(DUE, None, APPROVAL), {}, "scheduled"),
    (Facts(DUE, None, APPROVAL), {"daemon": False}, "approved"),
    (Facts(DUE, None, APPROVAL, draft='marked status = "draft"'), {}, "draft"),
    (Facts(DUE, None, APPROVAL, blackout="held: pre-election period"), {}, "held: blackout"),
    (Facts(DUE, None, APPROVAL, check_errors=("wrong number",)), {}, "held: check-failed"),
    (Facts(DUE, None, APPROVAL), {"pause": Pause(1, "mourning", "lead", NOW, None, False)},
     "held: pause"),
    (Facts(DUE, None, APPROVAL, help_post=True),
     {"pause": Pause(1, "mourning", "lead", NOW, None, True)}, "scheduled"),
    (Facts(DUE, None, APPROVAL),
     {"pause": Pause(1, "mourning", "lead", NOW, DUE - timedelta(hours=1), False)}, "scheduled"),
    (Facts(DUE, None, APPROVAL),
     {"health": Health("x", True, "token expired", NOW, None, NOW)}, "held: channel-flagged"),
    (Facts(DUE, None, None, dry_run=True), {}, "needs approval"),
    (Facts(DUE, None, APPROVAL, dry_run=True), {}, "scheduled (dry run)"),
    (Facts(DUE, None, APPROVAL, dry_run=True, check_errors=("wrong number",)), {},
     "held: check-failed (dry run)"),
])
def test_what_an_item_to_come_will_meet(facts: Facts, kwargs: dict, label: str) -> None:
    assert status(facts, **kwargs).label == label


def test_an_item_whose_time_passed_without_going_out_is_missed_at_any_age() -> None:
    for late in (GRACE + timedelta(seconds=1), timedelta(days=9), timedelta(days=400)):
        for approval in (None, APPROVAL):
            facts = Facts(DUE, entry(State.PLANNED if approval is None else State.APPROVED), approval)
            assert status(facts, now=DUE + late).status == Status.MISSED
    assert status(Facts(DUE, None, APPROVAL), now=DUE + GRACE).status == Status.SCHEDULED
    assert status(replace(Facts(DUE, None, None)), now=DUE + timedelta(days=2)).hold == HoldReason.MISSED
