"""The one contract every channel adapter keeps, run against its loopback stand-in.

Use it by subclassing in a test module and giving a `channel` fixture that yields
(adapter, standin), the adapter already pointed at the started stand-in with a short timeout:

    class TestXContract(ChannelContract):
        @pytest.fixture
        def channel(self):
            with XStandIn() as standin:
                yield XAdapter("x", settings_for(standin), standin.environ, timeout=0.5,
                              now=wall_clock), standin

A subclass whose platform is not a post-style one says so with three hooks:
  make_artefact(text, image, alt)   the platform's kind of artefact carrying `text` (default: a
                                    post; the mailing channels build a bulletin)
  held(standin)                     what the platform now holds, oldest first, as dicts with at
                                    least "id" and "text" (default: standin.posts)
  assert_names_the_held(adapter, item, publication, record)
                                    how the publication names what the platform holds (default:
                                    the platform's id, and a public https link containing it)
and with `not_applicable`, a dict from contract case name to the reason the case cannot apply to
that platform: the case is then skipped with that reason, never silently left out. A name that
is not a contract case is an error when the subclass is defined.

The stand-in offers these knobs (see tests/standins/server.py for the HTTP server underneath):
  posts          list of {"id", "text", "image_alt"} the platform now holds, oldest first
                 (read through held(), which a subclass may map from its platform's own state)
  create_calls   every request that tried to create a post (for mail: to create a campaign or
                 start a message)
  calls          every request received
  secrets        every credential string (each must never appear in an error message)
  rate_limit(times=1) -> datetime   next calls answer the platform's rate limit; returns the
                                    reset time (UTC) the adapter must report as retry_at
  server_error(times=1)             next calls answer a 5xx (SMTP: a 4xx temporary failure)
  expire_token()                    the credentials stop working (expired or revoked)
  delay(seconds, times=1, land=True)  the next create is answered `seconds` late; with
                                    land=False it never takes effect and the connection drops
  rejects_duplicates (class attr)   True where the platform refuses a repeated text (X)
"""

from __future__ import annotations

import html
import io
import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PIL import Image

from pipeline.channels.base import (
    Artefact,
    AuthExpired,
    ChannelAdapter,
    ChannelError,
    Duplicate,
    Publication,
    RateLimited,
    Transient,
    Unconfirmed,
)


def wall_clock() -> datetime:
    """The real clock, for adapters under test that are not testing a time rule: a test is an
    entry point, and an adapter only reads the clock it is given."""
    return datetime.now(UTC)


# A 1×1 transparent PNG: a real image file, small enough to read at a glance.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (242, 107, 29)).save(out, "JPEG")
    return out.getvalue()


# A small orange JPEG, whole (Instagram takes JPEG only; `wst post` decodes an image whole).
JPEG = _jpeg()
TEXT = ("Worried about a child? Call the MASH on 01902 555392 & find out more at "
        "https://www.wolverhamptonsafeguarding.org.uk/concern?utm_source=social")
ALT = "An orange ribbon on a white background."
_serial = itertools.count(1)


def artefact(text: str = TEXT, image: Path | None = None, alt: str = "") -> Artefact:
    """A post with a fresh idempotency key."""
    n = next(_serial)
    return Artefact(item_id=f"contract-{n}", idempotency_key=f"contract-{n}-key", kind="post",
                    text=text, link=TEXT.rsplit(" ", 1)[1], image=image, alt=alt)


def bulletin(text: str = TEXT, send_at: datetime | None = None) -> Artefact:
    """A bulletin whose plain-text part is `text`, with a fresh idempotency key and title."""
    n = next(_serial)
    return Artefact(item_id=f"contract-{n}", idempotency_key=f"contract-{n}-key", kind="bulletin",
                    text=text, html=f"<html><body><p>{html.escape(text)}</p></body></html>",
                    subject=f"WST contract bulletin {n}", preheader="Safeguarding news",
                    title=f"WST contract bulletin {n}", send_at=send_at)


def assert_no_secret(exc: BaseException, standin: Any) -> None:
    """No credential appears in the error's message."""
    for secret in standin.secrets:
        assert secret not in str(exc), f"secret leaked into: {exc}"


