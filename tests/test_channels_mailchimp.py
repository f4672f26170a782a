"""The Mailchimp adapter over real HTTP against the loopback Marketing API stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from channel_contract import TEXT, ChannelContract
from channel_contract import bulletin as contract_bulletin
from standins.mailchimp import MailchimpStandIn, problem

from pipeline.channels.base import (
    Artefact,
    AuthExpired,
    Publication,
    RateLimited,
    Rejected,
    Transient,
    Unconfirmed,
)
from pipeline.channels.mailchimp import MailchimpAdapter, base_from_key, quarter_hour_up
from pipeline.config import Channel

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HTML = "<html><body><h1>November bulletin</h1><p>Call MASH on 01902 555392.</p></body></html>"
PLAIN = "November bulletin\n\nCall MASH on 01902 555392."


def clock() -> datetime:
    """The fixed time both sides read."""
    return NOW


DUE = datetime(2026, 11, 23, 10, 7, tzinfo=UTC)


def bulletin(send_at: datetime | None = DUE, **changes: object) -> Artefact:
    """November's bulletin, due at 10:07 UTC."""
    fields: dict[str, object] = dict(
        item_id="bulletin-2026-11", idempotency_key="bulletin-2026-11:mailchimp:v1", kind="bulletin",
        text=PLAIN, html=HTML, subject="WST bulletin: November 2026", preheader="Winter safety",
        title="WST bulletin 2026-11", send_at=send_at)
    fields.update(changes)
    return Artefact(**fields)  # type: ignore[arg-type]


def settings(standin: MailchimpStandIn, **changes: object) -> Channel:
    """The channel as config.toml describes it, pointed at the stand-in."""
    values: dict[str, object] = dict(kind="mailchimp", api_base=standin.api_base, account_id=standin.list_id,
                                     from_name="Wolverhampton Safeguarding Together",
                                     reply_to="wst@example.org", api_key_env="WST_MAILCHIMP_API_KEY",
                                     test_recipients=["business.unit@example.org"])
    values.update(changes)
    return Channel(**values)  # type: ignore[arg-type]


@pytest.fixture
def standin() -> Iterator[MailchimpStandIn]:
    """A running loopback Mailchimp."""
    with MailchimpStandIn(clock) as api:
        yield api


def make_adapter(standin: MailchimpStandIn, timeout: float = 2.0, **changes: object) -> MailchimpAdapter:
    """The adapter pointed at the stand-in."""
    return MailchimpAdapter("mailchimp", settings(standin, **changes), standin.environ(),
                            timeout=timeout, now=clock)


@pytest.fixture
def adapter(standin: MailchimpStandIn) -> MailchimpAdapter:
    """A ready adapter."""
    return make_adapter(standin)


@pytest.fixture
def channel() -> Iterator[tuple[MailchimpAdapter, MailchimpStandIn]]:
    """The contract's (adapter, stand-in) pair: one clock for both, and a short timeout."""
    with MailchimpStandIn(clock) as api:
        yield make_adapter(api, timeout=0.5), api


class TestMailchimpContract(ChannelContract):
    """The shared channel contract, for Mailchimp: the artefact is a bulletin, and what the
    platform holds is its scheduled or sent campaigns, each with the plain text Mailchimp was given."""

    not_applicable: ClassVar[dict[str, str]] = {
        "test_publish_with_image_carries_alt_text":
            "a bulletin is a campaign of HTML and plain text; it has no attached image or alt text",
        "test_duplicate_text_is_duplicate":
            "Mailchimp has no duplicate-content refusal; the adapter finds an existing campaign by "
            "its title instead of creating another (test_running_twice_creates_one_campaign_and_"
            "schedules_once)",
    }

    def make_artefact(self, text: str = TEXT, image: Path | None = None, alt: str = "") -> Artefact:
        """A bulletin with `text` as its plain-text part, due after the clock (so it is scheduled)."""
        assert image is None and not alt, "bulletins carry no image"
        return contract_bulletin(text, send_at=DUE)

    def held(self, standin: MailchimpStandIn) -> list[dict[str, Any]]:
        """The scheduled or sent campaigns, with the content they were given."""
        with standin.lock:
            return [{"id": c["id"], "text": standin.content.get(c["id"], {}).get("plain_text"),
                     "html": standin.content.get(c["id"], {}).get("html"), "url": c["archive_url"],
                     "title": c["settings"]["title"]} for c in standin.posts]

    def assert_names_the_held(self, adapter: Any, item: Artefact, publication: Publication,
                              record: dict[str, Any]) -> None:
        """The campaign's id, and the archive link Mailchimp itself gives for it (an eepurl.com
        short link, which does not contain the id); the campaign carries the bulletin's title and HTML."""
        assert publication.remote_id == record["id"]
        assert publication.url == record["url"] and publication.url
        assert (record["title"], record["html"]) == (item.title, item.html)


