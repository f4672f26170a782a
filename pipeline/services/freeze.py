"""Comms freezes and the decisions about held items: pause, resume, release, cancel, resolve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.errors import Invalid, NotAllowed, NotFound
from pipeline.housekeeping import sync
from pipeline.ledger import WAITING, Entry, Pause
from pipeline.plan import id_span
from pipeline.policy import accountable_for, decision_refusal, freeze_refusal
from pipeline.publisher import Publisher, PublishResult
from pipeline.services.actor import Actor, known_person
from pipeline.states import State
from pipeline.workspace import Workspace


@dataclass(frozen=True)
class Paused:
    """A freeze that started, and how many waiting items fall due in its first day."""

    pause: Pause
    due_soon: int


@dataclass(frozen=True)
class HeldByPause:
    """What a pause held (the items that fell due while it lasted), for one decision."""

    pause: Pause
    ended_at: datetime | None      # None while it is still in force
    entries: list[Entry]


@dataclass(frozen=True)
class Released:
    """A held item let go, and (if its time had come) what publishing it now did."""

    entry: Entry
    published: PublishResult | None


def in_force(ws: Workspace, now: datetime) -> Pause | None:
    """The pause in force at `now`, if any (for the banner every page shows)."""
    return ws.ledger.pauses.active(now)


def channel_of(item_id: str) -> str:
    """The channel an item id names (its last part), or Invalid if it is not an item id."""
    if id_span(item_id) is None:
        raise Invalid(f"'{item_id}' is not an item id; ids look like campaign/post/YYYY-MM-DD/"
                      f"channel or bulletin/YYYY-MM/channel (see `wst plan` or `wst history`)",
                      field="ITEM")
    return item_id.rsplit("/", 1)[1]


def _rows(ws: Workspace, item_id: str, states: tuple[State, ...], what: str) -> list[Entry]:
    channel = channel_of(item_id)
    rows = [e for e in ws.ledger.publications.entries(item_id=item_id)
            if e.channel == channel and e.state in states]
    if not rows:
        raise NotFound(f"{item_id} {what}", field="ITEM")
    return sorted(rows, key=lambda e: e.dry_run)  # the live row first


def refusal(ws: Workspace, person: str) -> str | None:
    """Why `person` may not pause, resume or decide what a pause held, or None if they may."""
    return freeze_refusal(ws.config.settings, person)


def _may_freeze(ws: Workspace, actor: Actor, action: str = "pause") -> None:
    settings = ws.config.settings
    known_person(settings, actor.person)
    refusal = freeze_refusal(settings, actor.person)
    if refusal:
        raise NotAllowed(actor.person, action, refusal,
                         tuple(accountable_for(settings, settings.freeze.responsibility)))


def _may_decide(ws: Workspace, actor: Actor, entry: Entry, action: str) -> None:
    settings = ws.config.settings
    refusal = decision_refusal(settings, entry.responsibility, actor.person)
    if refusal:
        raise NotAllowed(actor.person, action, f"{entry.item_id}: {refusal}")


def pause(ws: Workspace, actor: Actor, now: datetime, reason: str, *, until: datetime | None = None,
          keep_help: bool = False) -> Paused:
    """Freeze all publication from now (a serious incident, national mourning): whatever falls
    due while it lasts is held at its time; what falls due after it goes out as planned."""
    _may_freeze(ws, actor)
    if not reason.strip():
        raise Invalid("say why publishing is paused: the people who resume it read it",
                      field="--reason")
    if until is not None and until <= now:
        raise Invalid("that end time has already passed; choose a later one, or leave it out",
                      field="--until")
    sync(ws, now)
    found = ws.ledger.pauses.pause(reason, actor, now, until=until, keep_help=keep_help)
    day = now + timedelta(days=1)
    dry = ws.catalog.dry_run_for
    soon = [e for e in ws.ledger.publications.entries(states=WAITING)
            if now <= e.due <= day and found.holds(e.due, e.help) and e.dry_run == dry(e.channel)]
    return Paused(found, len(soon))


def resume(ws: Workspace, actor: Actor, now: datetime) -> HeldByPause:
    """End the pause now. Everything due from now on goes out as planned; what fell due while it
    lasted is still held, for one decision (see decide())."""
    _may_freeze(ws, actor)
    ws.ledger.pauses.resume(actor, now)
    found = held_by_pause(ws, now)
    assert found is not None
    return found


def held_by_pause(ws: Workspace, now: datetime, pause_id: int | None = None) -> HeldByPause | None:
    """The items a pause holds (the latest pause, unless one is named), or None if there was none."""
    pauses = ws.ledger.pauses
    if pause_id is None:
        latest = pauses.latest()
        if latest is None:
            return None
        pause_id = latest.id
    ended = {p.id: (p, end) for p, end in pauses.ended(now)}
    active = pauses.active(now)
    if pause_id in ended:
        pause_, end = ended[pause_id]
    elif active is not None and active.id == pause_id:
        pause_, end = active, None
    else:
        raise NotFound(f"no pause {pause_id}", field="--pause")
    return HeldByPause(pause_, end, ws.ledger.publications.entries(states=[State.HELD],
                                                                   pause_id=pause_id))


def undecided(ws: Workspace, now: datetime) -> list[HeldByPause]:
    """The pauses that are over and still hold items waiting for a decision, newest first."""
    out = []
    for over, end in ws.ledger.pauses.ended(now):
        entries = ws.ledger.publications.entries(states=[State.HELD], pause_id=over.id)
        if entries:
            out.append(HeldByPause(over, end, entries))
    return out


def decide(ws: Workspace, actor: Actor, now: datetime, *, release_them: bool, reason: str = "",
           pause_id: int | None = None, campaign: str | None = None,
           channel: str | None = None) -> list[Released | Entry]:
    """One decision for what a pause held (all of it, or one campaign's or channel's part):
    release it (what is due now goes out at once, late on purpose) or cancel it. The people
    who may pause decide."""
    _may_freeze(ws, actor, "release" if release_them else "cancel")
    found = held_by_pause(ws, now, pause_id)
    if found is None:
        raise NotFound("there has been no pause")
    if found.ended_at is None:
        raise Invalid(f"the pause ({found.pause.reason}) is still on; `wst resume` first, or "
                      f"decide item by item")
    if not release_them and not reason.strip():
        raise Invalid("say why they will not go out", field="--reason")
    chosen = [e for e in found.entries if (campaign is None or e.campaign == campaign)
              and (channel is None or e.channel == channel)]
    if not chosen:
        raise NotFound("nothing held by that pause matches" if found.entries
                       else "that pause holds nothing")
    out: list[Released | Entry] = []
    publisher = Publisher(ws)
    for e in chosen:
        if release_them:
            entry = ws.ledger.publications.release(e.key, actor, now)
            published = publisher.publish(e.item_id) if entry.due <= now else None
            out.append(Released(entry, published))
        else:
            out.append(ws.ledger.publications.cancel(e.key, reason, actor, now))
    return out


def release(ws: Workspace, actor: Actor, now: datetime, item_id: str) -> Released:
    """Let a held item go ahead; it publishes at once if its time has come, even while a pause
    is on: a person decided (so it takes someone who may pause, as well as, or instead of,
    someone accountable for the item)."""
    known_person(ws.config.settings, actor.person)
    entry = _rows(ws, item_id, (State.HELD,), "is not held")[0]
    pause = ws.ledger.pauses.active(now)
    if pause is not None and pause.holds(max(entry.due, now), entry.help):
        _may_freeze(ws, actor, "release during a pause")
    else:
        _may_decide(ws, actor, entry, "release")
    entry = ws.ledger.publications.release(entry.key, actor, now)
    published = Publisher(ws).publish(item_id) if entry.due <= now else None
    return Released(entry, published)


def cancel(ws: Workspace, actor: Actor, now: datetime, item_id: str, reason: str) -> list[Entry]:
    """Decide that an item will not go out (its live and rehearsal rows alike)."""
    known_person(ws.config.settings, actor.person)
    if not reason.strip():
        raise Invalid("say why it will not go out", field="--reason")
    rows = _rows(ws, item_id, WAITING, "has nothing waiting to cancel")
    _may_decide(ws, actor, rows[0], "cancel")
    return [ws.ledger.publications.cancel(e.key, reason, actor, now) for e in rows]


def resolve(ws: Workspace, actor: Actor, now: datetime, item_id: str, *,
            published_as: str | None = None, not_published: bool = False) -> Entry:
    """Settle an unconfirmed, failed or held item by hand, after checking the platform."""
    known_person(ws.config.settings, actor.person)
    if (published_as is None) == (not not_published):
        raise Invalid("give exactly one of --published-as ID or --not-published")
    return ws.ledger.publications.resolve(item_id, channel_of(item_id), published_as,
                                          not_published, actor, now)
