"""Shared by the workflow and status-view tests: a minimal project with people in every role
the workflow asks about, and a rig that does what the daemon does, with a clock a test moves."""

from __future__ import annotations

from datetime import datetime

from conftest import Clock, ProjectDir

from pipeline import housekeeping
from pipeline.ledger import Entry
from pipeline.publisher import Publisher
from pipeline.services import statuses
from pipeline.services.actor import Actor
from pipeline.states import State
from pipeline.workspace import Workspace

APPROVER = Actor("approver")        # accountable for posts, bulletins and reactive posts
CHAIR = Actor("chair")              # may only freeze comms
WRITER = Actor("writer")            # responsible for bulletins, approves nothing
PEOPLE = '''
[roles]
approvers = "Approvers"
executive = "Executive"
writers = "Writers"

[people.approver]
name = "An approver"
roles = ["approvers"]
email = "approver@example.org"

[people.chair]
name = "The chair"
roles = ["executive"]
email = "chair@example.org"

[people.writer]
name = "A writer"
roles = ["writers"]

[responsibilities.campaign-posts]
title = "Campaign posts"
accountable = ["approvers"]

[responsibilities.e-bulletins]
title = "Bulletins"
responsible = ["writers"]
accountable = ["approvers"]

[responsibilities.reactive-posts]
title = "Reactive posts"
accountable = ["approvers"]

[responsibilities.comms-freeze]
title = "Comms freeze"
accountable = ["executive"]
'''


def set_people(project: ProjectDir, extra: str = "") -> None:
    """Replace the minimal project's roles, people and responsibilities with PEOPLE (and put
    `extra` TOML before them)."""
    text = project.read("config.toml")
    project.write("config.toml", text[:text.index("[roles]")] + extra + PEOPLE)


FEBRUARY_BULLETIN = '''month = "2027-02"
subject = "February: Safer Internet Day"
preheader = "How to help children stay safe online."
intro = "This month is about staying safe online."

[[story]]
title = "Safer Internet Day"
body = "Talk to your child about the apps they use."
'''


def add_bulletin(project: ProjectDir, channels: str = '"mailchimp"') -> None:
    """Send the monthly bulletin from February 2027 on `channels` (TOML list items), and write
    February's."""
    project.edit("schedules/calendar.toml", 'channels = ["mailchimp"]', f"channels = [{channels}]")
    project.edit("schedules/calendar.toml", 'from_month = "2099-01"', 'from_month = "2027-02"')
    project.write("content/bulletins/2027-02.toml", FEBRUARY_BULLETIN)


class Rig:
    """A workspace on the project's store, as `wst run` builds it, and the daemon's steps."""

    def __init__(self, project: ProjectDir, clock: Clock, environ: dict[str, str] | None = None):
        self.clock = clock
        self.ws = Workspace(project.config, environ or {}, clock=clock)

    def tick(self, at: datetime) -> list[str]:
        """Move the clock and do what the daemon does at start: record, catch up, settle."""
        self.clock.now = at
        items = housekeeping.sync(self.ws, at)
        done = housekeeping.catch_up(Publisher(self.ws), at, items)
        housekeeping.settle_undecided(self.ws, at)
        return [f"{r.item_id}: {r}" for r in done]

    def status(self, item_id: str) -> str:
        """The item's status label, as every view shows it."""
        (line,) = statuses.lines_for(self.ws, [self.ws.catalog.item(item_id)], self.clock.now)
        return line.status.label

    def rows(self, prefix: str) -> dict[str, Entry]:
        """The current ledger rows of items whose id starts with `prefix`."""
        return {e.item_id: e for e in self.ws.ledger.publications.entries()
                if e.item_id.startswith(prefix) and e.state != State.SUPERSEDED}
