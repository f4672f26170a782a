"""Approving and rejecting the versions a person had on screen, from a form: shared by an
item's page and the bulletin's page, which differ only in where they go back to. The services
decide; this reads the form, asks them and says what they answered."""

from __future__ import annotations

from flask import abort, flash, request
from flask_login import current_user

from pipeline.errors import Invalid
from pipeline.services import approvals
from pipeline.services.approvals import Selection
from pipeline.web.context import actor, now, ws


def seen_versions() -> dict[str, str]:
    """The versions the person had on screen: `item` fields of "item id=version"."""
    out = {}
    for value in request.form.getlist("item"):
        item_id, sep, version = value.rpartition("=")
        if not sep or not item_id:
            raise Invalid("the form is missing which version you saw; reload the page", field="item")
        out[item_id] = version
    if not out:
        raise Invalid("choose at least one channel", field="item")
    return out


def _may_approve(seen: dict[str, str]) -> None:
    """403 before anything is recorded when this person may approve none of them."""
    refusal = approvals.refusal_for(ws(), current_user.person, seen)
    if refusal:
        abort(403, refusal)


def approve() -> None:
    """Approve the versions on the form (one channel, or every channel shown)."""
    seen = seen_versions()
    _may_approve(seen)
    report = approvals.approve(ws(), actor(), now(), Selection(tuple(seen)), seen=seen,
                               accept_identifying=request.form.get("accept_identifying") == "1")
    if report.approved and not report.refused:
        flash(f"Approved {len(report.approved)} item(s): " +
              ", ".join(a.item_id for a in report.approved))
        return
    for a in report.approved:
        flash(f"Approved {a.item_id}.")
    for r in report.refused:
        flash(f"Not approved: {r.item_id}: {r.reason}")


def reject() -> None:
    """Say no to the versions on the form, with the reason the writer needs."""
    seen = seen_versions()
    _may_approve(seen)
    done = approvals.reject(ws(), actor(), now(), list(seen), request.form.get("reason", ""),
                            seen=seen)
    flash(f"Rejected {len(done)} item(s); the writer sees your reason.")
