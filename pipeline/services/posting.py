"""Reactive posts: one-off posts after an event, through the same checks, ledger and gates.

A person who may approve them posts one (`post`: checked, saved, approved, published when due);
a person who may only write them sends one for approval (`submit`: checked and saved unapproved,
so it waits in the approvers' queue). `check_draft` says what the checks find as people type."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.config import SOCIAL_KINDS
from pipeline.errors import Invalid, NotAllowed, WstError
from pipeline.imagefiles import ImageInfo
from pipeline.plan import Item
from pipeline.policy import accountable_for, approval_refusal, writing_refusal
from pipeline.project import CampaignPost
from pipeline.publisher import Publisher, PublishResult
from pipeline.reactive import RESPONSIBILITY, ReactivePost, items_for, new_id
from pipeline.services import images
from pipeline.services.actor import Actor, known_person
from pipeline.workspace import Workspace
from renderers.model import Finding

# `--at` this little before now is now (a time typed to the minute, a slow start).
PAST_SLACK = timedelta(minutes=5)

class PostRefused(WstError):
    """A reactive post that fails its checks or its approval: nothing was saved or sent."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("nothing was posted or saved; fix the text and try again")


@dataclass(frozen=True)
class Upload:
    """An image file sent with the post: checked with it, saved only if the post is."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class Draft:
    """What a person asks to post."""

    text: str
    channels: tuple[str, ...]
    image: Path | None = None
    alt: str = ""
    at: datetime | None = None      # default: now
    help_post: bool = False
    answers_pause: bool = False     # it answers the event the pause in force is for
    upload: Upload | None = None    # instead of `image`


@dataclass
class Posted:
    """A saved reactive post: its items, the warnings, and what went out now. `approved` is
    False for one sent for approval."""

    post: ReactivePost
    items: list[Item]
    warnings: list[str] = field(default_factory=list)
    published: list[PublishResult] = field(default_factory=list)
    approved: bool = True

    @property
    def due(self) -> datetime:
        """When it goes out."""
        return self.post.due


@dataclass(frozen=True)
class ChannelCheck:
    """A draft on one channel: its length counted that platform's way against its limit, and
    what the content checks found (the same rules as `wst check`)."""

    channel: str
    platform: str
    length: int
    limit: int
    unit: str
    byte_length: int
    byte_limit: int
    findings: tuple[Finding, ...]

    @property
    def over(self) -> int:
        """How far over the limit it is (0 if within)."""
        return max(0, self.length - self.limit)

    @property
    def errors(self) -> list[Finding]:
        """Findings that stop it going out."""
        return [f for f in self.findings if f.severity == "error"]


@dataclass(frozen=True)
class DraftCheck:
    """What the checks say about a draft as it stands; nothing is saved."""

    channels: list[ChannelCheck]
    problems: list[Invalid]          # what to fill in or change first (no text, no channel...)
    image: ImageInfo | None = None

    @property
    def blocking(self) -> int:
        """How many things stop it being saved."""
        return len(self.problems) + sum(len(c.errors) for c in self.channels)

    @property
    def warnings(self) -> int:
        """How many findings are worth a look but do not stop it."""
        return sum(len(c.findings) - len(c.errors) for c in self.channels)


def channels(ws: Workspace) -> list[str]:
    """The enabled channels a reactive post can go to (the social ones: not the bulletin's)."""
    return [name for name, c in ws.config.enabled_channels().items() if c.kind in SOCIAL_KINDS]


def refusal_to_write(ws: Workspace, person: str) -> str | None:
    """Why `person` may not write reactive posts and send them for approval, or None."""
    return writing_refusal(ws.config.settings, RESPONSIBILITY, person)


def refusal_to_approve(ws: Workspace, person: str) -> str | None:
    """Why `person` may not approve (and so post at once) reactive posts, or None."""
    return approval_refusal(ws.config.settings, RESPONSIBILITY, person)


def _input_problems(ws: Workspace, now: datetime, draft: Draft) -> list[Invalid]:
    """What must be filled in or changed before the draft can be checked and saved."""
    from pipeline.lint import has_visible_text  # here: the rules load what every command need not

    out = []
    if not has_visible_text(draft.text):
        out.append(Invalid("a post needs some text (spaces and invisible characters are not "
                           "text)", field="--text"))
    if (draft.image or draft.upload) and not draft.alt.strip():
        out.append(Invalid("an image needs alt text describing it", field="--alt"))
    if draft.image and draft.upload:
        out.append(Invalid("choose an image or upload one, not both", field="--image"))
    if draft.image and not draft.image.is_file():
        out.append(Invalid(f"there is no image file at {draft.image}", field="--image"))
    enabled, social = ws.config.enabled_channels(), channels(ws)
    if not draft.channels:
        out.append(Invalid(f"name at least one channel: {', '.join(social)}", field="--channels"))
    for name in draft.channels:
        if name not in enabled:
            out.append(Invalid(f"'{name}' is not an enabled channel; choose from "
                               f"{', '.join(social)}", field="--channels"))
        elif name not in social:
            out.append(Invalid(f"'{name}' is the bulletin's email channel; a post goes to "
                               f"{', '.join(social)}", field="--channels"))
    if draft.at is not None and draft.at < now - PAST_SLACK:
        out.append(Invalid(f"{draft.at.astimezone(ws.config.tz):%a %d %b %Y %H:%M} is in the "
                           f"past; leave --at out to post now, or give a time to come",
                           field="--at"))
    if draft.answers_pause and ws.ledger.pauses.active(now) is None:
        out.append(Invalid("there is no pause in force for it to answer; post it without "
                           "--answers-pause", field="--answers-pause"))
    return out


def _image(ws: Workspace, draft: Draft) -> tuple[str, ImageInfo | None]:
    """The post's image as it is stored (relative to content/, as content files name theirs)
    and what it is; Invalid if it is not a real image inside content/."""
    if draft.upload is not None:
        return images.name_for(draft.upload.filename, draft.upload.data, "--upload")
    if draft.image is None:
        return "", None
    path = draft.image.resolve()
    if not path.is_file():
        raise Invalid(f"there is no image file at {draft.image}", field="--image")
    content = Path(ws.config.content_dir).resolve()
    if not path.is_relative_to(content):
        # only files of content/ are ever sent: copy it there, where it can be reviewed
        raise Invalid(f"{draft.image} is outside content/; copy it into content/images/ first",
                      field="--image")
    return path.relative_to(content).as_posix(), images.info_of(path, "--image")


def _check(ws: Workspace, rp: ReactivePost, channel: str, info: ImageInfo | None) -> ChannelCheck:
    return channel_check(ws, rp.campaign_post(), channel, info)


def channel_check(ws: Workspace, cp: CampaignPost, channel: str,
                  info: ImageInfo | None) -> ChannelCheck:
    """One channel's rendering of a post and its findings (messages without the label); an
    image given as `info` (an upload not on disk yet, or a chosen one) is judged from it."""
    rendered, found = ws.catalog.renderer.post(cp, channel, channel)
    findings = [Finding(f.code, f.severity, f.message.removeprefix(f"{channel}: "), f.evidence,
                        f.needs_acceptance) for f in found
                # the image is judged from its bytes below (an upload is not on disk yet)
                if info is None or f.code not in ("image-file", "image-size")]
    if info is not None:
        findings += [Finding("image-fit", "error", p.removeprefix(f"{channel}: "))
                     for p in images.fit(ws, info, [channel])]
    return ChannelCheck(channel, rendered.platform, rendered.length, rendered.limit, rendered.unit,
                        rendered.byte_length, rendered.byte_limit, tuple(findings))


def _prepared(ws: Workspace, now: datetime, draft: Draft
              ) -> tuple[ReactivePost, list[ChannelCheck], ImageInfo | None]:
    image, info = _image(ws, draft)
    rp = _reactive(draft, now, image, draft.channels)
    return rp, [_check(ws, rp, name, info) for name in draft.channels], info


def _reactive(draft: Draft, now: datetime, image: str, chosen: tuple[str, ...]) -> ReactivePost:
    due = draft.at or now
    return ReactivePost(new_id(draft.text, due), draft.text, chosen, image, draft.alt,
                        draft.help_post, due.astimezone(UTC), draft.answers_pause)


def check_draft(ws: Workspace, now: datetime, draft: Draft) -> DraftCheck:
    """Every check on a draft, per chosen channel, without saving anything: for a composer that
    shows them as people type. Input that is missing or wrong is listed, not raised."""
    problems = _input_problems(ws, now, draft)
    try:
        image, info = _image(ws, draft)
    except Invalid as exc:
        if not any(p.field == exc.field for p in problems):
            problems.append(exc)
        image, info = "", None
    social = set(channels(ws))
    # nothing to count or check before there are words (the first problem says so)
    chosen = tuple(c for c in draft.channels if c in social) if draft.text.strip() else ()
    if chosen:  # each channel's own check says an image lacks alt text: once is enough
        problems = [p for p in problems if p.field != "--alt"]
    rp = _reactive(draft, now, image, chosen)
    return DraftCheck([_check(ws, rp, name, info) for name in chosen], problems, info)


def _refuse_on_input(ws: Workspace, now: datetime, draft: Draft) -> None:
    problems = _input_problems(ws, now, draft)
    if problems:
        raise problems[0]


def _unique(ws: Workspace, rp: ReactivePost) -> None:
    if any(saved.id == rp.id for saved in ws.reactive.all()):
        when = rp.due.astimezone(ws.config.tz)
        raise Invalid(f"this exact text is already posted for {when:%a %d %b %H:%M} "
                      f"(reactive/{rp.id}); see `wst plan --campaign reactive`", field="--text")


def _save(ws: Workspace, actor: Actor, now: datetime, rp: ReactivePost, draft: Draft,
          event: str) -> list[Item]:
    """Store a checked post (and its uploaded image) and record it in the ledger as planned."""
    if draft.upload is not None:
        images.save(ws, rp.image, draft.upload.data)
    pause = ws.ledger.pauses.active(now)
    ws.reactive.add(rp, actor.person, now)
    ws.ledger.audit.add(now, event, actor, details={
        "post": rp.id, "channels": list(rp.channels), "due": rp.due.isoformat(),
        "answers_pause": rp.answers_pause, "image": rp.image,
        "pause": None if pause is None else {"id": pause.id, "reason": pause.reason}})
    ws.refresh_reactive()
    items = items_for(rp, ws.config.tz, set(ws.config.enabled_channels()))
    ws.ledger.publications.sync_planned(items, now, dry_run=ws.catalog.dry_run_for)
    return items


def post(ws: Workspace, actor: Actor, now: datetime, draft: Draft, *,
         accept_identifying: bool = False) -> Posted:
    """Check, save, approve as `actor` (who must be accountable for reactive posts) and, if its
    time has come, publish. Refused as a whole (PostRefused) before anything is saved."""
    settings = ws.config.settings
    known_person(settings, actor.person, "--approved-by")
    _refuse_on_input(ws, now, draft)
    refusal = approval_refusal(settings, RESPONSIBILITY, actor.person)
    if refusal:
        raise PostRefused([f"not approved: {refusal}"])
    rp, checks, _info = _prepared(ws, now, draft)
    _unique(ws, rp)
    problems: list[str] = []
    warnings: list[str] = []
    for check in checks:
        for f in check.findings:
            if f.severity == "error":
                problems.append(f"{check.channel}: {f.message}")
            elif f.needs_acceptance and not accept_identifying:
                problems.append(f"{check.channel}: {f.message} (add --accept-identifying once "
                                f"checked)")
            elif not f.needs_acceptance:
                warnings.append(f"{check.channel}: {f.message}")
    if problems:
        raise PostRefused(list(dict.fromkeys(problems)))
    items = _save(ws, actor, now, rp, draft, "reactive-post")
    for item in items:
        ws.ledger.approvals.approve(item.id, item.version, actor, now, settings,
                                    accept_identifying=accept_identifying)
    result = Posted(rp, items, list(dict.fromkeys(warnings)))
    if rp.due <= now:  # a later time is the daemon's to keep: never publish early
        publisher = Publisher(ws)
        result.published = [publisher.publish(item.id) for item in items]
    return result


def submit(ws: Workspace, actor: Actor, now: datetime, draft: Draft) -> Posted:
    """Check and save a reactive post unapproved, for an approver: it waits in their queue
    until one approves it (and is held if its time comes first). For anyone responsible,
    accountable or in support for reactive posts. Refused as a whole before anything is saved:
    NotAllowed, Invalid, or PostRefused when a check fails. A possible identifying detail does
    not stop it: the approver must accept it by name."""
    settings = ws.config.settings
    known_person(settings, actor.person)
    refusal = writing_refusal(settings, RESPONSIBILITY, actor.person)
    if refusal:
        raise NotAllowed(actor.person, "write a reactive post", refusal,
                         tuple(accountable_for(settings, RESPONSIBILITY)))
    _refuse_on_input(ws, now, draft)
    if draft.at is None:
        raise Invalid("say when it should go out: it waits for an approver until then",
                      field="--at")
    if draft.at <= now:
        raise Invalid("that time has passed; choose a later one", field="--at")
    rp, checks, _info = _prepared(ws, now, draft)
    _unique(ws, rp)
    problems = [f"{c.channel}: {f.message}" for c in checks for f in c.errors]
    if problems:
        raise PostRefused(list(dict.fromkeys(problems)))
    warnings = [f"{c.channel}: {f.message}" for c in checks for f in c.findings
                if f.severity != "error"]
    items = _save(ws, actor, now, rp, draft, "reactive-submit")
    for item in items:
        ws.ledger.audit.add(now, "submit", actor, item_id=item.id,
                            details={"version": item.version})
    return Posted(rp, items, list(dict.fromkeys(warnings)), approved=False)
