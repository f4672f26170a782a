"""What people record by hand for the evaluation: engagement activity, partner shares, concerns."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pipeline.files import MB, FileRefused, regular
from pipeline.problems import ERROR, InputError, Problem, did_you_mean, display_path
from pipeline.store import Store
from pipeline.store.schema import concerns_table, engagement_table, shares_table

CONCERNS_HEADER = ("month", "children", "adults")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class PartnerChannel:
    """The part of an Appendix 1 audit row a share needs (keeps this module free of content)."""

    id: str
    organisation: str
    name: str
    audience: str
    reach: int | None


class ShareError(ValueError):
    """A share that names an unknown partner, channel or item; the message says how to fix it."""

    def __init__(self, option: str, message: str):
        self.option = option
        super().__init__(message)


def check_share(channels: Iterable[Any], partner: str, channel: str,
                own_organisation: str = "") -> PartnerChannel:
    """The audit channel `channel` of `partner`, or ShareError naming the nearest valid one."""
    audit = {c.id: c for c in channels}
    orgs = sorted({c.organisation for c in audit.values()})
    if not audit:
        raise ShareError("--channel", "the channel audit (content/channel-audit.toml) lists no "
                                      "channels; add the partner's channel there first")
    by_lower = {o.lower(): o for o in orgs}
    org = by_lower.get(partner.strip().lower())
    if org is None:
        hint = did_you_mean(partner, orgs) or f"; partners are: {', '.join(orgs)}"
        raise ShareError("--partner", f"no partner '{partner}' in the channel audit{hint}")
    found = audit.get(channel)
    theirs = sorted(c.id for c in audit.values() if c.organisation == org)
    if found is None:
        hint = did_you_mean(channel, theirs) or did_you_mean(channel, audit)
        hint = hint or f"; {org}'s channels are: {', '.join(theirs)}"
        raise ShareError("--channel", f"no channel '{channel}' in the channel audit{hint}")
    if found.organisation != org:
        raise ShareError("--channel", f"'{channel}' is a channel of {found.organisation}, not "
                                      f"{org}; {org}'s channels are: {', '.join(theirs)}")
    if own_organisation and org.lower() == own_organisation.lower():
        raise ShareError("--partner", f"{org} is the partnership itself: its own channels are "
                                      f"measured by collection, not recorded as partner shares")
    return PartnerChannel(found.id, found.organisation, found.name, found.audience, found.reach)


class Records:
    """Hand-recorded evaluation data in the store."""

    def __init__(self, store: Store):
        self.store = store

    def add_engagement(self, day: date, event: str, people: int, groups: int, by: str,
                       now: datetime) -> int:
        """Record people and groups engaged at one event; returns the record's id."""
        if not event.strip():
            raise ValueError("say what the event was (--event)")
        if people < 0 or groups < 0:
            raise ValueError("people and groups are counts: 0 or more")
        with self.store.writing() as conn:
            result = conn.execute(engagement_table.insert().values(
                date=day.isoformat(), event=event.strip(), people=people, groups=groups,
                recorded_by=by, at=now))
            return int(result.inserted_primary_key[0])

    def add_share(self, channel: PartnerChannel, item_id: str, day: date, by: str,
                  now: datetime) -> int:
        """Record that a partner shared an item on one of its channels; returns the id."""
        with self.store.writing() as conn:
            result = conn.execute(shares_table.insert().values(
                partner=channel.organisation, channel=channel.id, item_id=item_id,
                date=day.isoformat(), recorded_by=by, at=now))
            return int(result.inserted_primary_key[0])

    def import_concerns(self, csv_path: Path, by: str, now: datetime) -> list[str]:
        """Import monthly concerns from a CSV, all or nothing; returns the months imported.

        Raises InputError with one problem per bad row (file and line) and imports nothing."""
        rows = read_concerns(csv_path)
        source = csv_path.name
        t = concerns_table
        with self.store.writing() as conn:
            # One transaction: a month already held is replaced, and a failure leaves all as it was.
            conn.execute(t.delete().where(t.c.month.in_([r[0] for r in rows])))
            conn.execute(t.insert(), [dict(month=m, children=c, adults=a, source=source,
                                           recorded_by=by, at=now) for m, c, a in rows])
        return [r[0] for r in rows]

    def engagement(self, start: date, end: date) -> list[dict[str, Any]]:
        """Engagement records dated from `start` to `end` inclusive, oldest first."""
        t = engagement_table
        query = (select(t).where(t.c.date >= start.isoformat(), t.c.date <= end.isoformat())
                 .order_by(t.c.date, t.c.id))
        with self.store.reading() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    def shares(self, start: date, end: date) -> list[dict[str, Any]]:
        """Partner shares dated from `start` to `end` inclusive, oldest first."""
        t = shares_table
        query = (select(t).where(t.c.date >= start.isoformat(), t.c.date <= end.isoformat())
                 .order_by(t.c.date, t.c.id))
        with self.store.reading() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    def concerns(self) -> list[dict[str, Any]]:
        """Every month of concerns held, oldest first."""
        t = concerns_table
        with self.store.reading() as conn:
            return [dict(r) for r in conn.execute(select(t).order_by(t.c.month)).mappings().all()]


