"""Reactive posts: one-off posts after an event, through the same checks, ledger and gates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.errors import Invalid, WstError
from pipeline.plan import Item
from pipeline.policy import approval_refusal
from pipeline.publisher import Publisher, PublishResult
from pipeline.reactive import RESPONSIBILITY, ReactivePost, items_for, new_id
from pipeline.services.actor import Actor, known_person
from pipeline.workspace import Workspace

# `--at` this little before now is now (a time typed to the minute, a slow start).
PAST_SLACK = timedelta(minutes=5)


class PostRefused(WstError):
    """A reactive post that fails its checks or its approval: nothing was saved or sent."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("nothing was posted or saved; fix the text and try again")


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


@dataclass
class Posted:
    """A saved and approved reactive post: its items, the warnings, and what went out now."""

    post: ReactivePost
    items: list[Item]
    warnings: list[str] = field(default_factory=list)
    published: list[PublishResult] = field(default_factory=list)

    @property
    def due(self) -> datetime:
        """When it goes out."""
        return self.post.due


def post(ws: Workspace, actor: Actor, now: datetime, draft: Draft, *,
         accept_identifying: bool = False) -> Posted:
    """Check, save, approve as `actor` (who must be accountable for reactive posts) and, if its
    time has come, publish. Refused as a whole (PostRefused) before anything is saved."""
    from pipeline.lint import has_visible_text  # here: the rules load what every command need not

    settings = ws.config.settings
    known_person(settings, actor.person, "--approved-by")
    if not has_visible_text(draft.text):
        raise Invalid("a post needs some text (spaces and invisible characters are not text)",
                      field="--text")
    if draft.image and not draft.alt.strip():
        raise Invalid("an image needs alt text describing it", field="--alt")
    enabled = ws.config.enabled_channels()
    if not draft.channels:
        raise Invalid(f"name at least one channel: {', '.join(enabled)}", field="--channels")
    for name in draft.channels:
        if name not in enabled:
            raise Invalid(f"'{name}' is not an enabled channel; choose from {', '.join(enabled)}",
                          field="--channels")
    if draft.at is not None and draft.at < now - PAST_SLACK:
        raise Invalid(f"{draft.at.astimezone(ws.config.tz):%a %d %b %Y %H:%M} is in the past; "
                      f"leave --at out to post now, or give a time to come", field="--at")
    refusal = approval_refusal(settings, RESPONSIBILITY, actor.person)
    if refusal:
        raise PostRefused([f"not approved: {refusal}"])
    due = draft.at or now
    pause = ws.ledger.pauses.active(now)
    if draft.answers_pause and pause is None:
        raise Invalid("there is no pause in force for it to answer; post it without "
                      "--answers-pause", field="--answers-pause")
    rp = ReactivePost(new_id(draft.text, due), draft.text, draft.channels,
                      str(draft.image.resolve()) if draft.image else "", draft.alt,
                      draft.help_post, due.astimezone(UTC), draft.answers_pause)
    if any(saved.id == rp.id for saved in ws.reactive.all()):
        when = due.astimezone(ws.config.tz)
        raise Invalid(f"this exact text is already posted for {when:%a %d %b %H:%M} "
                      f"(reactive/{rp.id}); see `wst plan --campaign reactive`", field="--text")
    catalog = ws.catalog.with_reactive([*ws.catalog.reactive.values(), rp])
    items = items_for(rp, ws.config.tz, set(enabled))
    problems: list[str] = []
    warnings: list[str] = []
    for item in items:
        rendered = catalog.renderer.render(item)
        problems += [f"{item.channel}: {f.message}" for f in rendered.errors]
        for f in rendered.findings:
            if f.needs_acceptance and not accept_identifying:
                problems.append(f"{item.channel}: {f.message} (add --accept-identifying once checked)")
            elif f.severity == "warning" and not f.needs_acceptance:
                warnings.append(f"{item.channel}: {f.message}")
    if problems:
        raise PostRefused(list(dict.fromkeys(problems)))
    ws.reactive.add(rp, actor.person, now)
    ws.ledger.audit.add(now, "reactive-post", actor, details={
        "post": rp.id, "channels": list(rp.channels), "due": rp.due.isoformat(),
        "answers_pause": rp.answers_pause,
        "pause": None if pause is None else {"id": pause.id, "reason": pause.reason}})
    ws.refresh_reactive()
    ws.ledger.publications.sync_planned(items, now, dry_run=ws.catalog.dry_run_for)
    for item in items:
        ws.ledger.approvals.approve(item.id, item.version, actor, now, settings,
                                    accept_identifying=accept_identifying)
    result = Posted(rp, items, list(dict.fromkeys(warnings)))
    if due <= now:  # a later time is the daemon's to keep: never publish early
        publisher = Publisher(ws)
        result.published = [publisher.publish(item.id) for item in items]
    return result