@pytest.mark.parametrize(("due", "expected"), [
    ("10:07", "10:15"), ("10:00", "10:00"), ("10:00:01", "10:15"), ("10:45", "10:45"),
    ("10:46", "11:00"), ("23:59", "00:00"),
])
def test_quarter_hour_rounds_up(due: str, expected: str) -> None:
    """Send times round up to the next quarter hour; one already on a quarter hour stays."""
    moment = datetime.fromisoformat(f"2026-11-23T{due}+00:00")
    assert quarter_hour_up(moment).strftime("%H:%M:%S") == f"{expected}:00"


def test_base_comes_from_the_keys_data_centre() -> None:
    """'…-us21' → https://us21.api.mailchimp.com/3.0; a key without one gives nothing."""
    assert base_from_key("abc123-us21") == "https://us21.api.mailchimp.com/3.0"
    assert base_from_key("abc123") == ""


def test_publish_creates_fills_tests_and_schedules_one_campaign(adapter, standin) -> None:
    """One campaign with the exact settings and content, a test send, scheduled at 10:15 UTC."""
    assert adapter.find(bulletin()) is None
    publication = adapter.publish(bulletin())
    [campaign] = standin.campaigns.values()
    assert campaign["settings"] == {
        "subject_line": "WST bulletin: November 2026", "preview_text": "Winter safety",
        "title": "WST bulletin 2026-11", "from_name": "Wolverhampton Safeguarding Together",
        "reply_to": "wst@example.org"}
    assert campaign["recipients"]["list_id"] == standin.list_id
    assert standin.content[campaign["id"]] == {"html": HTML, "plain_text": PLAIN}
    assert standin.tests[campaign["id"]] == [{"test_emails": ["business.unit@example.org"],
                                              "send_type": "html"}]
    assert campaign["status"] == "schedule"
    assert campaign["send_time"] == "2026-11-23T10:15:00+00:00"
    [schedule] = standin.calls_named("POST", "/actions/schedule")
    assert schedule.json() == {"schedule_time": "2026-11-23T10:15:00+00:00"}
    assert publication.remote_id == campaign["id"]
    assert publication.url == campaign["archive_url"]
    found = adapter.find(bulletin())
    assert found is not None and (found.remote_id, found.url) == (publication.remote_id, publication.url)


def test_running_twice_creates_one_campaign_and_schedules_once(adapter, standin) -> None:
    """A second run finds the scheduled campaign by title and changes nothing."""
    first = adapter.publish(bulletin())
    second = make_adapter(standin).publish(bulletin())
    assert len(standin.campaigns) == 1
    assert len(standin.calls_named("POST", "/campaigns")) == 1
    assert len(standin.calls_named("POST", "/actions/schedule")) == 1
    assert second.remote_id == first.remote_id


def test_no_test_recipients_means_no_test_send(standin) -> None:
    """Without test recipients no test is sent, and the bulletin is still scheduled."""
    make_adapter(standin, test_recipients=[]).publish(bulletin())
    assert standin.calls_named("POST", "/actions/test") == []
    assert len(standin.posts) == 1


@pytest.mark.parametrize("send_at", [None, datetime(2026, 11, 23, 8, 59, tzinfo=UTC)])
def test_no_time_or_a_past_time_sends_now(adapter, standin, send_at) -> None:
    """send_at None or already past: /actions/send, never a schedule in the past."""
    adapter.publish(bulletin(send_at=send_at))
    assert standin.calls_named("POST", "/actions/schedule") == []
    assert len(standin.calls_named("POST", "/actions/send")) == 1
    [campaign] = standin.campaigns.values()
    assert campaign["status"] == "sent"


def test_finds_the_campaign_beyond_the_first_page(adapter, standin) -> None:
    """Title lookup reads past Mailchimp's default page of 10, so an old draft is reused."""
    for n in range(12):
        make_adapter(standin).publish(bulletin(title=f"Older bulletin {n}", send_at=None))
    # The newest is on the second page of Mailchimp's default ten.
    assert adapter.find(bulletin(title="Older bulletin 11")) is not None
    assert len(standin.campaigns) == 12


