"""The adapters of one loaded config, each built once (sessions are kept between posts)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from pipeline.channels.base import ChannelAdapter, Setup
from pipeline.channels.registry import make_adapter
from pipeline.config import Config
from pipeline.store import Store


class Adapters:
    """Channel name → its adapter (the outbox in dry-run), built on first use."""

    def __init__(self, config: Config, environ: Mapping[str, str], store: Store,
                 clock: Callable[[], datetime], dry_run_for: Callable[[str], bool]):
        self.config = config
        self.setup = Setup(environ, clock, config, store,
                           timeout=config.settings.scheduler.request_timeout_seconds)
        self.dry_run_for = dry_run_for
        self._built: dict[str, ChannelAdapter] = {}
        self._lock = threading.Lock()

    def __contains__(self, channel: str) -> bool:
        return channel in self._built

    def get(self, channel: str) -> ChannelAdapter:
        """The adapter for `channel`, built once."""
        with self._lock:
            found = self._built.get(channel)
            if found is None:
                found = self._built[channel] = self._build(channel, dry_run=self.dry_run_for(channel))
            return found

    def outbox(self, channel: str) -> ChannelAdapter:
        """The outbox adapter for `channel` (copy-ready text for a channel posted by hand)."""
        return self._build(channel, dry_run=True)

    def _build(self, channel: str, *, dry_run: bool) -> ChannelAdapter:
        return make_adapter(channel, self.config.settings.channels[channel], self.setup,
                            dry_run=dry_run)
