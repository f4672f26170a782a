"""The calendar: month, week and agenda views of every item with its status (in words and
colour), filtered by campaign, channel, status and "waiting for me"; and a private link to
subscribe to it from Outlook or Google Calendar."""

from __future__ import annotations

import calendar as cal
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user, login_required

from pipeline.errors import Invalid
from pipeline.services import exports, statuses
from pipeline.services.approvals import waits_for
from pipeline.services.signin import base_url
from pipeline.services.statuses import Line
from pipeline.status import Status
from pipeline.web.context import now, web, ws

blueprint = Blueprint("calendar", __name__)
AGENDA_WEEKS = 8
FEED_BACK_DAYS = 31     # the feed shows the last month and
FEED_AHEAD_DAYS = 400   # what is planned ahead


@dataclass(frozen=True)
class Filters:
    """What a person narrowed the calendar to (from the query string)."""

    campaign: str = ""
    channel: str = ""
    status: str = ""
    mine: bool = False

    def keep(self, line: Line) -> bool:
        if self.status and line.status.status.value != self.status:
            return False
        return not self.mine or waits_for(ws(), line, current_user.person)

    def args(self) -> dict[str, str]:
        out = {"campaign": self.campaign, "channel": self.channel, "status": self.status}
        if self.mine:
            out["mine"] = "1"
        return {k: v for k, v in out.items() if v}


def _filters() -> Filters:
    status = request.args.get("status", "")
    if status and status not in {s.value for s in Status}:
        raise Invalid(f"'{status}' is not a status", field="status")
    return Filters(request.args.get("campaign", ""), request.args.get("channel", ""), status,
                   request.args.get("mine") == "1")


def _day(value: str | None, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value if len(value) > 7 else value + "-01")
    except ValueError:
        raise Invalid(f"'{value}' is not a date; use YYYY-MM-DD", field="start") from None


def _lines(first: date, last: date, filters: Filters) -> list[Line]:
    listing = statuses.in_range(ws(), now(), first, last, campaign=filters.campaign or None,
                                channel=filters.channel or None)
    return [line for line in listing.lines if filters.keep(line)]


def _page(view: str, first: date, last: date, filters: Filters, **more):
    key = "month" if view == "month" else "start"
    for which in ("prev", "next"):
        more[f"{which}_url"] = url_for(request.endpoint or "calendar.month",
                                       **{key: more[which]}, **filters.args())
    lines = _lines(first, last, filters)
    tz = ws().config.tz
    by_day: dict[date, list[Line]] = {}
    for line in lines:
        by_day.setdefault(line.due.astimezone(tz).date(), []).append(line)
    project = ws().catalog.project
    return render_template(
        "calendar.html", view=view, first=first, last=last, lines=lines, by_day=by_day,
        filters=filters, campaigns=sorted([*project.campaigns, "e-bulletin", "reactive"]),
        channels=sorted(ws().config.enabled_channels()), statuses=[s.value for s in Status],
        today=now().astimezone(tz).date(), counts=statuses.counts(lines), **more)


@blueprint.route("/")
@login_required
def home():
    """The calendar is the home page."""
    return month()


@blueprint.route("/calendar")
@login_required
def month():
    """A month (default this one) as a grid of weeks."""
    today = now().astimezone(ws().config.tz).date()
    start = _day(request.args.get("month"), today).replace(day=1)
    weeks = cal.Calendar(firstweekday=0).monthdatescalendar(start.year, start.month)
    first, last = weeks[0][0], weeks[-1][-1]
    prev_month = (start - timedelta(days=1)).replace(day=1)
    next_month = (start + timedelta(days=32)).replace(day=1)
    return _page("month", first, last, _filters(), month=start, weeks=weeks,
                 prev=prev_month.strftime("%Y-%m"), next=next_month.strftime("%Y-%m"))


@blueprint.route("/calendar/week")
@login_required
def week():
    """Seven days from a Monday (default this week's)."""
    today = now().astimezone(ws().config.tz).date()
    start = _day(request.args.get("start"), today)
    start -= timedelta(days=start.weekday())
    days = [start + timedelta(days=n) for n in range(7)]
    return _page("week", days[0], days[-1], _filters(), days=days,
                 prev=(start - timedelta(days=7)).isoformat(),
                 next=(start + timedelta(days=7)).isoformat())


@blueprint.route("/calendar/agenda")
@login_required
def agenda():
    """Every item in due order, from a day (default today) for eight weeks."""
    today = now().astimezone(ws().config.tz).date()
    start = _day(request.args.get("start"), today)
    last = start + timedelta(weeks=AGENDA_WEEKS) - timedelta(days=1)
    return _page("agenda", start, last, _filters(),
                 prev=(start - timedelta(weeks=AGENDA_WEEKS)).isoformat(),
                 next=(last + timedelta(days=1)).isoformat())


@blueprint.route("/calendar/subscribe", methods=["GET", "POST"])
@login_required
def subscribe():
    """The person's private calendar link: made (or made anew) by a POST, shown once."""
    link = ""
    if request.method == "POST":
        token = web().accounts.new_feed(current_user.person)
        link = base_url(ws()) + url_for("calendar.feed", token=token)
    return render_template("subscribe.html", link=link)


@blueprint.route("/feed/<token>.ics")
def feed(token: str):
    """The calendar file behind a private link (calendar programs cannot sign in)."""
    person = web().accounts.feed_person(token)
    if person is None or person not in ws().config.settings.people:
        abort(404)
    today = now().astimezone(ws().config.tz).date()
    data, _count = exports.calendar(ws(), now(), today - timedelta(days=FEED_BACK_DAYS),
                                    today + timedelta(days=FEED_AHEAD_DAYS))
    return Response(data, mimetype="text/calendar",
                    headers={"Content-Disposition": 'inline; filename="wst-publishing.ics"'})
