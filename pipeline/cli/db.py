"""`wst db`: the store's schema migrations (applied at every start anyway; these say so)."""

from __future__ import annotations

import click
from sqlalchemy.engine import make_url

from pipeline.cli.context import Context
from pipeline.cli.group import cli
from pipeline.store import migrate, open_store


def _where(ctx: Context) -> str:
    return make_url(ctx.config.store_url).render_as_string(hide_password=True)


@cli.group()
def db() -> None:
    """The store's database schema."""


@db.command(name="upgrade")
@click.pass_obj
def db_upgrade(ctx: Context) -> None:
    """Bring the store to the schema this version needs (every command does this on start)."""
    store = open_store(ctx.config.store_url, upgrade=False)
    try:
        before, after = migrate.upgrade(store)
    finally:
        store.close()
    if before == after:
        click.echo(f"{_where(ctx)}: already at {after} (head)")
    else:
        click.echo(f"{_where(ctx)}: upgraded from {before or 'no revision'} to {after} (head)")


@db.command(name="current")
@click.pass_obj
def db_current(ctx: Context) -> None:
    """Print the store's schema revision, and whether it is this version's head."""
    store = open_store(ctx.config.store_url, upgrade=False)
    try:
        with store.reading() as conn:
            revision = migrate.current_revision(conn)
    finally:
        store.close()
    head = migrate.head_revision()
    note = "head" if revision == head else f"behind head {head}: run `wst db upgrade`"
    click.echo(f"{revision or 'none'} ({note})")
