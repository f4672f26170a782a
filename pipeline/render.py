"""Render phase: each plan item as exactly what its channel receives, with the content checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.channels.registry import has_adapter
from pipeline.config import Config
from pipeline.content import Bulletin
from pipeline.images import over_limit
from pipeline.lint import LintContext, lint_bulletin, lint_platform, lint_words
from pipeline.plan import Item, post_text
from pipeline.problems import Problem
from pipeline.project import CampaignPost, Project
from renderers.bulletin import render_bulletin
from renderers.model import (
    Brand,
    BulletinInput,
    Contacts,
    Finding,
    PostInput,
    RenderedBulletin,
    RenderedPost,
    StoryInput,
)
from renderers.social import compose, render_post

# Word checks kept for reuse (the year's posts take about 200; a composer adds one per pause).
WORDS_KEPT = 4096


def contacts_of(config: Config) -> Contacts:
    """The official contacts from config.toml."""
    o = config.settings.official
    return Contacts(o.child_mash, o.adult_mash, o.out_of_hours, o.emergency, o.website)


def brand_of(config: Config) -> Brand:
    """Who is sending, from config.toml."""
    p = config.settings.partnership
    return Brand(p.name, p.short_name, p.website)


def own_hosts(config: Config) -> tuple[str, ...]:
    """Hosts that count as the partnership's own site (their links get UTM tags)."""
    hosts = {urlsplit(config.settings.partnership.website).hostname or "",
             config.settings.official.website.split("/")[0]}
    return tuple(sorted(h.lower() for h in hosts if h))


def lint_context(config: Config) -> LintContext:
    """The content check settings from config.toml."""
    checks = config.settings.checks
    return LintContext(contacts=contacts_of(config), reading_age_max=checks.reading_age_max,
                       sentence_words_max=checks.sentence_words_max,
                       allowed_names=tuple(checks.allowed_names))


def bulletin_input(bulletin: Bulletin, theme: str) -> BulletinInput:
    """A bulletin content file as the renderer's input."""
    return BulletinInput(
        month=bulletin.month, subject=bulletin.subject, preheader=bulletin.preheader,
        theme=bulletin.theme or theme, intro=bulletin.intro,
        stories=tuple(StoryInput(s.title, s.body, s.link, s.link_text, s.image, s.alt)
                      for s in bulletin.story))


@dataclass(frozen=True)
class Rendered:
    """One item rendered for its channel, and what the content checks found."""

    item: Item
    post: RenderedPost | None
    bulletin: RenderedBulletin | None
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> list[Finding]:
        """Findings that block publication."""
        return [f for f in self.findings if f.severity == "error"]


