"""A real SMTP server on loopback (aiosmtpd) that captures every message, with faults to test resuming.

It offers the contract suite's knobs (tests/channel_contract.py) as a relay would answer them:
`calls` (every connection and command), `create_calls` (every MAIL FROM, which starts a message),
`secrets`, `server_error` (a 451 or 421 temporary failure, RFC 5321 §4.2.5; after 421 the relay
closes the connection), `expire_token` (the login then fails with 535) and `delay` (the answer
after the message data comes late, or never: the connection drops and nothing is accepted).
SMTP has no rate limit with a reset time, so there is no `rate_limit`.
"""

from __future__ import annotations

import asyncio
import base64
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
# The temporary failures a relay gives (RFC 5321 §4.2.5 / RFC 3463): 421 also closes the connection.
TEMPORARY = {421: "421 4.3.2 Service not available, closing transmission channel",
             451: "451 4.3.0 Temporary local problem, try again later"}


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


@dataclass
class _Failure:
    """The next `times` uses of `command` answer `code`."""

    command: str
    code: int
    times: int


@dataclass
class _Delay:
    """The answer after the next `times` messages' data waits `seconds`; `land` says if accepted."""

    seconds: float
    times: int
    land: bool


async def _fail(server: SMTP, code: int) -> str:
    """The relay's temporary-failure reply; after 421 it closes once the reply is out."""
    if code == 421:
        # The reply is written before the loop runs this, and close() flushes what is buffered.
        asyncio.get_running_loop().call_soon(server.transport.close)
    return TEMPORARY[code]


class _Handler:
    """aiosmtpd hooks: accept, capture, and apply the stand-in's faults."""

    def __init__(self, standin: SmtpStandIn):
        self.standin = standin

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        s = self.standin
        with s.lock:
            s.calls.append(("MAIL", address))
            drop = s._drop_after is not None and s._accepted_since_fault >= s._drop_after
            if drop:
                s._drop_after = None
            fail = s._take_failure("MAIL")
        if drop:
            # The connection vanishes mid-send, as when a relay restarts.
            server.transport.close()
            return "421 4.3.0 connection dropped by the stand-in"
        if fail:
            return await _fail(server, fail)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        s = self.standin
        with s.lock:
            s.calls.append(("RCPT", address))
            fail = s._take_failure("RCPT")
        if fail:
            return await _fail(server, fail)
        refusal = s.refuse.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        s = self.standin
        raw = envelope.original_content or b""
        with s.lock:
            s.calls.append(("DATA", ""))
            delay = s._take_delay()
            if delay is None or delay.land:
                s.messages.append(Delivered(envelope.mail_from or "", list(envelope.rcpt_tos), raw))
                s._accepted_since_fault += 1
        if delay is not None:
            # Answered late, or not at all: the client cannot tell whether it went.
            await asyncio.sleep(min(delay.seconds, MAX_DELAY))
            if not delay.land:
                # Lost before the relay kept it (it restarted): the client sees the connection end.
                server.transport.close()
                return "421 4.3.0 connection dropped by the stand-in"
        return "250 2.0.0 Message accepted for delivery"


class _SMTP(SMTP):
    """aiosmtpd's session, recording each connection and answering the DATA command's faults."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        standin = self.event_handler.standin
        with standin.lock:
            standin.calls.append(("CONNECT", str(transport.get_extra_info("peername"))))

    async def smtp_DATA(self, arg: str) -> None:
        standin = self.event_handler.standin
        if self.envelope is not None and self.envelope.rcpt_tos and not arg:
            with standin.lock:
                fail = standin._take_failure("DATA")
            if fail:
                # Refused at the DATA command itself, before any 354 and any message data.
                await self.push(await _fail(self, fail))
                return
        await super().smtp_DATA(arg)


class _Controller(Controller):
    """aiosmtpd's controller, quiet about AUTH without TLS (loopback tests have no certificate)."""

    def factory(self) -> SMTP:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
            return _SMTP(self.handler, **self.SMTP_kwargs)


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
        # Every connection and command: ("CONNECT", peer), ("MAIL", from), ("RCPT", to), ("DATA", "").
        self.calls: list[tuple[str, str]] = []
        self.retired_passwords: list[str] = []   # passwords expire_token() replaced
        self.echo_logins = 0   # logins still to refuse quoting the AUTH line (see echo_next)
        self.lock = threading.RLock()
        self._drop_after: int | None = None
        self._accepted_since_fault = 0
        self._failures: list[_Failure] = []
        self._delays: list[_Delay] = []
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
            with self.lock:
                self.calls.clear()  # the controller's own readiness probe is not a client
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
        """Values that must never appear in an adapter's messages: the password, and any it
        replaced (an adapter still holds the old one)."""
        with self.lock:
            return [p for p in (self.password, *self.retired_passwords) if p]

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

    @property
    def create_calls(self) -> list[tuple[str, str]]:
        """Every MAIL FROM: each starts one message."""
        with self.lock:
            return [c for c in self.calls if c[0] == "MAIL"]

    # -- fault knobs ---------------------------------------------------------------------------

    def drop_after(self, accepted: int) -> None:
        """After `accepted` more messages, drop the connection at the next MAIL FROM."""
        with self.lock:
            self._drop_after, self._accepted_since_fault = accepted, 0

    def server_error(self, times: int = 1, code: int = 451, at: str = "MAIL") -> None:
        """The next `times` uses of command `at` (MAIL, RCPT or DATA) answer a temporary failure:
        451 (try again later) or 421 (service not available; the relay then closes the connection)."""
        if code not in TEMPORARY or at not in ("MAIL", "RCPT", "DATA"):
            raise ValueError(f"no temporary failure {code} at {at}")
        with self.lock:
            self._failures.append(_Failure(at, code, times))

    def delay(self, seconds: float, times: int = 1, land: bool = True) -> None:
        """Hold the answer after the next `times` messages' data `seconds` (at most MAX_DELAY).
        land=True: the message is accepted, then the 250 comes late. land=False: it is never
        accepted, and after the wait the connection drops with no answer."""
        with self.lock:
            self._delays.append(_Delay(seconds, times, land))

    def echo_next(self, times: int = 1) -> None:
        """Refuse the next `times` logins, quoting the client's AUTH PLAIN line (base64 of the
        user name and password) in the 535 reply, as a badly written relay might."""
        with self.lock:
            self.echo_logins += times

    def expire_token(self) -> None:
        """The relay login stops working (the password was changed)."""
        with self.lock:
            if self.password:
                self.retired_passwords.append(self.password)
            self.password = "changed-" + secrets.token_hex(8)

    def _take_failure(self, command: str) -> int | None:
        """The code of the next failure queued for `command`, used up one time."""
        with self.lock:
            for failure in self._failures:
                if failure.command == command:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                    return failure.code
        return None

    def _take_delay(self) -> _Delay | None:
        """The next queued delay, used up one time."""
        with self.lock:
            if not self._delays:
                return None
            delay = self._delays[0]
            delay.times -= 1
            if delay.times <= 0:
                self._delays.pop(0)
            return delay

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append(login)
        with self.lock:
            echo, self.echo_logins = self.echo_logins > 0, max(0, self.echo_logins - 1)
        if echo:
            line = base64.b64encode(b"\0" + auth_data.login + b"\0" + auth_data.password).decode()
            return AuthResult(success=False, handled=False,
                              message=f"535 5.7.8 refused: AUTH {mechanism} {line}")
        # handled=False: aiosmtpd itself answers a failure with 535.
        return AuthResult(success=login == self.username and password == self.password, handled=False)


def _free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
