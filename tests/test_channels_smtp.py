"""The SMTP adapter in a real SMTP conversation with a loopback relay (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from channel_contract import TEXT, ChannelContract
from channel_contract import bulletin as contract_bulletin
from standins.smtp import SmtpStandIn

from pipeline.channels.base import Artefact, AuthExpired, Publication, Rejected, Transient, Unconfirmed
from pipeline.channels.smtp import SmtpAdapter, message_id, read_recipients
from pipeline.config import Channel

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PEOPLE = [f"person{n}@partner.example.org" for n in range(1, 6)]
PLAIN = "Workforce bulletin\n\nNew multi-agency training dates are out.\n"
HTML = ("<html><body><h1>Workforce bulletin</h1><p>New multi-agency training dates are out.</p>"
        "</body></html>\n")
KEY = "workforce-2026-11:workforce-email:v1"


def clock() -> datetime:
    """The fixed time the adapter reads."""
    return NOW


def bulletin(key: str = KEY) -> Artefact:
    """November's workforce bulletin."""
    return Artefact(item_id="workforce-2026-11", idempotency_key=key, kind="bulletin", text=PLAIN,
                    html=HTML, subject="Workforce bulletin: November 2026", title="Workforce 2026-11")


def settings(relay: SmtpStandIn, **changes: object) -> Channel:
    """The channel as config.toml describes it, pointed at the relay."""
    values: dict[str, object] = dict(
        kind="smtp", api_base=relay.url, from_name="Wolverhampton Safeguarding Together",
        from_address="bulletin@wst.example.org", reply_to="wst@example.org",
        unsubscribe_url="https://www.wolverhamptonsafeguarding.org.uk/unsubscribe?email={email}",
        username_env="WST_SMTP_USERNAME", password_env="WST_SMTP_PASSWORD")
    values.update(changes)
    return Channel(**values)  # type: ignore[arg-type]


@pytest.fixture
def relay() -> Iterator[SmtpStandIn]:
    """A running loopback relay that requires a login."""
    with SmtpStandIn(username="wst-relay") as server:
        yield server


def make_adapter(relay: SmtpStandIn, *, sent: set[str] | None = None, timeout: float = 2.0,
                 recipients: list[str] | None = None, **changes: object) -> SmtpAdapter:
    """The adapter pointed at the relay."""
    return SmtpAdapter("workforce-email", settings(relay, **changes), relay.environ(), timeout=timeout,
                       now=clock, recipients=PEOPLE if recipients is None else recipients, sent=sent)


CONTRACT_RECIPIENT = "person1@partner.example.org"


@pytest.fixture
def channel(tmp_path: Path) -> Iterator[tuple[SmtpAdapter, SmtpStandIn]]:
    """The contract's (adapter, relay) pair: one recipient, named in a recipients file as config
    does (so the adapter rebuilt with other credentials still has its list), and a short timeout."""
    listing = tmp_path / "workforce.csv"
    listing.write_text(f"email,name\n{CONTRACT_RECIPIENT},\n", encoding="utf-8")
    with SmtpStandIn(username="wst-relay") as server:
        channel = settings(server, recipients_file=str(listing))
        yield SmtpAdapter("workforce-email", channel, server.environ(), timeout=0.5, now=clock), server


