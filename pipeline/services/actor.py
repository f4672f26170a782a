"""Who is acting: a person from [people], through which face, or the daemon itself."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.config import Settings
from pipeline.errors import NotFound
from pipeline.ledger import SYSTEM
from pipeline.problems import did_you_mean


@dataclass(frozen=True)
class Actor:
    """The acting person (a key of [people]), the face they used, and where from."""

    person: str
    via: str = "cli"        # "cli", "web" or "daemon"
    os_user: str = ""       # at the command line: the operating-system user
    address: str = ""       # on the web: the client's address

    @property
    def is_system(self) -> bool:
        """True for the daemon acting on its own."""
        return self.person == SYSTEM


DAEMON = Actor(SYSTEM, via="daemon")


def known_person(settings: Settings, person: str, option: str = "--by") -> str:
    """`person` if it is a key of [people], else NotFound naming the nearest one."""
    if person not in settings.people:
        raise NotFound(f"'{person}' is not in [people] in config.toml",
                       did_you_mean(person, settings.people), field=option)
    return person
