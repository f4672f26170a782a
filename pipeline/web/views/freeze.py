"""The freeze: pause all publishing (a reason, an end time if known, whether "how to get help"
posts keep going), resume, and decide in bulk what the pause held (release or cancel, all of it
or one campaign's or channel's part). Anyone signed in may look; the changes are for the people
whose role may pause (the services refuse anyone else)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from pipeline.errors import Invalid, NotFound
from pipeline.ledger import PauseError
from pipeline.services import freeze
from pipeline.web.context import actor, now, ws
from pipeline.web.forms import forbid, local_time, messages

blueprint = Blueprint("freeze", __name__)


def _page(pause_id: int | None = None, errors: list[Exception] | None = None, status: int = 200,
          form: str = ""):
    """The page; `errors` from the form named `form` ("pause" or "decide") beside its fields."""
    workspace, moment = ws(), now()
    try:
        held = freeze.held_by_pause(workspace, moment, pause_id)
    except NotFound:
        abort(404)
    groups: dict[str, list] = {}
    for entry in held.entries if held else []:
        groups.setdefault(entry.campaign, []).append(entry)
    earlier = [h for h in freeze.undecided(workspace, moment)
               if held is None or h.pause.id != held.pause.id]
    return render_template(
        "freeze.html", held=held, groups=sorted(groups.items()), earlier=earlier,
        refusal=freeze.refusal(workspace, current_user.person),
        errors=messages(errors or [], "decide-" if form == "decide" else ""), failed=form,
        form=request.form if errors else {},
        channels=sorted({e.channel for e in held.entries}) if held else []), status


@blueprint.route("/freeze")
@login_required
def page():
    """The pause in force (or the last one), what it held, and the forms for those who may."""
    return _page(request.args.get("pause", type=int))


def _may() -> None:
    forbid(freeze.refusal(ws(), current_user.person), "pause or resume publishing")


@blueprint.route("/freeze/pause", methods=["POST"])
@login_required
def pause():
    """Pause all publishing from now."""
    _may()
    form = request.form
    try:
        until = local_time(form.get("until", ""), "until")
        done = freeze.pause(ws(), actor(), now(), form.get("reason", ""), until=until,
                            keep_help=form.get("keep_help") == "1")
    except Invalid as exc:
        return _page(errors=[exc], status=400, form="pause")
    except PauseError as exc:
        return _page(errors=[exc], status=409, form="pause")
    flash(f"Publishing is paused. Whatever falls due while it lasts is held: "
          f"{done.due_soon} item(s) in the next 24 hours.")
    return redirect(url_for("freeze.page"))


@blueprint.route("/freeze/resume", methods=["POST"])
@login_required
def resume():
    """End the pause now; what it held waits for one decision."""
    _may()
    try:
        found = freeze.resume(ws(), actor(), now())
    except PauseError as exc:
        return _page(errors=[exc], status=409, form="resume")
    flash(f"Publishing has resumed: everything due from now on goes out as planned. "
          f"{len(found.entries)} item(s) fell due during the pause and wait for your decision.")
    return redirect(url_for("freeze.page", pause=found.pause.id) + "#decide")


@blueprint.route("/freeze/decide", methods=["POST"])
@login_required
def decide():
    """Release or cancel what a pause held: all of it, or one campaign's or channel's part."""
    _may()
    form = request.form
    pause_id = form.get("pause", type=int)
    choice = form.get("decision", "")
    if choice not in ("release", "cancel"):
        return _page(pause_id, [Invalid("choose release or cancel", field="decision")], 400,
                     "decide")
    try:
        done = freeze.decide(ws(), actor(), now(), release_them=choice == "release",
                             reason=form.get("reason", ""), pause_id=pause_id,
                             campaign=form.get("campaign") or None,
                             channel=form.get("channel") or None)
    except (Invalid, NotFound) as exc:
        return _page(pause_id, [exc], 400 if isinstance(exc, Invalid) else 409, "decide")
    if choice == "cancel":
        flash(f"Cancelled {len(done)} item(s): they will not go out.")
    else:
        sent = [d for d in done if isinstance(d, freeze.Released) and d.published is not None]
        flash(f"Released {len(done)} item(s). Those already due were sent at once"
              + (" (below)" if sent else "") + "; the rest go out at their time.")
        for d in sent:
            flash(f"{d.entry.item_id}: {d.published}")
    return redirect(url_for("freeze.page", pause=pause_id))
