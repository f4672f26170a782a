"""The service layer the CLI and the web workspace share, called in-process on a real SQLite
store: each takes the acting person and `now`, decides policy, returns typed results and raises
our own typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import Clock, ProjectDir

from pipeline.errors import Invalid, NotAllowed, NotFound
from pipeline.publisher import Publisher
from pipeline.services import approvals, freeze, posting, status
from pipeline.services.actor import Actor
from pipeline.services.approvals import Selection
from pipeline.states import HoldReason, State
from pipeline.status import Status
from pipeline.workspace import Workspace

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
POST = "safer-internet-day/on-the-day/2027-02-09"       # a post, without its channel
ITEM = POST + "/x"
APPROVER = Actor("approver")
WRITER = Actor("writer")



@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def ws(project: ProjectDir, clock: Clock) -> Iterator[Workspace]:
    project.edit("config.toml", "[people.approver]",
                 '[people.writer]\nname = "A writer"\nroles = []\n\n[people.approver]')
    with Workspace(project.config, {}, clock=clock) as workspace:
        yield workspace


def states(ws: Workspace, prefix: str) -> dict[str, State]:
    """item id → state, for the live-or-rehearsal rows whose id starts with `prefix`."""
    return {e.item_id: e.state for e in ws.ledger.publications.entries()
            if e.item_id.startswith(prefix)}


def test_a_post_is_approved_on_every_channel_by_its_id_without_the_channel(ws: Workspace) -> None:
    report = approvals.approve(ws, APPROVER, NOW, Selection((POST,)))
    assert sorted(a.item_id for a in report.approved) == [POST + "/facebook", POST + "/x"]
    assert report.refused == []
    assert all(a.person == "approver" and a.at == NOW for a in report.approved)
    assert set(states(ws, POST).values()) == {State.APPROVED}


def test_a_date_range_approves_only_what_waits_in_it(ws: Workspace) -> None:
    report = approvals.approve(ws, APPROVER, NOW, Selection(start=date(2027, 2, 9),
                                                           end=date(2027, 2, 9)))
    assert sorted(a.item_id for a in report.approved) == [POST + "/facebook", POST + "/x"]
    assert set(states(ws, "safer-internet-day/two-days-to-go/2027-02-07").values()) == {State.PLANNED}
    with pytest.raises(NotFound, match="nothing is waiting for approval in that range"):
        approvals.approve(ws, APPROVER, NOW, Selection(start=date(2027, 2, 9), end=date(2027, 2, 9)))
    with pytest.raises(Invalid, match="is before"):
        approvals.approve(ws, APPROVER, NOW, Selection(start=date(2027, 2, 9), end=date(2027, 2, 1)))


def test_a_campaign_is_approved_in_one_go_and_unknown_campaigns_are_named(ws: Workspace) -> None:
    report = approvals.approve(ws, APPROVER, NOW, Selection(campaign="safer-internet-day"))
    assert len(report.approved) == len(states(ws, "safer-internet-day/")) > 2
    with pytest.raises(NotFound, match=r"no campaign 'safer-internet' .*safer-internet-day") as exc:
        approvals.approve(ws, APPROVER, NOW, Selection(campaign="safer-internet"))
    assert exc.value.field == "--campaign"


def test_each_item_is_approved_or_refused_on_its_own(ws: Workspace) -> None:
    report = approvals.approve(ws, APPROVER, NOW, Selection(("nope/none/2027-02-09/x", ITEM)))
    assert [a.item_id for a in report.approved] == [ITEM]
    [refused] = report.refused
    assert refused.item_id == "nope/none/2027-02-09/x" and "no such item" in refused.reason
    report = approvals.approve(ws, WRITER, NOW, Selection((POST + "/facebook",)))
    assert report.approved == [] and "may be approved by: approver" in report.refused[0].reason
    with pytest.raises(NotFound, match="'nobody' is not in \\[people\\]"):
        approvals.approve(ws, Actor("nobody"), NOW, Selection((ITEM,)))


def test_a_rejection_needs_a_reason_and_an_accountable_person_and_shows_in_the_queue(
        ws: Workspace) -> None:
    with pytest.raises(Invalid, match="needs a reason"):
        approvals.reject(ws, APPROVER, NOW, [ITEM], "  ")
    with pytest.raises(NotAllowed, match="does not hold an accountable role"):
        approvals.reject(ws, WRITER, NOW, [ITEM], "too long")
    approvals.reject(ws, APPROVER, NOW, [ITEM], "Say which apps, please")
    waiting = {w.line.item_id: w for w in approvals.queue(ws, NOW)}
    assert waiting[ITEM].rejected is not None
    assert (waiting[ITEM].rejected.person, waiting[ITEM].rejected.reason) == (
        "approver", "Say which apps, please")
    assert waiting[POST + "/facebook"].rejected is None
    assert ws.ledger.publications.entries(item_id=ITEM)[0].state == State.PLANNED


def test_the_queue_filters_by_person_campaign_and_dates(ws: Workspace) -> None:
    everything = approvals.queue(ws, NOW)
    assert everything and all(w.may_approve == ("approver",) for w in everything)
    assert approvals.queue(ws, NOW, person="approver") == everything
    assert approvals.queue(ws, NOW, person="writer") == []
    feb = approvals.queue(ws, NOW, start=date(2027, 2, 1), end=date(2027, 2, 28))
    assert 0 < len(feb) < len(everything)  # February 2028 is within the horizon too
    assert {w.line.item_id for w in feb} == {
        w.line.item_id for w in everything if (w.line.due.year, w.line.due.month) == (2027, 2)}
    assert [w.line.due for w in everything] == sorted(w.line.due for w in everything)
    assert all(w.line.status.status == Status.NEEDS_APPROVAL for w in everything)
    with pytest.raises(NotFound):
        approvals.queue(ws, NOW, person="nobody")


def test_a_refused_reactive_post_stores_nothing(ws: Workspace) -> None:
    """The approver is not accountable for reactive posts in this config: refused whole."""
    draft = posting.Draft("A water main has burst on the Stafford Road.", ("x",))
    with pytest.raises(posting.PostRefused) as exc:
        posting.post(ws, APPROVER, NOW, draft)
    assert "not approved" in exc.value.problems[0] and "reactive-posts" in exc.value.problems[0]
    assert ws.reactive.all() == [] and states(ws, "reactive/") == {}
    with pytest.raises(Invalid, match="needs some text"):
        posting.post(ws, APPROVER, NOW, posting.Draft("   ", ("x",)))
    with pytest.raises(Invalid, match="not an enabled channel"):
        posting.post(ws, APPROVER, NOW, posting.Draft("Hello", ("telegram",)))


def test_release_cancel_and_resolve_take_the_id_alone(ws: Workspace, clock: Clock) -> None:
    approvals.approve(ws, APPROVER, NOW, Selection((POST,)))
    paused = freeze.pause(ws, APPROVER, NOW, "A serious incident")
    assert paused.pause.reason == "A serious incident" and paused.due_soon == 0
    due = ws.catalog.item(ITEM).due
    clock.now = due  # its time comes inside the pause: held then, against the pause
    assert [str(Publisher(ws).publish(i)) for i in (ITEM, POST + "/facebook")] == [
        "would be held (dry run): paused: A serious incident"] * 2
    clock.now = due + timedelta(hours=1)
    found = freeze.resume(ws, APPROVER, clock.now)
    assert {e.hold_reason for e in found.entries} == {HoldReason.PAUSE}
    assert {e.item_id for e in found.entries} == {ITEM, POST + "/facebook"}
    released = freeze.release(ws, APPROVER, clock.now, ITEM)
    assert (released.entry.channel, released.entry.state) == ("x", State.APPROVED)
    assert released.published is not None and released.published.outcome == "published"
    cancelled = freeze.cancel(ws, APPROVER, clock.now, POST + "/facebook", "No longer needed")
    assert [e.state for e in cancelled] == [State.CANCELLED]
    with pytest.raises(NotFound, match="is not held"):
        freeze.release(ws, APPROVER, clock.now, ITEM)
    with pytest.raises(Invalid, match="not an item id"):
        freeze.release(ws, APPROVER, clock.now, "safer-internet-day")
    with pytest.raises(Invalid, match="exactly one"):
        freeze.resolve(ws, APPROVER, clock.now, ITEM)


def test_status_and_history_are_typed_and_say_the_fix(ws: Workspace) -> None:
    approvals.approve(ws, APPROVER, NOW, Selection((ITEM,)))
    report = status.status(ws, NOW)
    assert report.mode == "dry-run" and report.pause is None and report.daemon is None
    assert report.counts[Status.APPROVED] == 1  # no daemon runs to send it
    assert [c.name for c in report.channels] == ["facebook", "x", "mailchimp"]
    assert report.channels[0].credentials == "missing: WST_TEST_FACEBOOK_TOKEN"
    assert report.as_json()["counts"]["approved"] == 1
    lines = status.history(ws, NOW, date(2027, 2, 9), date(2027, 2, 9))
    assert {line.item_id for line in lines} == {POST + "/facebook", ITEM}
    by_id = {line.item_id: status.line_json(line) for line in lines}
    assert (by_id[ITEM]["status"], by_id[ITEM]["approved"]["by"]) == ("approved", "approver")
    assert by_id[POST + "/facebook"]["status"] == "needs approval"
    with pytest.raises(Invalid, match="--to 2027-02-01 is before --from 2027-02-09"):
        status.history(ws, NOW, date(2027, 2, 9), date(2027, 2, 1))
