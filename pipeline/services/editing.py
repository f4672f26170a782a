"""Writing content and calendar files from the workspace's forms: the same TOML files people
edit by hand, which stay the truth.

One function per save. Each edits the file round-trip (tomlkit: comments, order and layout
kept), refuses when the file changed since the form was opened (the form carries the digest of
what it showed), checks the whole project with the edit in place exactly as `wst check` does
and refuses it with the located problems if it would fail, then writes it atomically (a
temporary file in the same folder, flushed to the disk, renamed over the old one). Every save
is in the audit trail with the person and, where the file is in a git repository, a commit by
that person. The new version is planned at once (an approval of the old one is void)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import subprocess
import tempfile
import tomllib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Whitespace

from pipeline.check import load_project
from pipeline.content import Post
from pipeline.errors import Invalid, NotAllowed, NotFound, WstError
from pipeline.files import FileRefused, inside
from pipeline.housekeeping import sync
from pipeline.policy import accountable_for, writing_refusal
from pipeline.problems import ERROR, Problem, display_path
from pipeline.project import CampaignPost, Project
from pipeline.services import images, planning, posting
from pipeline.services.actor import Actor, known_person
from pipeline.services.posting import DraftCheck
from pipeline.timing import parse_when
from pipeline.workspace import Workspace

AUDIT_KIND = "content-save"


class EditConflict(WstError):
    """The file changed since the form was opened: nothing was written. Both versions are kept
    for the person to compare."""

    def __init__(self, path: str, yours: str, theirs: str):
        self.path = path
        self.yours = yours
        self.theirs = theirs
        self.digest = digest_of(theirs)
        super().__init__(f"{path} changed since you opened it (someone saved it, or it was "
                         f"edited by hand); nothing was written. Compare the two versions, then "
                         f"make your change again on the current one")


class EditRefused(WstError):
    """The edit would make `wst check` fail: nothing was written; the located problems say
    what to fix."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("nothing was written: with this change `wst check` finds "
                         + "; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class Opened:
    """A file as a form shows it: where it is, its text ('' for one not written yet) and the
    digest the form sends back, so a save can tell whether it changed meanwhile."""

    path: Path
    shown: str
    text: str

    @property
    def digest(self) -> str:
        """The digest of the text shown."""
        return digest_of(self.text)


@dataclass(frozen=True)
class Saved:
    """A save: the file, its new digest, the commit (if the file is in a git repository) and
    the warnings `wst check` gives about that file."""

    shown: str
    digest: str
    commit: str | None
    warnings: list[Problem] = field(default_factory=list)


