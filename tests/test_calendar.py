"""The bundled campaign calendar expanded over 2025–2035: awareness-day rules, windows, cadence."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from conftest import BUNDLED_CONFIG
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pipeline.calendar import Blackout, Campaign, Event, occurrences, send_day_in, windows
from pipeline.config import load_config
from pipeline.project import Project, load_schedules

YEARS = st.integers(2025, 2035)


@pytest.fixture(scope="module")
def calendar() -> Project:
    """The bundled schedules/ read through the real loader (content is not needed here)."""
    project = Project(load_config(BUNDLED_CONFIG))
    load_schedules(project)
    assert project.errors == []
    return project


def one_occurrence(event: Event, year: int):
    found = occurrences(event, date(year, 1, 1), date(year, 12, 31))
    assert len(found) == 1, found
    return found[0]


@settings(max_examples=50, deadline=None)
@given(year=YEARS)
def test_safer_internet_day_is_the_tuesday_of_6_to_12_february(calendar: Project, year: int) -> None:
    occ = one_occurrence(calendar.events["safer-internet-day"], year)
    assert occ.start == occ.end
    assert occ.start.month == 2 and 6 <= occ.start.day <= 12
    assert occ.start.weekday() == 1  # Tuesday
    assert not occ.provisional


def test_safer_internet_day_known_years(calendar: Project) -> None:
    event = calendar.events["safer-internet-day"]
    assert one_occurrence(event, 2025).start == date(2025, 2, 11)
    assert one_occurrence(event, 2026).start == date(2026, 2, 10)


@settings(max_examples=50, deadline=None)
@given(year=YEARS)
def test_safeguarding_adults_week_starts_on_the_third_monday_of_november(calendar: Project,
                                                                        year: int) -> None:
    event = calendar.events["safeguarding-adults-week"]
    occ = one_occurrence(event, year)
    explicit = {d.start.year: d for d in event.dates}
    if year in explicit:
        assert (occ.start, occ.end) == (explicit[year].start, explicit[year].last)
        assert not occ.provisional
        return
    mondays = [date(year, 11, d) for d in range(1, 31) if date(year, 11, d).weekday() == 0]
    assert occ.start == mondays[2]
    assert 15 <= occ.start.day <= 21
    assert occ.end == occ.start + timedelta(days=event.days - 1)
    assert occ.provisional  # announced each year: a prediction until confirmed


def test_safeguarding_adults_week_rule_without_explicit_dates(calendar: Project) -> None:
    # an event written with only the rule (no explicit year) follows it in every year
    event = calendar.events["safeguarding-adults-week"].model_copy(update={"dates": []})
    assert one_occurrence(event, 2025).start == date(2025, 11, 17)
    assert one_occurrence(event, 2026).start == date(2026, 11, 16)
    assert one_occurrence(event, 2030).start == date(2030, 11, 18)


def test_explicit_dates_win_over_the_rule() -> None:
    event = Event(id="week", title="Week", rule="FREQ=YEARLY;BYMONTH=5;BYDAY=+2MO", days=7,
                  announced=True, dates=[{"start": date(2027, 5, 3), "end": date(2027, 5, 9)}])
    assert [(o.start, o.end, o.provisional) for o in
            occurrences(event, date(2026, 1, 1), date(2027, 12, 31))] == [
        (date(2026, 5, 11), date(2026, 5, 17), True),
        (date(2027, 5, 3), date(2027, 5, 9), False),
    ]


def test_fixed_date_and_leap_day() -> None:
    fixed = Event(id="d", title="D", date="03-18")
    assert [o.start for o in occurrences(fixed, date(2026, 1, 1), date(2027, 12, 31))] == [
        date(2026, 3, 18), date(2027, 3, 18)]
    leap = Event(id="leap", title="Leap", date="02-29")
    assert [o.start for o in occurrences(leap, date(2025, 1, 1), date(2029, 12, 31))] == [
        date(2028, 2, 29)]


def test_manual_event_has_no_occurrences_until_dates_are_added(calendar: Project) -> None:
    event = calendar.events["county-lines-intensification"]
    assert event.manual
    assert occurrences(event, date(2025, 1, 1), date(2035, 12, 31)) == []


@settings(max_examples=50, deadline=None)
@given(start=st.dates(date(2025, 1, 1), date(2035, 12, 31)), span=st.integers(0, 800))
def test_occurrences_overlap_the_range_in_order(calendar: Project, start: date, span: int) -> None:
    end = start + timedelta(days=span)
    for event in calendar.events.values():
        found = occurrences(event, start, end)
        assert [o.start for o in found] == sorted(o.start for o in found)
        for occ in found:
            assert occ.start <= occ.end and occ.end >= start and occ.start <= end
            assert occ.event == event.id
            assert occ.key == f"{event.id}@{occ.start.year}"
        assert len({o.start.year for o in found}) == len(found)  # one occurrence a year


@settings(max_examples=50, deadline=None)
@given(year=YEARS)
def test_campaign_windows_surround_their_anchor(calendar: Project, year: int) -> None:
    for campaign in calendar.campaigns.values():
        event = calendar.events[campaign.events[0]]
        for occ in occurrences(event, date(year, 1, 1), date(year, 12, 31)):
            win = windows(campaign, occ)
            assert win.prepare_from <= win.live_from <= occ.start <= occ.end <= win.live_to
            assert (occ.start - win.live_from).days == campaign.live_before_days
            assert (win.live_to - occ.end).days == campaign.live_after_days
            assert win.contains(occ.start) and win.contains(occ.end)
            assert not win.contains(win.live_from - timedelta(days=1))
            assert not win.contains(win.live_to + timedelta(days=1))


@settings(max_examples=50, deadline=None)
@given(year=YEARS, month=st.integers(1, 12),
       nth=st.sampled_from(["first", "second", "third", "fourth", "last"]),
       weekday=st.sampled_from(["monday", "tuesday", "wednesday", "thursday", "friday"]))
def test_send_day_rules(year: int, month: int, nth: str, weekday: str) -> None:
    day = send_day_in(f"{nth} {weekday.title()}", year, month)
    assert (day.year, day.month) == (year, month)
    assert day.strftime("%A").lower() == weekday
    if nth == "last":
        assert (day + timedelta(days=7)).month != month
    else:
        index = ["first", "second", "third", "fourth"].index(nth)
        assert (day.day - 1) // 7 == index
    assert send_day_in("15", year, month) == date(year, month, 15)


def test_bundled_bulletin_goes_on_the_first_tuesday(calendar: Project) -> None:
    assert calendar.cadence.send_day == "first Tuesday"
    assert send_day_in(calendar.cadence.send_day, 2026, 12) == date(2026, 12, 1)
    assert send_day_in(calendar.cadence.send_day, 2027, 1) == date(2027, 1, 5)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("date", "3-18", "write a fixed date as 'MM-DD'"),
    ("date", "02-30", "no such day of the year"),
    ("rule", "FREQ=SOMETIMES", "not a valid RRULE"),
])
def test_bad_event_definitions(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Event(id="e", title="E", **{field: value})


def test_campaign_hashtags_must_be_camel_case_words() -> None:
    with pytest.raises(ValidationError, match="must be '#' and letters or digits"):
        Campaign(id="c", title="C", priority="p", events=["e"], hashtags=["#safer internet"])


def test_blackout_dates_cover_whole_days() -> None:
    blackout = Blackout(id="b", title="B", start=date(2027, 3, 29), end=date(2027, 5, 6))
    assert blackout.covers(datetime(2027, 3, 29, 0, 0))
    assert blackout.covers(datetime(2027, 5, 6, 23, 59))
    assert not blackout.covers(datetime(2027, 5, 7, 0, 0))
    assert not blackout.covers(datetime(2027, 3, 28, 23, 59))
