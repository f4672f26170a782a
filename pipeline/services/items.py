"""One post (or one month's bulletin) as a reviewer sees it: every channel's line with its
status, the versions the ledger has held, the approvals given and voided, and what people
said and did about it (comments, rejections, test sends, holds and releases)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.errors import Invalid
from pipeline.ledger import Actor, Approval, Event
from pipeline.services.actor import known_person
from pipeline.services.approvals import waits_for
from pipeline.services.statuses import Line, of_post, post_of
from pipeline.states import State
from pipeline.workspace import Workspace

COMMENT = "comment"          # the audit trail's kind for a comment
MAX_COMMENT = 2000


@dataclass(frozen=True)
class Version:
    """One version of one channel's item that the ledger recorded."""

    item_id: str
    version: str
    state: State
    recorded_at: datetime
    current: bool


@dataclass(frozen=True)
class Review:
    """Everything a reviewer needs about one post, for one person."""

    post: str
    lines: list[Line]
    versions: list[Version]
    approvals: list[Approval]
    events: list[Event]                 # oldest first
    may_approve: frozenset[str]         # item ids this person may approve now


def review(ws: Workspace, now: datetime, item_id: str, person: str) -> Review:
    """The post an item id belongs to, for `person`."""
    lines = of_post(ws, now, item_id)
    ids = [line.item_id for line in lines]
    current = {(line.item_id, line.version) for line in lines}
    versions = [Version(e.item_id, e.version, e.state, e.created_at, (e.item_id, e.version) in current)
                for i in ids for e in ws.ledger.publications.entries(item_id=i)]
    approvals = [a for i in ids for a in ws.ledger.approvals.of(i)]
    events = sorted((e for i in ids for e in ws.ledger.audit.events(item_id=i)),
                    key=lambda e: (e.at, e.id))
    events += [e for e in ws.ledger.audit.events(COMMENT, item_id=post_of(item_id))]
    events.sort(key=lambda e: (e.at, e.id))
    mine = frozenset(line.item_id for line in lines if waits_for(ws, line, person))
    return Review(post_of(item_id), lines, sorted(versions, key=lambda v: v.recorded_at),
                  sorted(approvals, key=lambda a: a.at), events, mine)


def comment(ws: Workspace, actor: Actor, now: datetime, item_id: str, text: str) -> Event:
    """A comment on a post, for everyone reviewing it (anyone in [people] may comment)."""
    known_person(ws.config.settings, actor.person)
    words = text.strip()
    if not words:
        raise Invalid("write a comment first", field="comment")
    if len(words) > MAX_COMMENT:
        raise Invalid(f"keep a comment under {MAX_COMMENT} characters", field="comment")
    of_post(ws, now, item_id)  # NotFound for an item that does not exist
    post = post_of(item_id)
    ws.ledger.audit.add(now, COMMENT, actor, item_id=post, details={"text": words})
    return ws.ledger.audit.events(COMMENT, item_id=post)[-1]
