"""Signing in to the web workspace: invitations, setting a password, signing in and out; each
recorded in the audit trail with the person and where they acted from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline import links
from pipeline.accounts import Accounts, Session
from pipeline.errors import WstError
from pipeline.ledger import Actor
from pipeline.services.actor import known_person
from pipeline.workspace import Workspace

SIGN_IN_FAILED = "the user name or password is not right"  # one answer, whichever it was


class SignInRefused(WstError):
    """A wrong password or an unknown name: the same message, so neither is revealed."""

    def __init__(self) -> None:
        super().__init__(SIGN_IN_FAILED)


@dataclass(frozen=True)
class Invitation:
    """A one-time link for a person to set their password."""

    person: str
    link: str
    expires_at: datetime
    emailed_to: str      # '' when it was not emailed (a dry run, or no email or relay)


def invite_link(ws: Workspace, token: str) -> str:
    """The address of the set-password page for an invitation token."""
    return links.invite_page(ws.config.settings, token)


def base_url(ws: Workspace) -> str:
    """Where people open the workspace ([web] base_url, else http://HOST:PORT)."""
    return links.base_url(ws.config.settings)


def invite(ws: Workspace, accounts: Accounts, actor: Actor, now: datetime, person: str) -> Invitation:
    """A one-time, expiring link by which `person` (a key of [people]) sets a password. In live
    mode it is emailed to them (through the alerts' SMTP settings) when they have an email."""
    settings = ws.config.settings
    known_person(settings, person, "PERSON")
    valid = timedelta(hours=settings.web.invite_hours)
    token = accounts.invite(person, actor.person, now, valid)
    link = invite_link(ws, token)
    email = settings.people[person].email
    emailed = ""
    if settings.mode == "live" and email and settings.alerts.smtp_url:
        until = (now + valid).astimezone(ws.config.tz)
        ws.alerts.tell("invite", [email], "Your sign-in to the WST publishing workspace",
                       f"You are invited to sign in to {settings.partnership.short_name}'s "
                       f"publishing workspace as '{person}'.\n\nSet your password here (the "
                       f"link works once, until {until:%a %d %b %H:%M}):\n{link}\n\nIf you did "
                       f"not expect this, tell the business unit.", now)
        emailed = email
    ws.ledger.audit.add(now, "invite", actor, details={"person": person, "emailed": bool(emailed)})
    return Invitation(person, link, now + valid, emailed)


def set_password(ws: Workspace, accounts: Accounts, token: str, password: str, now: datetime,
                 address: str) -> str:
    """Set a password by an invitation (Invalid says what to fix); returns the person."""
    person = accounts.redeem(token, password, now)
    ws.ledger.audit.add(now, "password-set", Actor(person, via="web", address=address))
    return person


def sign_in(ws: Workspace, accounts: Accounts, name: str, password: str, now: datetime,
            address: str) -> tuple[str, str]:
    """A new session for the person if the password is theirs: (person, session token).
    Otherwise SignInRefused, with the same words for an unknown name and a wrong password."""
    person = name.strip()
    known = person in ws.config.settings.people
    if not (accounts.verify(person, password) and known):
        # the attempted name is kept only if it is a person's: it may be a password typed
        # into the wrong box
        ws.ledger.audit.add(now, "sign-in-failed", Actor(person if known else "unknown",
                                                          via="web", address=address))
        raise SignInRefused()
    token = accounts.start(person, now, address)
    ws.ledger.audit.add(now, "sign-in", Actor(person, via="web", address=address))
    return person, token


def signed_in(ws: Workspace, accounts: Accounts, token: str, now: datetime) -> Session | None:
    """The live session of a token (a person still in [people]), or None."""
    found = accounts.session(token, now, timedelta(minutes=ws.config.settings.web.idle_minutes))
    if found is None or found.person not in ws.config.settings.people:
        return None
    return found


def sign_out(ws: Workspace, accounts: Accounts, token: str, person: str, now: datetime,
             address: str) -> None:
    """End the session on the server."""
    accounts.end(token)
    ws.ledger.audit.add(now, "sign-out", Actor(person, via="web", address=address))
