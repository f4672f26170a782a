"""Choosing the concrete adapter for a channel: by its kind in config, or the outbox for dry-run."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from pipeline.channels.base import ChannelAdapter
from pipeline.channels.outbox import OutboxAdapter

# kind → "module:Class"; imported only when a live channel of that kind is used.
ADAPTERS = {
    "x": "pipeline.channels.x:XAdapter",
    "facebook": "pipeline.channels.facebook:FacebookAdapter",
    "instagram": "pipeline.channels.instagram:InstagramAdapter",
    "linkedin": "pipeline.channels.linkedin:LinkedInAdapter",
    "bluesky": "pipeline.channels.bluesky:BlueskyAdapter",
    "mastodon": "pipeline.channels.mastodon:MastodonAdapter",
    "mailchimp": "pipeline.channels.mailchimp:MailchimpAdapter",
    "smtp": "pipeline.channels.smtp:SmtpAdapter",
}


def has_adapter(kind: str) -> bool:
    """True if the pipeline can publish to this kind of channel itself (not by hand)."""
    return kind in ADAPTERS


def make_adapter(name: str, settings, environ: Mapping[str, str], *, now: Callable[[], datetime],
                 dry_run: bool, outbox: Path, timeout: float = 30.0, **kwargs) -> ChannelAdapter:
    """The adapter for channel `name`: the outbox in dry-run or for hand-posted channels."""
    if dry_run or not has_adapter(settings.kind):
        return OutboxAdapter(name, settings, environ, now=now, folder=outbox, timeout=timeout)
    module, _, cls = ADAPTERS[settings.kind].partition(":")
    adapter_class = getattr(importlib.import_module(module), cls)
    return adapter_class(name, settings, environ, now=now, timeout=timeout, **kwargs)
