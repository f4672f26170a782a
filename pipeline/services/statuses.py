"""Every item's one status, for every view.

The plan, the preview, the calendar file, approvals, status, history, the report and the web
workspace all list `Line`s made here, each with the status `pipeline.status.decide` gives it
from the plan and the ledger, so no two views can disagree about an item.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pipeline.errors import NotFound
from pipeline.housekeeping import sync
from pipeline.ledger import Entry
from pipeline.plan import DRAFT, HELD, PROVISIONAL, Item, id_span, make_plan
from pipeline.problems import Problem
from pipeline.reactive import CAMPAIGN as REACTIVE
from pipeline.services.planning import check_filters, check_range
from pipeline.states import State
from pipeline.status import ATTENTION, Facts, ItemStatus, Status, decide
from pipeline.timing import resolve_local
from pipeline.workspace import Workspace

# Rows that say what happened to an older version: an edit after it went out (or may have)
# is never inserted, so the item's status is that row's.
_OUT = (State.PUBLISHING, State.UNCONFIRMED, State.PUBLISHED)


@dataclass(frozen=True)
class Line:
    """One item on one channel, with its status, as every view lists it."""

    item_id: str
    channel: str
    kind: str
    campaign: str
    title: str
    due: datetime
    version: str
    status: ItemStatus
    item: Item | None = None       # None when the plan no longer has it
    entry: Entry | None = None     # its ledger row in this mode (live, or a dry-run rehearsal)
    provisional: str = ""          # why the date is not confirmed yet

    @property
    def needs_attention(self) -> bool:
        """True when a person has something to do about it."""
        return self.status.status in ATTENTION

    def as_json(self) -> dict[str, Any]:
        """The documented JSON shape of one item (plan, approvals, history, status)."""
        s = self.status
        approval = s.approval
        return {
            "id": self.item_id, "kind": self.kind, "campaign": self.campaign,
            "channel": self.channel, "due": self.due.isoformat(), "title": self.title,
            "version": self.version, "status": s.status.value, "label": s.label,
            "reason": (s.hold or s.error).value if (s.hold or s.error) else None,
            "note": s.note, "dry_run": s.rehearsal, "url": s.url or None,
            "approved": None if approval is None else {
                "by": approval.person, "at": approval.at.isoformat(), "version": approval.version},
            "provisional": self.provisional or None,
            "source": self.item.source if self.item else None,
        }


class Board:
    """What statuses are decided from, read once for many items: the ledger's rows, the
    standing approvals, the pause, the channels' health and whether a daemon is running."""

    def __init__(self, ws: Workspace, now: datetime):
        self.ws = ws
        self.now = now
        ledger = ws.ledger
        rows = [e for e in ledger.publications.entries() if e.state != State.SUPERSEDED]
        self.by_key = {e.key: e for e in rows}
        self.out: dict[tuple[str, str, bool], Entry] = {}
        for e in rows:
            if e.state in _OUT:
                self.out[(e.item_id, e.channel, e.dry_run)] = e
        self.rows = rows
        self.approvals = ledger.approvals.standing()
        self.pause = ledger.pauses.active(now)
        self.health = ledger.health.all()
        self.daemon = ws.store.running_daemon(now) is not None
        self.window = ws.catalog.catch_up
        first = ledger.reads.first_seen()
        self.recording_from = (None if first is None else
                               first - timedelta(days=ws.catalog.settings.look_back_days))

    def entry_of(self, item: Item) -> Entry | None:
        """The row that tells what happened to this item in this mode, if any."""
        catalog = self.ws.catalog
        found = self.by_key.get(self.ws.key(item))
        if found is not None:
            return found
        return self.out.get((item.id, item.channel, catalog.dry_run_for(item.channel)))

    def line(self, item: Item) -> Line:
        """One planned item with its status."""
        catalog = self.ws.catalog
        entry = self.entry_of(item)
        approval = self.approvals.get((item.id, item.version))
        run_at = catalog.run_at(item)
        waiting = entry is None or entry.state in (State.PLANNED, State.APPROVED)
        errors: tuple[str, ...] = ()
        if waiting and item.status != DRAFT and run_at + self.window >= self.now:
            errors = tuple(f.message for f in catalog.renderer.render(item).errors)
        facts = Facts(due=run_at, entry=entry, approval=approval,
                      draft=item.note if item.status == DRAFT else "",
                      blackout=item.note if item.status == HELD else "", check_errors=errors,
                      help_post=item.help, dry_run=catalog.dry_run_for(item.channel),
                      answers_pause=item.answers_pause, goes_out=item.due)
        status = decide(facts, now=self.now, grace=self.window, pause=self.pause,
                        health=self.health.get(item.channel), daemon_running=self.daemon)
        if (entry is None and status.status == Status.MISSED and self.recording_from is not None
                and run_at < self.recording_from):
            status = ItemStatus(Status.MISSED, hold=status.hold, rehearsal=status.rehearsal,
                                note="due before the pipeline first ran on this store")
        return Line(item.id, item.channel, item.kind, item.campaign, item.title, item.due,
                    item.version, status, item, entry,
                    item.note if item.status == PROVISIONAL else "")

    def gone(self, entry: Entry) -> Line:
        """A ledger row whose item the plan no longer has."""
        facts = Facts(due=entry.due, entry=entry,
                      approval=self.approvals.get((entry.item_id, entry.version)),
                      dry_run=entry.dry_run, gone=True)
        status = decide(facts, now=self.now, grace=self.window, pause=self.pause,
                        health=self.health.get(entry.channel), daemon_running=self.daemon)
        return Line(entry.item_id, entry.channel, entry.kind, entry.campaign, entry.title,
                    entry.due, entry.version, status, None, entry)

    def lines(self, items: Iterable[Item]) -> list[Line]:
        """Planned items with their statuses, in due order."""
        return [self.line(i) for i in items]


