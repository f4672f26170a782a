"""One post (or month's bulletin): every channel's rendering side by side exactly as the
preview renders it, with its checks, status, versions, approval history and comments; approve
(one channel or all, of the version on screen), reject with a reason, comment."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from pipeline.render import brand_of
from pipeline.services import exports, items
from pipeline.services.statuses import Line
from pipeline.web import decisions
from pipeline.web.context import actor, now, ws
from pipeline.web.framed import framed
from renderers.preview import ItemBody, item_body

blueprint = Blueprint("items", __name__)


@blueprint.route("/items/<path:item_id>")
@login_required
def page(item_id: str):
    """The review page of the post an item belongs to."""
    found = items.review(ws(), now(), item_id, current_user.person)
    bodies = [(line, rendering(line)) for line in found.lines]
    return render_template("item.html", review=found, bodies=bodies,
                           selected=item_id if item_id != found.post else "")


def rendering(line: Line) -> ItemBody | None:
    """An item's checks and rendering exactly as the preview shows them (a bulletin's email in
    frames at desktop and phone width, and its text part); None when the plan no longer has
    it."""
    if line.item is None:
        return None
    workspace = ws()
    return item_body(
        exports.preview_item(workspace, line), brand=brand_of(workspace.config),
        images_dir=workspace.config.content_dir, media="media/",
        email_page=url_for("items.email", item_id=line.item_id)[1:],
        archive_page=url_for("items.archive", item_id=line.item_id)[1:],
        tz=workspace.config.tz)


def _bulletin_html(item_id: str, which: str) -> Response:
    workspace = ws()
    lines = [line for line in items.review(workspace, now(), item_id, current_user.person).lines
             if line.item_id == item_id and line.item is not None and line.kind == "bulletin"]
    if not lines:
        abort(404)
    body = item_body(exports.preview_item(workspace, lines[0]), brand=brand_of(workspace.config),
                     images_dir=workspace.config.content_dir, media="/media/", email_page="",
                     archive_page="", tz=workspace.config.tz)
    # the mailing service's HTML, not ours: only ever inside the page's frame
    return framed(body.email_html if which == "email" else body.archive_html)


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
    decisions.approve()
    return redirect(url_for("items.page", item_id=item_id))


@blueprint.route("/items/<path:item_id>/reject", methods=["POST"])
@login_required
def reject(item_id: str):
    """Say no to the version on screen, with the reason the writer needs."""
    decisions.reject()
    return redirect(url_for("items.page", item_id=item_id))


@blueprint.route("/items/<path:item_id>/comment", methods=["POST"])
@login_required
def comment(item_id: str):
    """Add a comment for everyone reviewing the post."""
    items.comment(ws(), actor(), now(), item_id, request.form.get("comment", ""))
    flash("Your comment is added.")
    return redirect(url_for("items.page", item_id=item_id) + "#comments")
