"""`wst calendar --ics` read back with the icalendar package: one event per plan item, plus windows."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from conftest import ProjectDir
from icalendar import Calendar

RANGE = ("--from", "2027-01-01", "--to", "2027-03-31")


def _calendar_and_plan(project: ProjectDir) -> tuple[bytes, list[dict]]:
    out = project.path / "out" / "plan.ics"
    made = project.wst("calendar", "--ics", str(out), *RANGE)
    assert made.returncode == 0, made.stderr
    planned = project.wst("plan", "--json", *RANGE)
    assert planned.returncode == 0, planned.stderr
    items = json.loads(planned.stdout)
    assert made.stdout.strip() == f"wrote {out} ({len(items)} items)"
    return out.read_bytes(), items


def test_ics_has_one_event_per_item_and_the_campaign_windows(project: ProjectDir) -> None:
    project.edit("schedules/calendar.toml", 'from_month = "2099-01"', 'from_month = "2027-01"')
    # a campaign with a second event: posts may be timed from either, so both windows show
    project.edit("schedules/calendar.toml", 'events = ["safer-internet-day"]',
                 'events = ["safer-internet-day", "exploitation-day"]')
    project.write("schedules/more.toml", '[[event]]\nid = "exploitation-day"\n'
                  'title = "Child Exploitation Awareness Day"\ndate = "03-18"\n')
    raw, items = _calendar_and_plan(project)
    assert len(items) == 7  # three bulletins and four posts
    cal = Calendar.from_ical(raw)

    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == "-//TSP//publishing pipeline//EN"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n")

    events = list(cal.walk("VEVENT"))
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)
    timed = {str(e["UID"]): e for e in events if "campaign-window" not in _categories(e)}
    assert sorted(timed) == sorted(f"{i['id']}@wst-pipeline" for i in items)
    for item in items:
        event = timed[f"{item['id']}@wst-pipeline"]
        start = event["DTSTART"].dt
        assert isinstance(start, datetime) and start.utcoffset() is not None
        assert start.tzinfo == UTC or start.utcoffset().total_seconds() == 0
        assert start == datetime.fromisoformat(item["due"])
        assert event["DTEND"].dt > start
        assert item["id"] in str(event["DESCRIPTION"])
        assert str(event["STATUS"]) == ("CONFIRMED" if item["status"] == "planned" else "TENTATIVE")
    assert b"DTSTART:20270207T100000Z" in raw  # 10:00 GMT written in UTC, as Outlook and Google read it

    windows = {str(e["UID"]): (e["DTSTART"].dt, e["DTEND"].dt) for e in events
               if "campaign-window" in _categories(e)}
    assert windows == {
        # live from 7 days before Tuesday 9 February 2027 to 2 days after; DTEND is exclusive
        "window/safer-internet-day/safer-internet-day@2027@wst-pipeline":
            (date(2027, 2, 2), date(2027, 2, 12)),
        "window/safer-internet-day/exploitation-day@2027@wst-pipeline":
            (date(2027, 3, 11), date(2027, 3, 21)),
    }
    for event in events:
        assert "DTSTAMP" in event


def test_window_that_starts_before_the_range_is_included(project: ProjectDir) -> None:
    out = project.path / "plan.ics"
    made = project.wst("calendar", "--ics", str(out), "--from", "2027-02-10", "--to", "2027-02-28")
    assert made.returncode == 0, made.stderr
    cal = Calendar.from_ical(out.read_bytes())
    windows = [e for e in cal.walk("VEVENT") if "campaign-window" in _categories(e)]
    assert [(w["DTSTART"].dt, w["DTEND"].dt) for w in windows] == [(date(2027, 2, 2), date(2027, 2, 12))]


def _categories(event) -> list[str]:
    found = event.get("CATEGORIES")
    if found is None:
        return []
    groups = found if isinstance(found, list) else [found]
    return [str(c) for group in groups for c in group.cats]


def test_summer_times_are_written_in_utc(project: ProjectDir) -> None:
    project.write("schedules/clocks.toml", '[[event]]\nid = "spring"\ntitle = "Spring"\n'
                  'dates = [{ start = 2027-03-28 }]\n\n[[campaign]]\nid = "spring"\n'
                  'title = "Spring"\npriority = "online-safety"\nevents = ["spring"]\n'
                  'channels = ["facebook"]\n')
    project.write("content/posts/spring.toml", '[[post]]\nid = "early"\n'
                  'when = "on the day at 01:30"\ntext = "Early."\n\n[[post]]\nid = "late"\n'
                  'when = "on the day at 21:00"\ntext = "Late."\n')
    out = project.path / "spring.ics"
    made = project.wst("calendar", "--ics", str(out), "--from", "2027-03-28", "--to", "2027-03-28")
    assert made.returncode == 0, made.stderr
    raw = out.read_bytes()
    cal = Calendar.from_ical(raw)
    starts = {str(e["UID"]): e["DTSTART"].dt for e in cal.walk("VEVENT")}
    # 01:30 does not exist that day and moves to 02:00 BST, which is 01:00 UTC
    assert starts["spring/early/2027-03-28/facebook@wst-pipeline"] == datetime(2027, 3, 28, 1, 0,
                                                                               tzinfo=UTC)
    assert starts["spring/late/2027-03-28/facebook@wst-pipeline"] == datetime(2027, 3, 28, 20, 0,
                                                                              tzinfo=UTC)
    assert b"DTSTART:20270328T010000Z" in raw