def digest_of(text: str) -> str:
    """The digest of a file's text ('' for a file that does not exist)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text else ""


def _text_of(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return ""


def opened(path: Path) -> Opened:
    """A content or calendar file as it is now."""
    return Opened(path, display_path(path), _text_of(path))


def in_folder(folder: Path, name: str) -> Path:
    """`name` inside `folder` (content/ or schedules/), or Invalid: a path a form sends never
    leads anywhere else."""
    try:
        inside(folder, name)
    except FileRefused as exc:
        raise Invalid(f"'{name}' {exc}", field="file") from None
    return folder / name  # as the loader names it (config's folder, links not followed)


def may_write(ws: Workspace, person: str, responsibility: str, what: str) -> None:
    """NotAllowed unless the RASCI matrix lets `person` write work of `responsibility`."""
    settings = ws.config.settings
    known_person(settings, person)
    refusal = writing_refusal(settings, responsibility, person)
    if refusal:
        raise NotAllowed(person, what, refusal, tuple(accountable_for(settings, responsibility)))


def parse(opened_file: Opened) -> tomlkit.TOMLDocument:
    """The file as an editable document (a new file is an empty one); EditRefused, located, if
    it is not valid TOML (fix it by hand first)."""
    try:
        return tomlkit.parse(opened_file.text)
    except TOMLKitError as exc:
        line = getattr(exc, "line", None)
        raise EditRefused([Problem(opened_file.shown, line, ERROR,
                                   f"the file is not valid TOML ({exc}); fix it by hand first")]
                          ) from None


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One save at a time in a folder, across threads and processes (an advisory lock on the
    folder itself: no lock file is left in the project)."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing lets the lock go


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all: a temporary file in the same folder, on the
    disk before it is renamed over the old file (which keeps its permissions)."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself survives a power cut
    finally:
        os.close(folder)


def checked(ws: Workspace, now: datetime, path: Path, text: str) -> tuple[Project, list[Problem]]:
    """The whole project with `text` in place of `path`, checked as `wst check` does; its
    warnings, or EditRefused with its errors. Every file is read and cross-checked; the
    content checks (words, numbers, images) are those any file the edit could change."""
    project = load_project(ws.config, {path: text})
    # a content file's edit changes no other file's content checks; a calendar edit may
    # change any (a campaign's channels), so it is checked whole
    content = path.is_relative_to(ws.config.content_dir)
    report = planning.check(project, now.astimezone(ws.config.tz).date(),
                            only=path if content else None)
    errors = [p for p in report.problems if p.is_error]
    if errors:
        raise EditRefused(errors)
    return project, [p for p in report.problems if not p.is_error]


def write(ws: Workspace, actor: Actor, now: datetime, path: Path, text: str, seen: str,
          what: str, details: dict, campaign: str | None = None) -> Saved:
    """Write `text` to `path` if nobody changed it since the form showed the version of digest
    `seen` (EditConflict) and the project passes `wst check` with it (EditRefused); then
    commit it, record it and plan the new version (of `campaign`'s items when the file holds
    only its work; of everything otherwise). The caller checked the person may."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # one save at a time in the project: each is checked against every file as the one
    # before it left them, and the catalog adopted is never older than the files
    with _locked(ws.config.root):
        current = _text_of(path)
        shown = display_path(path)
        if digest_of(current) != seen:
            raise EditConflict(shown, text, current)
        if text == current:
            return Saved(shown, seen, None)
        project, warnings = checked(ws, now, path, text)
        atomic_write(path, text)
        commit, not_committed = _commit(path, actor, ws, f"{what} (from the workspace)")
        ws.ledger.audit.add(now, AUDIT_KIND, actor, details={
            **details, "file": shown, "digest": digest_of(text), "previous": seen or None,
            "commit": commit, **({"not_committed": not_committed} if not_committed else {})})
        ws.adopt(project)
        sync(ws, now, campaign)  # planned now; the daemon's reload finds it there
    return Saved(shown, digest_of(text), commit, [p for p in warnings if p.path == shown])


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                          timeout=30, check=False)


def _commit(path: Path, actor: Actor, ws: Workspace, message: str) -> tuple[str | None, str]:
    """Commit `path` alone, by the person, if it is in a git repository: (its id, "") or
    (None, why it was not committed); (None, "") when it is not in one or git is not
    installed. The file is written either way: it is the truth."""
    folder = path.parent
    try:
        inside_repo = _git(folder, "rev-parse", "--is-inside-work-tree")
    except (OSError, subprocess.SubprocessError):
        return None, ""
    if inside_repo.returncode != 0 or inside_repo.stdout.strip() != "true":
        return None, ""
    person = ws.config.settings.people.get(actor.person)
    name = person.name if person else actor.person
    email = (person.email if person else "") or f"{actor.person}@workspace.invalid"
    who = ["-c", f"user.name={name}", "-c", f"user.email={email}", "-c", "commit.gpgsign=false"]
    try:
        added = _git(folder, "add", "--", path.name)
        done = added if added.returncode else _git(
            folder, *who, "commit", "--quiet", "--no-verify", "-m", message, "--", path.name)
        if done.returncode:
            return None, (done.stderr or done.stdout).strip()[:200]
        return _git(folder, "rev-parse", "HEAD").stdout.strip() or None, ""
    except (OSError, subprocess.SubprocessError) as exc:
        return None, str(exc)[:200]


