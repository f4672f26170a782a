"""One line per kind of channel: the registry names classes that exist and play their roles."""

from __future__ import annotations

import pytest

from pipeline.channels.base import ChannelAdapter
from pipeline.channels.registry import KINDS, has_adapter, has_source, load
from pipeline.config import CHANNEL_KINDS, EMAIL_KINDS, SOCIAL_KINDS
from pipeline.metrics.base import MetricSource


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_line_names_an_adapter_and_a_source_of_that_kind(kind: str) -> None:
    line = KINDS[kind]
    if has_adapter(kind):
        adapter = load(line.adapter)
        assert issubclass(adapter, ChannelAdapter) and adapter.kind == kind
        assert "from_settings" in vars(ChannelAdapter)
    if has_source(kind):
        source = load(line.source)
        assert issubclass(source, MetricSource) and source.kind == kind


def test_config_takes_its_kinds_from_the_registry() -> None:
    assert tuple(KINDS) == CHANNEL_KINDS
    assert set(KINDS) == SOCIAL_KINDS | EMAIL_KINDS and not SOCIAL_KINDS & EMAIL_KINDS
    assert not has_adapter("manual") and not has_adapter("no-such-kind")
