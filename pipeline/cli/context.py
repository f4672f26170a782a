"""What every command shares: the config it names, the workspace it opens, the acting person,
the clock (read here, once per command, and nowhere below), and how a person's input is read."""

from __future__ import annotations

import getpass
import os
from datetime import date, datetime, timedelta
from pathlib import Path

import click
from dateutil import parser as dateparser

from pipeline.check import load_project
from pipeline.config import Config, ConfigError, load_config
from pipeline.project import Project
from pipeline.services.actor import Actor, known_person
from pipeline.timing import repeated, resolve_local
from pipeline.workspace import Workspace


def now() -> datetime:
    """The one place the CLI reads the clock."""
    return datetime.now().astimezone()


class Context:
    """The config path from `--config`, loaded on first use, and what is opened from it."""

    def __init__(self, config_path: Path):
        self.config_path = config_path
        self._config: Config | None = None
        self._workspace: Workspace | None = None

    @property
    def config(self) -> Config:
        """The validated config (an InputError reaches the CLI's edge)."""
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def store_url(self) -> str | None:
        """The store's URL if the config was loaded (for messages about the store)."""
        return self._config.store_url if self._config is not None else None

    def project_to_check(self) -> Project:
        """The project for `wst check`: with a config whose only faults are unknown keys, the
        rest is checked too (those faults first), so one typo hides nothing else."""
        try:
            return self.project()
        except ConfigError as exc:
            if exc.usable is None:
                raise
            self._config = exc.usable
            project = load_project(exc.usable)
            project.problems[:0] = exc.problems
            return project

    def project(self) -> Project:
        """Load and cross-check calendar and content (problems kept, never raised)."""
        return load_project(self.config)

    def workspace(self) -> Workspace:
        """The project and the store, opened once per command and closed when it ends."""
        if self._workspace is None:
            self._workspace = Workspace(self.config_path, os.environ)
            click.get_current_context().call_on_close(self._workspace.close)
        return self._workspace

    def actor(self, person: str, option: str = "--by") -> Actor:
        """The person a command acts for, at the command line as this operating-system user."""
        return Actor(known_person(self.config.settings, person, option), via="cli",
                     os_user=getpass.getuser())

    def today(self) -> date:
        """Today in the partnership's time zone."""
        return now().astimezone(self.config.tz).date()

    def date_range(self, start: str | None, end: str | None) -> tuple[date, date]:
        """--from (default today) and --to (default [plan] weeks later)."""
        first = parse_date(start, "--from") or self.today()
        last = parse_date(end, "--to") or first + timedelta(weeks=self.config.settings.plan.weeks)
        return first, last

    def local_time(self, value: str, option: str) -> datetime:
        """A time a person typed: ISO 8601, or 'YYYY-MM-DD HH:MM' in the partnership's zone."""
        try:
            moment = dateparser.isoparse(value)
        except ValueError:
            try:
                moment = datetime.strptime(value, "%Y-%m-%d %H:%M")
            except ValueError:
                raise click.BadParameter(f"'{value}' is not a time; write e.g. '2027-02-09 10:00'",
                                         param_hint=option) from None
        if moment.tzinfo is None:
            tz = self.config.tz
            local = resolve_local(moment.date(), moment.time(), tz)
            if local.note:
                raise click.BadParameter(f"{local.note.split(';')[0]}; write "
                                         f"{local.due:%Y-%m-%d %H:%M} or later", param_hint=option)
            if repeated(moment.date(), moment.time(), tz):
                raise click.BadParameter(
                    f"{moment:%H:%M} on {moment:%d %B %Y} happens twice in {tz.key} (the clocks "
                    f"go back); write it with its offset, e.g. "
                    f"{moment.replace(tzinfo=tz, fold=0).isoformat(timespec='minutes')} for the "
                    f"first or {moment.replace(tzinfo=tz, fold=1).isoformat(timespec='minutes')} "
                    f"for the second", param_hint=option)
            moment = local.due
        return moment


def parse_date(value: str | None, param: str) -> date | None:
    """A YYYY-MM-DD a person typed, or None if they typed nothing."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; write YYYY-MM-DD",
                                 param_hint=param) from None
