"""Reactive posts (`wst post`): one-off posts after local, regional or national events.

They live in the store, not in content/, because they are written in the moment; they become
plan items of the campaign `reactive` and go through the same checks, ledger and gates.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from pipeline.content import Post
from pipeline.plan import PLANNED, Item, post_text, version_of
from pipeline.project import CampaignPost
from pipeline.store import Store
from pipeline.store.schema import reactive_table

CAMPAIGN = "reactive"
RESPONSIBILITY = "reactive-posts"


@dataclass(frozen=True)
class ReactivePost:
    """A stored reactive post."""

    id: str
    text: str
    channels: tuple[str, ...]
    image: str
    alt: str
    help: bool
    due: datetime
    answers_pause: bool = False  # goes out during a pause: it answers the event the pause is for

    def campaign_post(self) -> CampaignPost:
        """As a campaign post, so the renderer and checks treat it like any other."""
        post = Post(id=self.id, when=f"at {self.due:%Y-%m-%d %H:%M}", text=self.text,
                    channels=list(self.channels), image=self.image, alt=self.alt, help=self.help)
        # no source file: `at` is only used to locate problems in files
        return CampaignPost(CAMPAIGN, post, None)  # type: ignore[arg-type]


def new_id(text: str, due: datetime) -> str:
    """A readable, unique id: the first words and a hash of text and time."""
    words = "-".join(re.findall(r"[a-z0-9]+", text.lower())[:5])[:40].strip("-") or "post"
    return f"{words}-{hashlib.sha256(f'{text}|{due.isoformat()}'.encode()).hexdigest()[:6]}"


def items_for(rp: ReactivePost, tz, enabled: set[str]) -> list[Item]:
    """The plan items of a reactive post, one per enabled channel."""
    due = rp.due.astimezone(tz)
    cp = rp.campaign_post()
    out = []
    for channel in rp.channels:
        if channel not in enabled:
            continue
        text = post_text(cp.post, channel)
        out.append(Item(
            id=f"{CAMPAIGN}/{rp.id}/{due.date().isoformat()}/{channel}", kind="post",
            campaign=CAMPAIGN, channel=channel, due=due, title=" ".join(text.split())[:60],
            version=version_of({"kind": "post", "channel": channel, "text": text, "link": "",
                                "image": rp.image, "image_digest": "", "alt": rp.alt}),
            status=PLANNED, source=f"{CAMPAIGN}/{rp.id}", help=rp.help,
            responsibility=RESPONSIBILITY, answers_pause=rp.answers_pause))
    return out


class ReactiveStore:
    """Reactive posts in the store."""

    def __init__(self, store: Store):
        self.store = store

    def add(self, rp: ReactivePost, by: str, now: datetime) -> None:
        """Save a reactive post (its id is derived from text and time, so a repeat is refused)."""
        with self.store.writing() as conn:
            conn.execute(reactive_table.insert().values(
                id=rp.id, text=rp.text, channels=json.dumps(list(rp.channels)), image=rp.image,
                alt=rp.alt, help=rp.help, due=rp.due, answers_pause=rp.answers_pause,
                created_by=by, created_at=now))

    def all(self) -> list[ReactivePost]:
        """Every reactive post, soonest first."""
        with self.store.reading() as conn:
            rows = conn.execute(select(reactive_table).order_by(reactive_table.c.due)).mappings().all()
        return [ReactivePost(r["id"], r["text"], tuple(json.loads(r["channels"])), r["image"],
                             r["alt"], r["help"], r["due"], r["answers_pause"]) for r in rows]

    def signature(self) -> tuple:
        """Changes when a reactive post is added (the daemon then reconciles)."""
        with self.store.reading() as conn:
            return tuple(conn.execute(select(func.count(), func.max(reactive_table.c.created_at))
                                      .select_from(reactive_table)).one())
