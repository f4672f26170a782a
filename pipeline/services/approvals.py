"""Approving and rejecting: one item, a post on all its channels, a campaign, or a date range;
and the queue of what waits for whom."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from pipeline.errors import Invalid, NotAllowed, NotFound
from pipeline.ledger import ApprovalRefused, LedgerError
from pipeline.plan import BULLETIN_CAMPAIGN, DRAFT, Item
from pipeline.policy import accountable_for, approval_refusal
from pipeline.problems import did_you_mean
from pipeline.services import statuses
from pipeline.services.actor import Actor, known_person
from pipeline.services.bulletins import TestSent, test_sends
from pipeline.services.statuses import Line
from pipeline.status import Status
from pipeline.workspace import Workspace


@dataclass(frozen=True)
class Selection:
    """What to approve: item ids (an id without its channel means the post on every channel),
    or everything waiting of a campaign and/or in a date range (local dates, inclusive)."""

    ids: tuple[str, ...] = ()
    campaign: str | None = None
    start: date | None = None
    end: date | None = None

    @property
    def empty(self) -> bool:
        """True when it names nothing at all."""
        return not (self.ids or self.campaign or self.start or self.end)


@dataclass(frozen=True)
class Approved:
    """One item version approved."""

    item_id: str
    version: str
    person: str
    at: datetime


class Refusal(StrEnum):
    """Why one item was not approved, typed (the reason's words are for people)."""

    NOT_ALLOWED = "not-allowed"   # the person's role does not allow it
    UNKNOWN = "unknown"           # no such item in the plan
    CHANGED = "changed"           # the version the person saw is no longer the current one
    DRAFT = "draft"               # still being written
    REFUSED = "refused"           # the ledger refused: a check, an identifying detail, done already


@dataclass(frozen=True)
class NotApproved:
    """One item that could not be approved, and why."""

    item_id: str
    reason: str
    kind: Refusal = Refusal.REFUSED


@dataclass
class ApprovalReport:
    """What an approval did, item by item."""

    approved: list[Approved] = field(default_factory=list)
    refused: list[NotApproved] = field(default_factory=list)


@dataclass(frozen=True)
class Rejection:
    """An accountable person's 'no' to one version, with the reason the writer needs."""

    person: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class Waiting:
    """One item version waiting for approval, with who may approve it."""

    line: Line
    may_approve: tuple[str, ...]
    rejected: Rejection | None = None
    tests: tuple[TestSent, ...] = ()   # test sends of this exact version (bulletins)


def waiting(line: Line) -> bool:
    """Whether an item waits for an approval: its current version has none, and its time is
    still to come or it is held for a decision (a draft is not ready to approve yet)."""
    return (line.item is not None and line.status.approval is None
            and line.status.status in (Status.NEEDS_APPROVAL, Status.HELD))


def waits_for(ws: Workspace, line: Line, person: str) -> bool:
    """Whether an item waits for an approval that `person` may give."""
    return (waiting(line) and line.item is not None
            and person in accountable_for(ws.config.settings, line.item.responsibility))


def refusal_for(ws: Workspace, person: str, item_ids: Iterable[str]) -> str | None:
    """Why `person` may approve none of these items (None if they may approve any), decided
    before anything is recorded, so a refused request changes nothing at all."""
    settings = ws.config.settings
    reasons = []
    for item_id in item_ids:
        item = ws.catalog.item(item_id)
        if item is None:
            continue  # unknown ids are refused one by one, with the nearest id
        reason = approval_refusal(settings, item.responsibility, person)
        if reason is None:
            return None
        reasons.append(f"{item_id}: {reason}")
    return "; ".join(dict.fromkeys(reasons)) or None


def _check_campaign(ws: Workspace, campaign: str | None) -> None:
    campaigns = ws.catalog.project.campaigns
    if campaign and campaign not in (*campaigns, BULLETIN_CAMPAIGN, "reactive"):
        raise NotFound(f"no campaign '{campaign}'", did_you_mean(campaign, campaigns),
                       field="--campaign")


def _chosen(ws: Workspace, now: datetime,
            selection: Selection) -> tuple[list[Item], list[NotApproved]]:
    """The current items a selection names (ids as given; a campaign or range: what waits),
    and the ids that name nothing in the plan."""
    if selection.empty:
        raise Invalid("name the items to approve (see `wst approvals`), or a campaign or dates")
    if selection.start and selection.end and selection.end < selection.start:
        raise Invalid(f"--to {selection.end} is before --from {selection.start}", field="--to")
    _check_campaign(ws, selection.campaign)
    catalog = ws.catalog
    tz = catalog.config.tz

    @functools.cache
    def lines() -> list[Line]:
        # every item's status is read only when a post, a campaign or a range must be expanded
        # (or an id is not found): approving the ids on screen, the web's case, needs none of it
        return statuses.current(ws, now)

    def current() -> list[Item]:
        return [line.item for line in lines() if line.item is not None]

    def fits(item: Item) -> bool:
        day = item.due.astimezone(tz).date()
        return ((selection.campaign is None or item.campaign == selection.campaign)
                and (selection.start is None or day >= selection.start)
                and (selection.end is None or day <= selection.end))

    out: list[Item] = []
    unknown: list[NotApproved] = []
    for wanted in selection.ids:
        found = catalog.item(wanted)
        matches = [found] if found is not None else [
            i for i in current() if i.id.startswith(wanted + "/")]  # a post on all its channels
        if not matches:
            hint = did_you_mean(wanted, [i.id for i in current()])
            unknown.append(NotApproved(wanted, f"no such item in the plan{hint}", Refusal.UNKNOWN))
        out += [i for i in matches if fits(i)]
    if not selection.ids:
        waits = {line.item_id for line in lines() if waiting(line)}
        out = [i for i in current() if fits(i) and i.id in waits]
        if not out:
            what = f"of '{selection.campaign}' " if selection.campaign else ""
            raise NotFound(f"nothing {what}is waiting for approval in that range"
                           if selection.start or selection.end else
                           f"nothing {what}is waiting for approval")
    return list({i.id: i for i in out}.values()), unknown


def approve(ws: Workspace, actor: Actor, now: datetime, selection: Selection, *,
            accept_identifying: bool = False,
            seen: Mapping[str, str] | None = None) -> ApprovalReport:
    """Approve the exact current version of every selected item, as `actor`. With `seen`
    (item id → the version the person had on screen), an item whose content changed since is
    refused, so nobody approves words they have not read."""
    settings = ws.config.settings
    known_person(settings, actor.person)
    items, unknown = _chosen(ws, now, selection)
    report = ApprovalReport(refused=unknown)
    catalog = ws.catalog
    for item in items:
        refusal = approval_refusal(settings, item.responsibility, actor.person)
        if refusal:
            report.refused.append(NotApproved(item.id, refusal, Refusal.NOT_ALLOWED))
            continue
        if seen is not None and seen.get(item.id) != item.version:
            report.refused.append(NotApproved(item.id, "it changed since you opened it: read the "
                                                       "new version, then approve that",
                                              Refusal.CHANGED))
            continue
        if item.status == DRAFT:
            report.refused.append(NotApproved(item.id, f"it is a draft ({item.note}); finish it "
                                                       f"and run `wst check` first", Refusal.DRAFT))
            continue
        rendered = catalog.renderer.render(item)
        try:
            ws.ledger.publications.sync_planned([item], now, dry_run=catalog.dry_run_for)
            ws.ledger.approvals.approve(
                item.id, item.version, actor, now, settings,
                blocking_errors=[f"[{f.code}] {f.message}" for f in rendered.errors],
                identifying=[f.message for f in rendered.findings if f.needs_acceptance],
                accept_identifying=accept_identifying)
        except LedgerError as exc:
            reason = exc.reason if isinstance(exc, ApprovalRefused) else str(exc)
            report.refused.append(NotApproved(item.id, reason))
            continue
        report.approved.append(Approved(item.id, item.version, actor.person, now))
    return report


def reject(ws: Workspace, actor: Actor, now: datetime, item_ids: Iterable[str],
           reason: str, *, seen: Mapping[str, str] | None = None) -> list[Approved]:
    """Say no to the current version of items, with the reason the writer needs; they stay
    unapproved (an edit makes a new version to approve). Only their accountable people may;
    with `seen`, only of the version the person had on screen."""
    settings = ws.config.settings
    known_person(settings, actor.person)
    if not reason.strip():
        raise Invalid("a rejection needs a reason the writer can act on", field="--reason")
    items, unknown = _chosen(ws, now, Selection(tuple(item_ids)))
    if unknown:
        raise NotFound(f"{unknown[0].item_id}: {unknown[0].reason}", field="ITEM")
    done = []
    for item in items:
        refusal = approval_refusal(settings, item.responsibility, actor.person)
        if refusal:
            raise NotAllowed(actor.person, "reject", refusal)
        if seen is not None and seen.get(item.id) != item.version:
            raise Invalid(f"{item.id} changed since you opened it: read the new version first",
                          field="item")
        ws.ledger.audit.add(now, "reject", actor, item_id=item.id,
                            details={"version": item.version, "reason": reason.strip()})
        done.append(Approved(item.id, item.version, actor.person, now))
    return done


def queue(ws: Workspace, now: datetime, *, person: str | None = None, campaign: str | None = None,
          start: date | None = None, end: date | None = None) -> list[Waiting]:
    """What waits for approval, soonest first, with who may approve each (only what `person`
    may approve, if given)."""
    settings = ws.config.settings
    if person is not None:
        known_person(settings, person, "--mine")
    _check_campaign(ws, campaign)
    if start and end and end < start:
        raise Invalid(f"--to {end} is before --from {start}", field="--to")
    tz = ws.config.tz
    rejections: dict[tuple[str, str], Rejection] = {}
    for event in ws.ledger.audit.events("reject"):
        rejections[(event.item_id or "", event.details.get("version", ""))] = Rejection(
            event.by, event.at, event.details.get("reason", ""))
    tests: dict[tuple[str, str], list[TestSent]] = {}
    for sent in test_sends(ws):
        tests.setdefault((sent.item_id, sent.version), []).append(sent)
    out = []
    for line in statuses.current(ws, now):
        if not waiting(line):
            continue
        day = line.due.astimezone(tz).date()
        if (campaign and line.campaign != campaign) or (start and day < start) or (end and day > end):
            continue
        assert line.item is not None
        who = tuple(accountable_for(settings, line.item.responsibility))
        if person is not None and person not in who:
            continue
        out.append(Waiting(line, who, rejections.get((line.item_id, line.version)),
                           tuple(tests.get((line.item_id, line.version), ()))))
    return out
