"""The commands that read the calendar and content: check, plan, calendar, preview, bulletin."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress

from pipeline.cli.context import Context, now
from pipeline.cli.group import cli
from pipeline.cli.output import show, table
from pipeline.services import planning


@cli.command()
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.pass_obj
def check(ctx: Context, strict: bool) -> None:
    """Validate config, calendar and content; print every problem as path:line: severity: message."""
    report = planning.check(ctx.project_to_check(), ctx.today())
    for p in report.problems:
        click.echo(str(p))
    click.echo(f"{report.events} events, {report.campaigns} campaigns, {report.posts} posts, "
               f"{report.bulletins} bulletins: {report.errors} error(s), "
               f"{report.warnings} warning(s)", err=True)
    if report.errors or (strict and report.warnings):
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
    first, last = ctx.date_range(start, end)
    result = planning.plan(ctx.project(), first, last, campaign=campaign, channel=channel)
    for note in result.notes:
        click.echo(str(note), err=True)
    if as_json:
        click.echo(json.dumps([i.as_json() for i in result.items], indent=2, ensure_ascii=False))
        return
    t = table(f"Plan {first:%d %b %Y} to {last:%d %b %Y}: {len(result.items)} items",
              ("due", "channel", "campaign", "title", "status", "id"))
    for item in result.items:
        status = item.status if not item.note else f"{item.status}: {item.note}"
        t.add_row(f"{item.due:%a %d %b %Y %H:%M}", item.channel, item.campaign, item.title,
                  status, item.id)
    show(t)


@cli.command(name="calendar")
@click.option("--ics", "ics_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the iCalendar file.")
@click.option("--from", "start", metavar="DATE", help="First day; default today.")
@click.option("--to", "end", metavar="DATE", help="Last day; default [plan] weeks after --from.")
@click.pass_obj
def calendar_cmd(ctx: Context, ics_path: Path, start: str | None, end: str | None) -> None:
    """Write the plan and campaign windows as an iCalendar file to subscribe to."""
    first, last = ctx.date_range(start, end)
    data, count = planning.calendar(ctx.project(), first, last, now())
    ics_path.parent.mkdir(parents=True, exist_ok=True)
    ics_path.write_bytes(data)
    click.echo(f"wrote {ics_path} ({count} items)")


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
    first, last = ctx.date_range(start, end)
    out = out_dir or ctx.config.resolve(ctx.config.settings.paths.preview)
    with Progress(transient=True, console=Console(stderr=True)) as progress:
        rendering = progress.add_task("Rendering and checking", total=None)
        writing = progress.add_task("Writing pages", total=None)

        def planned(count: int) -> None:
            progress.update(rendering, total=count)
            progress.update(writing, total=count)

        summary = planning.preview(
            ctx.project(), first, last, out, now(), campaign=campaign, channel=channel,
            on_planned=planned, on_rendered=lambda: progress.advance(rendering),
            on_written=lambda: progress.advance(writing))
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
    from pipeline.bulletin_draft import write_draft

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise click.BadParameter(f"'{month}' is not a month; write YYYY-MM, e.g. 2027-04",
                                 param_hint="--month")
    path = ctx.config.content_dir / "bulletins" / f"{month}.toml"
    try:
        written = write_draft(ctx.project(), month, path)
    except FileExistsError as exc:
        raise click.ClickException(f"{exc}; edit it, or delete it first to start again") from None
    click.echo(f"wrote {written}: fill in the subject, preheader and stories, then set "
               f"status = \"ready\" and run `wst check`")