# A year of monthly counts is a few hundred bytes; nothing near this is a concerns CSV.
CSV_MAX = 1 * MB


def read_concerns(csv_path: Path) -> list[tuple[str, int, int]]:
    """Parse and check a concerns CSV; raise InputError listing every bad row, else the rows."""
    shown = display_path(csv_path)
    problems: list[Problem] = []

    def bad(line: int | None, message: str) -> None:
        problems.append(Problem(shown, line, ERROR, message))

    try:
        # a link is followed, and a device, a pipe or a huge file is refused before reading
        regular(csv_path.resolve(), CSV_MAX, "CSV file")
        # utf-8-sig: Excel's "CSV UTF-8" starts the file with a byte-order mark.
        text = csv_path.read_text(encoding="utf-8-sig")
    except FileRefused as exc:
        raise InputError([Problem(shown, None, ERROR, str(exc))]) from None
    except UnicodeDecodeError:
        raise InputError([Problem(shown, None, ERROR, "not UTF-8 text; save it as 'CSV UTF-8'")]) from None
    reader = csv.reader(text.splitlines())
    rows: list[tuple[str, int, int]] = []
    seen: dict[str, int] = {}
    header_done = False
    for cells in reader:
        line = reader.line_num  # the physical line, even after a quoted line break
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue  # blank lines are harmless
        if not header_done:
            header_done = True
            if tuple(c.lower() for c in cells) != CONCERNS_HEADER:
                bad(line, f"the first line must be the header 'month,children,adults', found "
                          f"'{','.join(cells)}'")
                break
            continue
        if len(cells) != 3:
            bad(line, f"expected 3 values (month,children,adults), found {len(cells)}: "
                      f"'{','.join(cells)}'; write numbers without thousands commas")
            continue
        month, *counts = cells
        # Everything wrong with a row goes in its one message, so each row is fixed in one go.
        wrong: list[str] = []
        if not _MONTH.match(month):
            wrong.append(f"'month' = '{month}': expected a month as YYYY-MM, e.g. 2024-04")
        elif month in seen:
            wrong.append(f"month {month} appears twice (first on line {seen[month]}); keep one "
                         f"row per month")
        else:
            seen[month] = line
        values: list[int] = []
        for name, value in zip(CONCERNS_HEADER[1:], counts, strict=True):
            if re.fullmatch(r"\d+", value):
                values.append(int(value))
            elif re.fullmatch(r"-\d+", value):
                wrong.append(f"'{name}' = '{value}': expected a whole number of 0 or more")
            else:
                wrong.append(f"'{name}' = '{value}': expected a whole number")
        if wrong:
            bad(line, "; ".join(wrong))
        else:
            rows.append((month, values[0], values[1]))
    if not header_done:
        bad(None, "the file is empty; it needs the header 'month,children,adults' and a row per "
                  "month")
    elif not problems and not rows:
        bad(None, "no months after the header; add a row per month, e.g. 2024-04,120,85")
    if problems:
        raise InputError(problems)
    return rows
