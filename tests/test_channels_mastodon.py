"""The Mastodon adapter over real HTTP against the loopback instance stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from channel_contract import PNG, TEXT, ChannelContract, artefact, wall_clock
from standins.mastodon import MastodonStandIn, error

from pipeline.channels.base import AuthExpired, Rejected, Transient
from pipeline.channels.mastodon import MastodonAdapter
from pipeline.config import Channel

TIMEOUT = 0.5
Pair = tuple[MastodonAdapter, MastodonStandIn]


def settings_for(standin: MastodonStandIn, **extra: Any) -> Channel:
    """The [channels.mastodon] table of config.toml, pointed at the stand-in."""
    values = {"kind": "mastodon", "api_base": standin.base_url, "token_env": "WST_MASTODON_TOKEN", **extra}
    return Channel(**values)


def adapter_for(standin: MastodonStandIn, **extra: Any) -> MastodonAdapter:
    """An adapter on the stand-in whose waits return at once (recorded in `.slept`)."""
    slept: list[float] = []
    adapter = MastodonAdapter("mastodon", settings_for(standin, **extra), standin.environ,
                              timeout=TIMEOUT, sleep=slept.append, now=wall_clock)
    adapter.slept = slept  # type: ignore[attr-defined]
    return adapter


@pytest.fixture
def channel() -> Iterator[tuple[MastodonAdapter, MastodonStandIn]]:
    """A Mastodon adapter and the started stand-in it talks to."""
    with MastodonStandIn() as standin:
        yield adapter_for(standin), standin


class TestMastodonContract(ChannelContract):
    """The shared channel contract, for Mastodon."""


def test_status_carries_idempotency_key_language_and_visibility(channel: Pair) -> None:
    """The create sends the artefact's key as Idempotency-Key, language en, public."""
    adapter, standin = channel
    item = artefact()
    publication = adapter.publish(item)
    (call,) = standin.create_calls
    assert call.headers["idempotency-key"] == item.idempotency_key
    assert standin.posts[0]["language"] == "en" and standin.posts[0]["visibility"] == "public"
    assert publication.url == f"https://{standin.domain}/@{standin.username}/{publication.remote_id}"


def test_repeat_with_the_same_key_answers_the_original(channel: Pair) -> None:
    """Mastodon's promise the adapter relies on: the same key within the hour is one status."""
    adapter, standin = channel
    item = artefact()
    first = adapter.publish(item)
    second = adapter.publish(item)
    assert first.remote_id == second.remote_id
    assert len(standin.posts) == 1 and len(standin.create_calls) == 2


def test_instance_limit_is_read_once_and_enforced() -> None:
    """Text longer than the instance allows is Rejected without a create; /instance is read once."""
    with MastodonStandIn(max_characters=60) as standin:
        adapter = adapter_for(standin)
        with pytest.raises(Rejected, match="allows 60"):
            adapter.publish(artefact())
        adapter.publish(artefact(text="Short and clear: https://www.wolverhamptonsafeguarding.org.uk/a-very-long-path"))
        assert len(standin.calls_to("GET", r"/api/v2/instance")) == 1
        assert len(standin.create_calls) == 1


def test_config_max_characters_overrides_the_instance() -> None:
    """settings.max_characters wins over what the instance says."""
    with MastodonStandIn() as standin:
        with pytest.raises(Rejected, match="allows 40"):
            adapter_for(standin, max_characters=40).publish(artefact())
        assert standin.create_calls == []


def test_find_reads_text_back_from_html_content(channel: Pair) -> None:
    """Statuses come back as HTML with hidden link parts; find() still matches the text."""
    adapter, standin = channel
    text = "Two lines & a tag #SafeguardingWeek\nhttps://www.wolverhamptonsafeguarding.org.uk/safeguarding-week"
    item = artefact(text=text)
    adapter.publish(item)
    assert "<span class=\"invisible\">" in standin.statuses[0]["content"]
    assert adapter.find(item) is not None
    assert adapter.find(artefact(text=text + " again")) is None


def test_image_goes_up_with_description_and_waits_while_processing(tmp_path: Path) -> None:
    """/api/v2/media carries the alt text; a 202 is polled (bounded, through sleep) until ready."""
    image = tmp_path / "ribbon.png"
    image.write_bytes(PNG)
    with MastodonStandIn(processing_polls=2) as standin:
        adapter = adapter_for(standin)
        adapter.publish(artefact(image=image, alt="An orange ribbon."))
        (upload,) = standin.calls_to("POST", r"/api/v2/media")
        assert upload.field("description") == "An orange ribbon." and upload.file("file").data == PNG
        assert len(standin.calls_to("GET", r"/api/v1/media/\d+")) == 3
        assert adapter.slept == [1.0, 1.0, 1.0]  # type: ignore[attr-defined]
        assert standin.posts[0]["image_alt"] == "An orange ribbon."


def test_image_still_processing_after_the_bounded_wait_is_transient(tmp_path: Path) -> None:
    """An instance that never finishes is Transient after a bounded number of polls, no status."""
    image = tmp_path / "ribbon.png"
    image.write_bytes(PNG)
    with MastodonStandIn(processing_polls=1000) as standin:
        with pytest.raises(Transient, match="still processing"):
            adapter_for(standin).publish(artefact(image=image, alt="An orange ribbon."))
        assert standin.create_calls == []


def test_validation_failure_is_rejected_with_the_reason(channel: Pair) -> None:
    """A 422 is Rejected and says why."""
    adapter, standin = channel
    standin.answer_next(error(422, "Validation failed: Text can't be blank"),
                        match=lambda c: c.path == "/api/v1/statuses")
    with pytest.raises(Rejected, match="can't be blank"):
        adapter.publish(artefact())


def test_missing_scope_is_auth_expired(channel: Pair) -> None:
    """A token without write scope is a credentials problem, flagged like an expired one."""
    adapter, standin = channel
    standin.answer_next(error(403, "This action is outside the authorized scopes"),
                        match=lambda c: c.path == "/api/v1/statuses")
    with pytest.raises(AuthExpired):
        adapter.publish(artefact())


def test_text_of_posts_as_sent(channel: Pair) -> None:
    """The status text is exactly the artefact's (form field `status`)."""
    adapter, standin = channel
    adapter.publish(artefact())
    assert standin.create_calls[0].field("status") == TEXT
