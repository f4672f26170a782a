"""The LinkedIn adapter over real HTTP against the loopback LinkedIn stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from channel_contract import ALT, PNG, TEXT, ChannelContract, artefact, wall_clock
from standins.linkedin import LinkedInStandIn, error
from standins.server import Call, Reply, StandIn
from test_metrics_support import write_config

from pipeline.channels.base import AuthExpired, RateLimited, Rejected, Transient, Unconfirmed
from pipeline.channels.linkedin import IMAGE_POLLS, LinkedInAdapter, little, plain
from pipeline.config import Channel, load_config
from pipeline.problems import InputError

TIMEOUT = 0.5
NOW = datetime(2026, 11, 23, 9, 30, 15, tzinfo=UTC)
VERSION = "202511"


def settings_for(standin: LinkedInStandIn, **extra: Any) -> Channel:
    """The [channels.linkedin] table of config.toml, pointed at the stand-in."""
    values = {"kind": "linkedin", "api_base": standin.base_url, "api_version": VERSION,
              "account_id": standin.organisation_id, "token_env": "WST_LINKEDIN_TOKEN", **extra}
    return Channel(**values)


def adapter_for(standin: LinkedInStandIn, slept: list[float] | None = None, **extra: Any) -> LinkedInAdapter:
    return LinkedInAdapter("linkedin", settings_for(standin, **extra), standin.environ,
                           timeout=TIMEOUT, sleep=(slept if slept is not None else []).append,
                           now=wall_clock)


@pytest.fixture
def channel() -> Iterator[tuple[LinkedInAdapter, LinkedInStandIn]]:
    """A LinkedIn adapter and the started stand-in it talks to."""
    with LinkedInStandIn(clock=lambda: NOW) as standin:
        yield adapter_for(standin), standin


class TestLinkedInContract(ChannelContract):
    """The shared channel contract, for a LinkedIn organisation page."""


def _png(tmp_path: Path) -> Path:
    image = tmp_path / "ribbon.png"
    image.write_bytes(PNG)
    return image


# -- what goes out ---------------------------------------------------------------------------

def test_a_post_carries_linkedins_headers_and_the_organisation_as_author(
        channel: tuple[LinkedInAdapter, LinkedInStandIn]) -> None:
    """LinkedIn-Version and Rest.li 2.0.0 on every call; the URN comes from x-restli-id."""
    adapter, standin = channel
    publication = adapter.publish(artefact())
    (call,) = standin.create_calls
    assert call.headers["linkedin-version"] == VERSION
    assert call.headers["x-restli-protocol-version"] == "2.0.0"
    body = call.json()
    assert body["author"] == "urn:li:organization:2414183"
    assert (body["visibility"], body["lifecycleState"]) == ("PUBLIC", "PUBLISHED")
    assert body["distribution"]["feedDistribution"] == "MAIN_FEED"
    assert publication.remote_id == standin.feed[0]["id"]
    assert publication.remote_id.startswith("urn:li:share:")
    assert publication.url == f"https://www.linkedin.com/feed/update/{publication.remote_id}/"


def test_a_link_post_is_an_article_card_titled_by_its_first_line(
        channel: tuple[LinkedInAdapter, LinkedInStandIn]) -> None:
    adapter, standin = channel
    link = TEXT.rsplit(" ", 1)[1]   # the artefact's (UTM-tagged) link, also inside its text
    adapter.publish(artefact(f"Safeguarding Week starts on Monday.\n{link}"))
    article = standin.create_calls[0].json()["content"]["article"]
    assert article == {"source": link, "title": "Safeguarding Week starts on Monday."}


def test_reserved_characters_are_shown_as_written_and_links_and_hashtags_survive(
        channel: tuple[LinkedInAdapter, LinkedInStandIn]) -> None:
    """Unescaped, LinkedIn cuts the post at the first ( and still answers 201; escaped, every
    character shows, the link stays whole and #SafeguardingWeek stays a hashtag. find() reads
    the templates LinkedIn gives back."""
    adapter, standin = channel
    text = ("Worried about an adult (aged 18+)? Call 01902 551199 [24/7] *now* ~ "
            "#SafeguardingWeek @WST_team see https://example.org/a_b?x=1_2")
    item = artefact(text)
    publication = adapter.publish(item)
    assert standin.posts[0]["text"] == text
    assert "{hashtag|\\#|SafeguardingWeek}" in standin.feed[0]["commentary"]
    found = adapter.find(item)
    assert found is not None and found.remote_id == publication.remote_id


def test_little_format_round_trip() -> None:
    text = "A \\ B | {C} @D [E] (F) <G> *H* _I_ ~J~ #Tag https://x.org/a_b?c=1 (see https://x.org)."
    escaped = little(text)
    assert "#Tag" in escaped and "https://x.org/a_b?c=1 " in escaped and "\\(F\\)" in escaped
    assert "https://x.org\\)." in escaped   # a link does not take the bracket that closes around it
    assert plain(escaped) == text


def test_an_image_goes_up_through_the_images_api_first(tmp_path: Path) -> None:
    """initializeUpload, PUT the bytes (with the token, to LinkedIn's own host), wait while it
    is processed, then the post names the image and its alt text."""
    with LinkedInStandIn(processing_polls=2) as standin:
        slept: list[float] = []
        adapter_for(standin, slept).publish(artefact(image=_png(tmp_path), alt=ALT))
        (init,) = standin.calls_to("POST", "/rest/images")
        assert init.arg("action") == "initializeUpload"
        assert init.json() == {"initializeUploadRequest": {"owner": "urn:li:organization:2414183"}}
        (put,) = standin.calls_to("PUT", r"/dms-uploads/\w+")
        assert put.body == PNG and put.headers["authorization"] == f"Bearer {standin.token}"
        media = standin.create_calls[0].json()["content"]["media"]
        assert standin.images[media["id"]]["data"] == PNG and media["altText"] == ALT
        assert len(slept) == 2 and standin.posts[0]["image_alt"] == ALT


def test_an_image_still_processing_is_transient_and_nothing_is_posted(tmp_path: Path) -> None:
    with LinkedInStandIn(processing_polls=IMAGE_POLLS + 5) as standin:
        with pytest.raises(Transient, match="still processing"):
            adapter_for(standin).publish(artefact(image=_png(tmp_path), alt=ALT))
        assert standin.create_calls == []


class _OtherHost(StandIn):
    """A host that is not LinkedIn's, taking any upload."""

    def __init__(self) -> None:
        super().__init__()
        self.route("PUT", r"/.*", lambda call: Reply(201, None))


def test_the_token_never_goes_to_an_upload_address_on_another_host(tmp_path: Path) -> None:
    with LinkedInStandIn() as standin, _OtherHost() as other:
        standin.answer_next(lambda call: Reply(200, {"value": {
            "uploadUrl": f"{other.base_url}/upload/1", "image": "urn:li:image:C4E10AQ1",
            "uploadUrlExpiresAt": 0}}), match=lambda c: c.path == "/rest/images")
        with pytest.raises(Rejected):   # LinkedIn itself never heard of that image
            adapter_for(standin).publish(artefact(image=_png(tmp_path), alt=ALT))
        (put,) = other.calls
        assert put.body == PNG and "authorization" not in put.headers
        assert standin.create_calls == []


# -- what comes back -----------------------------------------------------------------------------

def test_the_daily_limit_waits_until_midnight_utc(channel: tuple[LinkedInAdapter, LinkedInStandIn]) -> None:
    adapter, standin = channel
    reset = standin.rate_limit()
    with pytest.raises(RateLimited) as caught:
        adapter.publish(artefact())
    assert caught.value.retry_at == reset == datetime(2026, 11, 24, tzinfo=UTC)


def test_a_short_throttle_waits_as_long_as_retry_after_says(
        channel: tuple[LinkedInAdapter, LinkedInStandIn]) -> None:
    adapter, standin = channel
    reset = standin.rate_limit(retry_after=90)
    with pytest.raises(RateLimited) as caught:
        adapter.find(artefact())
    assert caught.value.retry_at == reset == NOW.replace(microsecond=0) + timedelta(seconds=90)


def test_a_missing_permission_flags_the_channel_and_check_needs_the_posting_one(
        channel: tuple[LinkedInAdapter, LinkedInStandIn]) -> None:
    """403 ACCESS_DENIED is AuthExpired naming what the token needs; check() asks for an upload
    address, which needs the posting permission, so a token that may only read stays flagged."""
    adapter, standin = channel
    standin.scopes.discard("w_organization_social")
    with pytest.raises(AuthExpired, match="w_organization_social") as caught:
        adapter.publish(artefact())
    assert standin.token not in str(caught.value)
    adapter.find(artefact())           # reading still works ...
    with pytest.raises(AuthExpired):
        adapter.check()                # ... but the channel is not fixed
    standin.scopes.add("w_organization_social")
    adapter.check()
    assert len(standin.create_calls) == 1 and standin.feed == []   # check() posted nothing


def test_an_expired_token_says_to_make_a_new_one(channel: tuple[LinkedInAdapter, LinkedInStandIn]) -> None:
    adapter, standin = channel
    standin.expire_token()
    with pytest.raises(AuthExpired, match="generate a new access token"):
        adapter.publish(artefact())


def test_a_version_linkedin_no_longer_serves_is_rejected_naming_the_setting(
        channel: tuple[LinkedInAdapter, LinkedInStandIn]) -> None:
    _, standin = channel
    with pytest.raises(Rejected, match="set api_version to a current month") as caught:
        adapter_for(standin, api_version="202301").publish(artefact())
    assert "426" in str(caught.value) and standin.feed == []


def test_an_answer_without_the_posts_id_is_unconfirmed(
        channel: tuple[LinkedInAdapter, LinkedInStandIn]) -> None:
    """201 without x-restli-id: the post may exist, so it is settled by asking, not resent."""
    adapter, standin = channel
    def accept_without_id(call: Call) -> Reply:
        with standin.lock:
            standin.dispatch(call)
        return Reply(201, None)
    standin.answer_next(accept_without_id, match=lambda c: c.path == "/rest/posts" and c.method == "POST")
    item = artefact()
    with pytest.raises(Unconfirmed):
        adapter.publish(item)
    assert adapter.find(item) is not None and len(standin.feed) == 1


def test_the_organisation_may_be_its_number_or_its_urn_and_nothing_else(
        channel: tuple[LinkedInAdapter, LinkedInStandIn]) -> None:
    _, standin = channel
    adapter_for(standin, account_id="urn:li:organization:2414183").publish(artefact())
    with pytest.raises(Rejected, match="organisation's number"):
        adapter_for(standin, account_id="wolverhampton-safeguarding").publish(artefact("Other text"))
    assert len(standin.feed) == 1


def test_validation_errors_are_rejected_with_linkedins_words(
        channel: tuple[LinkedInAdapter, LinkedInStandIn]) -> None:
    adapter, standin = channel
    standin.answer_next(error(422, "ERROR :: /commentary :: length exceeds 3000"),
                        match=lambda c: c.method == "POST")
    with pytest.raises(Rejected, match="length exceeds 3000"):
        adapter.publish(artefact())


# -- configuration -----------------------------------------------------------------------------

@pytest.mark.parametrize(("table", "message"), [
    ({"account_id": "2414183"}, "'api_version' is empty"),
    ({"api_version": VERSION}, "'account_id' is empty"),
    ({"account_id": "2414183", "api_version": "v2"}, "is not a LinkedIn version"),
])
def test_live_linkedin_needs_its_organisation_and_a_version(tmp_path: Path, table: dict[str, str],
                                                            message: str) -> None:
    with pytest.raises(InputError) as caught:
        load_config(write_config(tmp_path, {"linkedin": table}))
    assert message in str(caught.value) and "config.toml:" in str(caught.value)
