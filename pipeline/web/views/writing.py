"""Writing the content files in the browser: a campaign's posts (edit one, add one), with the
composer's per-channel counters and content checks as people type; the monthly bulletin (start
the month's draft, then its words and stories in Markdown with a live preview); awareness days
(a date builder that writes the rule, with the dates it gives) and campaigns (anchor and
windows). Saving writes the same TOML files in content/ and schedules/ that people read and
review; the editing services decide who may, refuse a file changed meanwhile (showing both
versions) or an edit `wst check` would fail (showing where), and write, record and commit the
rest."""

from __future__ import annotations

from calendar import month_name
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from pipeline.errors import Invalid
from pipeline.services import bulletin_editing, calendar_editing, editing, images, posting
from pipeline.services.bulletin_editing import BulletinFields, BulletinForm, StoryFields
from pipeline.services.calendar_editing import (
    WEEKDAYS,
    CampaignFields,
    CampaignForm,
    DateRule,
    Dates,
    EventFields,
    EventForm,
)
from pipeline.services.editing import (
    EditConflict,
    EditRefused,
    PostFields,
    PostForm,
    Saved,
    WhenParts,
)
from pipeline.web.context import actor, now, ws
from pipeline.web.forms import forbid, messages
from pipeline.web.views.compose import summary

blueprint = Blueprint("writing", __name__)
MONTHS = tuple(month_name)[1:]   # English: Python never sets the locale by itself


@blueprint.route("/write")
@login_required
def index():
    """What may be written: the bulletin's coming months, the awareness days, the campaigns
    and their posts."""
    project = ws().catalog.project
    posts: dict[str, list[str]] = {}
    for cp in project.posts:
        posts.setdefault(cp.campaign, []).append(cp.post.id)
    campaigns = sorted(project.campaigns.values(), key=lambda c: c.title.lower())
    events = sorted(project.events.values(), key=lambda e: e.title.lower())
    return render_template("writing.html", campaigns=campaigns, posts=posts, events=events,
                           months=bulletin_editing.months(ws(), now()))


def _may_write(campaign: str) -> None:
    forbid(editing.refusal_to_write_posts(ws(), current_user.person, campaign),
           "write this campaign's posts")


def _when(form: MultiDict) -> tuple[str, WhenParts, list[Invalid]]:
    """The `when` phrase the date builder gives, its parts, and what could not be read."""
    problems = []
    try:
        n = int(form.get("when_n", "0") or "0")
    except ValueError:
        n = 0
        problems.append(Invalid("write how many days or weeks as a number", field="when_n"))
    parts = WhenParts(form.get("when_mode", "before"), n,
                      "weeks" if form.get("when_unit") == "weeks" else "days",
                      form.get("when_time", "").strip(), form.get("when_at", "").strip(),
                      form.get("when_written", ""))
    return parts.phrase(), parts, problems


def _fields(form: MultiDict, base: PostForm) -> tuple[PostFields, WhenParts, list[Invalid]]:
    """What the form says, for the service; a channel list the same as the campaign's is left
    to default to it when the file did not list them."""
    when, parts, problems = _when(form)
    chosen = tuple(form.getlist("channels"))
    channels: tuple[str, ...] | None = chosen
    if base.fields.channels is None and set(chosen) == set(base.channels):
        channels = None
    fields = PostFields(form.get("id", "").strip(), when, form.get("text", ""),
                        form.get("title", ""), form.get("link", "").strip(),
                        form.get("image", ""), form.get("alt", ""),
                        form.get("help") == "1", channels)
    return fields, parts, problems


def _checks(base: PostForm, fields: PostFields) -> dict:
    """The checks panel's context: each channel's count and findings, as the composer's."""
    found = editing.check_post(ws(), now(), base.campaign, fields, base.variants)
    settings = ws().config.settings
    return {"check": found, "typed": fields, "summary": summary(found),
            "todo": [str(p) for p in found.problems],
            "titles": {n: settings.channels[n].title or n for n in settings.channels}}


def _page(base: PostForm, fields: PostFields, parts: WhenParts, *, digest: str | None = None,
          errors: list[Invalid] | None = None, refused: list | None = None,
          conflict: EditConflict | None = None, notice: str = "", status: int = 200):
    chosen = fields.channels if fields.channels is not None else tuple(base.channels)
    ids = {"channels": f"channel-{base.channels[0]}" if base.channels else "",
           "when": "when_mode"}
    return render_template(
        "post_edit.html", base=base, parts=parts, chosen=chosen,
        digest=base.digest if digest is None else digest, library=images.library(ws()),
        errors=messages(errors or [], ids=ids), refused=refused or [], conflict=conflict,
        notice=notice, **_checks(base, fields)), status


