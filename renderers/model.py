"""The renderers' inputs and outputs: plain data, so renderers never import the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Contacts:
    """The official ways to raise a concern, exactly as they must appear."""

    child_mash: str
    adult_mash: str
    out_of_hours: str
    emergency: str
    website: str  # as written in copy, without https://


@dataclass(frozen=True, slots=True)
class Brand:
    """Who is sending."""

    name: str
    short_name: str
    website: str  # https://...


@dataclass(frozen=True, slots=True)
class PostInput:
    """One post for one channel, before the platform's rules are applied."""

    text: str          # the channel's variant, or the base text
    platform: str      # channel kind: x, facebook, bluesky, mastodon, instagram, linkedin, manual
    channel: str       # channel name in config (used as utm_source)
    campaign: str      # campaign id (used as utm_campaign)
    link: str = ""     # appended on its own line, with UTM tags when it is the partnership's site
    image: str = ""    # path relative to content/, or ""
    alt: str = ""
    max_characters: int | None = None  # an instance's own limit (Mastodon)


@dataclass(frozen=True, slots=True)
class Facet:
    """A Bluesky rich-text facet: UTF-8 byte offsets, end exclusive."""

    byte_start: int
    byte_end: int
    kind: str    # "link" | "tag" | "mention"
    value: str   # the URI, the tag without '#', or the handle

    def as_record(self) -> dict:
        """The facet as the AT Protocol record field."""
        feature = {
            "link": {"$type": "app.bsky.richtext.facet#link", "uri": self.value},
            "tag": {"$type": "app.bsky.richtext.facet#tag", "tag": self.value},
            "mention": {"$type": "app.bsky.richtext.facet#mention", "did": self.value},
        }[self.kind]
        return {"index": {"byteStart": self.byte_start, "byteEnd": self.byte_end},
                "features": [feature]}


@dataclass(frozen=True, slots=True)
class RenderedPost:
    """Exactly what a platform receives, with the length counted by that platform's rules."""

    platform: str
    channel: str
    text: str                 # the final text as sent (Bluesky shows a short link; the facet holds it whole)
    length: int               # counted the platform's way
    limit: int
    unit: str                 # "weighted characters", "graphemes", "characters"
    link: str = ""            # the final (UTM-tagged) link, if any
    image: str = ""
    alt: str = ""
    byte_length: int = 0      # UTF-8 bytes (Bluesky's second limit)
    byte_limit: int = 0
    facets: tuple[Facet, ...] = ()
    hashtags: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)  # platform specifics (e.g. Instagram hashtag count)

    @property
    def over_limit(self) -> bool:
        """True if the text is too long for the platform."""
        return self.length > self.limit or (self.byte_limit and self.byte_length > self.byte_limit)


@dataclass(frozen=True, slots=True)
class StoryInput:
    """One bulletin story."""

    title: str
    body: str         # Markdown
    link: str = ""
    link_text: str = ""
    image: str = ""   # path relative to content/
    alt: str = ""


@dataclass(frozen=True, slots=True)
class BulletinInput:
    """One monthly bulletin's content."""

    month: str        # YYYY-MM
    subject: str
    preheader: str
    theme: str = ""
    intro: str = ""   # Markdown
    stories: tuple[StoryInput, ...] = ()


@dataclass(frozen=True, slots=True)
class RenderedBulletin:
    """A bulletin ready for a mailing service, and its web-archive copy."""

    mjml: str
    html: str           # the email HTML (with the service's unsubscribe footer)
    text: str           # the plain-text part, written from the same content
    archive_html: str   # for the website: no unsubscribe, no tracking
    subject: str
    preheader: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One content check result on one item: a rule's code, severity and a message with the fix."""

    code: str                # e.g. "length", "alt-missing", "official-number"
    severity: str            # "error" blocks publication; "warning" is shown
    message: str             # names the item, the evidence and the fix
    evidence: str = ""       # the offending text or figure
    needs_acceptance: bool = False  # a possible identifying detail: a named person must accept it
    loc: tuple[str | int, ...] = ()  # where in its content file (a key path), when known
