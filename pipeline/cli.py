"""The `wst` command: a thin click layer over the library. Only here is the clock read."""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from pipeline.check import missing_bulletins
from pipeline.config import Config, load_config
from pipeline.problems import InputError, Problem
from pipeline.project import Project, load_project

DEFAULT_CONFIG = "config.toml"


def _now() -> datetime:
    """The one place the CLI reads the clock."""
    return datetime.now().astimezone()


class Context:
    """What every command shares: where the config is, loaded on first use."""

    def __init__(self, config_path: Path):
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_config(self.config_path)
            except InputError as exc:
                _print_problems(exc.problems)
                raise SystemExit(1) from None
        return self._config

    def project(self) -> Project:
        """Load and cross-check calendar and content."""
        return load_project(self.config)

    def today(self) -> date:
        """Today in the partnership's time zone."""
        return _now().astimezone(self.config.tz).date()


def _print_problems(problems: list[Problem]) -> None:
    err = click.get_text_stream("stderr")
    for p in problems:
        err.write(str(p) + "\n")


def _parse_date(value: str | None, param: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; write YYYY-MM-DD",
                                 param_hint=param) from None


def _range(ctx: Context, start: str | None, end: str | None) -> tuple[date, date]:
    first = _parse_date(start, "--from") or ctx.today()
    last = _parse_date(end, "--to") or first + timedelta(weeks=ctx.config.settings.plan.weeks)
    if last < first:
        raise click.BadParameter(f"--to {last} is before --from {first}", param_hint="--to")
    return first, last


def _usable_project(ctx: Context) -> Project:
    project = ctx.project()
    if project.errors:
        _print_problems(project.errors)
        click.echo(f"{len(project.errors)} error(s): fix them (see `wst check`) before planning.",
                   err=True)
        raise SystemExit(1)
    return project


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              envvar="WST_CONFIG", default=DEFAULT_CONFIG, show_default=True,
              help="The settings file (or set WST_CONFIG). Paths inside it are relative to it.")
@click.version_option(package_name="wst-pipeline")
@click.pass_context
def cli(click_ctx: click.Context, config_path: Path) -> None:
    """Plan, preview, publish and measure WST's bulletins and campaign posts."""
    click_ctx.obj = Context(config_path)


@cli.command()
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.pass_obj
def check(ctx: Context, strict: bool) -> None:
    """Validate config, calendar and content; print every problem as path:line: severity: message."""
    project = ctx.project()
    from pipeline.render import Renderer  # after loading: a config error needs no renderer

    problems = project.problems + missing_bulletins(project, ctx.today(),
                                                    ctx.config.settings.plan.weeks)
    problems += Renderer(project).content_problems()
    for p in problems:
        click.echo(str(p))
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    summary = (f"{len(project.events)} events, {len(project.campaigns)} campaigns, "
               f"{len(project.posts)} posts, {len(project.bulletins)} bulletins: "
               f"{errors} error(s), {warnings} warning(s)")
    click.echo(summary, err=True)
    if errors or (strict and warnings):
        raise SystemExit(1)


