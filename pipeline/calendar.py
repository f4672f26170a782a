"""The campaign calendar: awareness events, campaigns, bulletin cadence, blackout windows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Literal

from dateutil.rrule import rrulestr
from pydantic import Field, field_validator, model_validator

from pipeline.config import Id
from pipeline.timing import parse_clock
from pipeline.validation import Strict, key_error

# A rule must give at least one day in these years, or no plan would ever hold its event.
RULE_SPAN = (2020, 2040)


class ExplicitDates(Strict):
    """Confirmed dates of one occurrence (a single day when `end` is left out)."""

    start: date
    end: date | None = None
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> ExplicitDates:
        if self.end is not None and self.end < self.start:
            raise key_error("end", f"end {self.end} is before start {self.start}; swap them, or fix "
                                   f"the one that is wrong")
        return self

    @property
    def last(self) -> date:
        """The last day of the occurrence."""
        return self.end or self.start


class Event(Strict):
    """An awareness day or week: a fixed date, a recurrence rule, or explicit dates per year."""

    id: Id
    title: str
    organiser: str = ""
    date: str | None = Field(None, description="A fixed day each year, 'MM-DD'.")
    rule: str | None = Field(None, description="An RFC 5545 RRULE giving each year's first day.")
    days: int = Field(1, ge=1, le=62, description="Length of each occurrence in days.")
    announced: bool = Field(False, description="The organiser sets the dates each year.")
    dates: list[ExplicitDates] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list, description="A theme per day, in order.")
    hashtags: list[str] = Field(default_factory=list)
    url: str = ""
    notes: str = ""

    @field_validator("date")
    @classmethod
    def _month_day(cls, value: str | None) -> str | None:
        if value is None:
            return value
        m = re.fullmatch(r"(\d{2})-(\d{2})", value)
        if not m:
            raise ValueError("write a fixed date as 'MM-DD', e.g. '03-18'")
        try:
            date(2024, int(m.group(1)), int(m.group(2)))
        except ValueError:
            raise ValueError("no such day of the year") from None
        return value

    @field_validator("rule")
    @classmethod
    def _rrule(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            rule = rrulestr(value, dtstart=datetime(RULE_SPAN[0], 1, 1))
            hit = rule.after(datetime(RULE_SPAN[0], 1, 1), inc=True)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(f"not a valid RRULE ({exc}); e.g. "
                             "'FREQ=YEARLY;BYMONTH=11;BYDAY=+3MO'") from None
        month = re.search(r"BYMONTH=([^;]*)", value.upper())
        if month and any(not m.strip().isdigit() or not 1 <= int(m) <= 12
                         for m in month.group(1).split(",")):
            raise ValueError("BYMONTH takes months 1 to 12; e.g. 'FREQ=YEARLY;BYMONTH=11;BYDAY=+3MO'")
        if hit is None or hit.year > RULE_SPAN[1]:
            # dateutil accepts rules no day ever matches; the plan would silently lose the event
            raise ValueError(f"this rule gives no day from {RULE_SPAN[0]} to {RULE_SPAN[1]}; check "
                             f"its BYMONTH, BYMONTHDAY and BYDAY")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Event:
        if self.date and self.rule:
            raise ValueError("give either 'date' or 'rule', not both")
        if self.announced and not self.rule and not self.date and not self.dates:
            raise ValueError("an announced event needs a 'rule' to predict it or explicit 'dates'")
        if self.date and self.announced:
            raise ValueError("a fixed 'date' is never announced; drop 'announced' or use a 'rule'")
        return self

    @property
    def manual(self) -> bool:
        """Only explicit dates: no rule can predict it (e.g. operational weeks)."""
        return not self.date and not self.rule


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One dated instance of an event."""

    event: str
    start: date
    end: date
    provisional: bool

    @property
    def key(self) -> str:
        """A stable label for this occurrence, e.g. 'safer-internet-day@2027'."""
        return f"{self.event}@{self.start.year}"


def occurrences(event: Event, first: date, last: date) -> list[Occurrence]:
    """Every occurrence overlapping [first, last], explicit dates winning over the rule."""
    explicit_years = {d.start.year for d in event.dates}
    found: list[Occurrence] = [
        Occurrence(event.id, d.start, d.last, False) for d in event.dates
    ]
    span = timedelta(days=event.days - 1)
    for year in range(first.year - 1, last.year + 1):
        if year in explicit_years:
            continue
        if event.date:
            month, day = int(event.date[:2]), int(event.date[3:])
            try:
                start = date(year, month, day)
            except ValueError:  # 29 February in a common year
                continue
            found.append(Occurrence(event.id, start, start + span, False))
        elif event.rule:
            rule = rrulestr(event.rule, dtstart=datetime(year, 1, 1))
            hit = rule.after(datetime(year, 1, 1), inc=True)
            if hit is not None and hit.year == year:
                start = hit.date()
                found.append(Occurrence(event.id, start, start + span, event.announced))
    return sorted((o for o in found if o.end >= first and o.start <= last),
                  key=lambda o: o.start)


