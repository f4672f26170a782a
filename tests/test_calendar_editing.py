"""Writing awareness days through the service the form calls, in-process on a real store and
real files: the date builder writes the RFC 5545 rule people would otherwise type by hand
(and reads the bundled calendar's rules back); a new day goes at the end of the file that
holds the others, comments kept; explicit dates make the rule's other years provisional; a
rule that finds no day is refused where it is; moving a day moves its campaign's posts; only
the people who write the campaigns on a day may change it."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import ROOT, Clock, ProjectDir
from workflow_helpers import APPROVER, WRITER, Rig, set_people

from pipeline.errors import Invalid, NotAllowed
from pipeline.services import calendar_editing as days
from pipeline.services.calendar_editing import DateRule, Dates, EventFields
from pipeline.services.editing import EditRefused

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
CALENDAR = "schedules/calendar.toml"


@pytest.fixture
def rig(project: ProjectDir) -> Iterator[Rig]:
    set_people(project)
    project.write(CALENDAR, "# The test calendar.\n" + project.read(CALENDAR))
    made = Rig(project, Clock(NOW))
    yield made
    made.ws.close()


def test_the_builder_writes_the_rule_people_would_type() -> None:
    assert DateRule("nth", 1, ordinal=-1, weekday="TH").written() == \
        (None, "FREQ=YEARLY;BYMONTH=1;BYDAY=-1TH")
    assert DateRule("nth", 11, ordinal=3, weekday="MO").written() == \
        (None, "FREQ=YEARLY;BYMONTH=11;BYDAY=+3MO")
    assert DateRule("after", 2, 3, weekday="MO").written() == \
        (None, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=3,4,5,6,7,8,9;BYDAY=MO")
    assert DateRule("fixed", 3, 18).written() == ("03-18", None)
    assert DateRule("dates").written() == (None, None)
    with pytest.raises(Invalid, match="no such day"):
        DateRule("fixed", 2, 30).written()
    with pytest.raises(Invalid, match="from 1 to 22"):
        DateRule("after", 2, 27, weekday="MO").written()


def test_every_rule_of_the_bundled_calendar_reads_back_as_written() -> None:
    events = tomllib.loads((ROOT / "schedules" / "events.toml").read_text())["event"]
    modes = set()
    for event in events:
        parts = DateRule.of(event.get("date"), event.get("rule"))
        modes.add(parts.mode)
        assert parts.written() == (event.get("date"), event.get("rule")), event["id"]
    assert {"fixed", "nth", "after", "dates"} <= modes


def test_a_new_day_goes_at_the_end_and_gives_its_dates(rig: Rig, project: ProjectDir) -> None:
    fields = EventFields("holocaust-memorial-day", "Holocaust Memorial Day",
                         when=DateRule("nth", 1, ordinal=-1, weekday="TH"))
    seen = days.event_form(rig.ws, None).digest
    shown = days.event_preview(rig.ws, NOW, fields)
    assert [o.start for o in shown.found][:2] == [date(2027, 1, 28), date(2028, 1, 27)]
    days.save_event(rig.ws, APPROVER, NOW, None, fields, seen)
    text = project.read(CALENDAR)
    assert text.startswith("# The test calendar.\n[priorities]")
    assert ('BYDAY=TU"\n\n[[event]]\nid = "holocaust-memorial-day"\n'
            'title = "Holocaust Memorial Day"\nrule = "FREQ=YEARLY;BYMONTH=1;BYDAY=-1TH"\n\n'
            '[[campaign]]\n') in text
    assert "holocaust-memorial-day" in rig.ws.catalog.project.events


def test_explicit_dates_win_and_the_other_years_are_provisional(rig: Rig,
                                                                project: ProjectDir) -> None:
    form = days.event_form(rig.ws, "safer-internet-day")
    # "the first Tuesday on or after 6 February", as the builder says it
    assert form.fields.when == DateRule("after", 2, 6, weekday="TU")
    fields = replace(form.fields, when=DateRule("nth", 2, ordinal=2, weekday="TU"), days=1,
                     announced=True, dates=(Dates("2027-02-09", "", "confirmed by UKSIC"),))
    shown = days.event_preview(rig.ws, NOW, fields)
    assert [(o.start, o.provisional) for o in shown.found][:2] == [
        (date(2027, 2, 9), False), (date(2028, 2, 8), True)]
    days.save_event(rig.ws, APPROVER, NOW, "safer-internet-day", fields, form.digest)
    text = project.read(CALENDAR)
    assert ('rule = "FREQ=YEARLY;BYMONTH=2;BYDAY=+2TU"\nannounced = true\n'
            'dates = [{start = 2027-02-09, note = "confirmed by UKSIC"}]\n') in text
    again = days.event_form(rig.ws, "safer-internet-day")
    assert again.fields.dates == (Dates("2027-02-09", "", "confirmed by UKSIC"),)


def test_moving_a_day_moves_its_campaigns_posts(rig: Rig, project: ProjectDir) -> None:
    form = days.event_form(rig.ws, "safer-internet-day")
    days.save_event(rig.ws, APPROVER, NOW, "safer-internet-day",
                    replace(form.fields, when=DateRule("fixed", 2, 16)), form.digest)
    ids = {i.id for i in rig.ws.catalog.items(date(2027, 2, 1), date(2027, 2, 28))}
    assert "safer-internet-day/on-the-day/2027-02-16/x" in ids
    assert "safer-internet-day/on-the-day/2027-02-09/x" not in ids
    planned = {e.item_id for e in rig.ws.ledger.publications.entries()}
    assert "safer-internet-day/on-the-day/2027-02-16/x" in planned


def test_a_rule_that_finds_no_day_is_refused_where_it_is(rig: Rig, project: ProjectDir) -> None:
    form = days.event_form(rig.ws, "safer-internet-day")
    before = project.read(CALENDAR)
    with pytest.raises(EditRefused) as refused:
        days.save_event(rig.ws, APPROVER, NOW, "safer-internet-day",
                        replace(form.fields, when=DateRule("rule", rule="FREQ=YEARLY;BYMONTH=2;"
                                                                        "BYMONTHDAY=30")),
                        form.digest)
    assert project.read(CALENDAR) == before
    (problem,) = [p for p in refused.value.problems if "rule" in p.message]
    assert problem.path.endswith(CALENDAR) and problem.line == 14, problem
    assert days.event_preview(rig.ws, NOW, replace(
        form.fields, when=DateRule("rule", rule="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"))).problems


def test_only_those_who_write_the_days_campaigns_may_change_it(rig: Rig,
                                                              project: ProjectDir) -> None:
    form = days.event_form(rig.ws, "safer-internet-day")
    before = project.read(CALENDAR)
    with pytest.raises(NotAllowed, match="'writer' is not responsible, accountable or in "
                                         "support for 'campaign-posts'"):
        days.save_event(rig.ws, WRITER, NOW, "safer-internet-day",
                        replace(form.fields, title="Moved"), form.digest)
    assert project.read(CALENDAR) == before
    assert days.refusal_to_write(rig.ws, "approver", "safer-internet-day") is None
    assert isinstance(days.event_file(rig.ws, None), Path)


def test_a_campaigns_window_and_anchor_are_written_and_previewed(
        rig: Rig, project: ProjectDir) -> None:
    form = days.campaign_form(rig.ws, "safer-internet-day")
    assert form.fields.anchor == "safer-internet-day" and form.fields.channels == ("facebook", "x")
    fields = replace(form.fields, live_before_days=10, hashtags=("#SaferInternetDay",))
    shown = days.window_preview(rig.ws, NOW, fields)
    first = shown.found[0]
    assert (first.live_from, first.live_to) == (date(2027, 1, 30), date(2027, 2, 11))
    days.save_campaign(rig.ws, APPROVER, NOW, "safer-internet-day", fields, form.digest)
    text = project.read(CALENDAR)
    assert ('[[campaign]]\nid = "safer-internet-day"\ntitle = "Safer Internet Day"\n'
            'priority = "online-safety"\nevents = ["safer-internet-day"]\n'
            'channels = ["facebook", "x"]\nhashtags = ["#SaferInternetDay"]\n'
            'live_before_days = 10\n') in text
    assert rig.ws.catalog.project.campaigns["safer-internet-day"].live_before_days == 10


def test_a_campaign_given_work_its_writer_may_not_write_is_refused(
        rig: Rig, project: ProjectDir) -> None:
    form = days.campaign_form(rig.ws, "safer-internet-day")
    before = project.read(CALENDAR)
    with pytest.raises(NotAllowed, match="comms-freeze"):
        days.save_campaign(rig.ws, APPROVER, NOW, "safer-internet-day",
                           replace(form.fields, responsibility="comms-freeze"), form.digest)
    with pytest.raises(EditRefused) as refused:   # a channel the config does not have
        days.save_campaign(rig.ws, APPROVER, NOW, "safer-internet-day",
                           replace(form.fields, channels=("facebok",)), form.digest)
    assert any("did you mean 'facebook'" in p.message for p in refused.value.problems)
    assert project.read(CALENDAR) == before
