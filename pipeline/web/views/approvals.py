"""The approvals queue: what this person may approve, grouped by campaign, soonest first, with
anything due within 48 hours marked; a whole campaign's bundle approved in one action."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from pipeline.errors import Invalid
from pipeline.services import approvals
from pipeline.services.approvals import Selection
from pipeline.web.context import actor, now, ws

blueprint = Blueprint("approvals", __name__)
SOON = timedelta(hours=48)


@blueprint.route("/approvals")
@login_required
def queue():
    """What waits for this person's approval."""
    waiting = approvals.queue(ws(), now(), person=current_user.person)
    groups: dict[str, list[approvals.Waiting]] = {}
    for w in waiting:
        groups.setdefault(w.line.campaign, []).append(w)
    ordered = sorted(groups.items(), key=lambda kv: kv[1][0].line.due)
    return render_template("approvals.html", groups=ordered, soon=now() + SOON,
                           count=len(waiting))


@blueprint.route("/approvals/approve", methods=["POST"])
@login_required
def approve():
    """Approve the versions listed (a campaign's bundle, as it was on screen)."""
    seen: dict[str, str] = {}
    for value in request.form.getlist("item"):
        item_id, sep, version = value.rpartition("=")
        if sep and item_id:
            seen[item_id] = version
    if not seen:
        raise Invalid("nothing was chosen to approve", field="item")
    refusal = approvals.refusal_for(ws(), current_user.person, seen)
    if refusal:
        abort(403, refusal)
    report = approvals.approve(ws(), actor(), now(), Selection(tuple(seen)), seen=seen)
    if report.approved:
        flash(f"Approved {len(report.approved)} item(s).")
    for r in report.refused:
        flash(f"Not approved: {r.item_id}: {r.reason}")
    return redirect(url_for("approvals.queue"))
