"""Telling approvers what waits for them: one digest when items enter their queue (a new item,
or a new version after an edit), and a reminder `[approvals] remind_days` before anything they
may approve falls due unapproved. Through the alerts' SMTP settings, to each person's email;
each person is told of each item version once of each kind."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline import links
from pipeline.ledger.notices import QUEUED, REMINDER
from pipeline.services.approvals import Waiting, queue
from pipeline.status import Status
from pipeline.workspace import Workspace


@dataclass
class Told:
    """How many items each person was told about, by kind of notice."""

    queued: dict[str, int] = field(default_factory=dict)
    reminded: dict[str, int] = field(default_factory=dict)


def tell_approvers(ws: Workspace, now: datetime) -> Told:
    """Send the digests and reminders that are due now, and record them."""
    settings = ws.config.settings
    options = settings.approvals
    told = Told()
    if not options.notify and not options.remind_days:
        return told
    waiting = queue(ws, now)
    notices = ws.ledger.notices
    before = {QUEUED: notices.given(QUEUED), REMINDER: notices.given(REMINDER)}
    due: dict[str, dict[str, list[Waiting]]] = {QUEUED: defaultdict(list),
                                                 REMINDER: defaultdict(list)}
    soon = timedelta(days=options.remind_days)
    for w in waiting:
        line = w.line
        for person in w.may_approve:
            key = (person, line.item_id, line.version)
            if options.notify and key not in before[QUEUED]:
                due[QUEUED][person].append(w)
            if (options.remind_days and line.status.status == Status.NEEDS_APPROVAL
                    and now >= line.due - soon and key not in before[REMINDER]):
                due[REMINDER][person].append(w)
    for kind, counts in ((QUEUED, told.queued), (REMINDER, told.reminded)):
        for person, items in sorted(due[kind].items()):
            email = settings.people[person].email
            subject, body = _words(ws, kind, person, items, options.remind_days)
            ws.alerts.tell(f"approvals-{kind}", [email] if email else [], subject, body, now)
            notices.record(kind, [(person, w.line.item_id, w.line.version) for w in items], now)
            counts[person] = len(items)
    return told


def _words(ws: Workspace, kind: str, person: str, items: list[Waiting],
           remind_days: int) -> tuple[str, str]:
    """The subject and body of one digest or reminder."""
    tz = ws.config.tz
    n = len(items)
    if kind == QUEUED:
        subject = f"{n} item(s) wait for your approval"
        opening = (f"{n} item(s) you may approve are waiting for your approval (new, or changed "
                   f"since an approval):")
    else:
        subject = f"{n} item(s) you may approve fall due within {remind_days} day(s), unapproved"
        opening = (f"{n} item(s) fall due within {remind_days} day(s) and nobody has approved "
                   f"them. At its time an unapproved item is held as 'not approved', never sent:")
    by_campaign: dict[str, list[Waiting]] = defaultdict(list)
    for w in items:
        by_campaign[w.line.campaign].append(w)
    settings = ws.config.settings
    parts = [opening, f"\nRead and approve them in the workspace: {links.approvals_page(settings)}"]
    for campaign, group in sorted(by_campaign.items()):
        parts.append(f"\n{campaign}:")
        parts += [f"  {w.line.due.astimezone(tz):%a %d %b %H:%M}  {w.line.item_id}\n"
                  f"      {w.line.title}\n      {links.page_for(settings, w.line.item_id)}"
                  for w in group]
    parts.append(f"\nAt the command line:\nApprove one: wst approve ID --by {person}\n"
                 f"Approve a campaign: wst approve --campaign CAMPAIGN --by {person}\n"
                 f"See them all: wst approvals --mine {person}")
    return subject, "\n".join(parts)