# -- campaign posts -----------------------------------------------------------------------------

# The keys a post form writes, in the order a new post has them.
POST_KEYS = ("id", "when", "title", "text", "link", "image", "alt", "help", "channels")


@dataclass(frozen=True)
class PostFields:
    """What the post form says. `channels` None: the campaign's channels (no key written)."""

    id: str
    when: str
    text: str
    title: str = ""
    link: str = ""
    image: str = ""
    alt: str = ""
    help: bool = False
    channels: tuple[str, ...] | None = None


def post_file(ws: Workspace, campaign: str) -> Path:
    """The file that holds a campaign's posts (content/posts/<campaign>.toml if it has none
    yet); NotFound for a campaign the calendar does not have."""
    project = ws.catalog.project
    if campaign not in project.campaigns:
        raise NotFound(f"there is no campaign '{campaign}' in schedules/", field="campaign")
    where = project.where.get(f"posts:{campaign}")
    if where is not None:
        return where.source.path
    return in_folder(Path(ws.config.content_dir), f"posts/{campaign}.toml")


def campaign_responsibility(ws: Workspace, campaign: str) -> str:
    """Who answers for a campaign's posts (its `responsibility`)."""
    found = ws.catalog.project.campaigns.get(campaign)
    if found is None:
        raise NotFound(f"there is no campaign '{campaign}' in schedules/", field="campaign")
    return found.responsibility


def refusal_to_write_posts(ws: Workspace, person: str, campaign: str) -> str | None:
    """Why `person` may not write this campaign's posts, or None."""
    return writing_refusal(ws.config.settings, campaign_responsibility(ws, campaign), person)


def _string(text: str, old) -> tomlkit.items.String:
    multiline = "\n" in text or (isinstance(old, tomlkit.items.String)
                                 and old.type.is_multiline())
    return tomlkit.string(text, multiline=multiline)


def set_key(table, key: str, value) -> None:
    """Set one key in place where it is (its comment kept); an empty value is not added where
    the key is not written, and None removes it (a default, such as the campaign's channels)."""
    if value is None:
        if key in table:
            del table[key]
        return
    if (value == "" or value is False) and key not in table:
        return
    if key in table and _plain(table[key]) == _plain(value):
        return  # unchanged: left exactly as it is written
    if isinstance(value, str):
        value = _string(value, table.get(key))
    elif isinstance(value, tuple):
        value = list(value)
    table[key] = value


def write_table(tables, index: int | None, values: Iterable[tuple[str, Any]]) -> None:
    """Set `values` (see set_key) in table `index` of a list of tables (`[[post]]`), or in a
    new one at its end when None, laid out as people write them: a blank line between tables."""
    if index is not None:
        for key, value in values:
            set_key(tables[index], key, value)
        return
    blank_after = len(tables) > 0 and _ends_blank(tables[-1])
    if len(tables) and not blank_after:
        tables[-1].add(tomlkit.nl())
    tables.append(tomlkit.table())
    for key, value in values:
        set_key(tables[-1], key, value)
    if blank_after:  # the last table had the blank line before what follows: so has this one
        tables[-1].add(tomlkit.nl())


def _ends_blank(table) -> bool:
    body = table.value.body
    return bool(body) and body[-1][0] is None and isinstance(body[-1][1], Whitespace) \
        and "\n" in body[-1][1].as_string()


def _plain(value):
    """A tomlkit value as plain Python, to compare with a form's."""
    value = value.unwrap() if hasattr(value, "unwrap") else value
    return list(value) if isinstance(value, tuple) else value


