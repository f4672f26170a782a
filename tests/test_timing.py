"""Local times: the `when` grammar and Europe/London clock-change rules (2025–2035)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.timing import When, exists, parse_clock, parse_when, resolve_local

LONDON = ZoneInfo("Europe/London")
BST, GMT = timedelta(hours=1), timedelta(0)
YEARS = st.integers(2025, 2035)


def last_sunday(year: int, month: int) -> date:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - 6) % 7)


# --- clock-change days, written out ------------------------------------------------------------

def test_missing_time_moves_to_first_valid_time_with_a_note() -> None:
    resolved = resolve_local(date(2026, 3, 29), time(1, 30), LONDON)
    assert resolved.due == datetime(2026, 3, 29, 2, 0, tzinfo=LONDON)
    assert resolved.due.utcoffset() == BST
    assert resolved.due.astimezone(UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert resolved.note == ("01:30 on 29 March 2026 does not exist in Europe/London "
                             "(the clocks go forward); moved to 02:00 BST")


def test_ambiguous_time_takes_the_first_occurrence() -> None:
    resolved = resolve_local(date(2026, 10, 25), time(1, 30), LONDON)
    assert resolved.due.isoformat() == "2026-10-25T01:30:00+01:00"
    assert resolved.due.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert resolved.note == ""


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25),
                                 date(2027, 3, 28), date(2027, 10, 31)])
def test_nine_oclock_on_clock_change_sundays_is_ordinary(day: date) -> None:
    resolved = resolve_local(day, time(9, 0), LONDON)
    assert resolved.note == ""
    assert resolved.due.replace(tzinfo=None) == datetime.combine(day, time(9, 0))
    assert resolved.due.utcoffset() == (BST if day.month == 3 else GMT)


def test_exists_knows_the_gap() -> None:
    assert not exists(datetime(2026, 3, 29, 1, 30, tzinfo=LONDON))
    assert not exists(datetime(2026, 3, 29, 1, 0, tzinfo=LONDON))
    assert exists(datetime(2026, 3, 29, 0, 59, tzinfo=LONDON))
    assert exists(datetime(2026, 3, 29, 2, 0, tzinfo=LONDON))
    assert exists(datetime(2026, 10, 25, 1, 30, tzinfo=LONDON))
    assert exists(datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=LONDON))


# --- properties over 2025–2035 ------------------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(year=YEARS, day_of_year=st.integers(0, 364), hour=st.integers(0, 23),
       minute=st.integers(0, 59))
def test_every_resolved_time_exists_and_keeps_its_day(year: int, day_of_year: int, hour: int,
                                                      minute: int) -> None:
    day = date(year, 1, 1) + timedelta(days=day_of_year)
    resolved = resolve_local(day, time(hour, minute), LONDON)
    assert resolved.due.tzinfo is not None and resolved.due.utcoffset() is not None
    assert exists(resolved.due)
    assert resolved.due.date() == day
    if resolved.note:
        assert resolved.due.time() == time(2, 0)
    else:
        assert resolved.due.time() == time(hour, minute)


@settings(max_examples=60, deadline=None)
@given(year=YEARS, minute=st.integers(0, 59))
def test_the_skipped_hour_moves_to_two_oclock_bst(year: int, minute: int) -> None:
    day = last_sunday(year, 3)
    resolved = resolve_local(day, time(1, minute), LONDON)
    assert resolved.due == datetime.combine(day, time(2, 0), tzinfo=LONDON)
    assert resolved.due.utcoffset() == BST
    assert "does not exist" in resolved.note and "moved to 02:00 BST" in resolved.note


@settings(max_examples=60, deadline=None)
@given(year=YEARS, minute=st.integers(0, 59))
def test_the_repeated_hour_takes_bst(year: int, minute: int) -> None:
    day = last_sunday(year, 10)
    resolved = resolve_local(day, time(1, minute), LONDON)
    assert resolved.note == ""
    assert resolved.due.utcoffset() == BST
    assert resolved.due.astimezone(UTC) == datetime.combine(day, time(0, minute), tzinfo=UTC)


@settings(max_examples=60, deadline=None)
@given(year=YEARS, hour=st.sampled_from([0, 2, 3, 9, 12, 23]), minute=st.integers(0, 59),
       month=st.sampled_from([3, 10]))
def test_other_hours_on_clock_change_days_are_untouched(year: int, hour: int, minute: int,
                                                        month: int) -> None:
    day = last_sunday(year, month)
    resolved = resolve_local(day, time(hour, minute), LONDON)
    assert resolved.note == ""
    assert resolved.due.replace(tzinfo=None) == datetime.combine(day, time(hour, minute))


# --- the `when` grammar ---------------------------------------------------------------------------

CLOCK = st.tuples(st.integers(0, 23), st.integers(0, 59))


@settings(max_examples=60, deadline=None)
@given(clock=CLOCK, n=st.integers(1, 30), unit=st.sampled_from(["day", "week"]),
       direction=st.sampled_from(["before", "after"]))
def test_relative_phrases_parse(clock: tuple[int, int], n: int, unit: str, direction: str) -> None:
    h, m = clock
    phrase = f"{n} {unit}{'s' if n > 1 else ''} {direction} at {h}:{m:02d}"
    when = parse_when(phrase)
    assert when == When(direction, time(h, m), n * (7 if unit == "week" else 1))
    start, end = date(2027, 2, 9), date(2027, 2, 15)
    expected = start - timedelta(days=when.n) if direction == "before" else end + timedelta(days=when.n)
    assert when.dates(start, end) == [expected]


def test_event_phrases_give_the_right_days() -> None:
    start, end = date(2027, 11, 15), date(2027, 11, 19)
    assert parse_when("On the day at 10:00").dates(start, end) == [start]
    assert parse_when("on the first day at 10:00").dates(start, end) == [start]
    assert parse_when("on the last day at 10:00").dates(start, end) == [end]
    assert parse_when("each  day of the event at 12:30").dates(start, end) == [
        start + timedelta(days=i) for i in range(5)]
    assert parse_when("on day 3 of the event at 09:00").dates(start, end) == [date(2027, 11, 17)]
    assert parse_when("on day 6 of the event at 09:00").dates(start, end) == []
    absolute = parse_when("at 2027-02-01 10:00")
    assert absolute.dates(start, end) == [date(2027, 2, 1)] and not absolute.needs_anchor


@pytest.mark.parametrize(("phrase", "message"), [
    ("tomorrow", "cannot read when = 'tomorrow'"),
    ("on the day at 24:00", "has no such time of day"),
    ("on the day at 10:60", "has no such time of day"),
    ("on day 0 of the event at 09:00", "days of an event count from 1"),
    ("at 2027-02-30 10:00", "has no such date"),
])
def test_bad_phrases_say_what_to_write(phrase: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_when(phrase)


def test_parse_clock() -> None:
    assert parse_clock(" 9:05 ") == time(9, 5)
    for bad in ("9", "24:00", "10:75", "ten"):
        with pytest.raises(ValueError, match="24-hour HH:MM"):
            parse_clock(bad)
