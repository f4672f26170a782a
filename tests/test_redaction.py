"""The one redaction step: no secret the pipeline resolved reaches an error's words, whatever a
platform quoted back. Every adapter talks over real HTTP (or SMTP) to a stand-in that refuses by
quoting the whole request, credentials included, in the platform's own error shape."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from channel_contract import PNG, artefact, bulletin
from daemon_helpers import PERSON, LiveProject
from hypothesis import given, settings
from hypothesis import strategies as st
from standins.bluesky import BlueskyStandIn
from standins.facebook import FacebookStandIn
from standins.mailchimp import MailchimpStandIn
from standins.mastodon import MastodonStandIn
from standins.smtp import SmtpStandIn
from standins.x import XStandIn

from pipeline.channels.base import ChannelAdapter, ChannelError
from pipeline.channels.bluesky import BlueskyAdapter
from pipeline.channels.facebook import FacebookAdapter
from pipeline.channels.mailchimp import MailchimpAdapter
from pipeline.channels.mastodon import MastodonAdapter
from pipeline.channels.smtp import SmtpAdapter
from pipeline.config import Channel
from pipeline.redaction import REDACTED, Redactor

TIMEOUT = 2.0
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ECHO = "request refused by the gateway"


def forms(secret: str) -> list[str]:
    """How a request carries a secret: as written, percent-encoded (both cases of hex), and
    in base64 inside HTTP basic auth and SMTP AUTH PLAIN."""
    out = {secret, quote(secret, safe=""), quote(secret, safe="").lower(), quote_plus(secret)}
    for wrapped in (b"wst:" + secret.encode(), b"anystring:" + secret.encode(),
                    b"\0user\0" + secret.encode(), secret.encode()):
        out.add(base64.b64encode(wrapped).decode())
    return sorted(out)


def assert_redacted(text: str, secrets: list[str]) -> None:
    """No form of any secret is in `text`."""
    for secret in secrets:
        for form in forms(secret):
            assert form not in text, f"{form!r} (a form of a secret) leaked into: {text}"


# -- the step itself ------------------------------------------------------------------------------

SECRET = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=8, max_size=40)


@settings(max_examples=200, deadline=None)
@given(secret=SECRET, before=st.binary(max_size=7), after=st.binary(max_size=7))
def test_a_secret_in_base64_is_found_at_any_alignment(secret: str, before: bytes, after: bytes) -> None:
    """Whatever bytes surround it (a user name, 'anystring:'), its base64 run is taken out."""
    encoded = base64.b64encode(before + secret.encode() + after).decode()
    out = Redactor([secret])(f"Authorization: Basic {encoded}, more")
    assert encoded not in out and REDACTED in out and out.endswith(", more")


@settings(max_examples=200, deadline=None)
@given(secret=SECRET)
def test_a_secret_as_written_percent_encoded_or_escaped_is_taken_out(secret: str) -> None:
    redact = Redactor([secret])
    for form in (secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]):
        out = redact(f"oauth_token=\"{form}\" and the rest")
        assert form not in out and out.endswith(" and the rest")


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_text_without_secrets_is_unchanged(text: str) -> None:
    assert Redactor(["x-consumer-key-TEST", "EAAB-page-token-0123"])(text.replace("-", " ")) \
        == text.replace("-", " ")


def test_values_too_short_to_be_secrets_are_not_looked_for() -> None:
    assert Redactor(["abc", "", None])("abc abc") == "abc abc"


# -- every adapter, against a stand-in that quotes the request back -----------------------------

@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "ribbon.png"
    path.write_bytes(PNG)
    return path


@contextmanager
def x_case() -> Iterator[tuple[ChannelAdapter, Any, list[str]]]:
    from pipeline.channels.x import XAdapter

    with XStandIn() as s:
        channel = Channel(kind="x", api_base=s.base_url, handle="@wvsafeguarding",
                          **{f"{k}_env": f"WST_X_{k.upper()}" for k in
                             ("consumer_key", "consumer_secret", "access_token", "access_secret")})
        yield XAdapter("x", channel, s.environ, timeout=TIMEOUT, now=lambda: NOW), s, s.secrets


@contextmanager
def facebook_case() -> Iterator[tuple[ChannelAdapter, Any, list[str]]]:
    with FacebookStandIn() as s:
        channel = Channel(kind="facebook", api_base=s.base_url, api_version=s.version,
                          account_id=s.page_id, token_env="WST_FACEBOOK_PAGE_TOKEN")
        yield FacebookAdapter("facebook", channel, s.environ, timeout=TIMEOUT, now=lambda: NOW), s, s.secrets


@contextmanager
def bluesky_case() -> Iterator[tuple[ChannelAdapter, Any, list[str]]]:
    with BlueskyStandIn() as s:
        channel = Channel(kind="bluesky", api_base=s.base_url, handle="wst.example.test",
                          username_env="WST_BLUESKY_HANDLE", password_env="WST_BLUESKY_APP_PASSWORD")
        adapter = BlueskyAdapter("bluesky", channel, s.environ, timeout=TIMEOUT, now=lambda: NOW)
        adapter.check()  # logged in: the echoed calls carry the session's access token
        yield adapter, s, s.secrets


@contextmanager
def mastodon_case() -> Iterator[tuple[ChannelAdapter, Any, list[str]]]:
    with MastodonStandIn() as s:
        channel = Channel(kind="mastodon", api_base=s.base_url, token_env="WST_MASTODON_TOKEN")
        yield MastodonAdapter("mastodon", channel, s.environ, timeout=TIMEOUT, now=lambda: NOW), s, s.secrets


@contextmanager
def mailchimp_case() -> Iterator[tuple[ChannelAdapter, Any, list[str]]]:
    with MailchimpStandIn() as s:
        channel = Channel(kind="mailchimp", api_base=s.api_base, account_id=s.list_id,
                          api_key_env="WST_MAILCHIMP_API_KEY")
        yield (MailchimpAdapter("mailchimp", channel, s.environ(), timeout=TIMEOUT, now=lambda: NOW),
               s, s.secrets)


@contextmanager
def smtp_case() -> Iterator[tuple[ChannelAdapter, Any, list[str]]]:
    with SmtpStandIn(username="wst-relay") as s:
        channel = Channel(kind="smtp", api_base=s.url, from_address="bulletin@wst.example.org",
                          username_env="WST_SMTP_USERNAME", password_env="WST_SMTP_PASSWORD")
        yield (SmtpAdapter("workforce-email", channel, s.environ(), timeout=TIMEOUT, now=lambda: NOW,
                           recipients=["person@partner.example.org"]), s, s.secrets)


CASES: dict[str, Callable[[], Any]] = {
    "x": x_case, "facebook": facebook_case, "bluesky": bluesky_case, "mastodon": mastodon_case,
    "mailchimp": mailchimp_case, "smtp": smtp_case,
}
MAIL = ("mailchimp", "smtp")


# Calls that send no credential, so a quoted request holds none.
NO_CREDENTIAL = {("bluesky", "find"): "getRecord is read without the session",
                 ("smtp", "find"): "the sent-log is read; the relay is not asked"}


@pytest.mark.parametrize("call", ["publish", "find", "check", "test_send"])
@pytest.mark.parametrize("name", list(CASES))
def test_no_adapter_repeats_a_secret_a_platform_quoted_back(name: str, call: str,
                                                            image: Path) -> None:
    """Each public call of each adapter, refused by a gateway that quotes the whole request:
    the error carries the gateway's words, with every credential replaced."""
    if (name, call) in NO_CREDENTIAL:
        pytest.skip(NO_CREDENTIAL[name, call])
    if call == "test_send" and name not in MAIL:
        pytest.skip("a social channel has no test send")
    with CASES[name]() as (adapter, standin, secrets):
        standin.echo_next(times=100)
        item = bulletin() if name in MAIL else artefact(image=image, alt="An orange ribbon.")
        args = {"check": (), "test_send": (item, ["tester@example.org"])}.get(call, (item,))
        with pytest.raises(ChannelError) as caught:
            getattr(adapter, call)(*args)
        message = str(caught.value)
        assert REDACTED in message, f"the stand-in did not quote a credential: {message}"
        assert ECHO in message or "refused: AUTH" in message
        assert_redacted(message, [*secrets, *standin.secrets])  # Bluesky's tokens are issued late
        assert caught.value.__cause__ is None and caught.value.__suppress_context__


