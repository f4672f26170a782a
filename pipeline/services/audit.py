"""Reading and exporting the audit trail: who did what, when, through which face and from
where. It names people and the addresses they acted from, so only the roles in
`[web] audit_roles` may read it (pipeline.policy.audit_refusal); the export is a CSV that a
spreadsheet opens safely and that carries no secret."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from pipeline.errors import Invalid, NotAllowed
from pipeline.ledger import Actor, Event
from pipeline.policy import audit_refusal
from pipeline.timing import resolve_local
from pipeline.workspace import Workspace
from renderers.csvfile import to_csv

SHOWN = 200          # events on one page of the trail
EXPORTED = 100_000   # at most this many in one export (years of a partnership's activity)
VIA = {"web": "on the web", "cli": "at the command line", "daemon": "by the daemon"}
CSV_COLUMNS = ("when", "what", "person", "via", "from", "item", "details")
# Keys no event should carry, dropped from every page and export all the same: the trail is
# read by more people than the secrets are for.
_SECRET_KEY = re.compile(r"(password|secret|token|hash|credential|api_?key)", re.IGNORECASE)


@dataclass(frozen=True)
class AuditFilter:
    """What a person narrowed the trail to; empty means everything."""

    first: date | None = None    # local dates, inclusive
    last: date | None = None
    person: str = ""
    kind: str = ""
    via: str = ""
    item: str = ""               # the start of an item id: a campaign, a post, one channel's item

    def check(self) -> AuditFilter:
        """Itself, or Invalid naming the field to fix."""
        if self.first and self.last and self.last < self.first:
            raise Invalid(f"the last day ({self.last}) is before the first ({self.first})",
                          field="to")
        if self.via and self.via not in VIA:
            raise Invalid(f"'{self.via}' is not one of: {', '.join(VIA)}", field="via")
        return self


@dataclass(frozen=True)
class Trail:
    """One page of the trail, newest first."""

    events: list[Event]
    more: bool               # more events matched than are shown
    kinds: list[str]         # every kind in the trail, for the filter's choices
    people: list[str]        # everyone who acted


def may_read(ws: Workspace, person: str) -> bool:
    """Whether `person` may read the audit trail (for offering the link, never for deciding)."""
    return audit_refusal(ws.config.settings, person) is None


def _allowed(ws: Workspace, actor: Actor, action: str) -> None:
    refusal = audit_refusal(ws.config.settings, actor.person)
    if refusal:
        raise NotAllowed(actor.person, action, refusal)


def _search(ws: Workspace, filters: AuditFilter, limit: int) -> list[Event]:
    filters.check()
    tz = ws.config.tz
    since = resolve_local(filters.first, time(0), tz).due if filters.first else None
    before = (resolve_local(filters.last + timedelta(days=1), time(0), tz).due
              if filters.last else None)
    return ws.ledger.audit.search(since=since, before=before, by=filters.person,
                                  kind=filters.kind, via=filters.via,
                                  item_prefix=filters.item.strip(), limit=limit)


def trail(ws: Workspace, actor: Actor, filters: AuditFilter, *, shown: int = SHOWN) -> Trail:
    """The newest `shown` events that match, for a person whose role may read them."""
    _allowed(ws, actor, "read the audit trail")
    found = _search(ws, filters, shown + 1)
    audit = ws.ledger.audit
    return Trail(found[:shown], len(found) > shown, audit.kinds(), audit.people())


def export_csv(ws: Workspace, actor: Actor, filters: AuditFilter) -> tuple[str, int]:
    """Every matching event (newest first) as CSV, and how many: one row per event, its
    details in words; nothing a spreadsheet would run as a formula."""
    _allowed(ws, actor, "export the audit trail")
    tz = ws.config.tz
    events = _search(ws, filters, EXPORTED)
    rows = [(f"{e.at.astimezone(tz):%Y-%m-%d %H:%M:%S}", e.kind, e.by, VIA.get(e.via, e.via),
             e.origin, e.item_id or "", details_text(e.details)) for e in events]
    return to_csv(CSV_COLUMNS, rows), len(rows)


def safe_details(details: dict[str, Any]) -> dict[str, Any]:
    """An event's details without any key that could hold a secret."""
    return {k: v for k, v in details.items() if not _SECRET_KEY.search(k)}


def details_text(details: dict[str, Any]) -> str:
    """An event's details as "key: value; key: value" (lists joined, empty ones left out)."""
    parts = []
    for key, value in sorted(safe_details(details).items()):
        if value in (None, "", [], {}):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in sorted(value.items()))
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)


def describe(event: Event) -> str:
    """What happened, in words (the kind and its details)."""
    d = event.details
    said = {
        "approve": f"approved version {d.get('version', '')}",
        "reject": f"rejected version {d.get('version', '')}: “{d.get('reason', '')}”",
        "comment": f"commented: “{d.get('text', '')}”",
        "test-send": f"sent a test to {', '.join(d.get('to', []))}"
                     + (" (dry run)" if d.get("dry_run") else ""),
        "pause": f"paused publishing: {d.get('reason', '')}",
        "resume": f"ended the pause ({d.get('reason', '')}); {d.get('held', 0)} item(s) held",
        "release": "released a held item",
        "cancel": f"cancelled it: {d.get('reason', '')}",
        "sign-in": "signed in", "sign-out": "signed out",
        "sign-in-failed": "a sign-in was refused", "password-set": "set a password",
        "invite": f"invited {d.get('person', '')} to sign in",
    }
    return said.get(event.kind) or (event.kind.replace("-", " ") + (
        f" ({details_text(d)})" if safe_details(d) else ""))
