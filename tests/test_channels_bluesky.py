"""The Bluesky adapter over real HTTP against the loopback PDS stand-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from channel_contract import TEXT as CONTRACT_TEXT
from channel_contract import ChannelContract
from channel_contract import artefact as contract_artefact
from standins.bluesky import TID, BlueskyStandIn, xrpc_error

from pipeline.channels.base import Artefact, AuthExpired, ChannelError, RateLimited, Transient, Unconfirmed
from pipeline.channels.bluesky import BlueskyAdapter, record_key
from pipeline.config import Channel

NOW = datetime(2026, 11, 23, 10, 7, 30, 250000, tzinfo=UTC)
TEXT = "Worried about a child? Call MASH on 01902 555392. wolverhamptonsafeguarding.org.uk"
FACETS = ({"index": {"byteStart": 51, "byteEnd": 86},
           "features": [{"$type": "app.bsky.richtext.facet#link",
                         "uri": "https://www.wolverhamptonsafeguarding.org.uk/?utm_source=bluesky"}]},)


def clock() -> datetime:
    """The fixed time both sides read."""
    return NOW


def artefact(key: str = "post-1:bluesky:v1", **changes: object) -> Artefact:
    """A finished Bluesky post."""
    fields: dict[str, object] = dict(item_id="post-1", idempotency_key=key, kind="post", text=TEXT,
                                     link="https://www.wolverhamptonsafeguarding.org.uk/", facets=FACETS)
    fields.update(changes)
    return Artefact(**fields)  # type: ignore[arg-type]


@pytest.fixture
def standin() -> Iterator[BlueskyStandIn]:
    """A running loopback PDS."""
    with BlueskyStandIn(clock) as pds:
        yield pds


def make_adapter(standin: BlueskyStandIn, timeout: float = 2.0) -> BlueskyAdapter:
    """The adapter pointed at the stand-in, with the config's variable names."""
    settings = Channel(kind="bluesky", api_base=standin.base_url, handle="wst.example.test",
                       username_env="WST_BLUESKY_HANDLE", password_env="WST_BLUESKY_APP_PASSWORD")
    return BlueskyAdapter("bluesky", settings, standin.environ, timeout=timeout, now=clock)


@pytest.fixture
def adapter(standin: BlueskyStandIn) -> BlueskyAdapter:
    """An adapter with no session yet."""
    return make_adapter(standin)


def assert_no_secrets(error: Exception, standin: BlueskyStandIn) -> None:
    """No password or token appears in the error's message."""
    for secret in standin.secrets:
        assert secret not in str(error)


def test_record_key_is_a_stable_tid_and_differs_per_key() -> None:
    """The derived key is valid TID syntax, the same every time, different per idempotency key."""
    key = record_key("post-1:bluesky:v1")
    assert TID.match(key)
    assert key == record_key("post-1:bluesky:v1")
    assert key != record_key("post-1:bluesky:v2")
    assert all(TID.match(record_key(f"item-{i}")) for i in range(200))


def test_publish_creates_exactly_one_post_with_the_exact_record(adapter, standin) -> None:
    """One createRecord under the derived key, with text, facets, langs and createdAt from the clock."""
    assert adapter.find(artefact()) is None
    publication = adapter.publish(artefact())
    rkey = record_key("post-1:bluesky:v1")
    assert standin.post_records == [{"$type": "app.bsky.feed.post", "text": TEXT,
                              "createdAt": "2026-11-23T10:07:30.250Z", "langs": ["en-GB"],
                              "facets": [dict(FACETS[0])]}]
    assert publication.remote_id == f"at://{standin.did}/app.bsky.feed.post/{rkey}"
    assert publication.url == f"https://bsky.app/profile/wst.example.test/post/{rkey}"
    assert adapter.find(artefact()) == publication
    assert standin.create_session_calls == 1


def test_one_session_serves_many_posts(adapter, standin) -> None:
    """Logging in is rate-limited, so three posts share one session."""
    for n in range(3):
        adapter.publish(artefact(f"post-{n}:bluesky:v1"))
    assert len(standin.posts) == 3
    assert standin.create_session_calls == 1


def test_image_is_uploaded_and_embedded_with_alt(adapter, standin, tmp_path: Path) -> None:
    """The image goes up as a blob and the post embeds it with its alt text."""
    image = tmp_path / "poster.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 64)
    adapter.publish(artefact(image=image, alt="A poster with the MASH number"))
    [post] = standin.post_records
    [blob] = standin.blobs.values()
    assert blob.data == image.read_bytes() and blob.mime == "image/png"
    assert post["embed"] == {"$type": "app.bsky.embed.images",
                             "images": [{"alt": "A poster with the MASH number", "image": blob.ref}]}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_is_transient_and_creates_nothing(adapter, standin, status: int) -> None:
    """A 5xx that wrote nothing is Transient; the next attempt posts once."""
    standin.server_error(status=status)
    with pytest.raises(Transient):
        adapter.publish(artefact())
    assert standin.posts == []
    adapter.publish(artefact())
    assert len(standin.posts) == 1


