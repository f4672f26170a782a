"""The evaluation commands: collect engagement, record what people count by hand, and report."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from pipeline.catalog import Catalog
from pipeline.cli.context import Context, now, parse_date
from pipeline.cli.group import cli
from pipeline.cli.output import print_problems
from pipeline.problems import InputError
from pipeline.services import evaluation
from pipeline.store import open_store

FORMATS = ("html", "csv", "json")
BY_HELP = "Your person id from [people]; default your user name."


def _store(ctx: Context):
    store = open_store(ctx.config.store_url)
    click.get_current_context().call_on_close(store.close)
    return store


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--all", "every", is_flag=True,
              help="Every live published item, not only those due on the cadence (X posts are "
                   "still read at most once a UTC day and within the monthly budget).")
@click.pass_obj
def collect(ctx: Context, as_json: bool, every: bool) -> None:
    """Collect views, reach and engagement for published items and store the snapshots."""
    import os

    summary = evaluation.collect(_store(ctx), ctx.config, os.environ, now(), every=every)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2, sort_keys=True))
    else:
        if not summary.platforms and not summary.skipped_channels:
            click.echo("nothing due a collection")
        for kind, p in sorted(summary.platforms.items()):
            line = (f"{kind}: {p.collected}/{p.due} items, {p.calls} calls, "
                    f"{p.snapshots} snapshots ({p.missing} missing)")
            if p.deferred:
                line += f", {p.deferred} already read today (tomorrow, UTC)"
            if p.skipped_budget:
                line += f", {p.skipped_budget} skipped for the X budget"
            if p.rate_limited_until:
                line += f", rate limited until {p.rate_limited_until}"
            click.echo(line)
        for name in summary.skipped_channels:
            click.echo(f"{name}: skipped (channel removed, disabled, or posted by hand)")
        click.echo(f"X spend this month: ${summary.x_spent_usd:.3f} of "
                   f"${summary.x_budget_usd:.2f}")
        for message in summary.errors:
            click.echo(f"error: {message}", err=True)
    if summary.errors:
        raise SystemExit(1)


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
    when = parse_date(day, "--date")
    assert when is not None
    by = evaluation.recorder(ctx.config, person)
    evaluation.record_engagement(_store(ctx), by, now(), when, event, people, groups)
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
    when = parse_date(day, "--date") or ctx.today()
    by = evaluation.recorder(ctx.config, person)
    project = ctx.project()
    catalog = Catalog(ctx.config, project)
    share = evaluation.record_share(_store(ctx), catalog, by, now(), partner, channel, item_id, when)
    found = share.channel
    reach = f" (reach {found.reach:,})" if found.reach is not None else ""
    click.echo(f"recorded: {found.organisation} shared {item_id} on {found.name}{reach} on {when}")


@record.command(name="concerns")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", "person", metavar="PERSON", help=BY_HELP)
@click.pass_obj
def record_concerns(ctx: Context, csv_file: Path, person: str | None) -> None:
    """Import monthly safeguarding concerns (CSV: month,children,adults); all rows or none."""
    by = evaluation.recorder(ctx.config, person)
    try:
        months = evaluation.import_concerns(_store(ctx), by, now(), csv_file)
    except InputError as exc:
        print_problems(exc.problems)
        click.echo(f"{len(exc.problems)} problem(s): nothing was imported; fix the file and "
                   f"run this again.", err=True)
        raise SystemExit(1) from None
    click.echo(f"imported {len(months)} month(s) of concerns ({months[0]} to {months[-1]}); "
               f"months already held were replaced")


def _report_range(ctx: Context, start: str | None, end: str | None) -> tuple[date, date]:
    """Default: the twelve calendar months ending with the month of --to (default today)."""
    last = parse_date(end, "--to") or ctx.today()
    return parse_date(start, "--from") or evaluation.default_first(last), last


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
    from renderers.report import render_csv, render_html, render_json

    first, last = _report_range(ctx, start, end)
    project = ctx.project()
    if project.errors:  # still report what the ledger holds, without the plan's statuses
        data = evaluation.report(_store(ctx), Catalog(ctx.config, project), first, last, now(),
                                 campaign=campaign)
    else:
        data = evaluation.report_of(ctx.workspace(), now(), first, last, campaign=campaign)
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
