"""The plan and campaign windows as an iCalendar feed for Outlook and Google Calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from pipeline.calendar import occurrences, windows
from pipeline.plan import Plan
from pipeline.project import Project

_DOMAIN = "wst-pipeline"


def build_ics(project: Project, plan: Plan, stamp: datetime) -> bytes:
    """An iCalendar document: one timed event per item, an all-day event per campaign window."""
    settings = project.config.settings
    cal = Calendar()
    cal.add("prodid", f"-//{settings.partnership.short_name}//publishing pipeline//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{settings.partnership.short_name} publishing plan")
    cal.add("x-wr-timezone", settings.partnership.timezone)
    stamp = stamp.astimezone(UTC)
    for item in plan.items:
        ev = Event()
        ev.add("uid", f"{item.id}@{_DOMAIN}")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", item.due.astimezone(UTC))
        ev.add("dtend", (item.due + timedelta(minutes=15)).astimezone(UTC))
        ev.add("summary", f"[{item.channel}] {item.title}")
        ev.add("description", f"{item.kind} for {item.campaign} on {item.channel}\n"
                              f"status: {item.status}{' (' + item.note + ')' if item.note else ''}\n"
                              f"id: {item.id}\nversion: {item.version}")
        ev.add("categories", [item.campaign, item.channel, item.status])
        if item.status != "planned":
            ev.add("status", "TENTATIVE")
        else:
            ev.add("status", "CONFIRMED")
        cal.add_component(ev)
    # a live window reaches up to 90 days either side of its occurrence (the campaign limits)
    reach = timedelta(days=90)
    for campaign in project.campaigns.values():
        # posts may be timed from any of the campaign's events, so show a window for each
        for event_id in campaign.events:
            event = project.events.get(event_id)
            if event is None:
                continue
            for occ in occurrences(event, plan.start - reach, plan.end + reach):
                win = windows(campaign, occ)
                if win.live_to < plan.start or win.live_from > plan.end:
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
