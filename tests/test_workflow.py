"""The workflow's rules in the service layer, in-process on a real SQLite store with a clock the
test moves: pauses that end and one decision after them, the freeze role, reactive statements
in a freeze, drafts, nothing missed in silence, test sends on demand and approver notices
(over a real SMTP server on loopback, and the Mailchimp stand-in over HTTP)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from conftest import Clock, ProjectDir
from standins.mailchimp import MailchimpStandIn
from standins.smtp import SmtpStandIn
from workflow_helpers import APPROVER, CHAIR, WRITER, Rig, add_bulletin, set_people

from pipeline.bulletin_draft import write_draft
from pipeline.check import load_project
from pipeline.errors import Invalid, NotAllowed
from pipeline.services import approvals, bulletins, freeze, posting, statuses
from pipeline.services.approvals import Selection
from pipeline.services.notices import tell_approvers
from pipeline.states import HoldReason
from pipeline.status import Status

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
BEFORE = "safer-internet-day/two-days-to-go/2027-02-07"   # Sun 7 Feb 10:00 (GMT)
ON_DAY = "safer-internet-day/on-the-day/2027-02-09"       # Tue 9 Feb 09:00
@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def rig(project: ProjectDir, clock: Clock) -> Iterator[Rig]:
    set_people(project)
    made = Rig(project, clock)
    yield made
    made.ws.close()


# -- pauses that end, and one decision after them ---------------------------------------------

def test_a_pause_holds_only_what_falls_due_while_it_lasts_and_ends_by_itself(rig: Rig) -> None:
    approvals.approve(rig.ws, APPROVER, NOW, Selection(campaign="safer-internet-day"))
    start, until = datetime(2027, 2, 6, 12, tzinfo=UTC), datetime(2027, 2, 8, 12, tzinfo=UTC)
    rig.tick(start)
    paused = freeze.pause(rig.ws, CHAIR, start, "National mourning", until=until)
    assert paused.due_soon == 2  # the two Sunday posts fall due in its first day
    # Before their time the views already say what the pause will do, and nothing else.
    assert rig.status(BEFORE + "/x") == "held: pause (dry run)"
    assert rig.status(ON_DAY + "/x") == "approved"  # after the pause: as planned
    assert rig.tick(datetime(2027, 2, 7, 10, tzinfo=UTC)) == [
        f"{BEFORE}/{c}: would be held (dry run): paused: National mourning" for c in ("facebook", "x")]
    assert rig.tick(datetime(2027, 2, 9, 9, tzinfo=UTC)) == [
        f"{ON_DAY}/{c}: published (dry run: written to the outbox, nothing sent)"
        for c in ("facebook", "x")]
    found = freeze.held_by_pause(rig.ws, rig.clock.now)
    assert found is not None and found.ended_at == until
    assert {e.item_id for e in found.entries} == {BEFORE + "/facebook", BEFORE + "/x"}
    # One decision, by channel: x goes now (late on purpose), facebook stays held.
    done = freeze.decide(rig.ws, CHAIR, rig.clock.now, release_them=True, channel="x")
    assert [(d.entry.item_id, str(d.published)) for d in done] == [
        (BEFORE + "/x", "published (dry run: written to the outbox, nothing sent)")]
    assert rig.status(BEFORE + "/x") == "published (dry run)"
    assert rig.status(BEFORE + "/facebook") == "held: pause (dry run)"


def test_pausing_and_deciding_need_the_freeze_role(rig: Rig) -> None:
    with pytest.raises(NotAllowed, match="pausing, resuming and deciding what a pause held is "
                                         "for: chair"):
        freeze.pause(rig.ws, APPROVER, NOW, "A serious incident")
    with pytest.raises(NotAllowed):
        freeze.pause(rig.ws, WRITER, NOW, "A serious incident")
    freeze.pause(rig.ws, CHAIR, NOW, "A serious incident")
    with pytest.raises(NotAllowed):
        freeze.resume(rig.ws, APPROVER, NOW)
    freeze.resume(rig.ws, CHAIR, NOW + timedelta(minutes=5))
    with pytest.raises(NotAllowed):
        freeze.decide(rig.ws, APPROVER, NOW, release_them=True)
    events = [(e.kind, e.by) for e in rig.ws.ledger.audit.events() if e.kind in ("pause", "resume")]
    assert events == [("pause", "chair"), ("resume", "chair")]


def test_nobody_deciding_holds_and_says_so_daily_or_cancels_after_n_days(
        project: ProjectDir, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    set_people(project, '[freeze]\nundecided = "cancel"\ncancel_after_days = 2\n\n')
    rig = Rig(project, clock)
    try:
        approvals.approve(rig.ws, APPROVER, NOW, Selection(campaign="safer-internet-day"))
        freeze.pause(rig.ws, CHAIR, datetime(2027, 2, 7, 8, tzinfo=UTC), "An incident",
                     until=datetime(2027, 2, 7, 12, tzinfo=UTC))
        rig.tick(datetime(2027, 2, 7, 10, tzinfo=UTC))
        with caplog.at_level(logging.WARNING, "wst.alerts"):
            rig.tick(datetime(2027, 2, 8, 9, tzinfo=UTC))   # a day later: reminded, still held
            assert "2 item(s) held by the pause 'An incident' wait for a decision" in caplog.text
            assert "they are cancelled on Tue 09 Feb 12:00" in caplog.text
            assert rig.status(BEFORE + "/x") == "held: pause (dry run)"
            rig.tick(datetime(2027, 2, 9, 12, 30, tzinfo=UTC))  # two days after it ended
            assert "2 item(s) held by the pause 'An incident' were cancelled" in caplog.text
        assert rig.status(BEFORE + "/x") == "cancelled"
        cancelled = rig.rows(BEFORE)[BEFORE + "/x"]
        assert "nobody decided within 2 day(s)" in (cancelled.last_error or "")
    finally:
        rig.ws.close()


# -- reactive statements in a freeze ------------------------------------------------------------

def test_a_reactive_statement_that_answers_the_pause_goes_out_in_it(rig: Rig) -> None:
    freeze.pause(rig.ws, CHAIR, NOW, "A serious incident in the city")
    text = "Our thoughts are with everyone affected. If you are worried, call 01902 555392."
    held = posting.post(rig.ws, APPROVER, NOW, posting.Draft(text, ("x",)))
    assert [str(r) for r in held.published] == [
        "would be held (dry run): paused: A serious incident in the city"]
    rig.clock.now = NOW + timedelta(seconds=1)
    answered = posting.post(rig.ws, APPROVER, rig.clock.now,
                            posting.Draft(text + " More soon.", ("x",), answers_pause=True))
    assert [str(r) for r in answered.published] == [
        "published (dry run: written to the outbox, nothing sent)"]
    event = rig.ws.ledger.audit.events("reactive-post")[-1]
    assert event.details["answers_pause"] is True
    assert event.details["pause"]["reason"] == "A serious incident in the city"
    # Resumed, the statement that did not answer it waits for the one decision like the rest.
    found = freeze.resume(rig.ws, CHAIR, NOW + timedelta(minutes=5))
    assert [e.item_id for e in found.entries] == [held.items[0].id]


def test_answers_pause_needs_a_pause_and_a_refused_post_stores_nothing(rig: Rig) -> None:
    with pytest.raises(Invalid, match="there is no pause in force"):
        posting.post(rig.ws, APPROVER, NOW, posting.Draft("Hello.", ("x",), answers_pause=True))
    with pytest.raises(posting.PostRefused, match="nothing was posted or saved"):
        posting.post(rig.ws, CHAIR, NOW, posting.Draft("Hello.", ("x",)))
    assert rig.ws.reactive.all() == [] and rig.rows("reactive/") == {}
    assert rig.ws.ledger.audit.events("reactive-post") == []


# -- drafts ------------------------------------------------------------------------------------

def test_a_draft_bulletin_is_shown_as_draft_refused_approval_and_held_at_its_time(
        project: ProjectDir, clock: Clock) -> None:
    set_people(project)
    project.edit("schedules/calendar.toml", 'from_month = "2099-01"', 'from_month = "2027-02"')
    from pipeline.config import load_config

    write_draft(load_project(load_config(project.config)), "2027-02",
                project.path / "content" / "bulletins" / "2027-02.toml")
    rig = Rig(project, clock)
    try:
        item = "bulletin/2027-02/mailchimp"
        assert rig.status(item) == "draft"
        report = approvals.approve(rig.ws, APPROVER, NOW, Selection((item,)))
        assert report.approved == [] and "it is a draft (marked status = \"draft\")" in \
            report.refused[0].reason
        assert item not in {w.line.item_id for w in approvals.queue(rig.ws, NOW)}
        hand_over = rig.ws.catalog.run_at(rig.ws.catalog.item(item))
        assert rig.tick(hand_over) == [f"{item}: would be held (dry run): still a draft at its "
                                       f"time (marked status = \"draft\"); finish it, approve "
                                       f"it, then `wst release`"]
        assert rig.rows(item)[item].hold_reason == HoldReason.DRAFT
        assert not (project.path / "outbox").exists()
    finally:
        rig.ws.close()


# -- never dropped, never silent ----------------------------------------------------------------

def test_an_item_due_before_the_first_run_is_recorded_and_reported_missed(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    first_run = datetime(2027, 2, 7, 22, tzinfo=UTC)   # 12 hours after the Sunday posts
    with caplog.at_level(logging.WARNING, "wst.alerts"):
        assert rig.tick(first_run) == [
            f"{BEFORE}/{c}: would be held (dry run): missed its time by 12 hours, beyond the "
            f"60-minute catch-up window; publish it by hand and run `wst resolve`, or cancel it"
            for c in ("facebook", "x")]
    assert "ALERT held: " + BEFORE + "/x is held: missed its time by 12 hours" in caplog.text
    assert rig.status(BEFORE + "/x") == "missed (dry run)"
    assert rig.rows(BEFORE)[BEFORE + "/x"].hold_reason == HoldReason.MISSED


def test_an_item_missed_by_ten_days_is_missed_with_an_alert_not_left_planned(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    approvals.approve(rig.ws, APPROVER, NOW, Selection(campaign="safer-internet-day"))
    rig.tick(NOW)  # the first run records everything to come
    with caplog.at_level(logging.WARNING, "wst.alerts"):
        results = rig.tick(datetime(2027, 2, 19, 9, tzinfo=UTC))  # down for 10 days after
    assert sorted(results) == sorted(
        f"{i}/{c}: would be held (dry run): missed its time by {d} days, beyond the 60-minute "
        f"catch-up window; publish it by hand and run `wst resolve`, or cancel it"
        for i, d in ((BEFORE, 11), (ON_DAY, 10)) for c in ("facebook", "x"))
    assert "missed its time by 10 days" in caplog.text
    assert {rig.status(f"{i}/x") for i in (BEFORE, ON_DAY)} == {"missed (dry run)"}
    lines = statuses.in_range(rig.ws, rig.clock.now, datetime(2027, 2, 1).date(),
                              datetime(2027, 2, 28).date()).lines
    assert statuses.counts(lines) == {Status.MISSED: 4}


def test_approved_item_released_late_goes_out_from_its_release(rig: Rig) -> None:
    """The catch-up window decides only between publishing late and holding: released after a
    hold, lateness runs from the release."""
    approvals.approve(rig.ws, APPROVER, NOW, Selection(campaign="safer-internet-day"))
    freeze.pause(rig.ws, CHAIR, datetime(2027, 2, 7, 9, tzinfo=UTC), "An incident")
    rig.tick(datetime(2027, 2, 7, 10, tzinfo=UTC))
    later = rig.clock.now = datetime(2027, 2, 8, 15, tzinfo=UTC)   # 29 hours after its time
    freeze.resume(rig.ws, CHAIR, later)
    done = freeze.release(rig.ws, CHAIR, later, BEFORE + "/x")
    assert str(done.published) == "published (dry run: written to the outbox, nothing sent)"


# -- test sends on demand -------------------------------------------------------------------------

def bulletin_project(project: ProjectDir, channels: str, extra: str = "") -> None:
    set_people(project, extra)
    add_bulletin(project, channels)


def test_a_dry_run_test_send_is_written_recorded_and_shown_to_the_approver(
        project: ProjectDir, clock: Clock) -> None:
    bulletin_project(project, '"mailchimp"')
    rig = Rig(project, clock)
    try:
        with pytest.raises(NotAllowed, match="test sends are for: approver, writer"):
            bulletins.test_send(rig.ws, CHAIR, NOW, "2027-02")
        with pytest.raises(Invalid, match="'nope' is not an email address"):
            bulletins.test_send(rig.ws, WRITER, NOW, "2027-02", to=["nope"])
        with pytest.raises(Invalid, match="give --to ADDRESS"):
            bulletins.test_send(rig.ws, WRITER, NOW, "2027-02")  # the writer has no email
        (sent,) = bulletins.test_send(rig.ws, WRITER, NOW, "2027-02", to=["unit@example.org"])
        assert sent.dry_run and sent.to == ("unit@example.org",) and "nothing sent" in sent.where
        (again,) = bulletins.test_send(rig.ws, APPROVER, NOW, "2027-02")  # to their own email
        assert again.to == ("approver@example.org",)
        written = sorted((project.path / "outbox" / "mailchimp" / "tests").glob("*.json"))
        assert [p.name.rsplit(".", 2)[-2] for p in written] == ["test-1", "test-2"]
        (waiting,) = [w for w in approvals.queue(rig.ws, NOW) if w.line.kind == "bulletin"]
        assert [(t.by, t.to) for t in waiting.tests] == [
            ("writer", ("unit@example.org",)), ("approver", ("approver@example.org",))]
        # nothing was recorded as sent: the bulletin still waits for its approval
        assert rig.status("bulletin/2027-02/mailchimp") == "needs approval"
    finally:
        rig.ws.close()


def test_a_live_test_send_uses_mailchimps_test_email_and_smtp_to_named_addresses_only(
        project: ProjectDir, clock: Clock, tmp_path: Path) -> None:
    with MailchimpStandIn(clock) as api, SmtpStandIn() as relay:
        # a recipients file is read only from inside the project (issue 11)
        project.write("list.csv", "email,name\nreader@example.org,Reader\n")
        bulletin_project(project, '"mailchimp", "workforce"')
        text = project.read("config.toml").replace('mode = "dry-run"\n', 'mode = "live"\n')
        text = text.replace('[channels.mailchimp]\nkind = "mailchimp"\n', f'''[channels.mailchimp]
kind = "mailchimp"
api_base = "{api.api_base}"
account_id = "{api.list_id}"
from_name = "WST"
reply_to = "wst@example.org"
''')
        text = text.replace("[roles]", f'''[channels.workforce]
kind = "smtp"
api_base = "{relay.url}"
from_address = "bulletin@example.org"
recipients_file = "list.csv"
unsubscribe_url = "https://www.wolverhamptonsafeguarding.org.uk/unsubscribe?email={{email}}"

[roles]''')
        project.write("config.toml", text)
        rig = Rig(project, clock, api.environ("WST_TEST_MAILCHIMP_KEY"))
        try:
            done = bulletins.test_send(rig.ws, APPROVER, NOW, "2027-02", to=["a@example.org",
                                                                            "b@example.org"])
            assert [(t.channel, t.dry_run) for t in done] == [("mailchimp", False),
                                                              ("workforce", False)]
            (test,) = api.calls_named("POST", "/actions/test")
            assert test.json()["test_emails"] == ["a@example.org", "b@example.org"]
            assert api.calls_named("POST", "/actions/schedule") == []
            assert api.calls_named("POST", "/actions/send") == []
            assert [c["status"] for c in api.campaigns.values()] == ["save"]
            got = [message_from_bytes(m.raw, policy=default_policy) for m in relay.messages]
            assert sorted(a for m in relay.messages for a in m.rcpt_tos) == ["a@example.org",
                                                                              "b@example.org"]
            assert {m["Subject"] for m in got} == {"[TEST] February: Safer Internet Day"}
            assert relay.to("reader@example.org") == []   # the list is not touched
            events = rig.ws.ledger.audit.events(bulletins.TEST_SEND)
            assert [(e.item_id, e.details["to"]) for e in events] == [
                ("bulletin/2027-02/mailchimp", ["a@example.org", "b@example.org"]),
                ("bulletin/2027-02/workforce", ["a@example.org", "b@example.org"])]
        finally:
            rig.ws.close()


# -- approver notices -------------------------------------------------------------------------------

def test_approvers_get_one_digest_per_new_version_and_a_reminder_before_it_is_due(
        project: ProjectDir, clock: Clock) -> None:
    with SmtpStandIn() as relay:
        set_people(project, f'[alerts]\nsmtp_url = "{relay.url}"\nfrom_address = '
                            f'"pipeline@example.org"\n\n')
        rig = Rig(project, clock)
        try:
            told = tell_approvers(rig.ws, NOW)
            # four posts this February and four in February 2028 (within the 400-day horizon)
            assert told.queued == {"approver": 8} and told.reminded == {}
            (digest,) = relay.to("approver@example.org")
            body = message_from_bytes(digest.raw, policy=default_policy)
            assert body["Subject"] == "[WST pipeline] 8 item(s) wait for your approval"
            text = body.get_content()
            assert f"{BEFORE}/x" in text and "wst approve --campaign CAMPAIGN --by approver" in text
            assert tell_approvers(rig.ws, NOW + timedelta(hours=1)).queued == {}  # told once
            # An edit makes a new version: told again, about that one only.
            project.edit("content/posts/safer-internet-day.toml", "Ask your child which apps",
                         "Ask your children which apps")
            assert rig.ws.reload(NOW)
            assert tell_approvers(rig.ws, NOW + timedelta(hours=2)).queued == {"approver": 4}
            # Two days before the Sunday posts: a reminder of those, once.
            soon = datetime(2027, 2, 5, 10, tzinfo=UTC)
            told = tell_approvers(rig.ws, soon)
            assert told.reminded == {"approver": 2}
            assert tell_approvers(rig.ws, soon + timedelta(hours=1)).reminded == {}
            subjects = [message_from_bytes(m.raw, policy=default_policy)["Subject"].strip()
                        for m in relay.to("approver@example.org")]
            assert subjects[-1] == ("[WST pipeline] 2 item(s) you may approve fall due within 2 "
                                    "day(s), unapproved")
            assert relay.to("chair@example.org") == []   # not the chair's to approve
        finally:
            rig.ws.close()