class TestSmtpContract(ChannelContract):
    """The shared channel contract, for a bulletin sent through an SMTP relay: what the platform
    holds is every message the relay accepted, and `find` reads the adapter's sent-log."""

    not_applicable: ClassVar[dict[str, str]] = {
        "test_publish_with_image_carries_alt_text":
            "a bulletin is an email of plain text and HTML; it has no attached image or alt text",
        "test_rate_limit_reports_the_platforms_reset":
            "SMTP has no rate limit with a reset time: a relay that throttles answers a 4xx "
            "temporary failure, which is Transient (test_temporary_failures_are_transient)",
        "test_timeout_after_landing_is_unconfirmed_then_found":
            "a relay cannot be asked what it received, so find() reads only the sent-log and cannot "
            "see a message accepted without a heard 250; the adapter promises instead that the "
            "resend carries the same Message-ID "
            "(test_timeout_after_data_is_unconfirmed_and_the_resend_keeps_the_message_id)",
        "test_duplicate_text_is_duplicate":
            "a relay has no duplicate-content refusal; the sent-log skips recipients already sent "
            "to (test_publishing_again_sends_nothing)",
    }

    def make_artefact(self, text: str = TEXT, image: Path | None = None, alt: str = "") -> Artefact:
        """A bulletin with `text` as its plain-text part."""
        assert image is None and not alt, "bulletins carry no image"
        return contract_bulletin(text)

    def held(self, standin: SmtpStandIn) -> list[dict[str, Any]]:
        """Every message the relay accepted, with its plain-text part as the recipient reads it."""
        held = []
        with standin.lock:
            delivered = list(standin.messages)
        for m in delivered:
            plain = m.message.get_body(preferencelist=("plain",))
            assert plain is not None, "a message without a plain-text part"
            # SMTP carries CRLF, and MIME ends a text part with a line end.
            text = plain.get_content().replace("\r\n", "\n").removesuffix("\n")
            held.append({"id": m.message_id, "text": text, "to": m.rcpt_tos, "subject": m.message["Subject"]})
        return held

    def assert_names_the_held(self, adapter: Any, item: Artefact, publication: Publication,
                              record: dict[str, Any]) -> None:
        """A relay answers no id and email has no public link: the message carries the stable
        Message-ID for (bulletin, recipient), and the publication names the bulletin, not a message."""
        assert record["id"] == message_id(item.idempotency_key, CONTRACT_RECIPIENT, "wst.example.org")
        assert (record["to"], record["subject"]) == ([CONTRACT_RECIPIENT], item.subject)
        assert publication.url == ""
        assert publication.remote_id.startswith("smtp:")
        assert publication.extra == {"recipients": 1, "sent_now": 1, "refused": []}


