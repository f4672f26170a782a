"""Local times on the calendar: the `when` grammar of posts and clock-change rules."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_TIME = r"(?P<h>\d{1,2}):(?P<m>\d{2})"
_PATTERNS = [
    ("on", re.compile(rf"^on the (?:first )?day at {_TIME}$")),
    ("last", re.compile(rf"^on the last day at {_TIME}$")),
    ("each", re.compile(rf"^each day of the event at {_TIME}$")),
    ("nth", re.compile(rf"^on day (?P<n>\d+) of the event at {_TIME}$")),
    ("rel", re.compile(rf"^(?P<n>\d+) (?P<unit>days?|weeks?) (?P<dir>before|after) at {_TIME}$")),
    ("abs", re.compile(rf"^at (?P<d>\d{{4}}-\d{{2}}-\d{{2}})[ T]{_TIME}$")),
]

WHEN_HELP = ('write one of: "on the day at 10:00", "on the last day at 10:00", '
             '"each day of the event at 12:30", "on day 3 of the event at 09:00", '
             '"2 days before at 10:00", "1 week after at 14:00", "at 2027-02-01 10:00"')


@dataclass(frozen=True, slots=True)
class When:
    """A parsed `when`: how a post's dates follow from its anchor occurrence."""

    form: str
    at: time
    n: int = 0
    absolute: date | None = None

    def dates(self, start: date, end: date) -> list[date]:
        """Local dates this timing gives for an occurrence from `start` to `end`."""
        if self.form == "on":
            return [start]
        if self.form == "last":
            return [end]
        if self.form == "each":
            return [start + timedelta(days=i) for i in range((end - start).days + 1)]
        if self.form == "nth":
            day = start + timedelta(days=self.n - 1)
            return [day] if day <= end else []
        if self.form == "before":
            return [start - timedelta(days=self.n)]
        if self.form == "after":
            return [end + timedelta(days=self.n)]
        assert self.absolute is not None
        return [self.absolute]

    @property
    def needs_anchor(self) -> bool:
        """False only for an absolute date."""
        return self.form != "abs"


def parse_when(text: str) -> When:
    """Parse a `when` phrase; raise ValueError with the accepted forms."""
    phrase = " ".join(text.strip().lower().split())
    for form, pattern in _PATTERNS:
        m = pattern.match(phrase)
        if not m:
            continue
        hour, minute = int(m.group("h")), int(m.group("m"))
        if hour > 23 or minute > 59:
            raise ValueError(f"'{text}' has no such time of day; use 24-hour HH:MM")
        at = time(hour, minute)
        if form == "rel":
            n = int(m.group("n")) * (7 if m.group("unit").startswith("week") else 1)
            return When(m.group("dir"), at, n)
        if form == "nth":
            n = int(m.group("n"))
            if n < 1:
                raise ValueError(f"'{text}': days of an event count from 1")
            return When(form, at, n)
        if form == "abs":
            try:
                return When(form, at, absolute=date.fromisoformat(m.group("d")))
            except ValueError:
                raise ValueError(f"'{text}' has no such date") from None
        return When(form, at)
    raise ValueError(f"cannot read when = '{text}'; {WHEN_HELP}")


def parse_clock(text: str) -> time:
    """Parse 'HH:MM' (24-hour)."""
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"'{text}' is not a time; write 24-hour HH:MM such as 10:00")
    return time(int(m.group(1)), int(m.group(2)))


@dataclass(frozen=True, slots=True)
class LocalTime:
    """A resolved local wall time: the aware datetime, and a note if the clock moved it."""

    due: datetime
    note: str = ""


def resolve_local(day: date, at: time, tz: ZoneInfo) -> LocalTime:
    """The aware datetime for `day` `at` in `tz`.

    A time that does not exist (skipped when the clocks go forward) moves to the first valid
    time after the gap; an ambiguous one (repeated when they go back) takes the first.
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0)
    round_trip = first.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) == naive:
        return LocalTime(first)
    # Non-existent: fold=0 maps to the time before the gap. The gap ends where the offset
    # changes; the first valid local time is the UTC instant of the jump seen locally.
    before = first.utcoffset() or timedelta(0)
    after = naive.replace(tzinfo=tz, fold=1).utcoffset() or timedelta(0)
    gap = abs(after - before)
    # the instant the clocks jump: walk forward from `naive - gap` in UTC
    start_utc = (naive - before).replace(tzinfo=UTC)
    moved = _first_valid_after(naive, tz, start_utc, gap)
    return LocalTime(moved, f"{naive:%H:%M} on {day:%d %B %Y} does not exist in {tz.key} "
                            f"(the clocks go forward); moved to {moved:%H:%M %Z}")


def _first_valid_after(naive: datetime, tz: ZoneInfo, near_utc: datetime,
                       gap: timedelta) -> datetime:
    """The earliest local time at or after the clock jump that covers `naive`."""
    # Transitions happen on whole minutes; search minute by minute within the gap.
    probe = near_utc - gap
    for _ in range(int(gap.total_seconds() // 60) * 2 + 2):
        local = probe.astimezone(tz)
        if local.replace(tzinfo=None) >= naive:
            return local
        probe += timedelta(minutes=1)
    return (near_utc).astimezone(tz)  # pragma: no cover - only for exotic zones


def exists(moment: datetime) -> bool:
    """True if an aware local datetime names a real instant on its own clock."""
    tz = moment.tzinfo
    assert tz is not None
    naive = moment.replace(tzinfo=None)
    return moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive


def repeated(day: date, at: time, tz: ZoneInfo) -> bool:
    """True if `at` on `day` happens twice in `tz` (the clocks go back through it)."""
    naive = datetime.combine(day, at)
    return naive.replace(tzinfo=tz, fold=0).utcoffset() != naive.replace(tzinfo=tz, fold=1).utcoffset() \
        and resolve_local(day, at, tz).note == ""


@functools.lru_cache(maxsize=8)
def clock_change_days(tz: ZoneInfo, first: int, last: int) -> frozenset[date]:
    """The days from the year `first` to `last` on which the clocks of `tz` change."""
    # cached: a day-by-day walk of eleven years is worth doing once, not at every reload
    days = set()
    day = date(first, 1, 1)
    offset = datetime.combine(day, time(12), tz).utcoffset()
    while day.year <= last:
        nxt = day + timedelta(days=1)
        now_offset = datetime.combine(nxt, time(12), tz).utcoffset()
        if now_offset != offset:
            days.add(nxt)
            offset = now_offset
        day = nxt
    return frozenset(days)
