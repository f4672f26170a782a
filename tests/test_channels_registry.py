"""One line per kind of channel: the registry names classes that exist and play their roles."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import copy_minimal

from pipeline.channels.base import ChannelAdapter, Setup
from pipeline.channels.outbox import OutboxAdapter
from pipeline.channels.registry import KINDS, has_adapter, has_source, load, make_adapter
from pipeline.channels.smtp import SmtpAdapter
from pipeline.config import CHANNEL_KINDS, EMAIL_KINDS, SOCIAL_KINDS, Channel, load_config
from pipeline.deliveries import Deliveries
from pipeline.metrics.base import MetricSource
from pipeline.store import open_store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_line_names_an_adapter_and_a_source_of_that_kind(kind: str) -> None:
    line = KINDS[kind]
    if has_adapter(kind):
        adapter = load(line.adapter)
        assert issubclass(adapter, ChannelAdapter) and adapter.kind == kind
    if has_source(kind):
        source = load(line.source)
        assert issubclass(source, MetricSource) and source.kind == kind


def test_config_takes_its_kinds_from_the_registry() -> None:
    assert tuple(KINDS) == CHANNEL_KINDS
    assert set(KINDS) == SOCIAL_KINDS | EMAIL_KINDS and not SOCIAL_KINDS & EMAIL_KINDS
    assert not has_adapter("manual") and not has_adapter("no-such-kind")


def test_every_adapter_builds_itself_from_its_settings_and_the_setup(tmp_path: Path) -> None:
    """The clock, the environment and the timeout the entry point chose reach every adapter,
    live or the outbox standing in for it; SMTP keeps its sent-log in the store."""
    config = load_config(copy_minimal(tmp_path / "p").config)
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        def clock() -> datetime:
            return NOW
        environ = {"WST_EXAMPLE": "1"}
        setup = Setup(environ, clock, config, store, timeout=7.0)
        channels = {**config.settings.channels,
                    "workforce-email": Channel(kind="smtp", from_address="bulletin@wst.example.org")}
        for name, settings in channels.items():
            live = make_adapter(name, settings, setup, dry_run=False)
            assert type(live) is load(KINDS[settings.kind].adapter)
            dry = make_adapter(name, settings, setup, dry_run=True)
            assert isinstance(dry, OutboxAdapter)
            assert dry.folder == config.resolve(config.settings.paths.outbox) / name
            for adapter in (live, dry):
                assert (adapter.now, adapter.environ, adapter.timeout) == (clock, environ, 7.0)
        smtp = make_adapter("workforce-email", channels["workforce-email"], setup, dry_run=False)
        assert isinstance(smtp, SmtpAdapter) and smtp.base_dir == config.root
        assert smtp.on_sent is not None
        smtp.on_sent("<m1@wst.example.org>", "someone@example.org")
        assert Deliveries(store, "workforce-email", clock).sent() == {"<m1@wst.example.org>"}
    finally:
        store.close()