# -- as a person sees it: `wst post` live to X through an echoing gateway -----------------------

def test_a_quoted_back_secret_reaches_no_screen_alert_or_row(tmp_path: Path) -> None:
    """The X keys a gateway quoted back are in none of: `wst post`'s output (with the alert),
    `wst status`, `wst history --json`, or the store's rows."""
    with XStandIn() as x:
        project = LiveProject.create(tmp_path / "project", {"x": x})
        x.echo_next(times=100)
        posted = project.wst("post", "--text", "Worried about a child? Call 01902 555392.",
                             "--channels", "x", "--approved-by", PERSON)
        status = project.wst("status")
        status_json = project.wst("status", "--json")
        history = project.wst("history", "--json")
        with closing(sqlite3.connect(project.path / "var" / "wst.sqlite")) as conn:
            rows = json.dumps([list(r) for r in conn.execute("SELECT * FROM ledger")], default=str)
            events = json.dumps([list(r) for r in conn.execute("SELECT * FROM events")], default=str)
    assert posted.returncode == 1, posted.stdout + posted.stderr
    assert "x: failed" in posted.stdout
    assert REDACTED in rows, "the refusal was not recorded with the gateway's words"
    everything = "\n".join([posted.stdout, posted.stderr, status.stdout, status_json.stdout,
                            history.stdout, rows, events])
    assert_redacted(everything, x.secrets)


# -- metric sources keep the platforms' words in their results: the same step -------------------

@pytest.mark.parametrize("kind", ["x", "facebook", "mastodon"])
def test_no_metric_source_keeps_a_secret_a_platform_quoted_back(kind: str, tmp_path: Path) -> None:
    from test_metrics_support import NOW as METRICS_NOW
    from test_metrics_support import config_for

    from pipeline.metrics.base import Ref, make_source

    standins = {"x": XStandIn, "facebook": FacebookStandIn, "mastodon": MastodonStandIn}
    with standins[kind](clock=lambda: METRICS_NOW) as s:
        extra = {"api_version": s.version, "account_id": s.page_id} if kind == "facebook" else {}
        config, store = config_for(tmp_path, {kind: {"api_base": s.base_url, **extra}})
        source = make_source(kind, config.settings.channels[kind], s.environ,
                             metrics=config.settings.metrics, store=store, timeout=TIMEOUT)
        s.echo_next(times=100)
        result = source.collect([Ref("item/1", kind, "1860000000000000001", "post", METRICS_NOW)],
                                METRICS_NOW)
        store.close()
    words = "\n".join([*result.errors, *(snap.reason for snap in result.snapshots)])
    assert REDACTED in words, f"the stand-in did not quote a credential: {words}"
    assert_redacted(words, s.secrets)