class Renderer:
    """Renders items, once per distinct content: a post renders the same on every date."""

    def __init__(self, project: Project):
        self.project = project
        self.config = project.config
        self.hosts = own_hosts(self.config)
        self.context = lint_context(self.config)
        self.brand = brand_of(self.config)
        self.contacts = contacts_of(self.config)
        self._posts = {cp.ref: cp for cp in project.posts}
        self._cache: dict[tuple[str, str, str], tuple] = {}
        self._words: dict[tuple[str, ...], list[Finding]] = {}  # see post()

    def register(self, cp: CampaignPost) -> None:
        """Make a post from outside content/ (a reactive post) renderable by its source."""
        self._posts[cp.ref] = cp

    def render(self, item: Item) -> Rendered:
        """Render and check one plan item."""
        key = (item.source, item.channel, item.version)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = (self._render_post(item) if item.kind == "post"
                                        else self._render_bulletin(item))
        post, bulletin, findings = found
        return Rendered(item, post, bulletin, findings)

    def _render_post(self, item: Item):
        rendered, findings = self.post(self._posts[item.source], item.channel, item.id)
        return rendered, None, findings

    def post(self, cp: CampaignPost, channel_name: str,
             label: str) -> tuple[RenderedPost, tuple[Finding, ...]]:
        """Render and check one campaign post for one channel; `label` names it in messages."""
        channel = self.config.settings.channels[channel_name]
        given = PostInput(
            text=post_text(cp.post, channel_name), platform=channel.kind, channel=channel_name,
            campaign=cp.campaign, link=cp.post.link, image=cp.post.image, alt=cp.post.alt,
            max_characters=channel.max_characters)
        rendered = render_post(given, own_hosts=self.hosts)
        # The words are checked as written, the link untagged: no rule depends on the UTM
        # tags, so a post is checked once, not once per channel (a variant once more), and a
        # message quotes the link as the person wrote it.
        key = (given.text, cp.post.image, cp.post.alt, cp.post.link, label)
        words = self._words.get(key)
        if words is None:
            if len(self._words) >= WORDS_KEPT:  # a composer checks a new draft at each pause
                self._words.clear()
            words = self._words[key] = lint_words(compose(given, own_hosts=())[0], cp.post.image,
                                                  cp.post.alt, cp.post.link, self.context, label)
        return rendered, (*lint_platform(rendered, label), *words,
                          *self.image_findings(cp.post.image, channel.kind, label, ("image",)))

    def image_findings(self, written: str, platform: str, label: str,
                       loc: tuple[str | int, ...]) -> list[Finding]:
        """image-file (not a real image inside content/) and image-size (more than `platform`
        takes): the same checks for `wst check`, approval, the preview and before upload."""
        if not written:
            return []
        found = self.project.image(written)
        if isinstance(found, str):
            return [Finding("image-file", "error", f"{label}: image '{written}' {found}", written,
                            loc=loc)]
        # limits are the platform's API's; a channel posted by hand takes what its app takes
        why = over_limit(found, platform) if has_adapter(platform) or platform == "email" else ""
        return [Finding("image-size", "error", f"{label}: image '{written}' {why}", written,
                        loc=loc)] if why else []

    def _render_bulletin(self, item: Item):
        month = item.source.removeprefix("bulletin:")
        bulletin = self.project.bulletins.get(month)
        if bulletin is None:
            return None, None, (Finding(
                "bulletin-missing", "error",
                f"{item.id}: there is no content file for the {month} bulletin; run "
                f"`wst bulletin new --month {month}` and fill it in", f"{month}.toml"),)
        rendered, findings = self._bulletin_checked(bulletin, item.channel, item.id)
        return None, rendered, findings

    def content_problems(self, only: Path | None = None) -> list[Problem]:
        """The content checks over every post on each of its enabled channels, and every
        bulletin, as located problems (identical findings on several channels are merged);
        with `only`, those of the posts and bulletin written in that file."""
        out: list[Problem] = []
        enabled = self.config.enabled_channels()
        for cp in self.project.posts:
            campaign = self.project.campaigns.get(cp.campaign)
            if campaign is None or (only is not None and cp.at.source.path != only):
                continue
            channels = campaign.channels if cp.post.channels is None else cp.post.channels
            merged: dict[tuple[str, str, str, tuple], list[str]] = {}
            for name in channels:
                if name not in enabled:
                    continue
                for f in self.post(cp, name, f"post '{cp.ref}'")[1]:
                    if f.code in ("alt-missing", "image-file"):
                        continue  # the calendar check reports it, on the image's own line
                    loc = ("variants", name) if f.loc == ("text",) and name in cp.post.variants \
                        else f.loc
                    merged.setdefault((f.severity, f.code, f.message, loc), []).append(name)
            for (severity, code, message, loc), names in merged.items():
                out.append(cp.at.problem(f"{message} [{code}; {', '.join(names)}]", loc,
                                         severity=severity, code=code))
        email = [n for n in self.project.cadence.channels if n in enabled] or ["archive"]
        for month, bulletin in sorted(self.project.bulletins.items()):
            at = self.project.where[f"bulletin:{month}"]
            if only is not None and at.source.path != only:
                continue
            for f in self.bulletin_findings(bulletin, email[0], f"bulletin {month}"):
                if f.code in ("alt-missing", "image-file") and f.loc[-1:] == ("image",):
                    continue  # the calendar check reports it, on the image's own line
                out.append(at.problem(f"{f.message} [{f.code}]", f.loc, severity=f.severity,
                                      code=f.code))
        return out

    def bulletin_findings(self, bulletin: Bulletin, channel_name: str,
                          label: str) -> tuple[Finding, ...]:
        """Check a bulletin as rendered for `channel_name`."""
        return self._bulletin_checked(bulletin, channel_name, label)[1]

    def _bulletin_checked(self, bulletin: Bulletin, channel_name: str,
                          label: str) -> tuple[RenderedBulletin | None, tuple[Finding, ...]]:
        # The renderer refuses what must never be sent (an image without alt text); the
        # checks then say why, on the line to fix, and nothing is rendered to send.
        rendered: RenderedBulletin | None = None
        refusal: ValueError | None = None
        try:
            rendered = self.bulletin(bulletin, channel_name)
        except ValueError as exc:
            refusal = exc
        findings = (*lint_bulletin(bulletin_input(bulletin, ""), rendered, self.context, label),
                    *(f for i, story in enumerate(bulletin.story) for f in self.image_findings(
                        story.image, "email", f"{label} story {i + 1}", ("story", i, "image"))))
        if refusal is not None and not any(f.severity == "error" for f in findings):
            raise refusal  # a refusal the checks do not explain is a bug, not bad input
        return rendered, findings

    def bulletin(self, bulletin: Bulletin, channel_name: str, *,
                 footer: str | None = None) -> RenderedBulletin:
        """Render a bulletin for an email channel (or the web archive with footer='archive')."""
        channel = self.config.settings.channels.get(channel_name)
        kind = footer or (channel.kind if channel and channel.kind in ("mailchimp", "smtp")
                          else "archive")
        theme = self.project.cadence.themes.get(bulletin.month[5:], "")
        return render_bulletin(
            bulletin_input(bulletin, theme), brand=self.brand, contacts=self.contacts,
            footer=kind, image_base_url=self.config.settings.checks.image_base_url,
            unsubscribe_url=channel.unsubscribe_url if channel else "")
