"""The evaluation commands of `wst`: record engagement, shares and concerns; build the report."""

from __future__ import annotations

import getpass
import re
from datetime import date, timedelta
from pathlib import Path

import click

from pipeline.cli import Context, _now, _parse_date, _print_problems, cli

FORMATS = ("html", "csv", "json")
BY_HELP = "Your person id from [people]; default your user name."


def _open(ctx: Context):
    from pipeline.store import open_store

    return open_store(ctx.config.store_url)


def _recorder(ctx: Context, person: str | None) -> str:
    """Who is recording: a person id from [people] if given, else the computer's user name."""
    if person is None:
        return getpass.getuser()
    from pipeline.problems import did_you_mean

    people = ctx.config.settings.people
    if person not in people:
        raise click.BadParameter(f"'{person}' is not in [people] in config.toml"
                                 f"{did_you_mean(person, people)}", param_hint="--by")
    return person


@cli.group()
def record() -> None:
    """Record evaluation data by hand: engagement activity, partner shares, monthly concerns."""


@record.command(name="engagement")
@click.option("--date", "day", required=True, metavar="DATE",
              help="When it happened (YYYY-MM-DD).")
@click.option("--event", required=True, metavar="TEXT", help="What it was, e.g. 'Stall at Bilston market'.")
@click.option("--people", required=True, type=click.IntRange(min=0), metavar="N",
              help="How many people you spoke with or who attended.")
@click.option("--groups", default=0, show_default=True, type=click.IntRange(min=0), metavar="N",
              help="How many community groups or organisations took part.")
@click.option("--by", "person", metavar="PERSON", help=BY_HELP)
@click.pass_obj
def record_engagement(ctx: Context, day: str, event: str, people: int, groups: int,
                      person: str | None) -> None:
    """Record people and groups engaged at an event (the strategy's 'individuals / groups engaged')."""
    from pipeline.metrics.records import Records

    when = _parse_date(day, "--date")
    assert when is not None
    if not event.strip():
        raise click.BadParameter("say what the event was", param_hint="--event")
    by = _recorder(ctx, person)
    with _open(ctx) as store:
        Records(store).add_engagement(when, event, people, groups, by, _now())
    click.echo(f"recorded {people} people and {groups} group(s) at '{event.strip()}' on {when}")


@record.command(name="share")
@click.option("--partner", required=True, metavar="ORG",
              help="The partner organisation, as named in content/channel-audit.toml.")
@click.option("--channel", required=True, metavar="NAME",
              help="The partner channel's id in content/channel-audit.toml.")
@click.option("--item", "item_id", required=True, metavar="ID",
              help="The item they shared (an id from `wst plan` or `wst history`).")
@click.option("--date", "day", metavar="DATE",
              help="When they shared it (YYYY-MM-DD); default today.")
@click.option("--by", "person", metavar="PERSON", help=BY_HELP)
@click.pass_obj
def record_share(ctx: Context, partner: str, channel: str, item_id: str, day: str | None,
                 person: str | None) -> None:
    """Record that a partner shared one of our items on one of its channels."""
    from pipeline.ledger import Ledger
    from pipeline.metrics.records import Records, ShareError, check_share

    when = _parse_date(day, "--date") or ctx.today()
    by = _recorder(ctx, person)
    project = ctx.project()
    try:
        found = check_share(project.audit, partner, channel, ctx.config.settings.partnership.name)
    except ShareError as exc:
        raise click.BadParameter(str(exc), param_hint=exc.option) from None
    with _open(ctx) as store:
        if not Ledger(store).entries(item_id=item_id) and not _planned(project, item_id, when):
            raise click.BadParameter(_unknown_item(store, item_id), param_hint="--item")
        Records(store).add_share(found, item_id, when, by, _now())
    reach = f" (reach {found.reach:,})" if found.reach is not None else ""
    click.echo(f"recorded: {found.organisation} shared {item_id} on {found.name}{reach} on {when}")


