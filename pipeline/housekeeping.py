"""What the daemon does besides publishing on time: record the plan in the ledger, settle what a
crash interrupted, catch up after a stop, retry flagged channels, and warn about approvals."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pipeline import links
from pipeline.channels.base import ChannelError
from pipeline.ledger import SYSTEM
from pipeline.plan import Item
from pipeline.publisher import Publisher, PublishResult
from pipeline.states import HoldReason, State
from pipeline.workspace import Workspace

log = logging.getLogger("wst.daemon")


def sync(ws: Workspace, now: datetime, campaign: str | None = None) -> list[Item]:
    """Record every item from the store's first run to the horizon in the ledger, so it can be
    approved ahead of time and nothing due is ever skipped, at any age. On the first run, items
    due in the `look_back_days` before it are recorded too (they were due recently: what
    happened to them is reported); older ones predate the pipeline on this store. With
    `campaign`, only that campaign's items (after an edit of its posts alone)."""
    catalog = ws.catalog
    since = ((ws.ledger.reads.first_seen() or now)
             - timedelta(days=catalog.settings.look_back_days))
    items = [i for i in catalog.current_items(now, since)
             if campaign is None or i.campaign == campaign]
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
        settings = ws.config.settings
        lines = "\n".join(f"{e.due.astimezone(tz):%a %d %b %H:%M}  {e.item_id}\n"
                          f"      {links.page_for(settings, e.item_id)}" for e in soon)
        ws.alerts.send("unapproved", f"{len(soon)} item(s) due within a day are not approved",
                       f"{lines}\n\nApprove with: wst approve ITEM --by PERSON", now,
                       link=links.approvals_page(settings))
    return len(soon)


def settle_undecided(ws: Workspace, now: datetime) -> int:
    """What ended pauses still hold, nobody having decided: cancel it once `cancel_after_days`
    have passed (`[freeze] undecided = "cancel"`), or keep it held and say so again each day.
    Either way an alert goes out; nothing waits in silence. Returns how many were cancelled."""
    settings = ws.config.settings.freeze
    publications = ws.ledger.publications
    cancelled = 0
    for pause, ended in ws.ledger.pauses.ended(now):
        held = publications.entries(states=[State.HELD], pause_id=pause.id)
        if not held:
            continue
        wait = timedelta(days=settings.cancel_after_days)
        if settings.undecided == "cancel" and now >= ended + wait:
            reason = (f"nobody decided within {settings.cancel_after_days} day(s) after the pause "
                      f"({pause.reason}) ended; cancelled as [freeze] undecided says")
            for entry in held:
                publications.cancel(entry.key, reason, SYSTEM, now)
            cancelled += len(held)
            ws.alerts.send("pause-decision", f"{len(held)} item(s) held by the pause "
                           f"'{pause.reason}' were cancelled", reason + "\n\n" +
                           "\n".join(e.item_id for e in held), now,
                           link=links.freeze_page(ws.config.settings))
            continue
        when = (f"they are cancelled on {(ended + wait).astimezone(ws.config.tz):%a %d %b %H:%M}"
                if settings.undecided == "cancel" else "they stay held until someone decides")
        # one alert a day (the subject carries the date)
        ws.alerts.send("pause-decision",
                       f"{len(held)} item(s) held by the pause '{pause.reason}' wait for a "
                       f"decision ({now.astimezone(ws.config.tz):%d %b})",
                       f"Decide on the Freeze page, or at the command line.\n"
                       f"Release them: wst release --held-by-pause --pause {pause.id} --by PERSON\n"
                       f"or cancel them: wst cancel --held-by-pause --pause {pause.id} "
                       f"--reason ... --by PERSON\nIf nobody decides, {when}.\n\n"
                       + "\n".join(e.item_id for e in held), now,
                       link=links.freeze_page(ws.config.settings))
    return cancelled
