"""The X adapter over real HTTP, through tweepy, against the loopback X stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from channel_contract import TEXT, ChannelContract, artefact, wall_clock
from standins.x import XStandIn

from pipeline.channels.base import AuthExpired, Rejected, Transient
from pipeline.channels.x import XAdapter
from pipeline.config import Channel

TIMEOUT = 0.5


def settings_for(standin: XStandIn, **extra: Any) -> Channel:
    """The [channels.x] table of config.toml, pointed at the stand-in."""
    return Channel(kind="x", api_base=standin.base_url, handle="@wvsafeguarding",
                   consumer_key_env="WST_X_CONSUMER_KEY", consumer_secret_env="WST_X_CONSUMER_SECRET",
                   access_token_env="WST_X_ACCESS_TOKEN", access_secret_env="WST_X_ACCESS_SECRET",
                   **extra)


@pytest.fixture
def channel() -> Iterator[tuple[XAdapter, XStandIn]]:
    """An X adapter and the started stand-in it talks to."""
    with XStandIn() as standin:
        yield XAdapter("x", settings_for(standin), standin.environ, timeout=TIMEOUT, now=wall_clock), standin


class TestXContract(ChannelContract):
    """The shared channel contract, for X."""


def test_tweet_goes_through_tweepys_host_rewritten_and_signed(channel: tuple[XAdapter, XStandIn]) -> None:
    """The call reaches the stand-in (not api.twitter.com) with a valid OAuth 1.0a signature."""
    adapter, standin = channel
    adapter.publish(artefact())
    (call,) = standin.create_calls
    assert call.json() == {"text": TEXT}
    assert call.headers["authorization"].startswith("OAuth ")
    assert "127.0.0.1" in call.headers["host"]


def test_url_is_on_x_under_the_handle(channel: tuple[XAdapter, XStandIn]) -> None:
    """The public link uses the configured handle without its @."""
    adapter, standin = channel
    publication = adapter.publish(artefact())
    assert publication.url == f"https://x.com/wvsafeguarding/status/{standin.posts[0]['id']}"


def test_image_is_uploaded_by_v2_media_then_alt_then_tweet(channel: tuple[XAdapter, XStandIn],
                                                           tmp_path: Any) -> None:
    """Upload, alt text, tweet: in that order, the tweet naming the uploaded media."""
    adapter, standin = channel
    image = tmp_path / "ribbon.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nnot-really")
    adapter.publish(artefact(image=image, alt="An orange ribbon."))
    paths = [c.path for c in standin.calls]
    assert paths == ["/2/media/upload", "/2/media/metadata", "/2/tweets"]
    upload = standin.calls[0]
    assert upload.field("media_category") == "tweet_image"
    (media_id,) = standin.media
    assert standin.create_calls[0].json()["media"] == {"media_ids": [media_id]}


def test_find_sees_through_tco_links_and_escaping(channel: tuple[XAdapter, XStandIn]) -> None:
    """X shows links as t.co and & as &amp;; find() still matches the text as posted."""
    adapter, standin = channel
    item = artefact()
    adapter.publish(item)
    shown = standin.tweets[0]["text"]
    assert "t.co" in shown and "&amp;" in shown and "wolverhamptonsafeguarding.org.uk" not in shown
    assert adapter.find(item) is not None


def test_find_uses_the_id_from_users_me_once(channel: tuple[XAdapter, XStandIn]) -> None:
    """The account id is asked for once and then reused."""
    adapter, standin = channel
    adapter.find(artefact())
    adapter.find(artefact())
    assert len(standin.calls_to("GET", r"/2/users/me")) == 1
    assert len(standin.calls_to("GET", rf"/2/users/{standin.user_id}/tweets")) == 2


def test_bad_request_is_rejected() -> None:
    """A 400 (e.g. an unknown media id) is Rejected, not retried."""
    with XStandIn() as standin:
        adapter = XAdapter("x", settings_for(standin), standin.environ, timeout=TIMEOUT, now=wall_clock)
        standin.answer_next(standin._invalid("text", "Tweet text is too long"))
        with pytest.raises(Rejected) as caught:
            adapter.publish(artefact())
        assert "too long" in str(caught.value)
        assert standin.posts == []


def test_wrong_secret_is_refused_by_signature() -> None:
    """A wrong consumer secret fails the stand-in's signature check as X would: AuthExpired."""
    with XStandIn() as standin:
        environ = {**standin.environ, "WST_X_CONSUMER_SECRET": "not-the-secret"}
        adapter = XAdapter("x", settings_for(standin), environ, timeout=TIMEOUT, now=wall_clock)
        with pytest.raises(AuthExpired):
            adapter.check()


def test_nothing_listening_is_transient() -> None:
    """A refused connection never reached X, so it is Transient, not Unconfirmed."""
    with XStandIn() as standin:
        settings = settings_for(standin)
    adapter = XAdapter("x", settings, standin.environ, timeout=TIMEOUT, now=wall_clock)
    with pytest.raises(Transient):
        adapter.publish(artefact())
