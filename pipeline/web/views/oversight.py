"""Keeping an eye on the pipeline: its status (each channel's health, the daemon's heartbeat,
what needs a person, what is next), the history of what went out, and the audit trail with its
filters and CSV export (for the roles in `[web] audit_roles`). The evaluation report's pages
are in views/report.py, on this blueprint."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, render_template, request
from flask_login import current_user, login_required

from pipeline.errors import Invalid
from pipeline.services import audit, status
from pipeline.services.statuses import counts
from pipeline.status import Status
from pipeline.web.context import actor, now, ws

blueprint = Blueprint("oversight", __name__)
HISTORY_DAYS = 30   # the history shows the last month unless asked for another range


def day_arg(name: str, default: date | None) -> date | None:
    """A YYYY-MM-DD query argument (Invalid, said in words, if it is not one)."""
    value = request.args.get(name, "").strip()
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"'{value}' is not a date; use YYYY-MM-DD, e.g. 2027-02-09", field=name) from None


def _today() -> date:
    return now().astimezone(ws().config.tz).date()


@blueprint.route("/status", endpoint="status")
@login_required
def status_page():
    """Mode, pause, the daemon's heartbeat, each channel's health, what needs a person."""
    report = status.status(ws(), now())
    return render_template("status.html", report=report, now=now(),
                           stale=ws().config.settings.store.lock_stale_seconds)


@blueprint.route("/history")
@login_required
def history():
    """What the pipeline recorded as due in a date range, with what happened to each."""
    last = day_arg("to", _today())
    first = day_arg("from", last - timedelta(days=HISTORY_DAYS))
    wanted = request.args.get("status", "")
    if wanted and wanted not in {s.value for s in Status}:
        raise Invalid(f"'{wanted}' is not a status", field="status")
    lines = status.history(ws(), now(), first, last)
    shown = [line for line in lines if not wanted or line.status.status.value == wanted]
    return render_template("history.html", lines=shown, first=first, last=last, wanted=wanted,
                           counts=counts(lines), statuses=[s.value for s in Status],
                           may_audit=audit.may_read(ws(), current_user.person))


def _audit_filter() -> audit.AuditFilter:
    return audit.AuditFilter(
        first=day_arg("from", None), last=day_arg("to", None),
        person=request.args.get("person", "").strip(), kind=request.args.get("kind", "").strip(),
        via=request.args.get("via", "").strip(), item=request.args.get("item", "").strip()).check()


@blueprint.route("/history/audit")
@login_required
def audit_trail():
    """Who did what and when, through which face and from where, filtered."""
    filters = _audit_filter()
    found = audit.trail(ws(), actor(), filters)
    args = {k: v for k, v in request.args.items() if v}
    return render_template("audit.html", trail=found, filters=filters, args=args,
                           vias=audit.VIA, describe=audit.describe)


@blueprint.route("/history/audit.csv")
@login_required
def audit_csv():
    """The filtered audit trail as a CSV file for a spreadsheet."""
    text, _count = audit.export_csv(ws(), actor(), _audit_filter())
    name = f"wst-audit-trail-{_today().isoformat()}.csv"
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
