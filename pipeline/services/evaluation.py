"""Evaluation: engagement collected from the platforms, records people make by hand, and the
report for the Executive."""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipeline.catalog import Catalog
from pipeline.config import Config
from pipeline.errors import Invalid, NotFound
from pipeline.ledger import LedgerReads, Publications
from pipeline.metrics.collect import Summary, collect_due
from pipeline.metrics.records import PartnerChannel, Records, ShareError, check_share
from pipeline.metrics.report import ItemStanding, build_report, inputs_from_project
from pipeline.plan import BULLETIN_CAMPAIGN
from pipeline.problems import did_you_mean
from pipeline.services import statuses
from pipeline.services.actor import known_person
from pipeline.services.planning import check_range
from pipeline.store import Store
from pipeline.workspace import Workspace


def recorder(config: Config, person: str | None) -> str:
    """Who is recording: a person from [people] if named, else the computer's user name."""
    return getpass.getuser() if person is None else known_person(config.settings, person)


def collect(store: Store, config: Config, environ: Mapping[str, str], now: datetime, *,
            every: bool = False) -> Summary:
    """Read engagement back for what is due a collection (or every live published item)."""
    return collect_due(store, config, environ, now, only_due=not every)


def record_engagement(store: Store, by: str, now: datetime, day: date, event: str, people: int,
                      groups: int = 0) -> int:
    """Record people and groups engaged at an event; returns the record's id."""
    if not event.strip():
        raise Invalid("say what the event was", field="--event")
    return Records(store).add_engagement(day, event, people, groups, by, now)


@dataclass(frozen=True)
class Share:
    """A partner share as recorded."""

    id: int
    channel: PartnerChannel
    item_id: str
    day: date


def record_share(store: Store, catalog: Catalog, by: str, now: datetime, partner: str,
                 channel: str, item_id: str, day: date) -> Share:
    """Record that a partner shared one of our items on one of its channels (from the audit)."""
    try:
        found = check_share(catalog.project.audit, partner, channel,
                            catalog.config.settings.partnership.name)
    except ShareError as exc:
        raise Invalid(str(exc), field=exc.option) from None
    planned = not catalog.project.errors and catalog.item(item_id) is not None
    if not planned and not Publications(store).entries(item_id=item_id):
        hint = did_you_mean(item_id, LedgerReads(store).item_ids())
        raise NotFound(f"no item '{item_id}' in the ledger or the plan", hint + "; ids look like "
                       "campaign/post/YYYY-MM-DD/channel or bulletin/YYYY-MM/channel (see "
                       "`wst plan`)", field="--item")
    return Share(Records(store).add_share(found, item_id, day, by, now), found, item_id, day)


def import_concerns(store: Store, by: str, now: datetime, csv_file: Path) -> list[str]:
    """Import monthly concerns from a CSV, all rows or none (InputError lists every bad row)."""
    return Records(store).import_concerns(csv_file, by, now)


def default_first(last: date) -> date:
    """The first day of a report ending on `last` when none is given: the start of the twelve
    calendar months that end with `last`'s month."""
    year, month = (last.year - 1, last.month + 1) if last.month < 12 else (last.year, 1)
    return date(year, month, 1)


def check_report(catalog: Catalog, first: date, last: date, campaign: str | None) -> None:
    """Invalid for a backwards period, NotFound (with the nearest name) for an unknown
    campaign: said before any report is built."""
    project = catalog.project
    if last < first:
        raise Invalid(f"--to {last} is before --from {first}", field="--to")
    if campaign and campaign != BULLETIN_CAMPAIGN and campaign not in project.campaigns:
        raise NotFound(f"no campaign '{campaign}'", did_you_mean(campaign, project.campaigns),
                       field="--campaign")


def report(store: Store, catalog: Catalog, first: date, last: date, now: datetime, *,
           campaign: str | None = None, standings: tuple[ItemStanding, ...] = ()) -> dict[str, Any]:
    """The evaluation report's data for a period (and optionally one campaign), with where
    each item stands if `standings` are given (see report_of)."""
    project = catalog.project
    check_report(catalog, first, last, campaign)
    inputs = inputs_from_project(project, store, first, last, now, campaign=campaign)
    return build_report(store, replace(inputs, standings=standings))


def report_of(ws: Workspace, now: datetime, first: date, last: date, *,
              campaign: str | None = None) -> dict[str, Any]:
    """The evaluation report of a workspace whose content is usable: with every item's one
    status (pipeline.services.statuses), the same as every other view shows."""
    check_range(first, last)
    lines = statuses.in_range(ws, now, first, last, campaign=campaign).lines
    standings = tuple(ItemStanding(line.item_id, line.campaign, line.channel, line.due, line.title,
                                   line.status.status.value, line.status.label, line.status.note)
                      for line in lines)
    return report(ws.store, ws.catalog, first, last, now, campaign=campaign, standings=standings)
