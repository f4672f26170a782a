"""What people type into the workspace's forms, read for the services: times in UK time, and
which field a service's message is about, so the page can put it beside that field and link to
it from the list at the top. Decides nothing: the services refuse or accept."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_login import current_user

from pipeline.errors import Invalid, NotAllowed
from pipeline.timing import resolve_local
from pipeline.web.context import ws


def local_time(value: str, field: str) -> datetime | None:
    """A date and time from a `datetime-local` field, in UK time; None if it was left empty.
    A time the clocks skip moves to just after the change, as in the calendar."""
    value = value.strip()
    if not value:
        return None
    try:
        typed = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid("write a date and a time, for example 9 February 2027 at 10:00",
                      field=field) from None
    if typed.tzinfo is not None:
        return typed
    return resolve_local(typed.date(), typed.time(), ws().config.tz).due


def field_of(exc: Exception) -> str:
    """The form field a service's message names: its command-line option ("--answers-pause")
    is the field "answers_pause"."""
    return str(getattr(exc, "field", "") or "").lstrip("-").replace("-", "_")


def messages(errors: Iterable[Exception], prefix: str = "",
             ids: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(id, message) for each error, for the list at the top of a form and beside the field of
    that id (`prefix` + the field, unless `ids` names another); one message per field (the
    first), in the order given. An error about no field in particular has the id ""."""
    out: list[tuple[str, str]] = []
    for exc in errors:
        name = field_of(exc)
        target = (ids or {}).get(name, prefix + name) if name else ""
        if not target or all(target != seen for seen, _ in out):
            out.append((target, str(exc)))
    return out


def forbid(refusal: str | None, action: str) -> None:
    """403 (through NotAllowed) when the service's answer is a refusal, before anything else is
    read from the request."""
    if refusal:
        raise NotAllowed(current_user.person, action, refusal)
