"""`wst bulletin new`: a draft content/bulletins/YYYY-MM.toml prefilled from the calendar."""

from __future__ import annotations

import calendar as monthdays
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.calendar import Occurrence, occurrences
from pipeline.project import Project
from renderers.dates import MONTHS

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, slots=True)
class _Dated:
    """One event occurrence in the month, with what the draft says about it."""

    title: str
    occurrence: Occurrence
    note: str
    campaigns: tuple[str, ...]

    @property
    def when(self) -> str:
        words = span(self.occurrence.start, self.occurrence.end)
        return words + (" (provisional: dates to be confirmed)" if self.occurrence.provisional else "")


def _day(d: date, year: bool = True) -> str:
    return f"{d.day} {MONTHS[d.month - 1]}" + (f" {d.year}" if year else "")


def span(start: date, end: date) -> str:
    """'10 December 2026', '16 to 20 November 2026' or '25 November to 10 December 2026'."""
    # house style writes ranges with "to", never a dash
    if start == end:
        return _day(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day} to {_day(end)}"
    return f"{_day(start, year=start.year != end.year)} to {_day(end)}"


def _basic(text: str) -> str:
    # TOML basic string: the escapes it shares with JSON, written out by hand to stay exact
    out = text.replace("\\", "\\\\").replace('"', '\\"')
    out = out.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return f'"{out}"'


def _multiline(text: str) -> str:
    # a multi-line basic string: backslashes and runs of quotes must not end it early
    body = text.replace("\\", "\\\\").replace('"""', '""\\"')
    return f'"""\n{body.rstrip()}\n"""'


def _dated(project: Project, first: date, last: date) -> list[_Dated]:
    by_event: dict[str, list[str]] = {}
    for campaign in project.campaigns.values():
        for event_id in campaign.events:
            by_event.setdefault(event_id, []).append(campaign.id)
    found: list[_Dated] = []
    for event in project.events.values():
        for occ in occurrences(event, first, last):
            note = next((d.note for d in event.dates if d.start == occ.start and d.note), "")
            found.append(_Dated(event.title, occ, note, tuple(by_event.get(event.id, ()))))
    return sorted(found, key=lambda d: (d.occurrence.start, d.title))


def draft_bulletin(project: Project, month: str) -> str:
    """The TOML text of a new draft bulletin for `month` (YYYY-MM), prefilled from the calendar."""
    m = _MONTH.match(month)
    if not m:
        raise ValueError(f"month {month!r} must be written YYYY-MM, e.g. 2026-12")
    year, number = int(m.group(1)), int(m.group(2))
    first = date(year, number, 1)
    last = date(year, number, monthdays.monthrange(year, number)[1])
    name = f"{MONTHS[number - 1]} {year}"
    theme = project.cadence.themes.get(f"{number:02d}", "")
    dated = _dated(project, first, last)
    # campaigns in the order their events start, so the draft reads through the month
    campaigns = sorted((c for c in project.campaigns.values() if any(c.id in d.campaigns for d in dated)),
                       key=lambda c: min(d.occurrence.start for d in dated if c.id in d.campaigns))

    lines = [
        f"# Draft e-bulletin for {name}, written by `wst bulletin new --month {month}`.",
        "# Replace every text starting \"WRITE:\", run `wst check`, and once it is approved set",
        "# status = \"ready\". The format is in docs/formats.md (content/bulletins/YYYY-MM.toml).",
        "#",
    ]
    if dated:
        lines.append(f"# Campaigns and awareness days in {name} (from schedules/):")
        for d in dated:
            who = f" [campaign: {', '.join(d.campaigns)}]" if d.campaigns else ""
            note = f" ({d.note})" if d.note else ""
            lines.append(f"#   - {d.title}: {d.when}{note}{who}")
    else:
        lines.append(f"# No campaigns or awareness days fall in {name} in schedules/.")
    about = f"this month's theme, {theme}" if theme else "this month's bulletin"
    lines += [
        "",
        f"month = {_basic(month)}",
        'status = "draft"',
        (f"theme = {_basic(theme)}  # from [cadence.themes] \"{number:02d}\"; change it here for "
         "this month only") if theme else "theme = \"\"  # no theme in [cadence.themes] for this month",
        f"subject = {_basic('WRITE: the subject line, under 60 characters, about ' + about)}",
        "preheader = " + _basic("WRITE: one sentence shown after the subject in the inbox, "
                                "under 100 characters, that makes people open it"),
        f"intro = {_multiline(f'WRITE: two or three short sentences introducing {about}.')}",
        "",
        "# \"How to raise a concern\" (both MASH numbers, out of hours, 999 and the website) is added",
        "# to every bulletin automatically from [official] in config.toml: do not write it as a story.",
    ]
    for campaign in campaigns:
        its = [d for d in dated if campaign.id in d.campaigns]
        when = "; ".join(f"{d.title}: {d.when}" for d in its)
        lines += [
            "",
            "[[story]]",
            f"title = {_basic(campaign.title)}",
            "body = " + _multiline(f"WRITE: what is happening and what readers can do.\n\n{when}."),
            *_link_and_image(),
        ]
    if dated:
        diary = "\n".join(f"- {d.title}: {d.when}" for d in dated)
        lines += ["", "[[story]]", 'title = "Dates for your diary"', f"body = {_multiline(diary)}"]
    lines += [
        "",
        "# Every bulletin has a training or event story.",
        "[[story]]",
        'title = "Training and events"',
        "body = " + _multiline("WRITE: this month's training course or event: what it is, who it "
                               "is for, when and where it is, and how to book."),
        *_link_and_image(),
    ]
    return "\n".join(lines) + "\n"


def _link_and_image() -> list[str]:
    return [
        'link = ""       # e.g. "https://www.wolverhamptonsafeguarding.org.uk/..."',
        'link_text = ""  # words that say where the link goes, e.g. "Book a place on the course"',
        'image = ""      # e.g. "images/....png", under content/',
        'alt = ""        # what the image shows, including any words in it',
    ]


def write_draft(project: Project, month: str, path: Path) -> Path:
    """Write the draft for `month` to `path`, refusing to overwrite an existing file."""
    path = Path(path)
    text = draft_bulletin(project, month)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # "x" mode: the check and the create are one step, so a file made meanwhile is safe too
        with path.open("x", encoding="utf-8", newline="\n") as out:
            out.write(text)
    except FileExistsError:
        # the message names the file; callers (the CLI) add what to do about it
        raise FileExistsError(f"{path} already exists") from None
    return path
