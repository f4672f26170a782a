"""The publishing commands of `wst`: run, approve, pause, resume, post, resolve, status, history."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from dateutil import parser as dateparser
from rich.console import Console
from rich.table import Table

from pipeline.cli import Context, _now, _parse_date, _print_problems, cli
from pipeline.ledger import HELD, LedgerError


def _runtime(ctx: Context):
    from pipeline.jobs import Runtime
    from pipeline.problems import InputError

    try:
        return Runtime(ctx.config_path, os.environ)
    except InputError as exc:
        _print_problems(exc.problems)
        click.echo("fix these (see `wst check`) first.", err=True)
        raise SystemExit(1) from None


def _person(ctx: Context, person: str, option: str = "--by") -> str:
    from pipeline.problems import did_you_mean

    people = ctx.config.settings.people
    if person not in people:
        raise click.BadParameter(f"'{person}' is not in [people] in config.toml"
                                 f"{did_you_mean(person, people)}", param_hint=option)
    return person


def _local_time(ctx: Context, value: str, option: str) -> datetime:
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
        from pipeline.timing import resolve_local

        moment = resolve_local(moment.date(), moment.time(), ctx.config.tz).due
    return moment


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc))


@cli.command()
@click.option("--once", is_flag=True, help="Publish everything due now, then exit (for cron).")
@click.option("-v", "--verbose", is_flag=True, help="Log every job, not just warnings.")
@click.option("--standby", is_flag=True,
              help="If another daemon holds the store's lock, wait and take over when it is stale.")
@click.pass_obj
def run(ctx: Context, once: bool, verbose: bool, standby: bool) -> None:
    """The daemon: publish each item when it is due, exactly once, until stopped."""
    from sqlalchemy.engine import make_url

    from pipeline.daemon import AlreadyRunning, run_daemon, run_once
    from pipeline.problems import InputError
    from pipeline.store import StoreError

    logging.basicConfig(level=logging.INFO if verbose or not once else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    if not verbose:
        # APScheduler logs every job it adds; a person wants our summary lines instead
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    mode = ctx.config.settings.mode
    try:
        if once:
            for line in run_once(ctx.config_path, os.environ):
                click.echo(line)
            return
        store = make_url(ctx.config.store_url).render_as_string(hide_password=True)
        click.echo(f"wst run: {mode} mode on {store}; Ctrl-C or SIGTERM stops it", err=True)
        run_daemon(ctx.config_path, os.environ, standby=standby,
                   on_ready=lambda d: click.echo("ready: jobs scheduled", err=True))
    except (AlreadyRunning, StoreError) as exc:
        raise click.ClickException(str(exc)) from None
    except InputError as exc:
        _print_problems(exc.problems)
        raise SystemExit(1) from None
    click.echo("stopped cleanly", err=True)


@cli.command()
@click.argument("items", nargs=-1)
@click.option("--by", "person", required=True, help="Your person id from [people].")
@click.option("--campaign", help="Approve every waiting item of this campaign instead.")
@click.option("--accept-identifying", is_flag=True,
              help="You have read the possible identifying details flagged and accept them.")
@click.pass_obj
def approve(ctx: Context, items: tuple[str, ...], person: str, campaign: str | None,
            accept_identifying: bool) -> None:
    """Approve the exact current version of items for live publication."""
    _person(ctx, person)
    runtime = _runtime(ctx)
    now = _now()
    current = runtime.sync(now)
    if campaign:
        waiting = {e.item_id for e in runtime.ledger.approvals_pending(now)}
        items = tuple(i.id for i in current if i.campaign == campaign and i.id in waiting)
        if not items:
            raise click.ClickException(f"nothing of '{campaign}' is waiting for approval")
    if not items:
        raise click.UsageError("name the items to approve (see `wst approvals`), or --campaign")
    failed = 0
    for item_id in items:
        item = runtime.item(item_id)
        if item is None:
            click.echo(f"{item_id}: no such item in the plan", err=True)
            failed += 1
            continue
        rendered = runtime.renderer.render(item)
        try:
            runtime.ledger.sync_planned([item], now, dry_run=runtime.dry_run_for)
            runtime.ledger.approve(
                item.id, item.version, person, now, runtime.config,
                blocking_errors=[f"[{f.code}] {f.message}" for f in rendered.errors],
                identifying=[f.message for f in rendered.findings if f.needs_acceptance],
                accept_identifying=accept_identifying)
        except LedgerError as exc:
            click.echo(f"{item_id}: not approved: {exc}", err=True)
            failed += 1
            continue
        click.echo(f"approved {item.id} (version {item.version}) by {person}")
    if failed:
        raise SystemExit(1)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def approvals(ctx: Context, as_json: bool) -> None:
    """Items waiting for approval, soonest first, with who may approve each."""
    runtime = _runtime(ctx)
    now = _now()
    runtime.sync(now)
    rows = []
    for e in runtime.ledger.approvals_pending(now):
        resp = ctx.config.settings.responsibilities.get(e.responsibility)
        who = ctx.config.people_with(list(resp.accountable)) if resp else []
        rows.append({"id": e.item_id, "channel": e.channel, "due": e.due.astimezone(ctx.config.tz)
                     .isoformat(), "title": e.title, "version": e.version,
                     "responsibility": e.responsibility, "may_approve": who})
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{len(rows)} waiting for approval", title_justify="left")
    for col in ("due", "id", "title", "may approve"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(datetime.fromisoformat(r["due"]).strftime("%a %d %b %H:%M"), r["id"],
                      r["title"], ", ".join(r["may_approve"]) or "nobody: see config.toml")
    Console(width=max(120, Console().width)).print(table)


@cli.command()
@click.option("--reason", required=True, help="Why (shown to everyone and in the record).")
@click.option("--until", "until", metavar="TIME", help="End automatically at this local time.")
@click.option("--keep-help", is_flag=True, help="Let 'how to get help' posts keep going.")
@click.option("--by", "person", required=True, help="Your person id from [people].")
@click.pass_obj
def pause(ctx: Context, reason: str, until: str | None, keep_help: bool, person: str) -> None:
    """Freeze all publication at once (a serious incident, national mourning)."""
    _person(ctx, person)
    runtime = _runtime(ctx)
    now = _now()
    runtime.sync(now)
    end = _local_time(ctx, until, "--until") if until else None
    try:
        held = runtime.ledger.pause(reason, person, now, until=end, keep_help=keep_help)
    except LedgerError as exc:
        _fail(exc)
    click.echo(f"paused by {person}: {reason}" + (f" until {end:%a %d %b %Y %H:%M}" if end else "")
               + (" (help posts keep going)" if keep_help else ""))
    click.echo(f"{len(held)} waiting item(s) held; `wst resume --by PERSON` ends the pause")


@cli.command()
@click.option("--by", "person", required=True, help="Your person id from [people].")
@click.pass_obj
def resume(ctx: Context, person: str) -> None:
    """End the pause and list the items it held, for a decision on each."""
    _person(ctx, person)
    runtime = _runtime(ctx)
    try:
        held = runtime.ledger.resume(person, _now())
    except LedgerError as exc:
        _fail(exc)
    click.echo(f"resumed by {person}. {len(held)} item(s) held during the pause need a decision:")
    for e in held:
        click.echo(f"  {e.due.astimezone(ctx.config.tz):%a %d %b %H:%M}  {e.item_id}  "
                   f"(release: wst release {e.item_id} --channel {e.channel} --by {person}; "
                   f"or cancel: wst cancel {e.item_id} --channel {e.channel} --reason ... "
                   f"--by {person})")


def _held_entry(runtime, item_id: str, channel: str):
    entries = [e for e in runtime.ledger.entries(item_id=item_id)
               if e.channel == channel and e.state == HELD]
    if not entries:
        raise click.ClickException(f"{item_id} on {channel} is not held")
    return sorted(entries, key=lambda e: e.dry_run)[0]


@cli.command()
@click.argument("item")
@click.option("--channel", required=True, help="The channel.")
@click.option("--by", "person", required=True, help="Your person id from [people].")
@click.pass_obj
def release(ctx: Context, item: str, channel: str, person: str) -> None:
    """Let a held item go ahead (it publishes at once if its time has come)."""
    _person(ctx, person)
    runtime = _runtime(ctx)
    now = _now()
    entry = _held_entry(runtime, item, channel)
    try:
        entry = runtime.ledger.release(entry.key, person, now)
    except LedgerError as exc:
        _fail(exc)
    click.echo(f"released {item} on {channel} ({entry.state})")
    if entry.due <= now:
        click.echo(f"{item}: {runtime.publish(item)}")


@cli.command()
@click.argument("item")
@click.option("--channel", required=True, help="The channel.")
@click.option("--reason", required=True, help="Why it will not go out.")
@click.option("--by", "person", required=True, help="Your person id from [people].")
@click.pass_obj
def cancel(ctx: Context, item: str, channel: str, reason: str, person: str) -> None:
    """Decide that an item will not go out."""
    _person(ctx, person)
    runtime = _runtime(ctx)
    entries = [e for e in runtime.ledger.entries(item_id=item) if e.channel == channel
               and e.state in ("planned", "approved", "held", "failed")]
    if not entries:
        raise click.ClickException(f"{item} on {channel} has nothing waiting to cancel")
    for e in entries:
        runtime.ledger.cancel(e.key, reason, person, _now())
    click.echo(f"cancelled {item} on {channel}: {reason}")


@cli.command()
@click.argument("item")
@click.option("--channel", required=True, help="The channel.")
@click.option("--published-as", metavar="ID", help="It went out: the platform's id or link.")
@click.option("--not-published", is_flag=True, help="It did not go out.")
@click.option("--by", "person", required=True, help="Your person id from [people].")
@click.pass_obj
def resolve(ctx: Context, item: str, channel: str, published_as: str | None,
            not_published: bool, person: str) -> None:
    """Settle an unconfirmed or held item by hand, after checking the platform."""
    if (published_as is None) == (not not_published):
        raise click.UsageError("give exactly one of --published-as ID or --not-published")
    _person(ctx, person)
    runtime = _runtime(ctx)
    try:
        entry = runtime.ledger.resolve(item, channel, published_as, not_published, person, _now())
    except LedgerError as exc:
        _fail(exc)
    click.echo(f"{item} on {channel} is now {entry.state} (recorded for {person})")


@cli.command()
@click.option("--text", required=True, help="The post's text.")
@click.option("--channels", required=True, help="Comma-separated channel names.")
@click.option("--image", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An image file.")
@click.option("--alt", default="", help="The image's alt text (required with --image).")
@click.option("--at", "at", metavar="TIME", help="When (local time); default now.")
@click.option("--help-post", is_flag=True, help="A 'how to get help' post (goes out in a pause "
              "with --keep-help).")
@click.option("--approved-by", "person", required=True,
              help="An accountable person for reactive posts, from [people].")
@click.option("--accept-identifying", is_flag=True,
              help="Accept the possible identifying details the checks flag.")
@click.pass_obj
def post(ctx: Context, text: str, channels: str, image: Path | None, alt: str, at: str | None,
         help_post: bool, person: str, accept_identifying: bool) -> None:
    """A reactive post, through the same checks, ledger and gates as planned posts."""
    from pipeline.reactive import ReactivePost, new_id

    _person(ctx, person, "--approved-by")
    if image and not alt.strip():
        raise click.BadParameter("an image needs alt text describing it", param_hint="--alt")
    names = [c.strip() for c in channels.split(",") if c.strip()]
    enabled = ctx.config.enabled_channels()
    for name in names:
        if name not in enabled:
            raise click.BadParameter(f"'{name}' is not an enabled channel; choose from "
                                     f"{', '.join(enabled)}", param_hint="--channels")
    runtime = _runtime(ctx)
    now = _now()
    due = _local_time(ctx, at, "--at") if at else now
    rp = ReactivePost(new_id(text, due), text, tuple(names), str(image.resolve()) if image else "",
                      alt, help_post, due.astimezone(UTC))
    runtime.renderer.register(rp.campaign_post())
    from pipeline.reactive import items_for

    items = items_for(rp, ctx.config.tz, set(enabled))
    problems = []
    for item in items:
        rendered = runtime.renderer.render(item)
        problems += [f"{item.channel}: {f.message}" for f in rendered.errors]
        if not accept_identifying:
            problems += [f"{item.channel}: {f.message} (add --accept-identifying once checked)"
                         for f in rendered.findings if f.needs_acceptance]
        for f in rendered.findings:
            if f.severity == "warning" and not f.needs_acceptance:
                click.echo(f"warning: {item.channel}: {f.message}", err=True)
    if problems:
        for line in dict.fromkeys(problems):
            click.echo(f"error: {line}", err=True)
        raise click.ClickException("nothing was posted or saved; fix the text and try again")
    runtime.reactive.add(rp, person, now)
    runtime.ledger.sync_planned(items, now, dry_run=runtime.dry_run_for)
    for item in items:
        try:
            runtime.ledger.approve(item.id, item.version, person, now, runtime.config,
                                   identifying=[], accept_identifying=accept_identifying)
        except LedgerError as exc:
            raise click.ClickException(f"not approved: {exc}") from None
    if due <= now:  # a later time is the daemon's to keep: never publish early
        for item in items:
            click.echo(f"{item.id}: {runtime.publish(item.id)}")
    else:
        click.echo(f"saved; `wst run` publishes it at {due.astimezone(ctx.config.tz):%a %d %b %H:%M}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def status(ctx: Context, as_json: bool) -> None:
    """Mode, pause, the daemon, next items, each channel's health, counts and failures."""
    runtime = _runtime(ctx)
    now = _now()
    config = ctx.config
    ledger = runtime.ledger
    pause_ = ledger.active_pause(now)
    holder = runtime.store.lock_holder()
    health = ledger.channel_health()
    channels = {}
    for name, c in config.enabled_channels().items():
        h = health.get(name, {})
        missing = [v for v in c.env_names.values() if not os.environ.get(v)]
        limited = h.get("rate_limited_until")
        channels[name] = {
            "kind": c.kind, "dry_run": runtime.dry_run_for(name),
            "credentials": "missing: " + ", ".join(missing) if missing else "set",
            "flagged": h.get("reason") if h.get("flagged") else None,
            "rate_limited_until": limited.isoformat() if limited and limited > now else None,
        }
    from pipeline.metrics.budget import XReads

    month = now.astimezone(UTC)
    x_spend = {"spent_usd": round(XReads(runtime.store).spent_usd(month.year, month.month), 3),
               "budget_usd": config.settings.metrics.x_monthly_budget_usd,
               "month": f"{month:%Y-%m}"}
    upcoming = [e for e in ledger.entries(states=["planned", "approved"]) if e.due >= now]
    upcoming.sort(key=lambda e: e.due)
    report = {
        "mode": config.settings.mode,
        "pause": None if pause_ is None else {
            "reason": pause_.reason, "by": pause_.by, "since": pause_.started_at.isoformat(),
            "until": pause_.until.isoformat() if pause_.until else None,
            "keep_help": pause_.keep_help},
        "daemon": None if holder is None else {
            "pid": holder.pid, "host": holder.host, "heartbeat": holder.heartbeat_at.isoformat()},
        "next": [{"id": e.item_id, "channel": e.channel, "due": e.due.isoformat(),
                  "state": e.state} for e in upcoming[:10]],
        "channels": channels,
        "counts": ledger.counts_by_state(),
        "x_read_spend": x_spend,
        "recent_failures": [{"id": e.item_id, "channel": e.channel, "state": e.state,
                             "error": e.last_error} for e in ledger.recent_failures(10)],
    }
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    tz = config.tz
    click.echo(f"mode: {report['mode']}")
    click.echo("pause: " + ("none" if pause_ is None else
                            f"{pause_.reason} (by {pause_.by}"
                            + (f", until {pause_.until.astimezone(tz):%a %d %b %H:%M}"
                               if pause_.until else "") + ")"))
    click.echo("daemon: " + ("not running" if holder is None else
                             f"pid {holder.pid} on {holder.host}, last seen "
                             f"{holder.heartbeat_at.astimezone(tz):%H:%M:%S}"))
    click.echo("counts: " + (", ".join(f"{k} {v}" for k, v in sorted(report["counts"].items()))
                             or "nothing recorded yet"))
    click.echo(f"X reads this month: ${x_spend['spent_usd']:.3f} of ${x_spend['budget_usd']:.2f}")
    click.echo("channels:")
    for name, c in channels.items():
        notes = [("dry-run" if c["dry_run"] else "live"), f"credentials {c['credentials']}"]
        if c["flagged"]:
            notes.append(f"FLAGGED: {c['flagged']}")
        if c["rate_limited_until"]:
            notes.append(f"rate-limited until {c['rate_limited_until']}")
        click.echo(f"  {name} ({c['kind']}): {'; '.join(notes)}")
    click.echo("next:")
    for e in upcoming[:10]:
        click.echo(f"  {e.due.astimezone(tz):%a %d %b %H:%M}  {e.item_id}  ({e.state})")
    if report["recent_failures"]:
        click.echo("recent failures:")
        for f in report["recent_failures"]:
            click.echo(f"  {f['id']} on {f['channel']}: {f['state']}: {f['error']}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--from", "start", metavar="DATE", help="First day; default 30 days ago.")
@click.option("--to", "end", metavar="DATE", help="Last day (inclusive); default today.")
@click.pass_obj
def history(ctx: Context, as_json: bool, start: str | None, end: str | None) -> None:
    """Every publication in a date range with its state, platform id and link."""
    from pipeline.timing import resolve_local

    runtime = _runtime(ctx)
    tz = ctx.config.tz
    today = ctx.today()
    first = _parse_date(start, "--from") or today - timedelta(days=30)
    last = _parse_date(end, "--to") or today
    lo = resolve_local(first, datetime.min.time(), tz).due
    hi = resolve_local(last + timedelta(days=1), datetime.min.time(), tz).due
    rows = runtime.ledger.history(lo, hi)
    out = []
    for r in rows:
        out.append({k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()})
    if as_json:
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"History {first} to {last}: {len(out)}", title_justify="left")
    for col in ("due", "id", "channel", "state", "remote id / link", "attempts", "last error"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["due"].astimezone(tz).strftime("%d %b %H:%M"), r["id"], r["channel"],
                      r["state"], r.get("url") or r.get("remote_id") or "", str(r["attempts"]),
                      r.get("last_error") or "")
    Console(width=max(140, Console().width)).print(table)
