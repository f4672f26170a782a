"""The loaded project as the daemon and the services see it: config, calendar, content and the
reactive posts, planned and rendered on demand.

A catalog never changes once built: a reload builds a new one and the workspace swaps it in, so
a publication in flight keeps the words it started with and nothing needs a lock. What was
looked up or prepared ahead is kept with the catalog, so a reload drops it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path

from pipeline.check import load_project
from pipeline.config import Config, SchedulerSettings, load_config
from pipeline.plan import BULLETIN_CAMPAIGN, Item, id_span, make_plan
from pipeline.problems import InputError
from pipeline.project import Project
from pipeline.reactive import CAMPAIGN as REACTIVE
from pipeline.reactive import ReactivePost, items_for
from pipeline.render import Renderer

# A job the scheduler runs a moment after its time is on time, even with a catch-up window of 0.
ON_TIME_SLACK = timedelta(seconds=2)


class Catalog:
    """Config, project and reactive posts, with their items and one shared renderer."""

    def __init__(self, config: Config, project: Project, reactive: Iterable[ReactivePost] = ()):
        self.config = config
        self.project = project
        self.reactive = {rp.id: rp for rp in reactive}
        self.renderer = Renderer(project)
        for rp in self.reactive.values():
            self.renderer.register(rp.campaign_post())
        self._known: dict[str, Item] = {}  # items prepared or looked up, by id

    @classmethod
    def load(cls, config_path: Path, reactive: Iterable[ReactivePost] = ()) -> Catalog:
        """Read config, calendar and content; InputError (every problem) if they can't be used."""
        config = load_config(Path(config_path))
        project = load_project(config)
        if project.errors:
            raise InputError(project.errors)
        return cls(config, project, reactive)

    def with_reactive(self, reactive: Iterable[ReactivePost]) -> Catalog:
        """The same project with this list of reactive posts (after `wst post` saved one)."""
        return Catalog(self.config, self.project, reactive)

    @property
    def settings(self) -> SchedulerSettings:
        """The scheduler settings in force."""
        return self.config.settings.scheduler

    @property
    def catch_up(self) -> timedelta:
        """How late an item may still go out ([scheduler] grace_minutes); later, it is missed."""
        return timedelta(minutes=self.settings.grace_minutes) + ON_TIME_SLACK

    def dry_run_for(self, channel: str) -> bool:
        """True if this channel only writes to the outbox."""
        c = self.config.settings.channels[channel]
        return self.config.settings.mode == "dry-run" or c.dry_run is True

    def run_at(self, item: Item) -> datetime:
        """When the job runs: bulletins go to the mailing service a lead time early."""
        if item.kind == "bulletin":
            return item.due - timedelta(minutes=self.settings.bulletin_lead_minutes)
        return item.due

    def reactive_items(self) -> list[Item]:
        """Every reactive post's items on its enabled channels."""
        enabled = set(self.config.enabled_channels())
        return [i for rp in self.reactive.values() for i in items_for(rp, self.config.tz, enabled)]

    def items(self, start: date, end: date) -> list[Item]:
        """Plan items from `start` to `end` (local dates), reactive posts included."""
        items = make_plan(self.project, start, end).items + [
            i for i in self.reactive_items() if start <= i.due.astimezone(self.config.tz).date() <= end]
        return sorted(items, key=lambda i: (i.due, i.kind, i.campaign, i.id))

    def current_items(self, now: datetime, since: datetime) -> list[Item]:
        """Items from `since` to the scheduling horizon."""
        tz = self.config.tz
        lead = timedelta(minutes=self.settings.bulletin_lead_minutes)
        return [i for i in self.items(since.astimezone(tz).date(),
                                      now.astimezone(tz).date()
                                      + timedelta(days=self.settings.horizon_days) + lead)
                if self.run_at(i) >= since]

    def item(self, item_id: str) -> Item | None:
        """The current item with this id, or None if the plan no longer has it."""
        found = self._known.get(item_id)
        if found is not None:
            return found
        span = id_span(item_id)
        if span is None:
            return None
        campaign, first, last = span
        if campaign == REACTIVE:
            # only this post's items: planning every reactive post per job is O(n^2) in a burst
            rp = self.reactive.get(item_id.split("/")[1])
            enabled = set(self.config.enabled_channels())
            found = None if rp is None else next(
                (i for i in items_for(rp, self.config.tz, enabled) if i.id == item_id), None)
        elif campaign in self.project.campaigns or campaign == BULLETIN_CAMPAIGN:
            found = next((i for i in make_plan(self.project, first, last, campaign=campaign).items
                          if i.id == item_id), None)
        if found is not None:
            self._known[item_id] = found
        return found

    def remember(self, items: Iterable[Item]) -> None:
        """Keep these items for look-up by id (prepared ahead of their time)."""
        for item in items:
            self._known[item.id] = item
