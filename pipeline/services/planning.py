"""Reading the calendar and content: check them and plan a date range (neither needs the
store), and the checks every listing of a date range makes of what a person asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.check import missing_bulletins
from pipeline.errors import Invalid, NotFound
from pipeline.plan import BULLETIN_CAMPAIGN, Plan, make_plan
from pipeline.problems import InputError, Problem, did_you_mean
from pipeline.project import Project
from pipeline.reactive import CAMPAIGN as REACTIVE
from pipeline.render import Renderer


@dataclass(frozen=True)
class CheckReport:
    """Every problem found, and what was checked."""

    problems: list[Problem]
    events: int
    campaigns: int
    posts: int
    bulletins: int

    @property
    def errors(self) -> int:
        """How many problems block planning and publication."""
        return sum(p.is_error for p in self.problems)

    @property
    def warnings(self) -> int:
        """How many problems are warnings."""
        return len(self.problems) - self.errors


def check(project: Project, today: date, only: Path | None = None) -> CheckReport:
    """Every problem in config, calendar and content, the content checks included (with
    `only`, the content checks of that one content file: a content check depends on its own
    post or bulletin, its campaign and config, so no other file's can change with it)."""
    problems = list(project.config.warnings) + list(project.problems)
    problems += missing_bulletins(project, today, project.config.settings.plan.weeks)
    problems += Renderer(project).content_problems(only)
    return CheckReport(problems, len(project.events), len(project.campaigns), len(project.posts),
                       len(project.bulletins))


def usable(project: Project) -> Project:
    """The project, or InputError with its errors: nothing is planned from broken input."""
    if project.errors:
        raise InputError(project.errors)
    return project


def check_range(first: date, last: date) -> None:
    """Invalid if the range is backwards."""
    if last < first:
        raise Invalid(f"--to {last} is before --from {first}", field="--to")


def check_filters(project: Project, campaign: str | None, channel: str | None) -> None:
    """NotFound (with the nearest name) for a campaign or channel that does not exist."""
    if campaign and campaign not in (BULLETIN_CAMPAIGN, REACTIVE) and campaign not in project.campaigns:
        raise NotFound(f"no campaign '{campaign}'", did_you_mean(campaign, project.campaigns),
                       field="--campaign")
    channels = project.config.settings.channels
    if channel and channel not in channels:
        raise NotFound(f"no channel '{channel}'", did_you_mean(channel, channels), field="--channel")


def plan(project: Project, first: date, last: date, *, campaign: str | None = None,
         channel: str | None = None) -> Plan:
    """The items due from `first` to `last` (local dates, inclusive)."""
    check_range(first, last)
    usable(project)
    check_filters(project, campaign, channel)
    return make_plan(project, first, last, campaign=campaign, channel=channel)
