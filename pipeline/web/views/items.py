"""One post (or month's bulletin): every channel's rendering side by side exactly as the
preview renders it, with its checks, status, versions, approval history and comments; approve
(one channel or all, of the version on screen), reject with a reason, comment."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from pipeline.errors import Invalid
from pipeline.render import brand_of
from pipeline.services import approvals, exports, items
from pipeline.services.approvals import Selection
from pipeline.web.context import actor, now, ws
from renderers.preview import item_body

blueprint = Blueprint("items", __name__)
# The email HTML is the mailing service's, not ours: shown only inside the page's frame, with
# no script, no forms and no way out of the sandbox.
EMAIL_CSP = ("sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
             "img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'")


def _seen() -> dict[str, str]:
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


@blueprint.route("/items/<path:item_id>")
@login_required
def page(item_id: str):
    """The review page of the post an item belongs to."""
    found = items.review(ws(), now(), item_id, current_user.person)
    workspace = ws()
    bodies = []
    for line in found.lines:
        if line.item is None:
            bodies.append((line, None))
            continue
        bodies.append((line, item_body(
            exports.preview_item(workspace, line), brand=brand_of(workspace.config),
            images_dir=workspace.config.content_dir, media="media/",
            email_page=url_for("items.email", item_id=line.item_id)[1:],
            archive_page=url_for("items.archive", item_id=line.item_id)[1:],
            tz=workspace.config.tz)))
    return render_template("item.html", review=found, bodies=bodies,
                           selected=item_id if item_id != found.post else "")


def _bulletin_html(item_id: str, which: str) -> Response:
    workspace = ws()
    lines = [line for line in items.review(workspace, now(), item_id, current_user.person).lines
             if line.item_id == item_id and line.item is not None and line.kind == "bulletin"]
    if not lines:
        abort(404)
    body = item_body(exports.preview_item(workspace, lines[0]), brand=brand_of(workspace.config),
                     images_dir=workspace.config.content_dir, media="/media/", email_page="",
                     archive_page="", tz=workspace.config.tz)
    response = Response(body.email_html if which == "email" else body.archive_html,
                        mimetype="text/html")
    response.headers["Content-Security-Policy"] = EMAIL_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@blueprint.route("/items/<path:item_id>/email")
@login_required
def email(item_id: str):
    """A bulletin's email HTML, for the page's desktop and phone frames."""
    return _bulletin_html(item_id, "email")


@blueprint.route("/items/<path:item_id>/archive")
@login_required
def archive(item_id: str):
    """A bulletin's website copy."""
    return _bulletin_html(item_id, "archive")


@blueprint.route("/items/<path:item_id>/approve", methods=["POST"])
@login_required
def approve(item_id: str):
    """Approve the versions on screen (one channel, or every channel shown)."""
    seen = _seen()
    _may_approve(seen)
    report = approvals.approve(ws(), actor(), now(), Selection(tuple(seen)), seen=seen,
                               accept_identifying=request.form.get("accept_identifying") == "1")
    if report.approved and not report.refused:
        flash(f"Approved {len(report.approved)} item(s): " +
              ", ".join(a.item_id for a in report.approved))
    else:
        for a in report.approved:
            flash(f"Approved {a.item_id}.")
        for r in report.refused:
            flash(f"Not approved: {r.item_id}: {r.reason}")
    return redirect(url_for("items.page", item_id=item_id))


@blueprint.route("/items/<path:item_id>/reject", methods=["POST"])
@login_required
def reject(item_id: str):
    """Say no to the version on screen, with the reason the writer needs."""
    seen = _seen()
    _may_approve(seen)
    done = approvals.reject(ws(), actor(), now(), list(seen), request.form.get("reason", ""),
                            seen=seen)
    flash(f"Rejected {len(done)} item(s); the writer sees your reason.")
    return redirect(url_for("items.page", item_id=item_id))


@blueprint.route("/items/<path:item_id>/comment", methods=["POST"])
@login_required
def comment(item_id: str):
    """Add a comment for everyone reviewing the post."""
    items.comment(ws(), actor(), now(), item_id, request.form.get("comment", ""))
    flash("Your comment is added.")
    return redirect(url_for("items.page", item_id=item_id) + "#comments")
