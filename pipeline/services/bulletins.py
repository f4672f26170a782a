"""The monthly bulletin's own actions: a test send on demand, to named addresses, of the exact
version an approver is asked to approve, recorded so the approver sees it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from pipeline.channels.base import ChannelError
from pipeline.errors import Invalid, NotAllowed, NotFound, WstError
from pipeline.plan import BULLETIN_CAMPAIGN, make_plan
from pipeline.policy import test_send_refusal
from pipeline.publisher import Publisher
from pipeline.services.actor import Actor, known_person
from pipeline.workspace import Workspace

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
TEST_SEND = "test-send"   # the audit trail's kind for one


class TestSendFailed(WstError):
    """The mailing service or relay refused or failed a test send (nothing is recorded)."""

    def __init__(self, item_id: str, error: ChannelError):
        self.item_id = item_id
        self.error = error
        super().__init__(f"{item_id}: the test send did not go: {error}")


@dataclass(frozen=True)
class TestSent:
    """One test send of one bulletin version."""

    item_id: str
    channel: str
    version: str
    to: tuple[str, ...]
    by: str
    at: datetime
    dry_run: bool
    where: str           # what the channel says it did, in words


def bulletin_items(ws: Workspace, month: str, channel: str | None = None) -> list:
    """The bulletin items of a month (YYYY-MM) on its channels, or one of them."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise Invalid(f"'{month}' is not a month; write YYYY-MM, e.g. 2027-04", field="--month")
    channels = ws.catalog.project.cadence.channels
    if channel is not None and channel not in channels:
        raise NotFound(f"'{channel}' is not a bulletin channel; the cadence sends to: "
                       f"{', '.join(channels) or 'none'}", field="--channel")
    items = [ws.catalog.item(f"bulletin/{month}/{name}") for name in channels
             if channel in (None, name)]
    found = [i for i in items if i is not None]
    if not found:
        raise NotFound(f"no {month} bulletin in the plan (is the month before [cadence] "
                       f"from_month, or the channel disabled?)", field="--month")
    return found


def test_send(ws: Workspace, actor: Actor, now: datetime, month: str, *,
              channel: str | None = None, to: Sequence[str] = ()) -> list[TestSent]:
    """Send the month's bulletin, exactly as it stands, to `to` (default: the channel's
    test_recipients, else the person's own email) as a test; recorded in the audit trail."""
    settings = ws.config.settings
    known_person(settings, actor.person)
    items = bulletin_items(ws, month, channel)
    refusal = test_send_refusal(settings, items[0].responsibility, actor.person)
    if refusal:
        raise NotAllowed(actor.person, "test-send", refusal)
    for address in to:
        if not _EMAIL.match(address):
            raise Invalid(f"'{address}' is not an email address", field="--to")
    publisher = Publisher(ws)
    done = []
    for item in items:
        c = settings.channels[item.channel]
        recipients = tuple(to) or recipients_for(ws, item.channel, actor.person)
        if not recipients:
            raise Invalid(f"no addresses for the test: give --to ADDRESS (the {item.channel} "
                          f"channel has no test_recipients, and '{actor.person}' has no email in "
                          f"[people])", field="--to")
        key = ws.key(item)
        artefact = publisher.artefact(item, ws.catalog.renderer.render(item), key)
        try:
            where = ws.adapters.get(item.channel).test_send(artefact, recipients)
        except ChannelError as exc:
            raise TestSendFailed(item.id, exc) from None
        dry = ws.catalog.dry_run_for(item.channel)
        ws.ledger.audit.add(now, TEST_SEND, actor, key=key, item_id=item.id, details={
            "version": item.version, "channel": item.channel, "to": list(recipients),
            "dry_run": dry, "where": where, "platform": c.kind})
        done.append(TestSent(item.id, item.channel, item.version, recipients, actor.person, now,
                             dry, where))
    return done


def recipients_for(ws: Workspace, channel: str, person: str) -> tuple[str, ...]:
    """Where a test goes when no address is given: the channel's test_recipients, else the
    person's own email (none if they have none)."""
    own = ws.config.settings.people[person].email
    return tuple(ws.adapters.get(channel).settings.test_recipients) or ((own,) if own else ())


def default_recipients(ws: Workspace, month: str, person: str) -> dict[str, tuple[str, ...]]:
    """Where a test of the month's bulletin goes on each channel when no address is given
    (empty where there is none, or the channel cannot be set up)."""
    out = {}
    for item in bulletin_items(ws, month):
        try:
            out[item.channel] = recipients_for(ws, item.channel, person)
        except ChannelError:
            out[item.channel] = ()
    return out


def test_send_refusal_for(ws: Workspace, month: str, person: str) -> str | None:
    """Why `person` may not test-send the month's bulletin, or None if they may."""
    items = bulletin_items(ws, month)
    return test_send_refusal(ws.config.settings, items[0].responsibility, person)


def months(ws: Workspace, first: date, last: date) -> list[tuple[str, datetime]]:
    """The months (YYYY-MM) with a bulletin planned from `first` to `last`, in order, each with
    when it is due."""
    plan = make_plan(ws.catalog.project, first, last, campaign=BULLETIN_CAMPAIGN)
    found: dict[str, datetime] = {}
    for item in plan.items:
        found.setdefault(item.id.split("/")[1], item.due)
    return sorted(found.items())


def next_month(ws: Workspace, now: datetime, around: list[tuple[str, datetime]]) -> str | None:
    """Of `around` (from months()), the first bulletin still to go out, else the latest."""
    ahead = [month for month, due in around if due >= now]
    return ahead[0] if ahead else (around[-1][0] if around else None)


def test_sends(ws: Workspace, item_id: str | None = None) -> list[TestSent]:
    """The test sends recorded (of one item, or all), oldest first."""
    return [TestSent(e.item_id or "", e.details.get("channel", ""), e.details.get("version", ""),
                     tuple(e.details.get("to", ())), e.by, e.at, bool(e.details.get("dry_run")),
                     e.details.get("where", ""))
            for e in ws.ledger.audit.events(TEST_SEND, item_id=item_id)]