class Campaign(Strict):
    """A campaign: what it is about, who leads it, when it runs and where it is posted."""

    id: Id
    title: str
    priority: str
    leads: list[str] = Field(default_factory=list)
    audiences: list[str] = Field(default_factory=list)
    hashtags: list[str] = Field(default_factory=list)
    events: list[Id] = Field(min_length=1, description="Events it anchors to; the first is the default anchor.")
    prepare_weeks: int = Field(6, ge=0, le=52)
    live_before_days: int = Field(7, ge=0, le=90)
    live_after_days: int = Field(2, ge=0, le=90)
    channels: list[str] = Field(default_factory=list)
    responsibility: str = Field("campaign-posts", description="Key into [responsibilities] in config.toml.")
    upbeat: bool = Field(True, description="Paused by a freeze unless a post is marked help.")
    notes: str = ""

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        for tag in value:
            if not re.fullmatch(r"#[A-Za-z0-9_]+", tag):
                raise ValueError(f"hashtag {tag!r} must be '#' and letters or digits, "
                                 "in CamelCase, e.g. '#SaferInternetDay'")
        return value


@dataclass(frozen=True, slots=True)
class Window:
    """A campaign's preparation and live windows around one anchor occurrence."""

    campaign: str
    occurrence: Occurrence
    prepare_from: date
    live_from: date
    live_to: date

    def contains(self, day: date) -> bool:
        """True if `day` is in the live window (posts go out only then)."""
        return self.live_from <= day <= self.live_to


def windows(campaign: Campaign, occ: Occurrence) -> Window:
    """The windows of `campaign` around its anchor occurrence `occ`."""
    live_from = occ.start - timedelta(days=campaign.live_before_days)
    return Window(
        campaign.id, occ,
        prepare_from=live_from - timedelta(weeks=campaign.prepare_weeks),
        live_from=live_from,
        live_to=occ.end + timedelta(days=campaign.live_after_days),
    )


_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
             "saturday": 5, "sunday": 6}


class Cadence(Strict):
    """The monthly e-bulletin: when it goes, where, and each month's theme (Appendix 2)."""

    send_day: str = Field("first Tuesday", description="'first|second|third|fourth|last <weekday>' or a day number 1–28.")
    send_time: str = Field("10:00", description="Local send time, HH:MM.")
    channels: list[str] = Field(default_factory=lambda: ["mailchimp"])
    responsibility: str = "e-bulletins"
    from_month: str = Field("2026-09", pattern=r"^\d{4}-\d{2}$", description="The first month the pipeline sends.")
    themes: dict[str, str] = Field(default_factory=dict, description="Month number '01'–'12' → theme.")

    @field_validator("send_day")
    @classmethod
    def _send_day(cls, value: str) -> str:
        send_day_in(value, 2027, 1)
        return value

    @field_validator("send_time")
    @classmethod
    def _send_time(cls, value: str) -> str:
        parse_clock(value)
        return value

    @field_validator("themes")
    @classmethod
    def _months(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key not in {f"{m:02d}" for m in range(1, 13)}:
                raise ValueError(f"theme month '{key}' must be '01' to '12'")
        return value

    @cached_property
    def at(self):
        """The send time."""
        return parse_clock(self.send_time)


def send_day_in(rule: str, year: int, month: int) -> date:
    """The send date in a month for a rule like 'first Tuesday' or '15'."""
    words = rule.strip().lower().split()
    if len(words) == 1 and words[0].isdigit():
        day = int(words[0])
        if not 1 <= day <= 28:
            raise ValueError("a fixed send day must be 1 to 28 so every month has it")
        return date(year, month, day)
    if len(words) != 2 or words[0] not in _ORDINALS or words[1] not in _WEEKDAYS:
        raise ValueError("write the send day as e.g. 'first Tuesday', 'last Friday' or '15'")
    nth, weekday = _ORDINALS[words[0]], _WEEKDAYS[words[1]]
    if nth > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    nxt = date(year + month // 12, month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


class Blackout(Strict):
    """A window in which publication is held (pre-election period, national mourning)."""

    id: Id
    title: str
    start: date | datetime
    end: date | datetime
    holds: Literal["all", "all-but-help", "political"] = Field(
        "all", description="all: everything; all-but-help: all but 'how to get help' posts; "
                           "political: posts naming councillors, candidates or parties.")
    notes: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Blackout:
        if _as_datetime(self.end, end=True) < _as_datetime(self.start):
            raise key_error("end", f"end {self.end} is before start {self.start}; swap them, or "
                                   f"fix the one that is wrong")
        return self

    def covers(self, local: datetime) -> bool:
        """True if the local wall time falls in this window (dates are whole days)."""
        naive = local.replace(tzinfo=None)
        return _as_datetime(self.start) <= naive <= _as_datetime(self.end, end=True)


def _as_datetime(value: date | datetime, end: bool = False) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.combine(value, datetime.max.time() if end else datetime.min.time())