def _saved(save: Callable[[], Saved], page: Callable[..., Any], seen: str, after: str):
    """Save through the service; then say so and go to `after`, or show the page again with
    why nothing was written (the file changed meanwhile: the form then carries the current
    version, so saving again is a choice made seeing both; or what `wst check` found)."""
    try:
        done = save()
    except EditConflict as exc:
        return page(digest=exc.digest, conflict=exc, status=409)
    except EditRefused as exc:
        return page(digest=seen, refused=exc.problems, status=409)
    except Invalid as exc:
        return page(digest=seen, errors=[exc], status=400)
    flash(f"Saved {done.shown}" + (f" (commit {done.commit[:10]})" if done.commit else "")
          + ". The new version waits for approval; an approval of the old one no longer stands.")
    for warning in done.warnings[:5]:
        flash(f"Worth checking: {warning}")
    return redirect(after)


@blueprint.route("/write/posts/<campaign>/new")
@blueprint.route("/write/posts/<campaign>/<post_id>")
@login_required
def post(campaign: str, post_id: str | None = None):
    """A post's form, as its file says now (or an empty one for a new post)."""
    _may_write(campaign)
    base = editing.post_form(ws(), campaign, post_id)
    return _page(base, base.fields, WhenParts.of(base.fields.when))


@blueprint.route("/write/posts/<campaign>/check", methods=["POST"])
@login_required
def check(campaign: str):
    """The checks of the post as it stands (htmx swaps them in as people type)."""
    _may_write(campaign)
    base = editing.post_form(ws(), campaign, request.form.get("post") or None)
    fields, _parts, _problems = _fields(request.form, base)
    return render_template("_compose_checks.html", oob=True, **_checks(base, fields))


@blueprint.route("/write/posts/<campaign>/save", methods=["POST"])
@login_required
def save(campaign: str):
    """Upload an image, check the post again, or save it to its file."""
    _may_write(campaign)
    original = request.form.get("post") or None
    base = editing.post_form(ws(), campaign, original)
    fields, parts, problems = _fields(request.form, base)
    seen = request.form.get("digest", "")
    action = request.form.get("action", "check")
    sent = request.files.get("upload")
    if action == "upload" and sent is not None and sent.filename:
        try:
            name = images.upload(ws(), actor(), now(), sent.filename, sent.read(),
                                 fields.channels or base.channels,
                                 editing.campaign_responsibility(ws(), campaign))
        except Invalid as exc:
            return _page(base, fields, parts, digest=seen, errors=[exc], status=400)
        return _page(base, replace(fields, image=name), parts, digest=seen,
                     notice=f"The image is uploaded as {name} and chosen below. Describe it "
                            f"in the alt text.")
    if action != "save":
        return _page(base, fields, parts, digest=seen)
    if problems:
        return _page(base, fields, parts, digest=seen, errors=problems, status=400)
    return _saved(lambda: editing.save_post(ws(), actor(), now(), campaign, original, fields,
                                            seen),
                  partial(_page, base, fields, parts), seen,
                  url_for("writing.post", campaign=campaign, post_id=fields.id))


# -- the monthly bulletin ---------------------------------------------------------------------

MOST_STORIES = 30


def _may_write_bulletin() -> None:
    forbid(bulletin_editing.refusal_to_write(ws(), current_user.person), "write the bulletin")


def _bulletin_fields(form: MultiDict) -> BulletinFields:
    """The bulletin as the form says, without the stories ticked for removal."""
    try:
        count = min(int(form.get("stories", "0") or "0"), MOST_STORIES)
    except ValueError:
        count = 0
    stories = tuple(
        StoryFields(*(form.get(f"story-{i}-{key}", "") for key in bulletin_editing.STORY_KEYS))
        for i in range(count) if form.get(f"story-{i}-remove") != "1")
    status = "ready" if form.get("status") == "ready" else "draft"
    return BulletinFields(form.get("subject", ""), form.get("preheader", ""),
                          form.get("intro", ""), status, stories)


def _preview(month: str, fields: BulletinFields) -> dict:
    said = bulletin_editing.preview(ws(), month, fields)
    return {"preview": said, "typed": fields,
            "must": sum(f.severity == "error" for f in said.findings)}


def _bulletin_page(form: BulletinForm, fields: BulletinFields, *, digest: str | None = None,
                   errors: list[Invalid] | None = None, refused: list | None = None,
                   conflict: EditConflict | None = None, notice: str = "", status: int = 200):
    return render_template(
        "bulletin_edit.html", base=form, digest=form.digest if digest is None else digest,
        library=images.library(ws()), errors=messages(errors or []), refused=refused or [],
        conflict=conflict, notice=notice, **_preview(form.month, fields)), status


