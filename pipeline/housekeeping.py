"""What the daemon does besides publishing on time: record the plan in the ledger, settle what a
crash interrupted, catch up after a stop, retry flagged channels, and warn about approvals."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pipeline.channels.base import ChannelError
from pipeline.ledger import SYSTEM
from pipeline.plan import Item
from pipeline.publisher import Publisher, PublishResult
from pipeline.states import HoldReason, State
from pipeline.workspace import Workspace

log = logging.getLogger("wst.daemon")


def sync(ws: Workspace, now: datetime) -> list[Item]:
    """Record every current item in the ledger (so it can be approved ahead of time).

    Nothing was expected to publish before the pipeline first ran on this store, so items due
    before then (less the grace time) are left out rather than reported as missed.
    """
    catalog = ws.catalog
    items = catalog.current_items(now)
    since = ((ws.ledger.reads.first_seen() or now)
             - timedelta(minutes=catalog.settings.grace_minutes))
    items = [i for i in items if catalog.run_at(i) >= since]
    ws.ledger.publications.sync_planned(items, now, dry_run=catalog.dry_run_for)
    return items


def recover(publisher: Publisher, now: datetime) -> list[str]:
    """After a crash: `publishing` rows become `unconfirmed` and are settled by asking."""
    ws = publisher.ws
    keys = ws.ledger.publications.recover_after_crash(now)
    for entry in ws.ledger.publications.entries(states=[State.UNCONFIRMED]):
        item = ws.catalog.item(entry.item_id)
        if item is not None and ws.key(item) == entry.key:
            publisher.resolve_unconfirmed(item, entry.key)
    return keys


def catch_up(publisher: Publisher, now: datetime, items: list[Item]) -> list[PublishResult]:
    """Publish what fell due while nothing was running (within grace); hold the rest."""
    ws = publisher.ws
    done = []
    with ws.alerts.digest("catching up after a stop", now):
        for item in items:
            if ws.catalog.run_at(item) <= now:
                entry = ws.ledger.publications.entry(ws.key(item))
                if entry.state in (State.PLANNED, State.APPROVED, State.FAILED, State.UNCONFIRMED):
                    done.append(publisher.publish(item.id))
    return done


def recheck_flagged(publisher: Publisher, now: datetime) -> list[str]:
    """Channels flagged for credentials: if they work again, clear them and release their items."""
    ws = publisher.ws
    released = []
    for channel, health in ws.ledger.health.all().items():
        if not health.flagged or channel not in ws.config.settings.channels:
            continue
        try:
            ws.adapters.get(channel).check()
        except ChannelError:
            continue
        ws.ledger.health.clear(channel, now)
        for entry in ws.ledger.publications.entries(states=[State.HELD], channel=channel,
                                                    hold_reason=HoldReason.CHANNEL_FLAGGED):
            ws.ledger.publications.release(entry.key, SYSTEM, now)
            released.append(entry.item_id)
            item = ws.catalog.item(entry.item_id)
            if item is None:
                continue
            if publisher.retry is not None:
                publisher.retry(item, now)
            else:
                publisher.publish(item.id)
    return released


def alert_unapproved(ws: Workspace, now: datetime) -> int:
    """Alert about live items due within a day that nobody has approved."""
    soon = [e for e in ws.ledger.approvals.pending(now)
            if not e.dry_run and now <= e.due <= now + timedelta(days=1)]
    if soon:
        tz = ws.config.tz
        lines = "\n".join(f"{e.due.astimezone(tz):%a %d %b %H:%M}  {e.item_id}" for e in soon)
        ws.alerts.send("unapproved", f"{len(soon)} item(s) due within a day are not approved",
                       f"{lines}\n\nApprove with: wst approve ITEM --by PERSON", now)
    return len(soon)
