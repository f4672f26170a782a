"""A real SMTP server on loopback (aiosmtpd) that captures every message, with faults to test resuming."""

from __future__ import annotations

import asyncio
import email
import email.policy
import secrets
import socket
import threading
import warnings
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

# A stalled DATA answer is held at most this long, so a failing test cannot hang the suite.
MAX_DELAY = 5.0


@dataclass
class Delivered:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """The message parsed with the modern email API."""
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        """The Message-ID header."""
        return str(self.message["Message-ID"])


class _Handler:
    """aiosmtpd hooks: accept, capture, and apply the stand-in's faults."""

    def __init__(self, standin: SmtpStandIn):
        self.standin = standin

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        s = self.standin
        with s.lock:
            drop = s._drop_after is not None and s._accepted_since_fault >= s._drop_after
            if drop:
                s._drop_after = None
            fail = s._fail_mail > 0
            if fail:
                s._fail_mail -= 1
        if drop:
            # The connection vanishes mid-send, as when a relay restarts.
            server.transport.close()
            return "421 4.3.0 connection dropped by the stand-in"
        if fail:
            return "451 4.3.0 Temporary local problem, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        refusal = self.standin.refuse.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        s = self.standin
        raw = envelope.original_content or b""
        with s.lock:
            s.messages.append(Delivered(envelope.mail_from or "", list(envelope.rcpt_tos), raw))
            s._accepted_since_fault += 1
            delay, s._delay_data = s._delay_data, 0.0
        if delay:
            # Accepted, then answered late: the client cannot tell whether it went.
            await asyncio.sleep(min(delay, MAX_DELAY))
        return "250 2.0.0 Message accepted for delivery"


class _Controller(Controller):
    """aiosmtpd's controller, quiet about AUTH without TLS (loopback tests have no certificate)."""

    def factory(self) -> SMTP:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
            return super().factory()


class SmtpStandIn:
    """An SMTP relay on 127.0.0.1; `messages` holds everything it accepted."""

    def __init__(self, *, username: str | None = None, password: str | None = None,
                 hostname: str = "relay.example.test"):
        self.username = username
        self.password = password if password is not None else (
            "smtp-" + secrets.token_hex(8) if username else None)
        self.hostname = hostname
        self.messages: list[Delivered] = []
        self.refuse: dict[str, str] = {}   # address (lower case) -> RCPT answer
        self.logins: list[str] = []
        self.lock = threading.Lock()
        self._drop_after: int | None = None
        self._accepted_since_fault = 0
        self._fail_mail = 0
        self._delay_data = 0.0
        self._controller: Controller | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SmtpStandIn:
        """Listen on a free loopback port."""
        kwargs: dict[str, Any] = {}
        if self.username:
            kwargs = {"authenticator": self._authenticate, "auth_require_tls": False,
                      "auth_required": True}
        for _ in range(5):
            self.port = _free_port()
            controller = _Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                    server_hostname=self.hostname, ready_timeout=5.0, **kwargs)
            try:
                controller.start()
            except OSError:
                continue  # another process took the port between probing and binding
            self._controller = controller
            return self
        raise RuntimeError("no free loopback port for the SMTP stand-in")

    def stop(self) -> None:
        """Stop the server (bounded by aiosmtpd's own timeouts)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The address for the channel's api_base."""
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def secrets(self) -> list[str]:
        """Values that must never appear in an adapter's messages."""
        return [self.password] if self.password else []

    def environ(self, username_env: str = "WST_SMTP_USERNAME",
                password_env: str = "WST_SMTP_PASSWORD") -> dict[str, str]:
        """An environment holding the relay login under the config's names."""
        if not self.username or not self.password:
            return {}
        return {username_env: self.username, password_env: self.password}

    # -- what tests read --------------------------------------------------------------------

    def to(self, address: str) -> list[Delivered]:
        """Messages whose envelope included `address`."""
        with self.lock:
            return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    # -- fault knobs ---------------------------------------------------------------------------

    def drop_after(self, accepted: int) -> None:
        """After `accepted` more messages, drop the connection at the next MAIL FROM."""
        with self.lock:
            self._drop_after, self._accepted_since_fault = accepted, 0

    def server_error(self, times: int = 1) -> None:
        """The next `times` MAIL FROM commands answer 451 (try again later)."""
        with self.lock:
            self._fail_mail = times

    def delay(self, seconds: float) -> None:
        """Accept the next message, then hold its 250 answer `seconds` (at most MAX_DELAY)."""
        with self.lock:
            self._delay_data = seconds

    def expire_token(self) -> None:
        """The relay login stops working (the password was changed)."""
        self.password = "changed-" + secrets.token_hex(8)

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append(login)
        # handled=False: aiosmtpd itself answers a failure with 535.
        return AuthResult(success=login == self.username and password == self.password, handled=False)


def _free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
