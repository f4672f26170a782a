"""`wst serve` (the web workspace) and `wst user` (sign-in links for the people of [people])."""

from __future__ import annotations

import getpass
import logging
import os
import sys

import click

from pipeline.cli.context import Context, now
from pipeline.cli.group import cli
from pipeline.ledger import Actor
from pipeline.services import signin

THREADS = 8  # requests served at once (the calendar and item pages are the slow ones)


def _operator() -> Actor:
    """An action at the command line, recorded as this operating-system user's."""
    user = getpass.getuser()
    return Actor(user, via="cli", os_user=user)


@cli.command()
@click.option("--host", help="Address to listen on (default [web] host, loopback).")
@click.option("--port", type=int, help="Port to listen on (default [web] port).")
@click.option("--invite", "invite_person", metavar="PERSON",
              help="Dry run: if PERSON has no password yet, print a link to set one (for `make run`).")
@click.pass_obj
def serve(ctx: Context, host: str | None, port: int | None, invite_person: str | None) -> None:
    """The web workspace: sign in, calendar, item review and approvals, over the same store."""
    import waitress

    from pipeline.web.app import create_app

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(ctx.config_path, os.environ)
    state = app.extensions["wst"]
    workspace = state.holder.ws
    web = workspace.config.settings.web
    host, port = host or web.host, port or web.port
    click.echo(f"wst serve: the web workspace at {signin.base_url(workspace)} "
               f"(listening on {host}:{port}); Ctrl-C stops it", err=True)
    if invite_person and workspace.config.settings.mode == "dry-run" \
            and not state.accounts.has_account(invite_person):
        made = signin.invite(workspace, state.accounts, _operator(), now(), invite_person)
        click.echo(f"first sign-in: open {made.link} to set a password for '{invite_person}' "
                   f"(works once, for {web.invite_hours} hours); others: `wst user invite PERSON`",
                   err=True)
    else:
        click.echo("to sign someone in: `wst user invite PERSON` makes their one-time link", err=True)
    try:
        waitress.serve(app, host=host, port=port, threads=THREADS, ident="wst")
    finally:
        state.holder.close()


@cli.group()
def user() -> None:
    """Sign-in for the people of [people] in the web workspace."""


@user.command(name="invite")
@click.argument("person")
@click.pass_obj
def user_invite(ctx: Context, person: str) -> None:
    """Make a one-time, expiring link by which PERSON sets their password (emailed to them in
    live mode; printed in a dry run, or when it could not be emailed)."""
    from pipeline.accounts import Accounts

    workspace = ctx.workspace()
    made = signin.invite(workspace, Accounts(workspace.store), _operator(), now(), person)
    until = made.expires_at.astimezone(ctx.config.tz)
    if made.emailed_to:
        click.echo(f"emailed {person} ({made.emailed_to}) a sign-in link that works once, until "
                   f"{until:%a %d %b %H:%M}")
    else:
        click.echo(f"{person} sets their password at this link (it works once, until "
                   f"{until:%a %d %b %H:%M}); give it to them yourself:\n{made.link}")
