"""The plan and campaign windows as an iCalendar feed for Outlook and Google Calendar."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from icalendar import Calendar, Event

from pipeline.calendar import occurrences, windows
from pipeline.project import Project
from pipeline.status import Status

_DOMAIN = "wst-pipeline"
# What a calendar program is told of each status (RFC 5545 VEVENT STATUS).
_CONFIRMED = frozenset({Status.APPROVED, Status.SCHEDULED, Status.PUBLISHING, Status.PUBLISHED})


def build_ics(project: Project, lines: Iterable[Any], start: date, end: date,
              stamp: datetime) -> bytes:
    """An iCalendar document: one timed event per item (with its one status, from
    pipeline.services.statuses), and an all-day event per campaign window."""
    settings = project.config.settings
    cal = Calendar()
    cal.add("prodid", f"-//{settings.partnership.short_name}//publishing pipeline//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{settings.partnership.short_name} publishing plan")
    cal.add("x-wr-timezone", settings.partnership.timezone)
    stamp = stamp.astimezone(UTC)
    for line in lines:
        status = line.status
        ev = Event()
        ev.add("uid", f"{line.item_id}@{_DOMAIN}")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", line.due.astimezone(UTC))
        ev.add("dtend", (line.due + timedelta(minutes=15)).astimezone(UTC))
        ev.add("summary", f"[{line.channel}] {line.title} ({status.label})")
        note = f" ({status.note})" if status.note else ""
        provisional = f"\ndate: provisional ({line.provisional})" if line.provisional else ""
        ev.add("description", f"{line.kind} for {line.campaign} on {line.channel}\n"
                              f"status: {status.label}{note}{provisional}\n"
                              f"id: {line.item_id}\nversion: {line.version}")
        ev.add("categories", [line.campaign, line.channel, status.status.value])
        ev.add("x-wst-status", status.label)  # for programs that read the feed
        ev.add("status", "CONFIRMED" if status.status in _CONFIRMED else
               "CANCELLED" if status.status == Status.CANCELLED else "TENTATIVE")
        cal.add_component(ev)
    # a live window reaches up to 90 days either side of its occurrence (the campaign limits)
    reach = timedelta(days=90)
    for campaign in project.campaigns.values():
        # posts may be timed from any of the campaign's events, so show a window for each
        for event_id in campaign.events:
            event = project.events.get(event_id)
            if event is None:
                continue
            for occ in occurrences(event, start - reach, end + reach):
                win = windows(campaign, occ)
                if win.live_to < start or win.live_from > end:
                    continue
                cal.add_component(_window_event(campaign, event, occ, win, stamp))
    return cal.to_ical()


def _window_event(campaign, event, occ, win, stamp: datetime) -> Event:
    """An all-day event for one live window of a campaign."""
    ev = Event()
    ev.add("uid", f"window/{campaign.id}/{occ.key}@{_DOMAIN}")
    ev.add("dtstamp", stamp)
    ev.add("dtstart", win.live_from)
    ev.add("dtend", win.live_to + timedelta(days=1))
    ev.add("summary", f"Campaign live: {campaign.title}"
                      f"{' (provisional dates)' if occ.provisional else ''}")
    ev.add("description", f"Preparation from {win.prepare_from:%d %B %Y}. "
                          f"{event.title}: {occ.start:%d %B} to {occ.end:%d %B %Y}.")
    ev.add("transp", "TRANSPARENT")
    ev.add("categories", [campaign.id, "campaign-window"])
    return ev