@blueprint.route("/write/bulletins/<month>")
@login_required
def bulletin(month: str):
    """The month's bulletin form, as its file says now (or the button to start its draft)."""
    _may_write_bulletin()
    form = bulletin_editing.bulletin_form(ws(), month)
    return _bulletin_page(form, form.fields)


@blueprint.route("/write/bulletins/<month>/start", methods=["POST"])
@login_required
def start_bulletin(month: str):
    """Write the month's draft, prefilled from the calendar, as `wst bulletin new` does."""
    _may_write_bulletin()
    saved = bulletin_editing.start_draft(ws(), actor(), now(), month)
    flash(f"Started {saved.shown} from the calendar: replace every text starting “WRITE:”, "
          f"then mark it ready.")
    return redirect(url_for("writing.bulletin", month=month))


@blueprint.route("/write/bulletins/<month>/preview", methods=["POST"])
@login_required
def preview_bulletin(month: str):
    """The bulletin's preview and checks as it stands (htmx swaps them in as people type)."""
    _may_write_bulletin()
    return render_template("_bulletin_preview.html", oob=True,
                           **_preview(month, _bulletin_fields(request.form)))


@blueprint.route("/write/bulletins/<month>/save", methods=["POST"])
@login_required
def save_bulletin(month: str):
    """Upload an image, add a story, check it again, or save it to its file."""
    _may_write_bulletin()
    form = bulletin_editing.bulletin_form(ws(), month)
    fields = _bulletin_fields(request.form)
    seen = request.form.get("digest", "")
    action = request.form.get("action", "check")
    sent = request.files.get("upload")
    if action == "upload" and sent is not None and sent.filename:
        workspace = ws()
        try:
            name = images.upload(workspace, actor(), now(), sent.filename, sent.read(),
                                 workspace.catalog.project.cadence.channels,
                                 bulletin_editing.responsibility(workspace))
        except Invalid as exc:
            return _bulletin_page(form, fields, digest=seen, errors=[exc], status=400)
        return _bulletin_page(form, fields, digest=seen,
                              notice=f"The image is uploaded as {name}: choose it for a story "
                                     f"and describe it in the story's alt text.")
    if action == "add-story" and len(fields.stories) < MOST_STORIES:
        return _bulletin_page(form, replace(fields, stories=(*fields.stories, StoryFields())),
                              digest=seen)
    if action != "save":
        return _bulletin_page(form, fields, digest=seen)
    return _saved(lambda: bulletin_editing.save_bulletin(ws(), actor(), now(), month, fields,
                                                         seen),
                  partial(_bulletin_page, form, fields), seen,
                  url_for("writing.bulletin", month=month))


# -- awareness days -------------------------------------------------------------------------

MOST_DATES = 20


def _may_write_event(event_id: str | None) -> None:
    forbid(calendar_editing.refusal_to_write(ws(), current_user.person, event_id),
           "change this awareness day")


def _number(form: MultiDict, name: str, default: int) -> int:
    try:
        return int(form.get(name, "") or default)
    except ValueError:
        return default


def _event_fields(form: MultiDict) -> EventFields:
    """The awareness day as the form says, without the dates ticked for removal."""
    when = DateRule(form.get("mode", "fixed"), _number(form, "month", 1),
                    _number(form, "day", 1), _number(form, "ordinal", 1),
                    form.get("weekday", "MO"), form.get("rule", ""))
    count = min(_number(form, "dates", 0), MOST_DATES)
    dates = tuple(Dates(form.get(f"dates-{i}-start", ""), form.get(f"dates-{i}-end", ""),
                        form.get(f"dates-{i}-note", ""))
                  for i in range(count)
                  if form.get(f"dates-{i}-remove") != "1" and form.get(f"dates-{i}-start"))
    return EventFields(form.get("id", "").strip(), form.get("title", ""),
                       form.get("organiser", ""), when, max(1, _number(form, "days", 1)),
                       form.get("announced") == "1", dates)


def _event_preview(fields: EventFields) -> dict:
    try:
        written = fields.when.written()
    except Invalid:
        written = (None, None)
    return {"preview": calendar_editing.event_preview(ws(), now(), fields), "typed": fields,
            "written": written}


def _event_page(form: EventForm, fields: EventFields, *, digest: str | None = None,
                errors: list[Invalid] | None = None, refused: list | None = None,
                conflict: EditConflict | None = None, status: int = 200):
    return render_template(
        "event_edit.html", base=form, digest=form.digest if digest is None else digest,
        errors=messages(errors or []), refused=refused or [], conflict=conflict,
        months=MONTHS, weekdays=WEEKDAYS, ordinals=calendar_editing.ORDINALS,
        **_event_preview(fields)), status