def lines_for(ws: Workspace, items: Iterable[Item], now: datetime) -> list[Line]:
    """These items with their statuses."""
    return Board(ws, now).lines(items)


def _day_span(ws: Workspace, first: date, last: date) -> tuple[datetime, datetime]:
    tz = ws.config.tz
    return (resolve_local(first, datetime.min.time(), tz).due,
            resolve_local(last + timedelta(days=1), datetime.min.time(), tz).due)


@dataclass(frozen=True)
class Listing:
    """The lines of a date range, and notes about times the clock change moved."""

    first: date
    last: date
    lines: list[Line]
    notes: list[Problem]


def in_range(ws: Workspace, now: datetime, first: date, last: date, *,
             campaign: str | None = None, channel: str | None = None,
             recorded_only: bool = False) -> Listing:
    """Every item due from `first` to `last` (local dates, inclusive): the plan's, reactive
    posts, and ledger rows whose content was since removed; optionally only what the ledger
    has recorded (history)."""
    check_range(first, last)
    catalog = ws.catalog
    check_filters(catalog.project, campaign, channel)
    plan = make_plan(catalog.project, first, last, campaign=campaign, channel=channel)
    items = list(plan.items)
    tz = ws.config.tz
    if campaign in (None, REACTIVE):
        items += [i for i in catalog.reactive_items()
                  if first <= i.due.astimezone(tz).date() <= last and channel in (None, i.channel)]
    board = Board(ws, now)
    lines = board.lines(items)
    if recorded_only:
        lines = [line for line in lines if line.entry is not None]
    planned = {i.id for i in items}
    lo, hi = _day_span(ws, first, last)
    gone: dict[str, Entry] = {}
    for e in board.rows:
        if e.item_id in planned or not lo <= e.due < hi:
            continue
        if e.channel in ws.config.settings.channels and e.dry_run != catalog.dry_run_for(e.channel):
            continue  # the other mode's row (a rehearsal under live, or the reverse)
        if campaign not in (None, e.campaign) or channel not in (None, e.channel):
            continue
        if e.item_id not in gone or e.state in _OUT:
            gone[e.item_id] = e
    lines += [board.gone(e) for e in gone.values()]
    return Listing(first, last, sorted(lines, key=lambda line: (line.due, line.campaign, line.item_id)),
                   plan.notes)


def current(ws: Workspace, now: datetime) -> list[Line]:
    """Everything the ledger records now (from the store's first run to the horizon), after
    recording what is new: what the approvals queue and the status report count."""
    items = sync(ws, now)  # first: the board reads what it recorded
    return Board(ws, now).lines(items)


def counts(lines: Iterable[Line]) -> dict[Status, int]:
    """How many lines have each status (statuses with none left out), in Status order."""
    found: dict[Status, int] = {}
    for line in lines:
        found[line.status.status] = found.get(line.status.status, 0) + 1
    return {s: found[s] for s in Status if s in found}


def post_of(item_id: str) -> str:
    """The post (or month's bulletin) an item id belongs to: the id without its channel, or the
    id itself if it has none."""
    return item_id.rsplit("/", 1)[0] if id_span(item_id) is not None else item_id


def of_post(ws: Workspace, now: datetime, item_id: str) -> list[Line]:
    """Every channel's line of one post (or one month's bulletin), named by any of its item ids
    or by the post's id without a channel; NotFound if the plan and the ledger have none."""
    post = post_of(item_id)
    span = id_span(post + "/channel")
    if span is None:
        raise NotFound(f"'{item_id}' is not an item; ids look like campaign/post/YYYY-MM-DD/"
                       f"channel or bulletin/YYYY-MM/channel", field="item")
    _campaign, first, last = span  # the id's date is its local due date (a bulletin's month)
    lines = [line for line in in_range(ws, now, first, last).lines
             if line.item_id.startswith(post + "/")]
    if not lines:
        raise NotFound(f"no item '{item_id}' in the plan or the ledger", field="item")
    return lines