def test_expired_token_refreshes_once_then_succeeds(adapter, standin) -> None:
    """ExpiredToken triggers exactly one refreshSession, no new login, and the post goes up."""
    adapter.check()
    standin.expire_access()
    adapter.publish(artefact())
    assert len(standin.posts) == 1
    assert standin.refresh_session_calls == 1
    assert standin.create_session_calls == 1


def test_revoked_refresh_logs_in_once_with_the_app_password(adapter, standin) -> None:
    """A refused refresh costs one login, never a login per attempt."""
    adapter.check()
    standin.revoke_refresh()
    adapter.publish(artefact())
    assert len(standin.posts) == 1
    assert (standin.refresh_session_calls, standin.create_session_calls) == (1, 2)


def test_revoked_refresh_and_password_is_auth_expired(adapter, standin) -> None:
    """With the refresh token and the app password both revoked, AuthExpired, nothing posted."""
    adapter.check()
    standin.revoke_refresh()
    standin.revoke_password()
    with pytest.raises(AuthExpired) as caught:
        adapter.publish(artefact())
    assert standin.posts == []
    assert_no_secrets(caught.value, standin)


def test_wrong_password_is_auth_expired_without_the_password(standin) -> None:
    """401 AuthenticationRequired at login is AuthExpired, and the message hides the password."""
    adapter = make_adapter(standin)
    standin.revoke_password()
    with pytest.raises(AuthExpired) as caught:
        adapter.check()
    assert "AuthenticationRequired" in str(caught.value)
    assert_no_secrets(caught.value, standin)
    assert "app-pass-word-1234" not in str(caught.value)


def test_timeout_is_unconfirmed_and_find_resolves_it(standin) -> None:
    """A create that landed but answered late is Unconfirmed; find() then sees the one post."""
    adapter = make_adapter(standin, timeout=0.3)
    adapter.check()
    standin.delay(1.0, land=True)
    with pytest.raises(Unconfirmed):
        adapter.publish(artefact())
    found = adapter.find(artefact())
    assert found is not None and found.remote_id.endswith(record_key("post-1:bluesky:v1"))
    assert len(standin.posts) == 1


@pytest.mark.parametrize("duplicate_reply", [
    xrpc_error(500, "InternalServerError", "Internal Server Error"),   # today's PDS
    xrpc_error(400, "InvalidRequest", "Record already exists"),        # an explicit error, if it comes
])
def test_retry_after_a_lost_answer_collides_instead_of_duplicating(standin, duplicate_reply) -> None:
    """A blind retry of a post that landed hits the same rkey: still exactly one record."""
    standin.duplicate_rkey_reply = duplicate_reply
    adapter = make_adapter(standin, timeout=0.3)
    standin.delay(1.0, land=True)
    with pytest.raises(Unconfirmed):
        adapter.publish(artefact())
    again = adapter.publish(artefact())
    assert len(standin.create_calls) == 2
    assert len(standin.posts) == 1
    assert again == adapter.find(artefact())
    assert again.remote_id.endswith(record_key("post-1:bluesky:v1"))


def test_rejected_content_is_not_found_afterwards(adapter, standin) -> None:
    """A post the PDS refuses (too long) raises a ChannelError and leaves nothing behind."""
    with pytest.raises(ChannelError, match="300 graphemes"):
        adapter.publish(artefact(text="x" * 301))
    assert standin.posts == []
    assert adapter.find(artefact(text="x" * 301)) is None


def test_created_at_comes_from_the_injected_clock_not_the_wall(standin) -> None:
    """createdAt is the clock's time, in the clients' millisecond Z form."""
    adapter = make_adapter(standin)
    adapter.publish(artefact())
    assert re.fullmatch(r"2026-11-23T10:07:30\.250Z", standin.post_records[0]["createdAt"])


@pytest.fixture
def channel() -> Iterator[tuple[BlueskyAdapter, BlueskyStandIn]]:
    """The contract's (adapter, stand-in) pair with a short timeout."""
    with BlueskyStandIn() as pds:
        settings = Channel(kind="bluesky", api_base=pds.base_url, handle=pds.handle,
                           username_env="WST_BLUESKY_HANDLE", password_env="WST_BLUESKY_APP_PASSWORD")
        yield BlueskyAdapter("bluesky", settings, pds.environ, timeout=0.5, now=clock), pds


class TestBlueskyContract(ChannelContract):
    """The shared channel contract, for Bluesky."""

    def test_publish_once_holds_exactly_the_text(self, channel) -> None:
        """As the contract, but the id is the AT URI and the link ends with its record key."""
        adapter, standin = channel
        publication = adapter.publish(contract_artefact())
        assert [p["text"] for p in standin.posts] == [CONTRACT_TEXT]
        assert publication.remote_id == standin.posts[0]["id"]
        assert publication.url.startswith("https://bsky.app/profile/")
        assert publication.url.rsplit("/", 1)[1] == publication.remote_id.rsplit("/", 1)[1]
        assert len(standin.create_calls) == 1


def test_login_limit_is_rate_limited_until_the_window_resets(standin) -> None:
    """The 31st login in five minutes is RateLimited at the reset the PDS names."""
    for _ in range(30):
        make_adapter(standin).check()
    with pytest.raises(RateLimited) as caught:
        make_adapter(standin).check()
    assert caught.value.retry_at == datetime(2026, 11, 23, 10, 12, 30, tzinfo=UTC)