def test_a_draft_left_by_an_interrupted_run_is_reused_and_updated(adapter, standin) -> None:
    """A 'save' campaign with the title is completed (subject brought up to date), not duplicated."""
    standin.delay_next(1.0, land=True, match=lambda c: c.method == "PUT")
    with pytest.raises(Unconfirmed):
        make_adapter(standin, timeout=0.3).publish(bulletin(subject="Old subject"))
    assert adapter.find(bulletin()) is None  # still a draft: not published
    adapter.publish(bulletin())
    [campaign] = standin.campaigns.values()
    assert campaign["settings"]["subject_line"] == "WST bulletin: November 2026"
    assert campaign["status"] == "schedule"


def test_rate_limit_is_rate_limited(adapter, standin) -> None:
    """429 becomes RateLimited at the adapter's wait past the clock (Mailchimp names no reset)."""
    reset = standin.rate_limit()
    with pytest.raises(RateLimited) as caught:
        adapter.publish(bulletin())
    assert caught.value.retry_at == reset
    assert standin.campaigns == {}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_is_transient(adapter, standin, status: int) -> None:
    """A 5xx is Transient and leaves nothing behind; the retry publishes once."""
    standin.server_error(status=status)
    with pytest.raises(Transient):
        adapter.publish(bulletin())
    adapter.publish(bulletin())
    assert len(standin.campaigns) == 1 and len(standin.posts) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_invalid_key_is_auth_expired_without_the_key(standin, status: int) -> None:
    """401 and 403 become AuthExpired, and the key never appears in the message."""
    key = standin.api_key
    adapter = make_adapter(standin)
    if status == 401:
        standin.expire_token()
    else:
        standin.answer_next(problem(403, "User Disabled", "This account has been disabled."))
    with pytest.raises(AuthExpired) as caught:
        adapter.publish(bulletin())
    assert key not in str(caught.value)
    assert standin.campaigns == {}


def test_check_uses_ping_and_fails_on_a_bad_key(adapter, standin) -> None:
    """check() passes with the key and raises AuthExpired once it is revoked."""
    adapter.check()
    standin.expire_token()
    with pytest.raises(AuthExpired, match="API Key Invalid"):
        adapter.check()


def test_timeout_on_schedule_is_unconfirmed_and_find_resolves_it(standin) -> None:
    """A schedule that landed but answered late is Unconfirmed; find() then sees it scheduled."""
    adapter = make_adapter(standin, timeout=0.3)
    standin.delay(1.0, land=True)
    with pytest.raises(Unconfirmed):
        adapter.publish(bulletin())
    found = adapter.find(bulletin())
    assert found is not None and found.extra["status"] == "schedule"
    assert len(standin.campaigns) == 1


def test_timeout_on_create_then_retry_reuses_the_campaign(standin) -> None:
    """A create whose answer was lost: the retry finds the draft by title instead of creating another."""
    adapter = make_adapter(standin, timeout=0.3)
    standin.delay_next(1.0, land=True, match=lambda c: c.method == "POST" and c.path.endswith("/campaigns"))
    with pytest.raises(Unconfirmed):
        adapter.publish(bulletin())
    adapter.publish(bulletin())
    assert len(standin.campaigns) == 1
    assert len(standin.posts) == 1


def test_campaign_not_ready_is_rejected(standin) -> None:
    """A campaign Mailchimp will not send (no reply-to) is Rejected, not retried."""
    with pytest.raises(Rejected, match="not ready to send"):
        make_adapter(standin, reply_to="", test_recipients=[]).publish(bulletin())
    assert standin.posts == []


def test_a_post_artefact_is_rejected_before_any_call(adapter, standin) -> None:
    """Only bulletins go to Mailchimp."""
    with pytest.raises(Rejected):
        adapter.publish(Artefact(item_id="p", idempotency_key="p:mailchimp:v1", kind="post", text="hi"))
    assert standin.calls == []


def test_missing_key_names_the_variable(standin) -> None:
    """No key in the environment: AuthExpired naming the variable, and no call made."""
    adapter = MailchimpAdapter("mailchimp", settings(standin), {}, now=clock)
    with pytest.raises(AuthExpired, match="WST_MAILCHIMP_API_KEY"):
        adapter.publish(bulletin())
    assert standin.calls == []


def test_key_without_data_centre_and_no_api_base_is_auth_expired(standin) -> None:
    """With nowhere to send, AuthExpired says what to set, hides the key and makes no call."""
    channel = settings(standin, api_base="")
    adapter = MailchimpAdapter("mailchimp", channel, {"WST_MAILCHIMP_API_KEY": "nodatacentre1234"}, now=clock)
    with pytest.raises(AuthExpired, match="data-centre") as caught:
        adapter.check()
    assert "nodatacentre1234" not in str(caught.value)
    assert standin.calls == []
