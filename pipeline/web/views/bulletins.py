"""The month's bulletin: its email at desktop and phone width and its plain-text part, exactly
as the preview renders them, with each channel's status; a test send to named addresses (for
whoever the RASCI matrix lets test it); approval of the version on screen."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from pipeline.errors import Invalid
from pipeline.services import bulletins, items
from pipeline.services.bulletins import TEST_SEND, TestSendFailed
from pipeline.web import decisions
from pipeline.web.context import actor, now, ws
from pipeline.web.views.items import rendering

blueprint = Blueprint("bulletins", __name__)
AROUND = timedelta(days=400)   # the months offered: a year and a bit either side of today


def _offered(around: list[tuple[str, datetime]], month: str) -> dict[str, str]:
    """Every month offered (and the one shown), in order: "2027-02" → "February 2027"."""
    return {m: f"{date.fromisoformat(m + '-01'):%B %Y}"
            for m in sorted({month, *(m for m, _ in around)})}


@blueprint.route("/bulletin")
@blueprint.route("/bulletin/<month>")
@login_required
def page(month: str | None = None):
    """A month's bulletin (default: the next one to go out)."""
    workspace, person = ws(), current_user.person
    today = now().astimezone(workspace.config.tz).date()
    around = bulletins.months(workspace, today - AROUND, today + AROUND)
    month = month or request.args.get("month") or bulletins.next_month(workspace, now(), around)
    if month is None:
        return render_template("bulletin.html", month=None)
    bulletins.bulletin_items(workspace, month)   # Invalid (400) or NotFound (404) first
    review = items.review(workspace, now(), f"bulletin/{month}", person)
    channel = request.args.get("channel") or review.lines[0].channel
    shown = [line for line in review.lines if line.channel == channel]
    if not shown:
        abort(404, f"the {month} bulletin is not sent on '{channel}'")
    refusal = bulletins.test_send_refusal_for(workspace, month, person)
    tests = [e for e in reversed(review.events) if e.kind == TEST_SEND]
    return render_template(
        "bulletin.html", month=month, names=_offered(around, month), review=review,
        shown=shown[0], body=rendering(shown[0]), tests=tests, refusal=refusal,
        defaults={} if refusal else bulletins.default_recipients(workspace, month, person),
        own_email=workspace.config.settings.people[person].email)


@blueprint.route("/bulletin/<month>/test-send", methods=["POST"])
@login_required
def test_send(month: str):
    """Send the month's bulletin, as it stands, as a test to the addresses given (else each
    channel's test addresses, else the person's own email)."""
    to = [a for a in re.split(r"[\s,;]+", request.form.get("to", "")) if a]
    channel = request.form.get("channel") or None
    try:
        done = bulletins.test_send(ws(), actor(), now(), month, channel=channel, to=to)
    except (Invalid, TestSendFailed) as exc:
        flash(f"Not sent: {exc}")
    else:
        for t in done:
            flash(f"Test of the {t.channel} email (version {t.version}) sent to {', '.join(t.to)}"
                  + (": a dry run, so it was written to the outbox and nothing was emailed."
                     if t.dry_run else "."))
    return redirect(url_for("bulletins.page", month=month) + "#tests")


@blueprint.route("/bulletin/<month>/approve", methods=["POST"])
@login_required
def approve(month: str):
    """Approve the versions on screen."""
    decisions.approve()
    return redirect(url_for("bulletins.page", month=month))


@blueprint.route("/bulletin/<month>/reject", methods=["POST"])
@login_required
def reject(month: str):
    """Say no to the versions on screen, with the reason."""
    decisions.reject()
    return redirect(url_for("bulletins.page", month=month))
