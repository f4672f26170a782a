"""Writing the calendar from the workspace: awareness days, with a date builder (a fixed date;
"the last Thursday of January"; "the first Monday on or after 3 February"; a rule as written;
or only explicit dates) that writes the RFC 5545 rule, the length of each occurrence (a week is
7 days), and explicit dates per year, the rule's predictions being provisional until the
organiser confirms them; and campaigns, with their anchor and windows. Saved through the
editing service into the schedules file that holds each (round-trip, checked whole, atomic,
audited, committed)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import tomlkit
from pydantic import ValidationError

from pipeline.calendar import Campaign, Event, Occurrence, occurrences, windows
from pipeline.errors import Invalid, NotFound
from pipeline.policy import calendar_refusal
from pipeline.services import editing
from pipeline.services.actor import Actor
from pipeline.services.editing import Opened, Saved
from pipeline.workspace import Workspace

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
# Who may change a day no campaign hangs on yet: the people who write campaigns' posts.
DEFAULT_WORK = "campaign-posts"
_NTH = re.compile(r"^FREQ=YEARLY;BYMONTH=(\d{1,2});BYDAY=([+-]?\d)(MO|TU|WE|TH|FR|SA|SU)$")
_AFTER = re.compile(r"^FREQ=YEARLY;BYMONTH=(\d{1,2});BYMONTHDAY=([\d,]+);BYDAY=(MO|TU|WE|TH|FR|SA|SU)$")
DATE_KEYS = ("date", "rule", "days", "announced", "dates")


@dataclass(frozen=True)
class DateRule:
    """The date builder: how each year's first day is found.

    mode: "fixed" (month, day), "nth" (ordinal weekday of month: "the last Thursday of
    January"), "after" (the first weekday on or after month/day: "the first Monday on or after
    3 February"), "rule" (an RRULE as written), or "dates" (only the explicit dates)."""

    mode: str = "fixed"
    month: int = 1
    day: int = 1
    ordinal: int = 1
    weekday: str = "MO"
    rule: str = ""

    def written(self) -> tuple[str | None, str | None]:
        """(date, rule) as the file writes them; Invalid when the parts name no day."""
        if self.mode == "dates":
            return None, None
        if self.mode == "rule":
            return None, self.rule.strip()
        if not 1 <= self.month <= 12:
            raise Invalid("choose a month", field="month")
        if self.weekday not in WEEKDAYS and self.mode in ("nth", "after"):
            raise Invalid("choose a day of the week", field="weekday")
        if self.mode == "fixed":
            try:
                date(2024, self.month, self.day)
            except ValueError:
                raise Invalid("there is no such day in that month", field="day") from None
            return f"{self.month:02d}-{self.day:02d}", None
        if self.mode == "nth":
            if self.ordinal not in ORDINALS:
                raise Invalid("choose first, second, third, fourth or last", field="ordinal")
            return None, (f"FREQ=YEARLY;BYMONTH={self.month};"
                          f"BYDAY={'+' if self.ordinal > 0 else ''}{self.ordinal}{self.weekday}")
        if self.mode == "after":
            if not 1 <= self.day <= 22:
                # the seven days must stay in the month for the rule to find one every year
                raise Invalid("write a day from 1 to 22 (the week after it stays in the month); "
                              "for a later start, choose the last weekday of the month",
                              field="day")
            days = ",".join(str(d) for d in range(self.day, self.day + 7))
            return None, f"FREQ=YEARLY;BYMONTH={self.month};BYMONTHDAY={days};BYDAY={self.weekday}"
        raise Invalid("choose how the date is found", field="mode")

    @classmethod
    def of(cls, date_text: str | None, rule: str | None) -> DateRule:
        """The builder's parts of what a file says (a rule it cannot read is kept as written)."""
        if date_text:
            return cls("fixed", int(date_text[:2]), int(date_text[3:]))
        if not rule:
            return cls("dates")
        if m := _NTH.match(rule):
            return cls("nth", int(m[1]), ordinal=int(m[2]), weekday=m[3])
        if m := _AFTER.match(rule):
            days = [int(d) for d in m[2].split(",")]
            if days == list(range(days[0], days[0] + 7)):
                return cls("after", int(m[1]), days[0], weekday=m[3])
        return cls("rule", rule=rule)


@dataclass(frozen=True)
class Dates:
    """One year's confirmed dates."""

    start: str
    end: str = ""
    note: str = ""


@dataclass(frozen=True)
class EventFields:
    """What the awareness day form says."""

    id: str
    title: str
    organiser: str = ""
    when: DateRule = field(default_factory=DateRule)
    days: int = 1
    announced: bool = False
    dates: tuple[Dates, ...] = ()


@dataclass(frozen=True)
class EventForm:
    """An awareness day as its form opens: its fields and the digest of its file."""

    event_id: str | None
    fields: EventFields
    digest: str
    shown: str


@dataclass(frozen=True)
class EventPreview:
    """The coming occurrences the form's rule gives (provisional ones marked), or why none."""

    found: list[Occurrence] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def event_file(ws: Workspace, event_id: str | None) -> Path:
    """The schedules file that holds the event (a new one goes where the others are, else
    schedules/events.toml); NotFound for an event the calendar does not have."""
    return _file_of(ws, "event", event_id, "events.toml")


def _file_of(ws: Workspace, kind: str, ident: str | None, default: str) -> Path:
    """The schedules file that defines `kind` `ident`, or where a new one goes: the file of
    the others of its kind, else `default` in schedules/."""
    project = ws.catalog.project
    if ident is not None:
        where = project.where.get(f"{kind}:{ident}")
        if where is None:
            raise NotFound(f"there is no {kind} '{ident}' in schedules/", field=kind)
        return where.source.path
    first = next((w for k, w in project.where.items() if k.startswith(f"{kind}:")), None)
    if first is not None:
        return first.source.path
    return editing.in_folder(Path(ws.config.schedules_dir), default)


def _work(ws: Workspace, event_id: str | None) -> list[str]:
    """The responsibilities of the campaigns anchored to the event (else campaign posts')."""
    project = ws.catalog.project
    found = sorted({c.responsibility for c in project.campaigns.values()
                    if event_id is not None and event_id in c.events})
    return found or [DEFAULT_WORK]


def refusal_to_write(ws: Workspace, person: str, event_id: str | None) -> str | None:
    """Why `person` may not change this awareness day (every campaign on it moves with it),
    or None."""
    return calendar_refusal(ws.config.settings, _work(ws, event_id), person)


def _table(shown: Opened, event_id: str) -> dict:
    data = editing.parse(shown).unwrap() if shown.text else {}
    table = next((e for e in data.get("event", []) if e.get("id") == event_id), None)
    if table is None:
        raise NotFound(f"there is no event '{event_id}' in {shown.shown}", field="event")
    return table


def event_form(ws: Workspace, event_id: str | None) -> EventForm:
    """The form for an awareness day as its file says now (an empty one when None)."""
    shown = editing.opened(event_file(ws, event_id))
    if event_id is None:
        return EventForm(None, EventFields("", ""), shown.digest, shown.shown)
    t = _table(shown, event_id)
    dates = tuple(Dates(str(d.get("start", "")), str(d.get("end", "") or ""),
                        str(d.get("note", ""))) for d in t.get("dates", []))
    fields = EventFields(event_id, str(t.get("title", "")), str(t.get("organiser", "")),
                         DateRule.of(t.get("date"), t.get("rule")), int(t.get("days", 1)),
                         bool(t.get("announced", False)), dates)
    return EventForm(event_id, fields, shown.digest, shown.shown)


def _dates_value(dates: tuple[Dates, ...]) -> list[dict]:
    out = []
    for i, d in enumerate(dates):
        try:
            row: dict = {"start": date.fromisoformat(d.start)}
            if d.end:
                row["end"] = date.fromisoformat(d.end)
        except ValueError:
            raise Invalid(f"the dates in row {i + 1} are not dates; write them as 2027-07-05",
                          field="dates") from None
        if d.note:
            row["note"] = d.note
        out.append(row)
    return out


def _entries(doc, key: str, a_kind: str, old_id: str | None, new_id: str):
    """The file's `[[key]]` tables (made when there are none) and the index of `old_id` among
    them (None for a new one); Invalid if `new_id` would repeat another's id."""
    tables = doc.get(key)
    if tables is None:
        tables = tomlkit.aot()
        doc.append(key, tables)
    ids = [str(t.get("id", "")) for t in tables]
    if new_id != old_id and new_id in ids:
        raise Invalid(f"there is already {a_kind} '{new_id}'; give this one its own id",
                      field="id")
    return tables, None if old_id is None else ids.index(old_id)


def event_text(original: Opened, event_id: str | None, fields: EventFields) -> str:
    """The schedules file's text with the event changed (or added at the end)."""
    doc = editing.parse(original)
    events, index = _entries(doc, "event", "an event", event_id, fields.id)
    day, rule = fields.when.written()
    dates = _dates_value(fields.dates)
    editing.write_table(events, index, [
        ("id", fields.id), ("title", fields.title), ("organiser", fields.organiser),
        ("date", day), ("rule", rule), ("days", None if fields.days == 1 else fields.days),
        ("announced", True if fields.announced else None),
        ("dates", _inline(dates) if dates else None)])
    return tomlkit.dumps(doc)


def _inline(rows: list[dict]):
    """Explicit dates as the bundled calendar writes them: one inline table a line."""
    array = tomlkit.array()
    for row in rows:
        inline = tomlkit.inline_table()
        inline.update(row)
        array.append(inline)
    return array.multiline(len(rows) > 1)


def save_event(ws: Workspace, actor: Actor, now: datetime, event_id: str | None,
               fields: EventFields, seen: str) -> Saved:
    """Change the awareness day `event_id` (or add one when None) in its schedules file.
    Refused whole (NotAllowed, NotFound, Invalid, EditConflict, EditRefused) before anything
    is written."""
    for work in _work(ws, event_id):
        editing.may_write(ws, actor.person, work, "change this awareness day")
    path = event_file(ws, event_id)
    text = event_text(editing.opened(path), event_id, fields)
    return editing.write(ws, actor, now, path, text, seen,
                         f"{'Add' if event_id is None else 'Edit'} awareness day {fields.id}",
                         {"event": fields.id, "was": event_id})


def event_preview(ws: Workspace, now: datetime, fields: EventFields,
                  years: int = 3) -> EventPreview:
    """The occurrences the form gives over the next `years` years, without saving anything."""
    try:
        day, rule = fields.when.written()
        event = Event(id=fields.id or "new", title=fields.title or "new", date=day, rule=rule,
                      days=fields.days, announced=fields.announced,
                      dates=_dates_value(fields.dates))
    except Invalid as exc:
        return EventPreview([], [str(exc)])
    except ValidationError as exc:
        return EventPreview([], [e["msg"].removeprefix("Value error, ") for e in exc.errors()])
    today = now.astimezone(ws.config.tz).date()
    return EventPreview(occurrences(event, today, today + timedelta(days=365 * years)))


# -- campaigns ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CampaignFields:
    """What the campaign form says: the anchor (its first event) and its windows."""

    id: str
    title: str
    priority: str = ""
    anchor: str = ""
    channels: tuple[str, ...] = ()
    prepare_weeks: int = 6
    live_before_days: int = 7
    live_after_days: int = 2
    responsibility: str = DEFAULT_WORK
    hashtags: tuple[str, ...] = ()
    upbeat: bool = True


@dataclass(frozen=True)
class CampaignForm:
    """A campaign as its form opens: the fields, its other events (kept after the anchor), and
    the digest of its file."""

    campaign_id: str | None
    fields: CampaignFields
    others: tuple[str, ...]
    digest: str
    shown: str


@dataclass(frozen=True)
class WindowPreview:
    """The campaign's coming windows around its anchor (preparation from, live from and to),
    or why there are none."""

    found: list = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def campaign_file(ws: Workspace, campaign_id: str | None) -> Path:
    """The schedules file that holds the campaign (a new one goes where the others are, else
    schedules/campaigns.toml)."""
    return _file_of(ws, "campaign", campaign_id, "campaigns.toml")


def campaign_refusal(ws: Workspace, person: str, campaign_id: str | None,
                     responsibility: str | None = None) -> str | None:
    """Why `person` may not write this campaign (its responsibility now, and the one the form
    gives it), or None."""
    found = ws.catalog.project.campaigns.get(campaign_id or "")
    work = [found.responsibility if found else DEFAULT_WORK]
    if responsibility:
        work.append(responsibility)
    return calendar_refusal(ws.config.settings, work, person)


def campaign_form(ws: Workspace, campaign_id: str | None) -> CampaignForm:
    """The form for a campaign as its file says now (an empty one when None)."""
    shown = editing.opened(campaign_file(ws, campaign_id))
    if campaign_id is None:
        return CampaignForm(None, CampaignFields("", ""), (), shown.digest, shown.shown)
    data = editing.parse(shown).unwrap() if shown.text else {}
    t = next((c for c in data.get("campaign", []) if c.get("id") == campaign_id), None)
    if t is None:
        raise NotFound(f"there is no campaign '{campaign_id}' in {shown.shown}",
                       field="campaign")
    events = [str(e) for e in t.get("events", [])]
    fields = CampaignFields(
        campaign_id, str(t.get("title", "")), str(t.get("priority", "")),
        events[0] if events else "", tuple(str(c) for c in t.get("channels", [])),
        int(t.get("prepare_weeks", 6)), int(t.get("live_before_days", 7)),
        int(t.get("live_after_days", 2)), str(t.get("responsibility", DEFAULT_WORK)),
        tuple(str(h) for h in t.get("hashtags", [])), bool(t.get("upbeat", True)))
    return CampaignForm(campaign_id, fields, tuple(events[1:]), shown.digest, shown.shown)


def campaign_text(original: Opened, campaign_id: str | None, fields: CampaignFields,
                  others: tuple[str, ...]) -> str:
    """The schedules file's text with the campaign changed (or added at the end)."""
    doc = editing.parse(original)
    campaigns, index = _entries(doc, "campaign", "a campaign", campaign_id, fields.id)
    events = [fields.anchor, *(e for e in others if e != fields.anchor)]
    written = campaigns[index] if index is not None else {}
    defaults = CampaignFields("", "")

    def unless_default(key: str):
        # a default is not written where the file leaves it out; where it is written, it is set
        value = getattr(fields, key)
        return None if value == getattr(defaults, key) and key not in written else value

    editing.write_table(campaigns, index, [
        ("id", fields.id), ("title", fields.title), ("priority", fields.priority),
        ("hashtags", list(fields.hashtags) or None), ("events", events),
        *((key, unless_default(key)) for key in ("prepare_weeks", "live_before_days",
                                                 "live_after_days")),
        ("channels", list(fields.channels)),
        ("responsibility", unless_default("responsibility")),
        ("upbeat", unless_default("upbeat"))])
    return tomlkit.dumps(doc)


def save_campaign(ws: Workspace, actor: Actor, now: datetime, campaign_id: str | None,
                  fields: CampaignFields, seen: str) -> Saved:
    """Change the campaign `campaign_id` (or add one when None) in its schedules file. Refused
    whole (NotAllowed, NotFound, Invalid, EditConflict, EditRefused) before anything is
    written."""
    found = ws.catalog.project.campaigns.get(campaign_id or "")
    for work in dict.fromkeys([found.responsibility if found else DEFAULT_WORK,
                               fields.responsibility]):
        editing.may_write(ws, actor.person, work, "write this campaign")
    path = campaign_file(ws, campaign_id)
    form = campaign_form(ws, campaign_id)
    text = campaign_text(editing.opened(path), campaign_id, fields, form.others)
    return editing.write(ws, actor, now, path, text, seen,
                         f"{'Add' if campaign_id is None else 'Edit'} campaign {fields.id}",
                         {"campaign": fields.id, "was": campaign_id})


def window_preview(ws: Workspace, now: datetime, fields: CampaignFields,
                   years: int = 2) -> WindowPreview:
    """The campaign's windows around its anchor's coming occurrences, without saving."""
    event = ws.catalog.project.events.get(fields.anchor)
    if event is None:
        return WindowPreview([], ["choose the awareness day it is anchored to"])
    try:
        campaign = Campaign(id=fields.id or "new", title=fields.title or "new",
                            priority=fields.priority or "new", events=[fields.anchor],
                            prepare_weeks=fields.prepare_weeks,
                            live_before_days=fields.live_before_days,
                            live_after_days=fields.live_after_days)
    except ValidationError as exc:
        return WindowPreview([], [_said(e) for e in exc.errors()])
    today = now.astimezone(ws.config.tz).date()
    return WindowPreview([windows(campaign, o) for o in
                          occurrences(event, today, today + timedelta(days=365 * years))])


def _said(error: dict) -> str:
    where = " ".join(str(p) for p in error["loc"]).replace("_", " ")
    return f"{where}: {error['msg'].lower()}"
