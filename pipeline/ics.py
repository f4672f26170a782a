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
    for campaign in project.campaigns.values():
        event = project.events.get(campaign.events[0])
        if event is None:
            continue
        for occ in occurrences(event, plan.start, plan.end):
            win = windows(campaign, occ)
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
            cal.add_component(ev)
    return cal.to_ical()
