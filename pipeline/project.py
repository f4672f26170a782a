"""Load phase: read config, calendar and content once, keeping every problem found."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from pipeline.calendar import Blackout, Cadence, Campaign, Event
from pipeline.config import Config
from pipeline.content import (
    Audience,
    AuditChannel,
    Bulletin,
    ChannelAuditFile,
    KeyMessage,
    KeyMessagesFile,
    Post,
    PostsFile,
)
from pipeline.files import FileRefused
from pipeline.images import Image, open_image
from pipeline.problems import ERROR, InputError, Problem, display_path
from pipeline.tomlfile import TOML_MAX, TomlFile, parse_toml, read_toml
from pipeline.validation import Strict, validate, validate_each

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class ScheduleFile(Strict):
    """Any file in schedules/: each may hold any of these sections."""

    priorities: dict[str, str] = Field(default_factory=dict, description="Priority area id → title.")
    event: list[Event] = Field(default_factory=list)
    campaign: list[Campaign] = Field(default_factory=list)
    cadence: Cadence | None = None
    blackout: list[Blackout] = Field(default_factory=list)
    political_terms: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Located:
    """Where a thing was defined, for messages about it."""

    source: TomlFile
    loc: tuple[Any, ...]

    def problem(self, message: str, sub: tuple[Any, ...] = (), severity: str = ERROR,
                code: str = "") -> Problem:
        """A problem at this definition (or at key `sub` inside it)."""
        return self.source.problem((*self.loc, *sub), message, severity, code)


@dataclass(frozen=True)
class CampaignPost:
    """A post with its campaign and where it was written."""

    campaign: str
    post: Post
    at: Located
    image_digest: str = ""

    @property
    def ref(self) -> str:
        """'campaign/post', unique across the content."""
        return f"{self.campaign}/{self.post.id}"


@dataclass
class Project:
    """Everything loaded: the inputs of the plan, and the problems found reading them."""

    config: Config
    events: dict[str, Event] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    priorities: dict[str, str] = field(default_factory=dict)
    cadence: Cadence = field(default_factory=Cadence)
    blackouts: list[Blackout] = field(default_factory=list)
    political_terms: list[str] = field(default_factory=list)
    posts: list[CampaignPost] = field(default_factory=list)
    bulletins: dict[str, Bulletin] = field(default_factory=dict)
    audiences: dict[str, Audience] = field(default_factory=dict)
    key_messages: list[KeyMessage] = field(default_factory=list)
    audit: list[AuditChannel] = field(default_factory=list)
    where: dict[str, Located] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # True when a schedules file could not be read: references to what it held are not
    # reported again as unknown (the file's own error is the one to fix)
    schedules_incomplete: bool = False
    # "event:id" of each table left out for its own errors: the same, for what it defined
    dropped: set[str] = field(default_factory=set)
    images: dict[tuple[str, int, int], Image | str] = field(default_factory=dict)  # image()
    # files read as this text instead of what is on disk (a form's edit, checked before it is
    # written); a path not on disk yet is a new file
    replaced: Mapping[Path, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        """Problems that block planning and publication."""
        return [p for p in self.problems if p.is_error]

    def display(self, path: Path) -> str:
        """A file path as shown in messages."""
        return display_path(path)

    def image(self, written: str) -> Image | str:
        """The image a post or story names (relative to content/), or why it cannot be used;
        read once per version of the file however many posts and channels use it (an image
        added or replaced later, e.g. an upload from the workspace, is read again)."""
        try:
            stat = (Path(self.config.content_dir) / written).stat()
        except (OSError, ValueError):
            stat = None
        key = (written, stat.st_mtime_ns, stat.st_size) if stat else None
        found = self.images.get(key) if key else None
        if found is None:
            try:
                found = open_image(self.config.content_dir, written)
            except FileRefused as exc:
                found = str(exc)
            if key:
                self.images[key] = found
        return found


# A bulletin is one email: its HTML is about ten times its file, and Gmail clips an email over
# 102 KB, so a bulletin file past this is never sane (a bundled one is under 3 KB).
BULLETIN_MAX = 100_000


def _read(project: Project, path: Path, most: int = TOML_MAX,
          what: str = "file") -> TomlFile | None:
    try:
        if path in project.replaced:
            return _replacement(path, project.replaced[path], most, what)
        return read_toml(path, display_path(path), most, what)
    except InputError as exc:
        project.problems.extend(exc.problems)
        return None


def _replacement(path: Path, text: str, most: int, what: str) -> TomlFile:
    shown = display_path(path)
    size = len(text.encode("utf-8"))
    if size > most:
        raise InputError([Problem(shown, None, ERROR, f"would be {size:,} bytes; a {what} may be "
                                  f"at most {most:,}: make it shorter or split it")])
    return parse_toml(text, path, shown)


def _toml_files(project: Project, folder: Path) -> list[Path]:
    """The *.toml files of `folder`, with any new file an edit adds there."""
    found = set(folder.glob("*.toml")) if folder.is_dir() else set()
    found |= {p for p in project.replaced if p.parent == folder and p.suffix == ".toml"}
    return sorted(found)


def _first(project: Project, kind: str, ident: str, here: Located) -> bool:
    """Record where `kind` `ident` is defined; False (and a located error) if it already was."""
    key = f"{kind}:{ident}"
    first = project.where.get(key)
    if first is None:
        project.where[key] = here
        return True
    place = f"{first.source.display}:{first.source.line_of(first.loc)}"
    project.problems.append(here.problem(
        f"duplicate {kind} id '{ident}' (first defined at {place}); give each {kind} its own id",
        ("id",)))
    return False


def _validate(project: Project, model: type[M], source: TomlFile):
    """`model` from `source`, a bad table of a list left out (see validate_each); its problems
    kept. Returns the model (or None) and kept(name): the file index of each table read."""
    parsed, problems, kept, dropped = validate_each(model, source.data, source)
    project.problems.extend(problems)
    # what a table left out was called, so references to it are not reported again
    project.dropped.update(f"{section}:{ident}" for section, ident in dropped if ident)

    def indexed(name: str, items: list[T]) -> Iterable[tuple[int, T]]:
        return zip(kept.get(name, range(len(items))), items, strict=True)
    return parsed, indexed


def load_schedules(project: Project) -> None:
    """Read every schedules/*.toml into the project."""
    folder = project.config.schedules_dir
    files = _toml_files(project, folder)
    if not files:
        project.problems.append(Problem(display_path(folder), None, ERROR,
            "no calendar files (*.toml) found; check [paths] schedules in config.toml"))
    cadence_at: Located | None = None
    for path in files:
        source = _read(project, path)
        if source is None:
            project.schedules_incomplete = True
            continue
        parsed, kept = _validate(project, ScheduleFile, source)
        if parsed is None:
            project.schedules_incomplete = True
            continue
        project.priorities.update(parsed.priorities)
        project.political_terms.extend(parsed.political_terms)
        for section, items, table in (("event", parsed.event, project.events),
                                      ("campaign", parsed.campaign, project.campaigns)):
            for i, item in kept(section, items):
                if _first(project, section, item.id, Located(source, (section, i))):
                    table[item.id] = item
        for i, blackout in kept("blackout", parsed.blackout):
            if _first(project, "blackout", blackout.id, Located(source, ("blackout", i))):
                project.blackouts.append(blackout)
        if parsed.cadence is not None:
            here = Located(source, ("cadence",))
            if cadence_at is not None:
                project.problems.append(here.problem(
                    f"[cadence] is defined twice (also in {cadence_at.source.display}); keep one"))
            cadence_at = here
            project.cadence = parsed.cadence
            project.where["cadence"] = here


def load_content(project: Project) -> None:
    """Read posts, bulletins, key messages and the channel audit."""
    root = project.config.content_dir
    if not root.is_dir():
        project.problems.append(Problem(display_path(root), None, ERROR,
            "content folder not found; check [paths] content in config.toml"))
        return
    for path in _toml_files(project, root / "posts"):
        _load_posts(project, path, root)
    for path in _toml_files(project, root / "bulletins"):
        source = _read(project, path, BULLETIN_MAX, "bulletin file")
        if source is None:
            continue
        bulletin, problems = validate(Bulletin, source.data, source)
        project.problems.extend(problems)
        if bulletin is None:
            continue
        here = Located(source, ())
        if path.stem != bulletin.month:
            project.problems.append(here.problem(
                f"file is named '{path.name}' but says month = '{bulletin.month}'; "
                f"rename it to '{bulletin.month}.toml' or fix the month", ("month",)))
            continue
        project.bulletins[bulletin.month] = bulletin
        project.where[f"bulletin:{bulletin.month}"] = here
    messages = root / "key-messages.toml"
    if messages.exists() and (source := _read(project, messages)):
        parsed, kept = _validate(project, KeyMessagesFile, source)
        if parsed:
            for i, aud in kept("audience", parsed.audience):
                if _first(project, "audience", aud.id, Located(source, ("audience", i))):
                    project.audiences[aud.id] = aud
            project.key_messages = parsed.message
            project.where["key-messages"] = Located(source, ())
    audit = root / "channel-audit.toml"
    if audit.exists() and (source := _read(project, audit)):
        parsed_audit, kept = _validate(project, ChannelAuditFile, source)
        if parsed_audit:
            project.audit = [c for i, c in kept("channel", parsed_audit.channel)
                             if _first(project, "audit channel", c.id, Located(source, ("channel", i)))]
            project.where["channel-audit"] = Located(source, ())


def _load_posts(project: Project, path: Path, root: Path) -> None:
    source = _read(project, path)
    if source is None:
        return
    parsed, kept = _validate(project, PostsFile, source)
    if parsed is None:
        return
    campaign = parsed.campaign or path.stem
    project.where[f"posts:{campaign}"] = Located(source, ("campaign",))
    for i, post in kept("post", parsed.post):
        here = Located(source, ("post", i))
        # ids are unique per campaign, across every file that writes posts for it
        key = f"post:{campaign}/{post.id}"
        if key in project.where:
            first = project.where[key]
            line = first.source.line_of(first.loc)
            place = (f"line {line}" if first.source is source
                     else f"{first.source.display}:{line}")
            project.problems.append(here.problem(
                f"duplicate post id '{post.id}' in campaign '{campaign}' (first at "
                f"{place}); give each post its own id", ("id",)))
            continue
        project.where[key] = here
        digest = ""
        if post.image:
            found = project.image(post.image)  # `wst check` says what is wrong with it, if it is
            digest = found.digest if isinstance(found, Image) else ""
        project.posts.append(CampaignPost(campaign, post, here, digest))