def _planned(project, item_id: str, around: date) -> bool:
    """Whether the plan holds `item_id`, looking at the dates its id names (else near `around`)."""
    from pipeline.plan import make_plan

    if project.errors:
        return False
    day = re.search(r"/(\d{4}-\d{2}-\d{2})/", item_id)
    month = re.search(r"^bulletin/(\d{4}-\d{2})/", item_id)
    if day:
        start = end = date.fromisoformat(day.group(1))
    elif month:
        start = date.fromisoformat(month.group(1) + "-01")
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    else:
        start, end = around - timedelta(days=31), around + timedelta(days=31)
    return any(i.id == item_id for i in make_plan(project, start, end).items)


def _unknown_item(store, item_id: str) -> str:
    from sqlalchemy import select

    from pipeline.problems import did_you_mean
    from pipeline.store import ledger_table

    with store.reading() as conn:
        known = [r[0] for r in conn.execute(select(ledger_table.c.item_id).distinct())]
    hint = did_you_mean(item_id, known)
    return (f"no item '{item_id}' in the ledger or the plan{hint}; ids look like "
            f"campaign/post/YYYY-MM-DD/channel or bulletin/YYYY-MM/channel (see `wst plan`)")


@record.command(name="concerns")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", "person", metavar="PERSON", help=BY_HELP)
@click.pass_obj
def record_concerns(ctx: Context, csv_file: Path, person: str | None) -> None:
    """Import monthly safeguarding concerns (CSV: month,children,adults); all rows or none."""
    from pipeline.metrics.records import Records
    from pipeline.problems import InputError

    by = _recorder(ctx, person)
    with _open(ctx) as store:
        try:
            months = Records(store).import_concerns(csv_file, by, _now())
        except InputError as exc:
            _print_problems(exc.problems)
            click.echo(f"{len(exc.problems)} problem(s): nothing was imported; fix the file and "
                       f"run this again.", err=True)
            raise SystemExit(1) from None
    click.echo(f"imported {len(months)} month(s) of concerns ({months[0]} to {months[-1]}); "
               f"months already held were replaced")


def _report_range(ctx: Context, start: str | None, end: str | None) -> tuple[date, date]:
    """Default: the twelve calendar months ending with the month of --to (default today)."""
    last = _parse_date(end, "--to") or ctx.today()
    first = _parse_date(start, "--from")
    if first is None:
        year, month = (last.year - 1, last.month + 1) if last.month < 12 else (last.year, 1)
        first = date(year, month, 1)
    if last < first:
        raise click.BadParameter(f"--to {last} is before --from {first}", param_hint="--to")
    return first, last


@cli.command()
@click.option("--campaign", metavar="ID", help="Only this campaign (or 'e-bulletin').")
@click.option("--from", "start", metavar="DATE",
              help="First day (YYYY-MM-DD); default 12 months before --to.")
@click.option("--to", "end", metavar="DATE", help="Last day (inclusive); default today.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True,
              help="html for people (prints well), csv for spreadsheets, json for other tools.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write; default reports/report-FROM-TO.html for html, standard output otherwise.")
@click.pass_obj
def report(ctx: Context, campaign: str | None, start: str | None, end: str | None, fmt: str,
           out_path: Path | None) -> None:
    """Build the evaluation report: outputs and outcome of the strategy, per campaign and period."""
    from pipeline.metrics.report import build_report, inputs_from_project
    from pipeline.plan import BULLETIN_CAMPAIGN
    from pipeline.problems import did_you_mean
    from renderers.report import render_csv, render_html, render_json

    first, last = _report_range(ctx, start, end)
    project = ctx.project()
    if campaign and campaign != BULLETIN_CAMPAIGN and campaign not in project.campaigns:
        raise click.BadParameter(f"no campaign '{campaign}'"
                                 f"{did_you_mean(campaign, project.campaigns)}",
                                 param_hint="--campaign")
    now = _now()
    with _open(ctx) as store:
        inputs = inputs_from_project(project, store, first, last, now, campaign=campaign)
        data = build_report(store, inputs)
    text = {"html": render_html, "csv": render_csv, "json": render_json}[fmt](data)
    if out_path is None and fmt == "html":
        suffix = f"-{campaign}" if campaign else ""
        out_path = ctx.config.resolve(f"reports/report-{first}-{last}{suffix}.html")
    if out_path is None:
        click.echo(text, nl=False)
        return
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(text, encoding="utf-8")
    click.echo(f"Report written: {out_path.resolve().as_uri() if fmt == 'html' else out_path}")
