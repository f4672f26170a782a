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
from pipeline.cli.output import print_ids, print_items
from pipeline.services import bulletins, exports, planning, statuses
from pipeline.status import Status


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
@click.option("--campaign", help="Only this campaign (or 'e-bulletin', or 'reactive').")
@click.option("--channel", help="Only this channel.")
@click.option("--status", "wanted", type=click.Choice([s.value for s in Status]),
              help="Only items with this status.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a list.")
@click.option("--ids", "ids_only", is_flag=True, help="Print only the item ids, one per line.")
@click.pass_obj
def plan(ctx: Context, start: str | None, end: str | None, campaign: str | None,
         channel: str | None, wanted: str | None, as_json: bool, ids_only: bool) -> None:
    """List the items due in a date range, each with its status."""
    first, last = ctx.date_range(start, end)
    listing = statuses.in_range(ctx.workspace(), now(), first, last, campaign=campaign,
                                channel=channel)
    for note in listing.notes:
        click.echo(str(note), err=True)
    lines = [line for line in listing.lines if wanted in (None, line.status.status)]
    if as_json:
        click.echo(json.dumps([line.as_json() for line in lines], indent=2, ensure_ascii=False))
    elif ids_only:
        print_ids(lines)
    else:
        print_items(f"Plan {first:%d %b %Y} to {last:%d %b %Y}: {len(lines)} items", lines,
                    ctx.config.tz)


@cli.command(name="calendar")
@click.option("--ics", "ics_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the iCalendar file.")
@click.option("--from", "start", metavar="DATE", help="First day; default today.")
@click.option("--to", "end", metavar="DATE", help="Last day; default [plan] weeks after --from.")
@click.pass_obj
def calendar_cmd(ctx: Context, ics_path: Path, start: str | None, end: str | None) -> None:
    """Write the plan and campaign windows as an iCalendar file to subscribe to."""
    first, last = ctx.date_range(start, end)
    data, count = exports.calendar(ctx.workspace(), now(), first, last)
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

        summary = exports.preview(
            ctx.workspace(), now(), first, last, out, campaign=campaign, channel=channel,
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


@bulletin.command(name="test-send")
@click.option("--month", required=True, metavar="YYYY-MM", help="The bulletin's month.")
@click.option("--channel", help="Only this bulletin channel (default: each one).")
@click.option("--to", "to", multiple=True, metavar="ADDRESS",
              help="Who gets the test (repeat for more); default the channel's test_recipients, "
                   "else your own email.")
@click.option("--by", "person", required=True, help="Your person id from [people].")
@click.pass_obj
def bulletin_test_send(ctx: Context, month: str, channel: str | None, to: tuple[str, ...],
                       person: str) -> None:
    """Send the month's bulletin, as it stands now, to named addresses as a test."""
    for sent in bulletins.test_send(ctx.workspace(), ctx.actor(person), now(), month,
                                    channel=channel, to=to):
        click.echo(f"{sent.item_id} (version {sent.version}): test sent to {', '.join(sent.to)}: "
                   f"{sent.where}")