def test_each_recipient_gets_one_message_with_both_parts_and_unsubscribe_headers(relay) -> None:
    """One message per recipient: plain first then HTML, exact headers, stable Message-ID."""
    adapter = make_adapter(relay)
    assert adapter.find(bulletin()) is None
    publication = adapter.publish(bulletin())
    assert sorted(r for m in relay.messages for r in m.rcpt_tos) == sorted(PEOPLE)
    assert all(len(m.rcpt_tos) == 1 for m in relay.messages)
    [delivered] = relay.to("person2@partner.example.org")
    msg = delivered.message
    assert delivered.mail_from == "bulletin@wst.example.org"
    assert msg["From"] == "Wolverhampton Safeguarding Together <bulletin@wst.example.org>"
    assert msg["To"] == "person2@partner.example.org"
    assert msg["Reply-To"] == "wst@example.org"
    assert msg["Subject"] == "Workforce bulletin: November 2026"
    assert msg["Date"] == "Mon, 23 Nov 2026 10:00:00 +0000"
    assert msg["List-Unsubscribe"] == (
        "<https://www.wolverhamptonsafeguarding.org.uk/unsubscribe?email=person2@partner.example.org>, "
        "<mailto:wst@example.org?subject=unsubscribe>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    # SMTP carries CRLF line ends; the words are exactly the artefact's.
    assert [p.get_content().replace("\r\n", "\n") for p in parts] == [PLAIN, HTML]
    assert delivered.message_id == message_id(KEY, "person2@partner.example.org", "wst.example.org")
    assert relay.logins == ["wst-relay"]
    assert publication.extra == {"recipients": 5, "sent_now": 5, "refused": []}
    found = adapter.find(bulletin())
    assert found is not None and found.remote_id == publication.remote_id


def test_message_ids_are_stable_and_distinct() -> None:
    """Same bulletin and person: same id; another person or bulletin: another id."""
    first = message_id(KEY, "A@Example.org", "wst.example.org")
    assert first == message_id(KEY, "a@example.org", "wst.example.org")
    assert first != message_id(KEY, "b@example.org", "wst.example.org")
    assert first != message_id(KEY + "2", "a@example.org", "wst.example.org")
    assert first.startswith("<") and first.endswith("@wst.example.org>")


def test_resumed_send_after_a_dropped_connection_reaches_each_recipient_once(relay) -> None:
    """The relay drops after two; the resumed send (with the persisted log) sends only the other three."""
    ledger: list[tuple[str, str]] = []
    relay.drop_after(2)
    first = SmtpAdapter("workforce-email", settings(relay), relay.environ(), timeout=2.0, now=clock,
                        recipients=PEOPLE, on_sent=lambda mid, to: ledger.append((mid, to)))
    with pytest.raises(Transient):
        first.publish(bulletin())
    assert [to for _, to in ledger] == PEOPLE[:2]
    assert len(relay.messages) == 2
    # A new process: the ledger hands back the Message-IDs it persisted.
    resumed = make_adapter(relay, sent={mid for mid, _ in ledger})
    assert resumed.find(bulletin()) is None
    publication = resumed.publish(bulletin())
    assert publication.extra["sent_now"] == 3
    for person in PEOPLE:
        [delivered] = relay.to(person)
        assert delivered.message_id == message_id(KEY, person, "wst.example.org")
        assert delivered.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert [p.get_content_type() for p in delivered.message.iter_parts()] == ["text/plain", "text/html"]
    assert resumed.find(bulletin()) is not None


def test_publishing_again_sends_nothing(relay) -> None:
    """Once everyone has it, a second publish is a no-op and does not even connect."""
    adapter = make_adapter(relay)
    adapter.publish(bulletin())
    logins = list(relay.logins)
    adapter.publish(bulletin())
    assert len(relay.messages) == 5
    assert relay.logins == logins


def test_temporary_failure_is_transient(relay) -> None:
    """451 on MAIL FROM is Transient; the retry sends to everyone exactly once."""
    relay.server_error()
    adapter = make_adapter(relay)
    with pytest.raises(Transient):
        adapter.publish(bulletin())
    assert relay.messages == []
    adapter.publish(bulletin())
    assert len(relay.messages) == 5


@pytest.mark.parametrize("at", ["MAIL", "RCPT", "DATA"])
@pytest.mark.parametrize("code", [421, 451])
def test_temporary_failures_are_transient(relay, code: int, at: str) -> None:
    """A 421 (the relay then hangs up) or 451 at any step of a message is Transient, the message it
    met is not delivered, and the retry (with the sent-log) reaches each recipient exactly once."""
    relay.server_error(code=code, at=at)
    adapter = make_adapter(relay)
    with pytest.raises(Transient) as caught:
        adapter.publish(bulletin())
    assert relay.to(PEOPLE[0]) == []
    if code == 421 or at == "MAIL":
        assert relay.messages == []  # the session is over (421) or the sender was refused (MAIL)
    assert relay.password not in str(caught.value)
    adapter.publish(bulletin())
    for person in PEOPLE:
        assert len(relay.to(person)) == 1


def test_one_unknown_recipient_does_not_stop_the_others(relay) -> None:
    """A 550 for one address is reported in the publication; the rest are delivered."""
    relay.refuse["person3@partner.example.org"] = "550 5.1.1 User unknown"
    publication = make_adapter(relay).publish(bulletin())
    assert publication.extra["refused"] == ["person3@partner.example.org"]
    assert len(relay.messages) == 4


def test_timeout_after_data_is_unconfirmed_and_the_resend_keeps_the_message_id(relay) -> None:
    """A 250 that never came is Unconfirmed; find() cannot know; a resend carries the same id."""
    relay.delay(1.0)
    adapter = make_adapter(relay, timeout=0.3, recipients=PEOPLE[:1])
    with pytest.raises(Unconfirmed) as caught:
        adapter.publish(bulletin())
    assert message_id(KEY, PEOPLE[0], "wst.example.org") in str(caught.value)
    assert adapter.find(bulletin()) is None
    adapter.publish(bulletin())
    ids = {m.message_id for m in relay.to(PEOPLE[0])}
    assert ids == {message_id(KEY, PEOPLE[0], "wst.example.org")}  # receivers can de-duplicate


def test_wrong_password_is_auth_expired_without_the_password(relay) -> None:
    """535 at login is AuthExpired and the message does not contain the password."""
    environ = relay.environ()
    relay.expire_token()
    adapter = SmtpAdapter("workforce-email", settings(relay), environ, now=clock, recipients=PEOPLE)
    with pytest.raises(AuthExpired) as caught:
        adapter.publish(bulletin())
    for secret in [*relay.secrets, environ["WST_SMTP_PASSWORD"]]:
        assert secret not in str(caught.value)
    with pytest.raises(AuthExpired):
        adapter.check()
    assert relay.messages == []


@pytest.mark.parametrize("missing", ["WST_SMTP_USERNAME", "WST_SMTP_PASSWORD"])
def test_missing_credential_names_the_variable(relay, missing: str) -> None:
    """A named but unset variable is AuthExpired naming it, before connecting."""
    environ = {k: v for k, v in relay.environ().items() if k != missing}
    adapter = SmtpAdapter("workforce-email", settings(relay), environ, now=clock, recipients=PEOPLE)
    with pytest.raises(AuthExpired, match=missing):
        adapter.publish(bulletin())
    assert relay.logins == []


def test_check_logs_in(relay) -> None:
    """check() opens a session and logs in, sending nothing."""
    make_adapter(relay).check()
    assert relay.logins == ["wst-relay"] and relay.messages == []


def test_relay_down_is_transient() -> None:
    """Nobody listening is Transient, not Unconfirmed: nothing can have been sent."""
    with SmtpStandIn() as relay:
        channel = settings(relay, username_env="WST_SMTP_USERNAME")
    adapter = SmtpAdapter("workforce-email", channel, {"WST_SMTP_USERNAME": "u", "WST_SMTP_PASSWORD": "p"},
                          now=clock, recipients=PEOPLE, timeout=1.0)
    with pytest.raises(Transient):
        adapter.publish(bulletin())


def test_recipients_file_is_read_relative_to_base_dir(tmp_path: Path) -> None:
    """The CSV (header, names, repeats) resolves against base_dir; each address once."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "workforce.csv").write_text(
        "email,name\nann@example.org,Ann Smith\nbob@example.org,\nANN@example.org,Ann again\n",
        encoding="utf-8")
    with SmtpStandIn() as relay:
        channel = Channel(kind="smtp", api_base=relay.url, from_address="bulletin@wst.example.org",
                          recipients_file="data/workforce.csv")
        adapter = SmtpAdapter("workforce-email", channel, {}, now=clock, base_dir=tmp_path)
        adapter.publish(bulletin())
        assert [m.message["To"] for m in relay.messages] == ["Ann Smith <ann@example.org>", "bob@example.org"]
        # No username_env in config: the relay is used without a login.
        assert relay.logins == []
    assert [r.email for r in read_recipients(tmp_path / "data" / "workforce.csv")] == [
        "ann@example.org", "bob@example.org"]


def test_relative_recipients_file_without_base_dir_is_rejected() -> None:
    """The adapter will not guess which folder a relative path is relative to."""
    channel = Channel(kind="smtp", api_base="smtp://127.0.0.1:1", from_address="b@wst.example.org",
                      recipients_file="workforce.csv")
    with pytest.raises(Rejected, match="base_dir"):
        SmtpAdapter("workforce-email", channel, {}, now=clock).publish(bulletin())


def test_mailto_only_unsubscribe_does_not_claim_one_click(relay) -> None:
    """Without an https unsubscribe page there is a mailto link and no one-click header."""
    make_adapter(relay, unsubscribe_url="", recipients=PEOPLE[:1]).publish(bulletin())
    msg = relay.messages[0].message
    assert msg["List-Unsubscribe"] == "<mailto:wst@example.org?subject=unsubscribe>"
    assert msg["List-Unsubscribe-Post"] is None


def test_a_post_is_rejected(relay) -> None:
    """Only bulletins go by email."""
    with pytest.raises(Rejected):
        make_adapter(relay).publish(Artefact(item_id="p", idempotency_key="p", kind="post", text="hi"))
    assert relay.messages == []