def post_text(original: Opened, campaign: str, post_id: str | None,
              fields: PostFields) -> str:
    """The file's text with post `post_id` changed to `fields` (a new post when None)."""
    doc = parse(original)
    posts = doc.get("post")
    if posts is None:
        if not original.text and campaign != original.path.stem:
            doc["campaign"] = campaign
        posts = tomlkit.aot()
        doc.append("post", posts)
    ids = [str(t.get("id", "")) for t in posts]
    if post_id is None and fields.id in ids:
        raise Invalid(f"this campaign already has a post '{fields.id}'; give the new one its "
                      f"own id", field="id")
    if post_id is not None:
        if post_id not in ids:
            raise NotFound(f"there is no post '{post_id}' in {original.shown}", field="post")
        if fields.id != post_id and fields.id in ids:
            raise Invalid(f"this campaign already has a post '{fields.id}'", field="id")
    write_table(posts, None if post_id is None else ids.index(post_id),
                [(key, getattr(fields, key)) for key in POST_KEYS])
    return tomlkit.dumps(doc)


def save_post(ws: Workspace, actor: Actor, now: datetime, campaign: str, post_id: str | None,
              fields: PostFields, seen: str) -> Saved:
    """Change post `post_id` of `campaign` (or add a new one when None) in its file. Refused
    whole (NotAllowed, NotFound, Invalid, EditConflict, EditRefused) before anything is
    written."""
    may_write(ws, actor.person, campaign_responsibility(ws, campaign), "write a campaign post")
    path = post_file(ws, campaign)
    if post_id is not None and fields.channels is not None:
        # a channel the file lists that is switched off is not on the form: it stays listed
        offered = campaign_channels(ws, campaign)
        was = post_form(ws, campaign, post_id).fields.channels or ()
        fields = replace(fields, channels=(*fields.channels,
                                           *(c for c in was if c not in offered)))
    text = post_text(opened(path), campaign, post_id, fields)
    return write(ws, actor, now, path, text, seen,
                 f"{'Add' if post_id is None else 'Edit'} post {campaign}/{fields.id}",
                 {"campaign": campaign, "post": fields.id, "was": post_id, "new": post_id is None},
                 campaign)


# -- the post form --------------------------------------------------------------------------------

_REL = re.compile(r"^(?P<n>\d+) (?P<unit>days?|weeks?) (?P<dir>before|after) at "
                  r"(?P<t>\d{1,2}:\d{2})$")
_ON = re.compile(r"^on the (?:first )?day at (?P<t>\d{1,2}:\d{2})$")
_ABS = re.compile(r"^at (?P<d>\d{4}-\d{2}-\d{2})[ T](?P<t>\d{1,2}:\d{2})$")


@dataclass(frozen=True)
class WhenParts:
    """A post's `when` as the form's date builder holds it: so many days or weeks before or
    after the anchor at a time, on the day, an exact time, or a phrase as written (the other
    forms of docs/formats.md)."""

    mode: str = "before"      # before | after | on | at | written
    n: int = 2
    unit: str = "days"        # days | weeks
    time: str = "10:00"
    at: str = ""              # an exact local time, "2027-02-01T10:00"
    written: str = ""

    def phrase(self) -> str:
        """The `when` written in the file."""
        if self.mode in ("before", "after"):
            unit = self.unit if self.n != 1 else self.unit.removesuffix("s")
            return f"{self.n} {unit} {self.mode} at {self.time}"
        if self.mode == "on":
            return f"on the day at {self.time}"
        if self.mode == "at":
            return f"at {self.at.replace('T', ' ')}"
        return self.written.strip()

    @classmethod
    def of(cls, phrase: str) -> WhenParts:
        """The builder's parts of a `when` phrase (the other forms are kept as written)."""
        text = " ".join(phrase.strip().lower().split())
        if m := _REL.match(text):
            unit = "weeks" if m["unit"].startswith("week") else "days"
            return cls(m["dir"], int(m["n"]), unit, m["t"].zfill(5))
        if m := _ON.match(text):
            return cls("on", time=m["t"].zfill(5))
        if m := _ABS.match(text):
            return cls("at", at=f"{m['d']}T{m['t'].zfill(5)}")
        return cls("written", written=phrase)


