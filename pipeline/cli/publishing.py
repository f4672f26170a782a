"""The publishing commands: run, approve, reject, approvals, pause, resume, release, cancel,
resolve, post, status, history."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from pipeline.cli.context import Context, now, parse_date
from pipeline.cli.group import cli
from pipeline.cli.output import print_ids, print_items, wrapped
from pipeline.publisher import Outcome
from pipeline.services import approvals as approving
from pipeline.services import freeze, posting
from pipeline.services import status as reporting
from pipeline.services.approvals import Selection

BY = "Your person id from [people]."
# What `wst post` exits 1 for: the post did not go out, or may not have.
NOT_OUT = frozenset({Outcome.FAILED, Outcome.UNCONFIRMED})


@cli.command()
@click.option("--once", is_flag=True, help="Publish everything due now, then exit (for cron).")
@click.option("-v", "--verbose", is_flag=True, help="Log every job, not just warnings.")
@click.option("--standby", is_flag=True,
              help="If another daemon holds the store's lock, wait and take over when it is stale.")
@click.pass_obj
def run(ctx: Context, once: bool, verbose: bool, standby: bool) -> None:
    """The daemon: publish each item when it is due, exactly once, until stopped."""
    from pipeline.daemon import AlreadyRunning, run_daemon, run_once

    logging.basicConfig(level=logging.INFO if verbose or not once else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    if not verbose:
        # APScheduler logs every job it adds; a person wants our summary lines instead
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    mode = ctx.config.settings.mode
    try:
        if once:
            for result in run_once(ctx.config_path, os.environ):
                click.echo(f"{result.item_id}: {result}")
            return
        store = make_url(ctx.config.store_url).render_as_string(hide_password=True)
        click.echo(f"wst run: {mode} mode on {store}; Ctrl-C or SIGTERM stops it", err=True)
        run_daemon(ctx.config_path, os.environ, standby=standby,
                   on_ready=lambda d: click.echo("ready: jobs scheduled", err=True))
    except AlreadyRunning as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("stopped cleanly", err=True)


@cli.command()
@click.argument("items", nargs=-1)
@click.option("--by", "person", required=True, help=BY)
@click.option("--campaign", help="Approve every waiting item of this campaign.")
@click.option("--from", "start", metavar="DATE", help="Approve what waits from this day on.")
@click.option("--to", "end", metavar="DATE", help="... up to this day (inclusive).")
@click.option("--accept-identifying", is_flag=True,
              help="You have read the possible identifying details flagged and accept them.")
@click.pass_obj
def approve(ctx: Context, items: tuple[str, ...], person: str, campaign: str | None,
            start: str | None, end: str | None, accept_identifying: bool) -> None:
    """Approve the exact current version of items for live publication.

    ITEMS are ids from `wst approvals`; an id without its channel (campaign/post/YYYY-MM-DD)
    approves that post on every channel. Or approve what waits of a --campaign or between
    --from and --to."""
    actor = ctx.actor(person)
    selection = Selection(items, campaign, parse_date(start, "--from"), parse_date(end, "--to"))
    report = approving.approve(ctx.workspace(), actor, now(), selection,
                               accept_identifying=accept_identifying)
    for done in report.approved:
        click.echo(f"approved {done.item_id} (version {done.version}) by {done.person}")
    for refused in report.refused:
        click.echo(f"{refused.item_id}: not approved: {refused.reason}", err=True)
    if report.refused:
        raise SystemExit(1)


@cli.command()
@click.argument("items", nargs=-1, required=True)
@click.option("--reason", required=True, help="What needs to change (the writer sees this).")
@click.option("--by", "person", required=True, help=BY)
@click.pass_obj
def reject(ctx: Context, items: tuple[str, ...], reason: str, person: str) -> None:
    """Say no to the current version of items, with the reason; they stay unapproved."""
    for done in approving.reject(ctx.workspace(), ctx.actor(person), now(), items, reason):
        click.echo(f"rejected {done.item_id} (version {done.version}) by {done.person}: {reason}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--ids", "ids_only", is_flag=True, help="Print only the item ids, one per line.")
@click.option("--mine", "mine", metavar="PERSON", help="Only what this person may approve.")
@click.option("--campaign", help="Only this campaign.")
@click.option("--from", "start", metavar="DATE", help="Only what is due from this day on.")
@click.option("--to", "end", metavar="DATE", help="... up to this day (inclusive).")
@click.pass_obj
def approvals(ctx: Context, as_json: bool, ids_only: bool, mine: str | None, campaign: str | None,
              start: str | None, end: str | None) -> None:
    """Items waiting for approval, soonest first, with who may approve each."""
    found = approving.queue(ctx.workspace(), now(), person=mine, campaign=campaign,
                            start=parse_date(start, "--from"), end=parse_date(end, "--to"))
    if as_json:
        click.echo(json.dumps([{
            **w.line.as_json(), "responsibility": w.line.item.responsibility if w.line.item else "",
            "may_approve": list(w.may_approve),
            "rejected": None if w.rejected is None else {
                "by": w.rejected.person, "at": w.rejected.at.isoformat(),
                "reason": w.rejected.reason},
            "test_sends": [{"to": list(t.to), "by": t.by, "at": t.at.isoformat(),
                            "dry_run": t.dry_run} for t in w.tests]} for w in found],
            indent=2, ensure_ascii=False))
        return
    if ids_only:
        print_ids(w.line for w in found)
        return
    tz = ctx.config.tz
    details = []
    for w in found:
        more = [f"may approve: {', '.join(w.may_approve) or 'nobody: see config.toml'}"]
        if w.rejected:
            more.append(f"rejected by {w.rejected.person} on {w.rejected.at.astimezone(tz):%d %b}: "
                        f"{w.rejected.reason}")
        more += [f"test sent to {', '.join(t.to)} by {t.by} on {t.at.astimezone(tz):%d %b %H:%M}"
                 + (" (dry run)" if t.dry_run else "") for t in w.tests]
        details.append((w.line, more))
    print_items(f"{len(found)} waiting for approval", [w.line for w in found], tz, details)
    if found:
        click.echo("\nApprove one with: wst approve ID --by PERSON (or a post on all its channels: "
                   "its id without the channel; or --campaign ID, or --from/--to)")


@cli.command()
@click.option("--reason", required=True, help="Why (shown to everyone and in the record).")
@click.option("--until", "until", metavar="TIME", help="End automatically at this local time.")
@click.option("--keep-help", is_flag=True, help="Let 'how to get help' posts keep going.")
@click.option("--by", "person", required=True, help=BY)
@click.pass_obj
def pause(ctx: Context, reason: str, until: str | None, keep_help: bool, person: str) -> None:
    """Freeze all publication from now (a serious incident, national mourning).

    Whatever falls due while the pause lasts is held at its time; what falls due after it ends
    goes out as planned."""
    actor = ctx.actor(person)
    end = ctx.local_time(until, "--until") if until else None
    done = freeze.pause(ctx.workspace(), actor, now(), reason, until=end, keep_help=keep_help)
    click.echo(f"paused by {person}: {reason}" + (f" until {end:%a %d %b %Y %H:%M}" if end else "")
               + (" (help posts keep going)" if keep_help else ""))
    click.echo(f"whatever falls due while it lasts is held at its time ({done.due_soon} item(s) "
               f"in the next 24 hours); `wst resume --by PERSON` ends it")


def _decision_list(ctx: Context, found: freeze.HeldByPause, person: str) -> None:
    """What a pause held, by campaign and channel, and the commands that decide it."""
    entries = found.entries
    ended = found.ended_at
    click.echo(f"{len(entries)} item(s) fell due during the pause ({found.pause.reason}) and are "
               f"held for one decision" + (":" if entries else "."))
    groups: dict[str, dict[str, int]] = {}
    for e in entries:
        channels = groups.setdefault(e.campaign, {})
        channels[e.channel] = channels.get(e.channel, 0) + 1
    for campaign, channels in sorted(groups.items()):
        click.echo(f"  {campaign}: " + ", ".join(f"{n} on {c}" for c, n in sorted(channels.items())))
    if entries:
        click.echo(f"release them all: wst release --held-by-pause --by {person}")
        click.echo(f"or cancel them:   wst cancel --held-by-pause --reason \"...\" --by {person}")
        click.echo("(add --campaign ID or --channel NAME to decide part of them)")
        settings = ctx.config.settings.freeze
        if settings.undecided == "cancel":
            click.echo(f"if nobody decides, they are cancelled {settings.cancel_after_days} day(s) "
                       f"after the pause ended ([freeze] undecided = \"cancel\")")
        else:
            click.echo("if nobody decides, they stay held and the business unit is reminded "
                       "every day ([freeze] undecided = \"hold\")")
    if ended is None:
        click.echo("the pause is still on")


@cli.command()
@click.option("--by", "person", required=True, help=BY)
@click.pass_obj
def resume(ctx: Context, person: str) -> None:
    """End the pause: the schedule goes on for everything later, and what fell due while it
    lasted waits for one decision."""
    found = freeze.resume(ctx.workspace(), ctx.actor(person), now())
    click.echo(f"resumed by {person}: everything due from now on goes out as planned.")
    _decision_list(ctx, found, person)


def _same_channel(item: str, channel: str | None) -> None:
    """--channel is optional (the id names it); when given it must agree."""
    named = freeze.channel_of(item)
    if channel is not None and channel != named:
        raise click.BadParameter(f"{item} is on {named}, not {channel}; leave --channel out",
                                 param_hint="--channel")


CHANNEL_HELP = "The channel (optional: the id already names it); with --held-by-pause, only it."


def _one_or_pause(item: str | None, by_pause: bool) -> None:
    if (item is None) == (not by_pause):
        raise click.UsageError("name one ITEM, or --held-by-pause for what a pause held")


def _decided(ctx: Context, done: list) -> None:
    for d in done:
        if isinstance(d, freeze.Released):
            line = f"released {d.entry.item_id} ({d.entry.state})"
            click.echo(line + (f": {d.published}" if d.published is not None else ""))
        else:
            click.echo(f"cancelled {d.item_id}")


@cli.command()
@click.argument("item", required=False)
@click.option("--channel", help=CHANNEL_HELP)
@click.option("--held-by-pause", "by_pause", is_flag=True,
              help="Release everything the last pause held (or --pause ID's).")
@click.option("--pause", "pause_id", type=int, metavar="ID", help="Which pause (default the last).")
@click.option("--campaign", help="With --held-by-pause: only this campaign.")
@click.option("--by", "person", required=True, help=BY)
@click.pass_obj
def release(ctx: Context, item: str | None, channel: str | None, by_pause: bool,
            pause_id: int | None, campaign: str | None, person: str) -> None:
    """Let a held item go ahead (it publishes at once, late on purpose, if its time has come)."""
    _one_or_pause(item, by_pause)
    if by_pause:
        _decided(ctx, freeze.decide(ctx.workspace(), ctx.actor(person), now(), release_them=True,
                                    pause_id=pause_id, campaign=campaign, channel=channel))
        return
    assert item is not None
    _same_channel(item, channel)
    done = freeze.release(ctx.workspace(), ctx.actor(person), now(), item)
    click.echo(f"released {item} on {done.entry.channel} ({done.entry.state})")
    if done.published is not None:
        click.echo(f"{item}: {done.published}")


@cli.command()
@click.argument("item", required=False)
@click.option("--channel", help=CHANNEL_HELP)
@click.option("--held-by-pause", "by_pause", is_flag=True,
              help="Cancel everything the last pause held (or --pause ID's).")
@click.option("--pause", "pause_id", type=int, metavar="ID", help="Which pause (default the last).")
@click.option("--campaign", help="With --held-by-pause: only this campaign.")
@click.option("--reason", required=True, help="Why it will not go out.")
@click.option("--by", "person", required=True, help=BY)
@click.pass_obj
def cancel(ctx: Context, item: str | None, channel: str | None, by_pause: bool,
           pause_id: int | None, campaign: str | None, reason: str, person: str) -> None:
    """Decide that an item (or what a pause held) will not go out."""
    _one_or_pause(item, by_pause)
    if by_pause:
        _decided(ctx, freeze.decide(ctx.workspace(), ctx.actor(person), now(), release_them=False,
                                    reason=reason, pause_id=pause_id, campaign=campaign,
                                    channel=channel))
        return
    assert item is not None
    _same_channel(item, channel)
    rows = freeze.cancel(ctx.workspace(), ctx.actor(person), now(), item, reason)
    click.echo(f"cancelled {item} on {rows[0].channel}: {reason}")


@cli.command()
@click.argument("item")
@click.option("--channel", help=CHANNEL_HELP)
@click.option("--published-as", metavar="ID", help="It went out: the platform's id or link.")
@click.option("--not-published", is_flag=True, help="It did not go out.")
@click.option("--by", "person", required=True, help=BY)
@click.pass_obj
def resolve(ctx: Context, item: str, channel: str | None, published_as: str | None,
            not_published: bool, person: str) -> None:
    """Settle an unconfirmed or held item by hand, after checking the platform."""
    if (published_as is None) == (not not_published):
        raise click.UsageError("give exactly one of --published-as ID or --not-published")
    _same_channel(item, channel)
    entry = freeze.resolve(ctx.workspace(), ctx.actor(person), now(), item,
                           published_as=published_as, not_published=not_published)
    click.echo(f"{item} on {entry.channel} is now {entry.state} (recorded for {person})")


@cli.command()
@click.option("--text", required=True, help="The post's text.")
@click.option("--channels", required=True, help="Comma-separated channel names.")
@click.option("--image", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An image file.")
@click.option("--alt", default="", help="The image's alt text (required with --image).")
@click.option("--at", "at", metavar="TIME", help="When (local time); default now.")
@click.option("--help-post", is_flag=True, help="A 'how to get help' post (goes out in a pause "
              "with --keep-help).")
@click.option("--answers-pause", is_flag=True,
              help="During a pause: you confirm this statement answers the event the pause is "
                   "for, so it goes out in the pause (recorded in the audit trail).")
@click.option("--approved-by", "person", required=True,
              help="An accountable person for reactive posts, from [people].")
@click.option("--accept-identifying", is_flag=True,
              help="Accept the possible identifying details the checks flag.")
@click.pass_obj
def post(ctx: Context, text: str, channels: str, image: Path | None, alt: str, at: str | None,
         help_post: bool, answers_pause: bool, person: str, accept_identifying: bool) -> None:
    """A reactive post, through the same checks, ledger and gates as planned posts."""
    actor = ctx.actor(person, "--approved-by")
    draft = posting.Draft(text, tuple(c.strip() for c in channels.split(",") if c.strip()),
                          image, alt, ctx.local_time(at, "--at") if at else None, help_post,
                          answers_pause)
    try:
        done = posting.post(ctx.workspace(), actor, now(), draft,
                            accept_identifying=accept_identifying)
    except posting.PostRefused as exc:
        for line in exc.problems:
            click.echo(f"error: {line}", err=True)
        raise
    for line in done.warnings:
        click.echo(f"warning: {line}", err=True)
    for result in done.published:
        click.echo(f"{result.item_id}: {result}")
    if not done.published:
        click.echo(f"saved; `wst run` publishes it at "
                   f"{done.due.astimezone(ctx.config.tz):%a %d %b %H:%M}")
    if any(r.outcome in NOT_OUT for r in done.published):
        raise SystemExit(1)  # a script must see that it did not (surely) go out


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def status(ctx: Context, as_json: bool) -> None:
    """Mode, pause, the daemon, each channel's health, every item's status, what is next and
    what needs a person."""
    report = reporting.status(ctx.workspace(), now())
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
        return
    tz = ctx.config.tz
    p, d = report.pause, report.daemon
    click.echo(f"mode: {report.mode}" + (" (nothing is published: see outbox/)"
                                         if report.mode == "dry-run" else ""))
    click.echo("pause: " + ("none" if p is None else
                            f"{p.reason} (by {p.by}"
                            + (f", until {p.until.astimezone(tz):%a %d %b %H:%M}" if p.until else "")
                            + (", help posts keep going" if p.keep_help else "") + ")"))
    click.echo("daemon: " + ("not running: approved items are not sent until `wst run` runs"
                             if d is None else
                             f"pid {d.pid} on {d.host}, last seen "
                             f"{d.heartbeat_at.astimezone(tz):%H:%M:%S}"))
    click.echo("items: " + (", ".join(f"{n} {status}" for status, n in report.counts.items())
                            or "nothing recorded yet"))
    x = report.x_spend
    click.echo(f"X reads this month: ${x.spent_usd:.3f} of ${x.budget_usd:.2f}")
    click.echo("channels:")
    for c in report.channels:
        notes = [("dry-run" if c.dry_run else "live"), f"credentials {c.credentials}"]
        if c.flagged:
            notes.append(f"FLAGGED: {c.flagged}")
        if c.rate_limited_until:
            notes.append(f"rate-limited until {c.rate_limited_until.astimezone(tz):%a %d %b %H:%M}")
        click.echo(wrapped(f"{c.name} ({c.kind}): {'; '.join(notes)}"))
    if report.attention:
        click.echo("")
        print_items(f"needs a person ({len(report.attention)}):", report.attention, tz)
    click.echo("")
    print_items(f"next ({len(report.upcoming)}):", report.upcoming, tz)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--ids", "ids_only", is_flag=True, help="Print only the item ids, one per line.")
@click.option("--from", "start", metavar="DATE", help="First day; default 30 days ago.")
@click.option("--to", "end", metavar="DATE", help="Last day (inclusive); default today.")
@click.pass_obj
def history(ctx: Context, as_json: bool, ids_only: bool, start: str | None, end: str | None) -> None:
    """Every recorded item in a date range with its status, platform link and attempts."""
    today = ctx.today()
    first = parse_date(start, "--from") or today - timedelta(days=30)
    last = parse_date(end, "--to") or today
    lines = reporting.history(ctx.workspace(), now(), first, last)
    if as_json:
        click.echo(json.dumps([reporting.line_json(line) for line in lines], indent=2,
                              ensure_ascii=False))
        return
    if ids_only:
        print_ids(lines)
        return
    details = []
    for line in lines:
        e = line.entry
        if e is not None and e.attempts:
            details.append((line, [f"attempts: {e.attempts}"
                                   + (f"; last error: {e.last_error}" if e.last_error
                                      and e.last_error != line.status.note else "")]))
    print_items(f"History {first} to {last}: {len(lines)} items", lines, ctx.config.tz, details)
