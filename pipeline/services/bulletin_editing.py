"""Writing the monthly bulletin's file from the workspace: start the month's draft (the same
function as `wst bulletin new`), then its subject, preheader, intro and stories in Markdown,
draft or ready; saved through the editing service (round-trip, checked whole, atomic, audited,
committed) and previewed as people type."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import tomlkit
from markupsafe import Markup
from pydantic import ValidationError

from pipeline.bulletin_draft import draft_bulletin
from pipeline.content import Bulletin, Story
from pipeline.errors import Invalid
from pipeline.plan import BULLETIN_CAMPAIGN
from pipeline.policy import writing_refusal
from pipeline.services import editing
from pipeline.services.actor import Actor
from pipeline.services.bulletins import months as planned_months
from pipeline.services.editing import Opened, Saved
from pipeline.workspace import Workspace
from renderers.bulletin import markdown_html
from renderers.model import Finding

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
STORY_KEYS = ("title", "body", "link", "link_text", "image", "alt")


@dataclass(frozen=True)
class StoryFields:
    """One story as the form holds it."""

    title: str = ""
    body: str = ""
    link: str = ""
    link_text: str = ""
    image: str = ""
    alt: str = ""


@dataclass(frozen=True)
class BulletinFields:
    """What the bulletin form says."""

    subject: str = ""
    preheader: str = ""
    intro: str = ""
    status: str = "draft"
    stories: tuple[StoryFields, ...] = ()


@dataclass(frozen=True)
class BulletinForm:
    """A month's bulletin as its form opens: the fields, and the file's digest."""

    month: str
    fields: BulletinFields
    digest: str
    shown: str
    exists: bool


@dataclass(frozen=True)
class Preview:
    """The bulletin as typed: the checks (the same as `wst check`'s) and what must be filled in
    first; nothing is saved."""

    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    intro: Markup = field(default_factory=Markup)    # the intro's Markdown as the email's HTML
    bodies: list[Markup] = field(default_factory=list)  # each story's body, the same way


def _month(month: str) -> str:
    if not _MONTH.match(month):
        raise Invalid(f"'{month}' is not a month; write YYYY-MM, e.g. 2027-04", field="month")
    return month


def path_of(ws: Workspace, month: str) -> Path:
    """content/bulletins/YYYY-MM.toml."""
    return editing.in_folder(Path(ws.config.content_dir), f"bulletins/{_month(month)}.toml")


def responsibility(ws: Workspace) -> str:
    """Who answers for the bulletin ([cadence] responsibility)."""
    return ws.catalog.project.cadence.responsibility


def refusal_to_write(ws: Workspace, person: str) -> str | None:
    """Why `person` may not write the bulletin, or None."""
    return writing_refusal(ws.config.settings, responsibility(ws), person)


def bulletin_form(ws: Workspace, month: str) -> BulletinForm:
    """The month's bulletin as its file says now (empty when there is no file yet)."""
    shown = editing.opened(path_of(ws, month))
    data = _data(shown)
    stories = tuple(StoryFields(*(str(s.get(k, "")) for k in STORY_KEYS))
                    for s in data.get("story", []) if isinstance(s, dict))
    fields = BulletinFields(str(data.get("subject", "")), str(data.get("preheader", "")),
                            str(data.get("intro", "")), str(data.get("status", "ready")),
                            stories)
    return BulletinForm(month, fields, shown.digest, shown.shown, bool(shown.text))


def _data(shown: Opened) -> dict:
    try:
        return editing.parse(shown).unwrap() if shown.text else {}
    except editing.EditRefused:
        return {}


def bulletin_text(original: Opened, month: str, fields: BulletinFields) -> str:
    """The file's text with the form's values, everything else (comments, theme, order) kept."""
    doc = editing.parse(original)
    if "month" not in doc:
        doc["month"] = month
    for key in ("status", "subject", "preheader", "intro"):
        editing.set_key(doc, key, getattr(fields, key))
    stories = doc.get("story")
    if stories is None:
        stories = tomlkit.aot()
        doc.append("story", stories)
    while len(stories) > len(fields.stories):
        del stories[len(stories) - 1]
    for i, story in enumerate(fields.stories):
        editing.write_table(stories, i if i < len(stories) else None,
                            [(key, getattr(story, key)) for key in STORY_KEYS])
    return tomlkit.dumps(doc)


def save_bulletin(ws: Workspace, actor: Actor, now: datetime, month: str,
                  fields: BulletinFields, seen: str) -> Saved:
    """Write the month's bulletin file with the form's values. Refused whole (NotAllowed,
    Invalid, EditConflict, EditRefused) before anything is written."""
    editing.may_write(ws, actor.person, responsibility(ws), "write the bulletin")
    path = path_of(ws, month)
    text = bulletin_text(editing.opened(path), month, fields)
    return editing.write(ws, actor, now, path, text, seen, f"Edit the {month} bulletin",
                         {"bulletin": month, "status": fields.status}, BULLETIN_CAMPAIGN)


def start_draft(ws: Workspace, actor: Actor, now: datetime, month: str) -> Saved:
    """Write the month's draft, prefilled from the calendar by the same function as `wst
    bulletin new`; Invalid if the month already has a file (it is never overwritten)."""
    editing.may_write(ws, actor.person, responsibility(ws), "start the bulletin")
    path = path_of(ws, month)
    if path.exists():
        raise Invalid(f"{editing.opened(path).shown} already exists; edit it instead",
                      field="month")
    text = draft_bulletin(ws.catalog.project, month)
    return editing.write(ws, actor, now, path, text, "", f"Start the {month} bulletin draft",
                         {"bulletin": month, "draft": True}, BULLETIN_CAMPAIGN)


def preview(ws: Workspace, month: str, fields: BulletinFields) -> Preview:
    """The checks of the bulletin as typed, without saving anything."""
    try:
        bulletin = Bulletin(month=_month(month), subject=fields.subject,
                            preheader=fields.preheader, intro=fields.intro,
                            status=fields.status,  # type: ignore[arg-type]
                            story=[Story(**{k: getattr(s, k) for k in STORY_KEYS})
                                   for s in fields.stories])
    except ValidationError as exc:
        return Preview([], [_reading(e) for e in exc.errors()], *_html(fields))
    email = [n for n in ws.catalog.project.cadence.channels
             if n in ws.config.enabled_channels()] or ["archive"]
    found = ws.catalog.renderer.bulletin_findings(bulletin, email[0], f"bulletin {month}")
    return Preview([f for f in found if f.code != "draft"], [], *_html(fields))


def _html(fields: BulletinFields) -> tuple[Markup, list[Markup]]:
    return markdown_html(fields.intro), [markdown_html(s.body) for s in fields.stories]


def months(ws: Workspace, now: datetime) -> list[tuple[str, bool]]:
    """The months whose bulletin is planned from last month to four months ahead, each with
    whether its file is written yet."""
    today = now.astimezone(ws.config.tz).date()
    planned = planned_months(ws, today - timedelta(days=31), today + timedelta(days=122))
    written = ws.catalog.project.bulletins
    return [(month, month in written) for month, _due in planned]


def _reading(error: dict) -> str:
    """A validation error as a sentence naming the field ("story 2 title: ...")."""
    where = " ".join(str(p + 1) if isinstance(p, int) else str(p) for p in error["loc"])
    return f"{where}: {error['msg'].lower()}"
