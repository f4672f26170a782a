"""Comms freezes and the decisions about held items: pause, resume, release, cancel, resolve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.errors import Invalid, NotFound
from pipeline.housekeeping import sync
from pipeline.ledger import WAITING, Entry, Pause
from pipeline.plan import id_span
from pipeline.publisher import Publisher, PublishResult
from pipeline.services.actor import Actor, known_person
from pipeline.states import State
from pipeline.workspace import Workspace


@dataclass(frozen=True)
class Paused:
    """A freeze that started, and how many waiting items it held at once."""

    pause: Pause
    held: int


@dataclass(frozen=True)
class Released:
    """A held item let go, and (if its time had come) what publishing it now did."""

    entry: Entry
    published: PublishResult | None


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


def pause(ws: Workspace, actor: Actor, now: datetime, reason: str, *, until: datetime | None = None,
          keep_help: bool = False) -> Paused:
    """Freeze all publication at once (a serious incident, national mourning)."""
    known_person(ws.config.settings, actor.person)
    sync(ws, now)
    held = ws.ledger.pauses.pause(reason, actor.person, now, until=until, keep_help=keep_help)
    found = ws.ledger.pauses.active(now)
    assert found is not None
    return Paused(found, len(held))


def resume(ws: Workspace, actor: Actor, now: datetime) -> list[Entry]:
    """End the pause; returns the items it held, still held, for a decision on each."""
    known_person(ws.config.settings, actor.person)
    return ws.ledger.pauses.resume(actor.person, now)


def release(ws: Workspace, actor: Actor, now: datetime, item_id: str) -> Released:
    """Let a held item go ahead; it publishes at once if its time has come."""
    known_person(ws.config.settings, actor.person)
    entry = _rows(ws, item_id, (State.HELD,), "is not held")[0]
    entry = ws.ledger.publications.release(entry.key, actor.person, now)
    published = Publisher(ws).publish(item_id) if entry.due <= now else None
    return Released(entry, published)


def cancel(ws: Workspace, actor: Actor, now: datetime, item_id: str, reason: str) -> list[Entry]:
    """Decide that an item will not go out (its live and rehearsal rows alike)."""
    known_person(ws.config.settings, actor.person)
    if not reason.strip():
        raise Invalid("say why it will not go out", field="--reason")
    rows = _rows(ws, item_id, WAITING, "has nothing waiting to cancel")
    return [ws.ledger.publications.cancel(e.key, reason, actor.person, now) for e in rows]


def resolve(ws: Workspace, actor: Actor, now: datetime, item_id: str, *,
            published_as: str | None = None, not_published: bool = False) -> Entry:
    """Settle an unconfirmed, failed or held item by hand, after checking the platform."""
    known_person(ws.config.settings, actor.person)
    if (published_as is None) == (not not_published):
        raise Invalid("give exactly one of --published-as ID or --not-published")
    return ws.ledger.publications.resolve(item_id, channel_of(item_id), published_as,
                                          not_published, actor.person, now)