@blueprint.route("/write/new-event")
@blueprint.route("/write/events/<event_id>")
@login_required
def event(event_id: str | None = None):
    """An awareness day's form, as its file says now (or an empty one for a new day)."""
    _may_write_event(event_id)
    form = calendar_editing.event_form(ws(), event_id)
    return _event_page(form, form.fields)


@blueprint.route("/write/events/preview", methods=["POST"])
@login_required
def preview_event():
    """The dates the form's rule gives (htmx swaps them in as people choose)."""
    _may_write_event(request.form.get("event") or None)
    return render_template("_event_preview.html", oob=True,
                           **_event_preview(_event_fields(request.form)))


@blueprint.route("/write/events/save", methods=["POST"])
@login_required
def save_event():
    """Add a year's dates, check it again, or save it to its schedules file."""
    original = request.form.get("event") or None
    _may_write_event(original)
    form = calendar_editing.event_form(ws(), original)
    fields = _event_fields(request.form)
    seen = request.form.get("digest", "")
    action = request.form.get("action", "check")
    if action == "add-dates" and len(fields.dates) < MOST_DATES:
        return _event_page(form, replace(fields, dates=(*fields.dates, Dates(""))), digest=seen)
    if action != "save":
        return _event_page(form, fields, digest=seen)
    return _saved(lambda: calendar_editing.save_event(ws(), actor(), now(), original, fields,
                                                      seen),
                  partial(_event_page, form, fields), seen,
                  url_for("writing.event", event_id=fields.id))


# -- campaigns --------------------------------------------------------------------------------

def _may_write_campaign(campaign_id: str | None, responsibility: str | None = None) -> None:
    forbid(calendar_editing.campaign_refusal(ws(), current_user.person, campaign_id,
                                             responsibility), "write this campaign")


def _campaign_fields(form: MultiDict) -> CampaignFields:
    """The campaign as the form says."""
    return CampaignFields(
        form.get("id", "").strip(), form.get("title", ""), form.get("priority", ""),
        form.get("anchor", ""), tuple(form.getlist("channels")),
        _number(form, "prepare_weeks", 6), _number(form, "live_before_days", 7),
        _number(form, "live_after_days", 2), form.get("responsibility", "campaign-posts"),
        tuple(form.get("hashtags", "").split()), form.get("upbeat") == "1")


def _campaign_page(form: CampaignForm, fields: CampaignFields, *, digest: str | None = None,
                   errors: list[Invalid] | None = None, refused: list | None = None,
                   conflict: EditConflict | None = None, status: int = 200):
    workspace = ws()
    project, settings = workspace.catalog.project, workspace.config.settings
    return render_template(
        "campaign_edit.html", base=form, typed=fields,
        digest=form.digest if digest is None else digest, errors=messages(errors or []),
        refused=refused or [], conflict=conflict, priorities=project.priorities,
        events=sorted(project.events.values(), key=lambda e: e.title.lower()),
        channels=posting.channels(workspace),
        titles={n: settings.channels[n].title or n for n in settings.channels},
        responsibilities=settings.responsibilities,
        preview=calendar_editing.window_preview(workspace, now(), fields)), status


@blueprint.route("/write/new-campaign")
@blueprint.route("/write/campaigns/<campaign_id>")
@login_required
def campaign(campaign_id: str | None = None):
    """A campaign's form, as its file says now (or an empty one for a new campaign)."""
    _may_write_campaign(campaign_id)
    form = calendar_editing.campaign_form(ws(), campaign_id)
    return _campaign_page(form, form.fields)


@blueprint.route("/write/campaigns/preview", methods=["POST"])
@login_required
def preview_campaign():
    """The campaign's windows around its anchor (htmx swaps them in as people choose)."""
    _may_write_campaign(request.form.get("campaign") or None)
    fields = _campaign_fields(request.form)
    return render_template("_window_preview.html", oob=True, typed=fields,
                           preview=calendar_editing.window_preview(ws(), now(), fields))


@blueprint.route("/write/campaigns/save", methods=["POST"])
@login_required
def save_campaign():
    """Check the campaign again, or save it to its schedules file."""
    original = request.form.get("campaign") or None
    _may_write_campaign(original)
    form = calendar_editing.campaign_form(ws(), original)
    fields = _campaign_fields(request.form)
    seen = request.form.get("digest", "")
    if request.form.get("action") != "save":
        return _campaign_page(form, fields, digest=seen)
    return _saved(lambda: calendar_editing.save_campaign(ws(), actor(), now(), original, fields,
                                                         seen),
                  partial(_campaign_page, form, fields), seen,
                  url_for("writing.campaign", campaign_id=fields.id))
