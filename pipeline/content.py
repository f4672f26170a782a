"""The words and pictures: campaign posts, monthly bulletins, key messages, channel audit."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from pipeline.config import Id
from pipeline.timing import parse_when
from pipeline.validation import Strict


class Post(Strict):
    """One post of a campaign, timed from its anchor, with per-channel variants."""

    id: Id
    when: str = Field(description="When it goes, relative to the anchor or absolute.")
    anchor: str = Field("", description="Event id to time from; default the campaign's first event.")
    text: str = Field(min_length=1, description="The base text.")
    variants: dict[str, str] = Field(default_factory=dict, description="Channel name → text for that channel.")
    channels: list[str] | None = Field(None, description="Channels; default the campaign's.")
    audience: str = ""
    link: str = ""
    image: str = ""
    alt: str = ""
    help: bool = Field(False, description="A 'how to get help' post: keeps going in a freeze with --keep-help.")
    title: str = ""

    @field_validator("when")
    @classmethod
    def _when(cls, value: str) -> str:
        parse_when(value)
        return value


class PostsFile(Strict):
    """content/posts/<campaign>.toml."""

    campaign: str = Field("", description="The campaign id; defaults to the file name.")
    post: list[Post] = Field(default_factory=list)


class Story(Strict):
    """One story in a bulletin."""

    title: str = Field(min_length=1)
    body: str = Field(min_length=1, description="Markdown.")
    link: str = ""
    link_text: str = Field("", description="Words that say where the link goes.")
    image: str = ""
    alt: str = ""


class Bulletin(Strict):
    """content/bulletins/YYYY-MM.toml: one monthly e-bulletin."""

    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    subject: str = Field(min_length=1)
    preheader: str = Field(min_length=1)
    theme: str = ""
    status: Literal["draft", "ready"] = "ready"
    intro: str = Field("", description="Markdown shown before the stories.")
    story: list[Story] = Field(default_factory=list)


# What `wst bulletin new` writes where words are still to come: its presence makes a draft.
PLACEHOLDER = "WRITE:"


def placeholders(bulletin: Bulletin) -> list[tuple[str | int, ...]]:
    """Where a bulletin still has a placeholder (key paths, for located messages)."""
    found: list[tuple[str | int, ...]] = [
        (key,) for key in ("subject", "preheader", "intro") if PLACEHOLDER in getattr(bulletin, key)]
    for i, story in enumerate(bulletin.story):
        found += [("story", i, key) for key in ("title", "body", "link_text", "alt")
                  if PLACEHOLDER in getattr(story, key)]
    return found


def draft_note(bulletin: Bulletin) -> str:
    """Why a bulletin is a draft ('' when it is ready to approve)."""
    if bulletin.status == "draft":
        return 'marked status = "draft"'
    if placeholders(bulletin):
        return f"still has {PLACEHOLDER} placeholders"
    return ""


def post_draft_note(post: Post) -> str:
    """Why a post is a draft ('' when it is ready to approve)."""
    texts = [post.text, *post.variants.values(), post.alt]
    return f"still has {PLACEHOLDER} placeholders" if any(PLACEHOLDER in t for t in texts) else ""


class Audience(Strict):
    """A target group from Appendices 3 and 4."""

    id: Id
    title: str


class KeyMessage(Strict):
    """A key message for an audience (Appendix 3 children, Appendix 4 adults)."""

    audience: str
    topic: Literal["children", "adults", "both"]
    text: str


class KeyMessagesFile(Strict):
    """content/key-messages.toml."""

    audience: list[Audience] = Field(default_factory=list)
    message: list[KeyMessage] = Field(default_factory=list)


class AuditChannel(Strict):
    """A partner's channel from the Appendix 1 audit."""

    id: Id
    organisation: str
    name: str
    audience: Literal["public", "workforce", "both"]
    target: str = ""
    reach: int | None = Field(None, ge=0)
    reach_note: str = ""
    frequency: str = ""
    evaluated_by: str = ""


class ChannelAuditFile(Strict):
    """content/channel-audit.toml."""

    channel: list[AuditChannel] = Field(default_factory=list)


HASHTAG = re.compile(r"(?<![\w#])#([A-Za-z][A-Za-z0-9_]*)")