@dataclass(frozen=True)
class PostForm:
    """A post as its form opens: the fields, the file's digest, the channels its campaign may
    use, and what the form does not edit (per-channel variants, kept as they are)."""

    campaign: str
    title: str
    post_id: str | None
    fields: PostFields
    digest: str
    shown: str
    channels: list[str]
    variants: dict[str, str]


def campaign_channels(ws: Workspace, campaign: str) -> list[str]:
    """The enabled channels a campaign may post to."""
    enabled = ws.config.enabled_channels()
    found = ws.catalog.project.campaigns.get(campaign)
    return [c for c in (found.channels if found else []) if c in enabled]


def post_form(ws: Workspace, campaign: str, post_id: str | None) -> PostForm:
    """The form for post `post_id` of `campaign` as its file says now (a new one when None);
    NotFound if there is no such campaign or post."""
    path = post_file(ws, campaign)
    shown = opened(path)
    title = ws.catalog.project.campaigns[campaign].title
    channels = campaign_channels(ws, campaign)
    if post_id is None:
        return PostForm(campaign, title, None, PostFields("", "2 days before at 10:00", ""),
                        shown.digest, shown.shown, channels, {})
    try:
        posts = tomllib.loads(shown.text).get("post", []) if shown.text else []
    except tomllib.TOMLDecodeError:
        posts = []
    table = next((p for p in posts if isinstance(p, dict) and p.get("id") == post_id), None)
    if table is None:
        raise NotFound(f"there is no post '{post_id}' in {shown.shown}", field="post")
    listed = table.get("channels")
    fields = PostFields(post_id, str(table.get("when", "")), str(table.get("text", "")),
                        str(table.get("title", "")), str(table.get("link", "")),
                        str(table.get("image", "")), str(table.get("alt", "")),
                        bool(table.get("help", False)),
                        None if listed is None else tuple(str(c) for c in listed))
    return PostForm(campaign, title, post_id, fields, shown.digest, shown.shown, channels,
                    {str(k): str(v) for k, v in (table.get("variants") or {}).items()})


def check_post(ws: Workspace, now: datetime, campaign: str, fields: PostFields,
               variants: dict[str, str] | None = None,
               upload: tuple[str, bytes] | None = None) -> DraftCheck:
    """Every check on a post as its form stands, per chosen channel, without saving anything
    (the composer's counters and content checks, for a campaign's post). What must be filled
    in first is listed, not raised."""
    problems: list[Invalid] = []
    if not fields.text.strip():
        problems.append(Invalid("a post needs some text", field="text"))
    try:
        parse_when(fields.when)
    except ValueError as exc:
        problems.append(Invalid(str(exc), field="when"))
    chosen = list(fields.channels) if fields.channels is not None \
        else campaign_channels(ws, campaign)
    allowed = campaign_channels(ws, campaign)
    if not chosen:
        problems.append(Invalid(f"choose at least one channel: {', '.join(allowed)}",
                                field="channels"))
    info = None
    image = fields.image
    try:
        if upload is not None:
            image, info = images.name_for(upload[0], upload[1], "upload")
        elif fields.image:
            info = images.info_of(images.chosen(ws, fields.image), "image")
    except Invalid as exc:
        problems.append(exc)
        image = ""
    if image and not fields.alt.strip():
        problems.append(Invalid("an image needs alt text describing it", field="alt"))
    post = Post.model_construct(id=fields.id or "new", when=fields.when, text=fields.text,
                                variants=dict(variants or {}), channels=chosen,
                                link=fields.link, image=image, alt=fields.alt, help=fields.help,
                                title=fields.title, anchor="", audience="")
    cp = CampaignPost(campaign, post, None)  # type: ignore[arg-type]  # not in a file yet
    shown = [c for c in chosen if c in allowed] if fields.text.strip() else []
    if shown:  # each channel's own check says an image lacks alt text: once is enough
        problems = [p for p in problems if p.field != "alt"]
    return DraftCheck([posting.channel_check(ws, cp, c, info) for c in shown], problems, info)