@cli.command()
@click.option("--from", "start", metavar="DATE", help="First day (YYYY-MM-DD); default today.")
@click.option("--to", "end", metavar="DATE", help="Last day; default [plan] weeks after --from.")
@click.option("--campaign", help="Only this campaign (or 'e-bulletin').")
@click.option("--channel", help="Only this channel.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.pass_obj
def plan(ctx: Context, start: str | None, end: str | None, campaign: str | None,
         channel: str | None, as_json: bool) -> None:
    """List the publication items due in a date range."""
    from pipeline.plan import make_plan

    first, last = _range(ctx, start, end)
    project = _usable_project(ctx)
    _known_filter(project, campaign, channel)
    result = make_plan(project, first, last, campaign=campaign, channel=channel)
    for note in result.notes:
        click.echo(str(note), err=True)
    if as_json:
        click.echo(json.dumps([i.as_json() for i in result.items], indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Plan {first:%d %b %Y} to {last:%d %b %Y}: {len(result.items)} items",
                  title_justify="left")
    for column in ("due", "channel", "campaign", "title", "status", "id"):
        table.add_column(column, overflow="fold")
    for item in result.items:
        status = item.status if not item.note else f"{item.status}: {item.note}"
        table.add_row(f"{item.due:%a %d %b %Y %H:%M}", item.channel, item.campaign,
                      item.title, status, item.id)
    Console(width=max(140, Console().width)).print(table)


def _known_filter(project: Project, campaign: str | None, channel: str | None) -> None:
    from pipeline.plan import BULLETIN_CAMPAIGN
    from pipeline.problems import did_you_mean

    if campaign and campaign != BULLETIN_CAMPAIGN and campaign not in project.campaigns:
        raise click.BadParameter(f"no campaign '{campaign}'"
                                 f"{did_you_mean(campaign, project.campaigns)}",
                                 param_hint="--campaign")
    channels = project.config.settings.channels
    if channel and channel not in channels:
        raise click.BadParameter(f"no channel '{channel}'{did_you_mean(channel, channels)}",
                                 param_hint="--channel")


@cli.command(name="calendar")
@click.option("--ics", "ics_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the iCalendar file.")
@click.option("--from", "start", metavar="DATE", help="First day; default today.")
@click.option("--to", "end", metavar="DATE", help="Last day; default [plan] weeks after --from.")
@click.pass_obj
def calendar_cmd(ctx: Context, ics_path: Path, start: str | None, end: str | None) -> None:
    """Write the plan and campaign windows as an iCalendar file to subscribe to."""
    from pipeline.ics import build_ics
    from pipeline.plan import make_plan

    first, last = _range(ctx, start, end)
    project = _usable_project(ctx)
    result = make_plan(project, first, last)
    ics_path.parent.mkdir(parents=True, exist_ok=True)
    ics_path.write_bytes(build_ics(project, result, _now()))
    click.echo(f"wrote {ics_path} ({len(result.items)} items)")


@cli.command()
@click.option("--from", "start", metavar="DATE", help="First day (YYYY-MM-DD); default today.")
@click.option("--to", "end", metavar="DATE", help="Last day; default [plan] weeks after --from.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the site to; default [paths] preview.")
@click.option("--campaign", help="Only this campaign (or 'e-bulletin').")
@click.option("--channel", help="Only this channel.")
@click.pass_obj
def preview(ctx: Context, start: str | None, end: str | None, out_dir: Path | None,
            campaign: str | None, channel: str | None) -> None:
    """Write a static preview site of every item exactly as each channel will show it."""
    from rich.progress import Progress

    from pipeline.plan import make_plan
    from pipeline.render import Renderer, brand_of
    from renderers.preview import PreviewItem, build_preview

    first, last = _range(ctx, start, end)
    project = _usable_project(ctx)
    _known_filter(project, campaign, channel)
    result = make_plan(project, first, last, campaign=campaign, channel=channel)
    out = out_dir or ctx.config.resolve(ctx.config.settings.paths.preview)
    renderer = Renderer(project)
    channels = ctx.config.settings.channels
    items = []
    with Progress(transient=True, console=Console(stderr=True)) as progress:
        rendering = progress.add_task("Rendering and checking", total=len(result.items))
        for item in result.items:
            r = renderer.render(item)
            items.append(PreviewItem(
                id=item.id, kind=item.kind, campaign=item.campaign, channel=item.channel,
                platform=channels[item.channel].kind, due=item.due, title=item.title,
                status=item.status, note=item.note, post=r.post, bulletin=r.bulletin,
                findings=r.findings, channel_title=channels[item.channel].title,
                handle=channels[item.channel].handle))
            progress.advance(rendering)
        writing = progress.add_task("Writing pages", total=len(items))
        summary = build_preview(items, out, brand=brand_of(ctx.config), start=first, end=last,
                                generated_at=_now(), images_dir=ctx.config.content_dir,
                                on_item=lambda: progress.advance(writing), tz=ctx.config.tz)
    click.echo(f"{summary.items} items, {summary.errors} error(s), {summary.warnings} warning(s)")
    click.echo(f"Preview written: open {summary.index.resolve().as_uri()}")
    if summary.errors:
        raise SystemExit(1)


@cli.group()
def bulletin() -> None:
    """Monthly e-bulletin files."""


@bulletin.command(name="new")
@click.option("--month", required=True, metavar="YYYY-MM", help="The bulletin's month.")
@click.pass_obj
def bulletin_new(ctx: Context, month: str) -> None:
    """Write a draft bulletin file for a month, prefilled from the calendar; never overwrites."""
    import re

    from pipeline.bulletin_draft import write_draft

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise click.BadParameter(f"'{month}' is not a month; write YYYY-MM, e.g. 2027-04",
                                 param_hint="--month")
    project = ctx.project()
    path = ctx.config.content_dir / "bulletins" / f"{month}.toml"
    try:
        written = write_draft(project, month, path)
    except FileExistsError as exc:
        raise click.ClickException(f"{exc}; edit it, or delete it first to start again") from None
    click.echo(f"wrote {written}: fill in the subject, preheader and stories, then set "
               f"status = \"ready\" and run `wst check`")


def main() -> None:
    """Entry point of the `wst` console script."""

    from pipeline.store import StoreError

    if os.environ.get("WST_CONFIG") == "":
        os.environ.pop("WST_CONFIG")
    try:
        cli(prog_name="wst")
    except StoreError as exc:  # e.g. the store file was deleted under a running daemon
        raise SystemExit(f"Error: {exc}") from None


# The publishing and evaluation commands live in their own modules and register on `cli`.
import pipeline.cli_collect  # noqa: E402
import pipeline.cli_db  # noqa: E402
import pipeline.cli_ops  # noqa: E402
import pipeline.cli_report  # noqa: E402, F401

if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