def with_environ(adapter: ChannelAdapter, environ: dict[str, str]) -> ChannelAdapter:
    """The same adapter class and settings with other credentials."""
    return type(adapter)(adapter.name, adapter.settings, environ, timeout=adapter.timeout,
                         now=adapter.now)


class ChannelContract:
    """Subclass with a `channel` fixture yielding (adapter, standin)."""

    # Contract case name -> why it cannot apply to this platform (the case is skipped with it).
    not_applicable: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cases = {name for name in dir(ChannelContract) if name.startswith("test_")}
        unknown = sorted(set(cls.not_applicable) - cases)
        if unknown:
            raise TypeError(f"{cls.__name__}.not_applicable names no contract case: {unknown}")
        blank = sorted(name for name, reason in cls.not_applicable.items() if not reason.strip())
        if blank:
            raise TypeError(f"{cls.__name__}.not_applicable gives no reason for: {blank}")

    @pytest.fixture(autouse=True)
    def _skip_cases_that_cannot_apply(self, request: pytest.FixtureRequest) -> None:
        """Skip, with the subclass's reason, a case its platform cannot answer."""
        reason = self.not_applicable.get(request.function.__name__)
        if reason:
            pytest.skip(f"not applicable to {type(self).__name__}: {reason}")

    # -- hooks a subclass may override ---------------------------------------------------------

    def make_artefact(self, text: str = TEXT, image: Path | None = None, alt: str = "") -> Artefact:
        """This platform's kind of artefact carrying `text`, with a fresh idempotency key."""
        return artefact(text, image, alt)

    def held(self, standin: Any) -> list[dict[str, Any]]:
        """What the platform now holds, oldest first: dicts with at least "id" and "text"."""
        return list(standin.posts)

    def assert_names_the_held(self, adapter: Any, item: Artefact, publication: Publication,
                              record: dict[str, Any]) -> None:
        """The publication carries the platform's id for `record` and a public https link to it."""
        assert publication.remote_id == record["id"]
        assert publication.url.startswith("https://") and publication.remote_id in publication.url

    # -- the contract ----------------------------------------------------------------------------

    def test_publish_once_holds_exactly_the_text(self, channel: tuple[Any, Any]) -> None:
        """One publish makes one post with the exact text and returns its id and link."""
        adapter, standin = channel
        item = self.make_artefact()
        publication = adapter.publish(item)
        assert isinstance(publication, Publication)
        held = self.held(standin)
        assert [p["text"] for p in held] == [TEXT]
        self.assert_names_the_held(adapter, item, publication, held[0])
        assert len(standin.create_calls) == 1

    def test_publish_with_image_carries_alt_text(self, channel: tuple[Any, Any], tmp_path: Path) -> None:
        """An image goes up with its alt text, attached to the one post."""
        adapter, standin = channel
        image = tmp_path / "ribbon.png"
        image.write_bytes(PNG)
        adapter.publish(self.make_artefact(image=image, alt=ALT))
        assert [(p["text"], p["image_alt"]) for p in self.held(standin)] == [(TEXT, ALT)]

    def test_find_is_none_before_and_the_post_after(self, channel: tuple[Any, Any]) -> None:
        """find() says no before publishing and returns the same id after."""
        adapter, _ = channel
        item = self.make_artefact()
        assert adapter.find(item) is None
        publication = adapter.publish(item)
        found = adapter.find(item)
        assert found is not None and found.remote_id == publication.remote_id

    def test_find_ignores_other_posts(self, channel: tuple[Any, Any]) -> None:
        """A different text on the account is not taken for ours."""
        adapter, _ = channel
        adapter.publish(self.make_artefact(text="Safeguarding is everyone's business."))
        assert adapter.find(self.make_artefact()) is None

    def test_rate_limit_reports_the_platforms_reset(self, channel: tuple[Any, Any]) -> None:
        """A rate limit is RateLimited at the platform's reset time, and nothing is posted."""
        adapter, standin = channel
        reset = standin.rate_limit()
        with pytest.raises(RateLimited) as caught:
            adapter.publish(self.make_artefact())
        assert caught.value.retry_at == reset
        assert caught.value.retry_at.utcoffset() is not None
        assert self.held(standin) == []
        assert_no_secret(caught.value, standin)

    def test_server_error_is_transient_and_not_retried_inside(self, channel: tuple[Any, Any]) -> None:
        """A 5xx is Transient; retrying is the scheduler's job, so only one attempt is made."""
        adapter, standin = channel
        standin.server_error(times=5)
        with pytest.raises(Transient) as caught:
            adapter.publish(self.make_artefact())
        assert len(standin.create_calls) <= 1
        assert self.held(standin) == []
        assert_no_secret(caught.value, standin)

    def test_expired_token_is_auth_expired(self, channel: tuple[Any, Any]) -> None:
        """Expired or revoked credentials are AuthExpired for publish and check."""
        adapter, standin = channel
        standin.expire_token()
        with pytest.raises(AuthExpired) as caught:
            adapter.publish(self.make_artefact())
        assert_no_secret(caught.value, standin)
        with pytest.raises(AuthExpired):
            adapter.check()
        assert self.held(standin) == []

    def test_check_passes_with_good_credentials(self, channel: tuple[Any, Any]) -> None:
        """check() is quiet when the credentials work, and posts nothing."""
        adapter, standin = channel
        adapter.check()
        assert standin.create_calls == []

    def test_timeout_after_landing_is_unconfirmed_then_found(self, channel: tuple[Any, Any]) -> None:
        """A slow answer is Unconfirmed (never retried blind); find() then shows it landed."""
        adapter, standin = channel
        item = self.make_artefact()
        standin.delay(adapter.timeout * 4, land=True)
        with pytest.raises(Unconfirmed) as caught:
            adapter.publish(item)
        assert_no_secret(caught.value, standin)
        found = adapter.find(item)
        assert found is not None and found.remote_id == self.held(standin)[0]["id"]
        assert len(self.held(standin)) == 1

    def test_timeout_without_landing_is_unconfirmed_then_absent(self, channel: tuple[Any, Any]) -> None:
        """A request lost on the way is Unconfirmed too; find() then shows nothing landed."""
        adapter, standin = channel
        item = self.make_artefact()
        standin.delay(adapter.timeout * 4, land=False)
        with pytest.raises(Unconfirmed):
            adapter.publish(item)
        assert adapter.find(item) is None
        assert self.held(standin) == []

    def test_connection_dropped_after_sending_is_unconfirmed(self, channel: tuple[Any, Any]) -> None:
        """A connection that breaks once the request is out is Unconfirmed, not Transient."""
        adapter, standin = channel
        item = self.make_artefact()
        standin.delay(adapter.timeout / 10, land=False)
        with pytest.raises(Unconfirmed):
            adapter.publish(item)
        assert adapter.find(item) is None

    def test_missing_credential_names_the_variable(self, channel: tuple[Any, Any]) -> None:
        """Each missing variable is AuthExpired naming it, before any request is made."""
        adapter, standin = channel
        names = adapter.settings.env_names.values()
        assert names, "the channel's settings name no credential variables"
        full = {name: adapter.environ[name] for name in names}
        for name in names:
            partial = with_environ(adapter, {k: v for k, v in full.items() if k != name})
            with pytest.raises(AuthExpired) as caught:
                partial.publish(self.make_artefact())
            assert name in str(caught.value)
            assert_no_secret(caught.value, standin)
        assert standin.calls == []

    def test_duplicate_text_is_duplicate(self, channel: tuple[Any, Any]) -> None:
        """Where the platform refuses a repeated text, the adapter says Duplicate."""
        adapter, standin = channel
        if not getattr(standin, "rejects_duplicates", False):
            pytest.skip("this platform accepts a repeated text")
        adapter.publish(self.make_artefact())
        with pytest.raises(Duplicate) as caught:
            adapter.publish(self.make_artefact())
        assert len(self.held(standin)) == 1
        assert_no_secret(caught.value, standin)

    def test_errors_are_channel_errors_named_for_the_channel(self, channel: tuple[Any, Any]) -> None:
        """Every failure is one of ours and names the channel."""
        adapter, standin = channel
        standin.server_error()
        with pytest.raises(ChannelError) as caught:
            adapter.publish(self.make_artefact())
        assert caught.value.channel == adapter.name
