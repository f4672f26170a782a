"""Every kind of channel, one line each: its adapter, its metric source, what it publishes and
the settings it cannot work without. Adding a channel is its adapter module, its metric-source
module and a line here (plus its post renderer in renderers/social.py for a new social platform).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from pipeline.channels.base import ChannelAdapter, Setup
from pipeline.channels.outbox import OutboxAdapter


@dataclass(frozen=True)
class Kind:
    """One kind of channel. Classes are named "module:Class", imported only when used."""

    adapter: str = ""             # "" for a channel posted by hand (its copy goes to the outbox)
    source: str = ""              # "" when engagement is not read back automatically
    email: bool = False           # publishes bulletins (else posts)
    needs: tuple[str, ...] = ()   # settings an enabled channel cannot work without
    needs_live: tuple[str, ...] = ()  # ... and when it publishes live


KINDS: dict[str, Kind] = {
    "x": Kind("pipeline.channels.x:XAdapter", "pipeline.metrics.x:XSource"),
    "facebook": Kind("pipeline.channels.facebook:FacebookAdapter",
                     "pipeline.metrics.facebook:FacebookSource"),
    "bluesky": Kind("pipeline.channels.bluesky:BlueskyAdapter", "pipeline.metrics.bluesky:BlueskySource",
                    needs_live=("api_base",)),
    "mastodon": Kind("pipeline.channels.mastodon:MastodonAdapter",
                     "pipeline.metrics.mastodon:MastodonSource", needs_live=("api_base",)),
    "instagram": Kind("pipeline.channels.instagram:InstagramAdapter",
                      "pipeline.metrics.instagram:InstagramSource",
                      needs_live=("account_id", "image_base_url")),
    "linkedin": Kind("pipeline.channels.linkedin:LinkedInAdapter",
                     "pipeline.metrics.linkedin:LinkedInSource",
                     needs_live=("account_id", "api_version")),
    "mailchimp": Kind("pipeline.channels.mailchimp:MailchimpAdapter",
                      "pipeline.metrics.mailchimp:MailchimpSource", email=True,
                      needs_live=("account_id",)),
    "smtp": Kind("pipeline.channels.smtp:SmtpAdapter", email=True,
                 needs=("from_address", "recipients_file", "unsubscribe_url"),
                 needs_live=("api_base",)),
    "manual": Kind(),
}


def load(reference: str) -> Any:
    """The class a "module:Class" reference names."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def has_adapter(kind: str) -> bool:
    """True if the pipeline can publish to this kind of channel itself (not by hand)."""
    return bool(KINDS.get(kind, Kind()).adapter)


def has_source(kind: str) -> bool:
    """True if engagement can be collected automatically from this kind of channel."""
    return bool(KINDS.get(kind, Kind()).source)


def make_adapter(name: str, settings: Any, setup: Setup, *, dry_run: bool) -> ChannelAdapter:
    """The adapter for channel `name`: the outbox in dry-run or for hand-posted channels."""
    if not has_adapter(settings.kind):
        return OutboxAdapter.from_settings(name, settings, setup)
    adapter = load(KINDS[settings.kind].adapter)
    settings = adapter.settled(settings, setup)
    if dry_run:
        return OutboxAdapter.from_settings(name, settings, setup)
    return adapter.from_settings(name, settings, setup)
