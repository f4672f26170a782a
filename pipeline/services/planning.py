"""Reading the calendar and content: check them, plan a date range, export the calendar, and
write the preview site. None of these needs the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pipeline.check import missing_bulletins
from pipeline.errors import Invalid, NotFound
from pipeline.plan import BULLETIN_CAMPAIGN, Plan, make_plan
from pipeline.problems import InputError, Problem, did_you_mean
from pipeline.project import Project
from pipeline.render import Renderer, brand_of
from renderers.preview import PreviewItem, PreviewSummary, build_preview


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


def check(project: Project, today: date) -> CheckReport:
    """Every problem in config, calendar and content, the content checks included."""
    problems = list(project.problems)
    problems += missing_bulletins(project, today, project.config.settings.plan.weeks)
    problems += Renderer(project).content_problems()
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
    if campaign and campaign != BULLETIN_CAMPAIGN and campaign not in project.campaigns:
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


def calendar(project: Project, first: date, last: date, now: datetime) -> tuple[bytes, int]:
    """The plan and the campaign windows as an iCalendar file, and how many items it holds."""
    from pipeline.ics import build_ics

    result = plan(project, first, last)
    return build_ics(project, result, now), len(result.items)


def preview(project: Project, first: date, last: date, out: Path, now: datetime, *,
            campaign: str | None = None, channel: str | None = None,
            on_rendered: Callable[[], None] | None = None,
            on_written: Callable[[], None] | None = None,
            on_planned: Callable[[int], None] | None = None) -> PreviewSummary:
    """Write the static preview site of every item exactly as each channel will show it."""
    result = plan(project, first, last, campaign=campaign, channel=channel)
    if on_planned:
        on_planned(len(result.items))
    config = project.config
    renderer = Renderer(project)
    channels = config.settings.channels
    items = []
    for item in result.items:
        r = renderer.render(item)
        items.append(PreviewItem(
            id=item.id, kind=item.kind, campaign=item.campaign, channel=item.channel,
            platform=channels[item.channel].kind, due=item.due, title=item.title,
            status=item.status, note=item.note, post=r.post, bulletin=r.bulletin,
            findings=r.findings, channel_title=channels[item.channel].title,
            handle=channels[item.channel].handle))
        if on_rendered:
            on_rendered()
    return build_preview(items, out, brand=brand_of(config), start=first, end=last,
                         generated_at=now, images_dir=config.content_dir,
                         on_item=on_written or (lambda: None), tz=config.tz)
