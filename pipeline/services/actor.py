"""Who is acting: a person from [people], through which face, or the daemon itself (the Actor
lives with the ledger, whose audit trail records all three)."""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.errors import NotFound
from pipeline.ledger import SYSTEM, Actor
from pipeline.problems import did_you_mean

__all__ = ["DAEMON", "Actor", "known_person"]


DAEMON = Actor(SYSTEM, via="daemon")


def known_person(settings: Settings, person: str, option: str = "--by") -> str:
    """`person` if it is a key of [people], else NotFound naming the nearest one."""
    if person not in settings.people:
        raise NotFound(f"'{person}' is not in [people] in config.toml",
                       did_you_mean(person, settings.people), field=option)
    return person
