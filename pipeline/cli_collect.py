"""`wst collect`: read engagement back from every platform now."""

from __future__ import annotations

import json
import os

import click

from pipeline.cli import Context, _now, cli


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--all", "every", is_flag=True,
              help="Every live published item, not only those due on the cadence (X posts are "
                   "still read at most once a UTC day and within the monthly budget).")
@click.pass_obj
def collect(ctx: Context, as_json: bool, every: bool) -> None:
    """Collect views, reach and engagement for published items and store the snapshots."""
    from pipeline.metrics.collect import collect_due
    from pipeline.store import open_store

    config = ctx.config
    store = open_store(config.store_url)
    try:
        summary = collect_due(store, config, os.environ, _now(), only_due=not every)
    finally:
        store.close()
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
