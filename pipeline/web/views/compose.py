"""The composer of reactive posts: text, channels, an image (one of ours, or uploaded) with its
alt text, and a time; each channel's count and the content checks as people type; then send it
for approval, or approve and schedule it when this person may. For the people who may write
reactive posts; the services decide who may do what and refuse the rest."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from pipeline.errors import Invalid
from pipeline.services import images, posting
from pipeline.services.statuses import post_of
from pipeline.web.context import actor, now, ws
from pipeline.web.forms import forbid, local_time, messages

blueprint = Blueprint("compose", __name__)


@dataclass(frozen=True)
class Typed:
    """What the form holds, to check it and to show it again as it was typed."""

    text: str = ""
    channels: tuple[str, ...] = ()
    image: str = ""
    alt: str = ""
    at: str = ""
    help_post: bool = False
    answers_pause: bool = False
    accept_identifying: bool = False

    @classmethod
    def of(cls, form: MultiDict) -> Typed:
        """Read from the submitted form (a box not ticked is not sent at all)."""
        return cls(form.get("text", ""), tuple(form.getlist("channels")), form.get("image", ""),
                   form.get("alt", ""), form.get("at", ""), form.get("help_post") == "1",
                   form.get("answers_pause") == "1", form.get("accept_identifying") == "1")


def _may_write() -> None:
    forbid(posting.refusal_to_write(ws(), current_user.person), "write a reactive post")


def _draft(typed: Typed, upload: posting.Upload | None = None
           ) -> tuple[posting.Draft, list[Invalid]]:
    """The draft for the services, and what in the form could not be read (an image not in the
    library, a time that is not one)."""
    problems = []
    image = None
    if typed.image:
        try:
            image = images.chosen(ws(), typed.image)
        except Invalid as exc:
            problems.append(exc)
    try:
        at = local_time(typed.at, "at")
    except Invalid as exc:
        problems.append(exc)
        at = None
    return posting.Draft(typed.text, typed.channels, image, typed.alt, at, typed.help_post,
                         typed.answers_pause, upload), problems


def _upload() -> posting.Upload | None:
    sent = request.files.get("upload")
    if sent is None or not sent.filename:
        return None
    return posting.Upload(sent.filename, sent.read())


def summary(check: posting.DraftCheck | None) -> str:
    """The checks in one sentence, for the live region that screen readers announce."""
    if check is None:
        return ""
    fix, look = check.blocking, check.warnings
    if not fix and not look:
        return "No problems found." if check.channels else ""
    parts = [f"{fix} thing{'' if fix == 1 else 's'} to fix" if fix else "",
             f"{look} worth checking" if look else ""]
    return " and ".join(p for p in parts if p) + "."


def _context(typed: Typed, check: posting.DraftCheck | None, problems: list[Invalid]) -> dict:
    workspace = ws()
    settings = workspace.config.settings
    names = posting.channels(workspace)
    return {"typed": typed, "check": check, "summary": summary(check),
            "todo": [str(p) for p in problems + (check.problems if check else [])],
            "channels": names, "titles": {n: settings.channels[n].title or n for n in names}}


def _page(typed: Typed, *, check: bool = True, errors: list[Invalid] | None = None,
          refused: list[str] | None = None, notice: str = "", status: int = 200):
    """The composer with the form as typed, its checks, and what stopped it (if anything)."""
    draft, problems = _draft(typed)
    found = posting.check_draft(ws(), now(), draft) if check else None
    names = posting.channels(ws())
    errors = (errors or []) + problems   # (one message per field is shown)
    return render_template(
        "compose.html", library=images.library(ws()),
        may_approve=posting.refusal_to_approve(ws(), current_user.person) is None,
        errors=messages(errors, ids={"channels": f"channel-{names[0]}" if names else ""}),
        refused=refused or [], notice=notice, **_context(typed, found, [])), status


@blueprint.route("/compose")
@login_required
def page():
    """An empty composer."""
    _may_write()
    return _page(Typed(), check=False)


@blueprint.route("/compose/check", methods=["POST"])
@login_required
def check():
    """The checks of the draft as it stands (htmx swaps them in as people type)."""
    _may_write()
    typed = Typed.of(request.form)
    draft, problems = _draft(typed)
    found = posting.check_draft(ws(), now(), draft)
    return render_template("_compose_checks.html", oob=True, **_context(typed, found, problems))


@blueprint.route("/compose", methods=["POST"])
@login_required
def send():
    """Check it again; upload an image; send it for approval; or approve and schedule it."""
    _may_write()
    typed = Typed.of(request.form)
    action = request.form.get("action", "check")
    upload = _upload()
    if action == "upload" and upload is not None:
        try:
            name = images.upload(ws(), actor(), now(), upload.filename, upload.data,
                                 typed.channels)
        except Invalid as exc:
            return _page(typed, errors=[exc], status=400)
        return _page(replace(typed, image=name),
                     notice=f"The image is uploaded as {name} and chosen below. Describe it in "
                            f"the alt text.")
    if action not in ("submit", "post"):
        return _page(typed)  # "check it", or Enter pressed in a field
    draft, problems = _draft(typed, upload)
    if problems:
        return _page(typed, errors=problems, status=400)
    try:
        if action == "post":
            forbid(posting.refusal_to_approve(ws(), current_user.person),
                   "approve a reactive post")
            done = posting.post(ws(), actor(), now(), draft,
                                accept_identifying=typed.accept_identifying)
        else:
            done = posting.submit(ws(), actor(), now(), draft)
    except posting.PostRefused as exc:
        return _page(typed, refused=exc.problems, status=409)
    except Invalid as exc:
        return _page(typed, errors=[exc], status=400)
    _said(done)
    return redirect(url_for("items.page", item_id=post_of(done.items[0].id)))


def _said(done: posting.Posted) -> None:
    when = f"{done.due.astimezone(ws().config.tz):%a %d %b %Y %H:%M}"
    if not done.approved:
        flash(f"Sent for approval: it waits in the approvers' queue, to go out {when} once "
              f"approved.")
    elif done.published:
        flash("Approved and sent now.")
        for result in done.published:
            flash(f"{result.item_id}: {result}")
    else:
        flash(f"Approved: it goes out {when}.")
