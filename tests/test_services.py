"""The service layer the CLI and the web workspace share, called in-process on a real SQLite
store: each takes the acting person and `now`, decides policy, returns typed results and raises
our own typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from conftest import ProjectDir

from pipeline.errors import Invalid, NotFound
from pipeline.ledger import ApprovalRefused
from pipeline.services import approvals, freeze, posting, status
from pipeline.services.actor import Actor
from pipeline.services.approvals import Selection
from pipeline.states import HoldReason, State
from pipeline.workspace import Workspace

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
POST = "safer-internet-day/on-the-day/2027-02-09"       # a post, without its channel
ITEM = POST + "/x"
APPROVER = Actor("approver")
WRITER = Actor("writer")


@pytest.fixture
def ws(project: ProjectDir) -> Iterator[Workspace]:
    project.edit("config.toml", "[people.approver]",
                 '[people.writer]\nname = "A writer"\nroles = []\n\n[people.approver]')
    with Workspace(project.config, {}, clock=lambda: NOW) as workspace:
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
    with pytest.raises(ApprovalRefused, match="does not hold an accountable role"):
        approvals.reject(ws, WRITER, NOW, [ITEM], "too long")
    approvals.reject(ws, APPROVER, NOW, [ITEM], "Say which apps, please")
    waiting = {w.entry.item_id: w for w in approvals.queue(ws, NOW)}
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
    assert {w.entry.item_id for w in feb} == {
        w.entry.item_id for w in everything if (w.entry.due.year, w.entry.due.month) == (2027, 2)}
    assert [w.entry.due for w in everything] == sorted(w.entry.due for w in everything)
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


def test_release_cancel_and_resolve_take_the_id_alone(ws: Workspace) -> None:
    approvals.approve(ws, APPROVER, NOW, Selection((POST,)))
    paused = freeze.pause(ws, APPROVER, NOW, "A serious incident")
    assert paused.held == len(states(ws, "")) and paused.pause.reason == "A serious incident"
    held = freeze.resume(ws, APPROVER, NOW)
    assert {e.hold_reason for e in held} == {HoldReason.PAUSE}
    released = freeze.release(ws, APPROVER, NOW, ITEM)
    assert (released.entry.channel, released.entry.state, released.published) == ("x", State.APPROVED,
                                                                                 None)
    cancelled = freeze.cancel(ws, APPROVER, NOW, POST + "/facebook", "No longer needed")
    assert [e.state for e in cancelled] == [State.CANCELLED]
    with pytest.raises(NotFound, match="is not held"):
        freeze.release(ws, APPROVER, NOW, ITEM)
    with pytest.raises(Invalid, match="not an item id"):
        freeze.release(ws, APPROVER, NOW, "safer-internet-day")
    with pytest.raises(Invalid, match="exactly one"):
        freeze.resolve(ws, APPROVER, NOW, ITEM)


def test_status_and_history_are_typed_and_say_the_fix(ws: Workspace) -> None:
    approvals.approve(ws, APPROVER, NOW, Selection((ITEM,)))
    report = status.status(ws, NOW)
    assert report.mode == "dry-run" and report.pause is None and report.daemon is None
    assert report.counts[State.APPROVED] == 1
    assert [c.name for c in report.channels] == ["facebook", "x", "mailchimp"]
    assert report.channels[0].credentials == "missing: WST_TEST_FACEBOOK_TOKEN"
    assert report.as_json()["counts"]["approved"] == 1
    rows = status.history(ws, date(2027, 2, 9), date(2027, 2, 9))
    assert {e.item_id for e in rows} == {POST + "/facebook", ITEM}
    assert status.entry_json(rows[0])["state"] in ("planned", "approved")
    with pytest.raises(Invalid, match="--to 2027-02-01 is before --from 2027-02-09"):
        status.history(ws, date(2027, 2, 9), date(2027, 2, 1))
