"""The Facebook Page adapter over real HTTP against the loopback Graph stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from channel_contract import PNG, TEXT, ChannelContract, artefact, wall_clock
from standins.facebook import FacebookStandIn, graph_error

from pipeline.channels.base import AuthExpired, RateLimited, Rejected, Transient
from pipeline.channels.facebook import FacebookAdapter
from pipeline.config import Channel

TIMEOUT = 0.5


def settings_for(standin: FacebookStandIn, **extra: Any) -> Channel:
    """The [channels.facebook] table of config.toml, pointed at the stand-in."""
    values = {"kind": "facebook", "api_base": standin.base_url, "api_version": standin.version,
              "account_id": standin.page_id, "token_env": "WST_FACEBOOK_PAGE_TOKEN", **extra}
    return Channel(**values)


@pytest.fixture
def channel() -> Iterator[tuple[FacebookAdapter, FacebookStandIn]]:
    """A Facebook adapter and the started stand-in it talks to."""
    with FacebookStandIn() as standin:
        yield FacebookAdapter("facebook", settings_for(standin), standin.environ, timeout=TIMEOUT,
                                  now=wall_clock), standin


class TestFacebookContract(ChannelContract):
    """The shared channel contract, for a Facebook Page."""


def test_feed_post_is_form_encoded_with_message_link_and_token(
        channel: tuple[FacebookAdapter, FacebookStandIn]) -> None:
    """POST /vNN.0/{page}/feed carries message, link and the token as form fields."""
    adapter, standin = channel
    publication = adapter.publish(artefact())
    (call,) = standin.create_calls
    assert call.path == f"/v21.0/{standin.page_id}/feed"
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.form()["message"] == [TEXT]
    assert call.form()["link"] == [TEXT.rsplit(" ", 1)[1]]
    assert call.query == {}
    assert publication.url == f"https://www.facebook.com/{publication.remote_id}"
    assert publication.remote_id.startswith(f"{standin.page_id}_")


def test_photo_post_uploads_source_with_caption_and_alt(
        channel: tuple[FacebookAdapter, FacebookStandIn], tmp_path: Path) -> None:
    """An image goes to /photos as a multipart `source`; the answer's post_id is the id."""
    adapter, standin = channel
    image = tmp_path / "ribbon.png"
    image.write_bytes(PNG)
    publication = adapter.publish(artefact(image=image, alt="An orange ribbon."))
    (call,) = standin.create_calls
    assert call.path.endswith("/photos") and call.content_type == "multipart/form-data"
    assert call.file("source").data == PNG
    assert call.field("caption") == TEXT and call.field("alt_text_custom") == "An orange ribbon."
    assert publication.remote_id == standin.feed[0]["id"]
    assert publication.extra["photo_id"] == standin.feed[0]["photo_id"]


def test_token_never_travels_in_a_url(channel: tuple[FacebookAdapter, FacebookStandIn]) -> None:
    """Reads send the token in a header, so no address carries it."""
    adapter, standin = channel
    adapter.check()
    adapter.find(artefact())
    assert all(standin.token not in c.path and "access_token" not in c.query for c in standin.calls)


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_rate_codes_without_a_time_retry_in_an_hour(code: int) -> None:
    """Rate codes with no usage time are RateLimited one hour after Graph answered."""
    fixed = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    with FacebookStandIn(clock=lambda: fixed) as standin:
        adapter = FacebookAdapter("facebook", settings_for(standin), standin.environ, timeout=TIMEOUT,
                                  now=wall_clock)
        reset = standin.rate_limit(code=code)
        with pytest.raises(RateLimited) as caught:
            adapter.publish(artefact())
    assert caught.value.retry_at == reset == fixed + timedelta(hours=1)


def test_page_limit_uses_the_usage_headers_time(channel: tuple[FacebookAdapter, FacebookStandIn]) -> None:
    """Code 80001 with estimated_time_to_regain_access retries after those minutes."""
    adapter, standin = channel
    reset = standin.rate_limit(code=80001, regain_minutes=7)
    with pytest.raises(RateLimited) as caught:
        adapter.find(artefact())
    assert caught.value.retry_at == reset


def test_wrong_token_is_auth_expired_and_redacted() -> None:
    """A token Graph cannot parse is code 190 too: AuthExpired, the token not in the message."""
    with FacebookStandIn() as standin:
        adapter = FacebookAdapter("facebook", settings_for(standin),
                                  {"WST_FACEBOOK_PAGE_TOKEN": "EAAB-wrong"}, timeout=TIMEOUT,
                                  now=wall_clock)
        with pytest.raises(AuthExpired) as caught:
            adapter.check()
    assert "EAAB-wrong" not in str(caught.value)


def test_token_quoted_back_by_graph_is_redacted(channel: tuple[FacebookAdapter, FacebookStandIn]) -> None:
    """If Graph's message quotes the token, the message shows [redacted] instead."""
    adapter, standin = channel
    standin.answer_next(graph_error(400, f"Malformed access token {standin.token}", 190))
    with pytest.raises(AuthExpired) as caught:
        adapter.publish(artefact())
    assert standin.token not in str(caught.value) and "[redacted]" in str(caught.value)


def test_other_graph_errors_are_rejected(channel: tuple[FacebookAdapter, FacebookStandIn]) -> None:
    """A permissions or parameter error (code 200, 100) is Rejected with Graph's message."""
    adapter, standin = channel
    standin.answer_next(graph_error(403, "(#200) Requires pages_manage_posts permission", 200))
    with pytest.raises(Rejected) as caught:
        adapter.publish(artefact())
    assert "pages_manage_posts" in str(caught.value)


def test_transient_code_under_http_400_is_transient(channel: tuple[FacebookAdapter, FacebookStandIn]) -> None:
    """Graph's temporary error (code 2) is Transient whatever the HTTP status."""
    adapter, standin = channel
    standin.answer_next(graph_error(400, "An unexpected error has occurred.", 2))
    with pytest.raises(Transient):
        adapter.publish(artefact())


def test_empty_account_id_posts_as_the_tokens_page() -> None:
    """Without a Page id, a Page token's `me` is the Page."""
    with FacebookStandIn() as standin:
        adapter = FacebookAdapter("facebook", settings_for(standin, account_id=""), standin.environ,
                                  timeout=TIMEOUT, now=wall_clock)
        adapter.publish(artefact())
        assert standin.create_calls[0].path == "/v21.0/me/feed"
        assert adapter.find(artefact()) is not None
