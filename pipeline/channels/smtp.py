"""Email sent directly over SMTP (a workforce bulletin through a relay), resumable per recipient.

The sent-log: every message has a Message-ID derived from (idempotency key, recipient), so the
same bulletin to the same person always carries the same id. The adapter skips any recipient
whose Message-ID is in `sent` (a set the caller loads from its ledger) and, right after the relay
accepts a message, adds the id to `sent` and calls `on_sent(message_id, email)` so the caller can
persist it before the next recipient. A send cut short resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import ipaddress
import re
import smtplib
import ssl
from collections.abc import Callable, Iterable, Mapping, MutableSet, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from pipeline.channels.base import (
    Artefact,
    AuthExpired,
    ChannelAdapter,
    Publication,
    Rejected,
    Setup,
    Transient,
    Unconfirmed,
)
from pipeline.deliveries import Deliveries
from pipeline.files import MB, FileRefused, inside, regular

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


@dataclass(frozen=True)
class Recipient:
    """One address on the list."""

    email: str
    name: str = ""


def message_id(idempotency_key: str, email: str, domain: str) -> str:
    """The stable Message-ID of one bulletin to one recipient."""
    digest = hashlib.sha256(f"{idempotency_key}\n{email.strip().lower()}".encode()).hexdigest()
    return f"<{digest[:40]}@{domain}>"


# The largest recipients file read: a workforce list of tens of thousands is far smaller.
RECIPIENTS_MAX = 5 * MB
_ADDRESS = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+")


def read_recipients(path: Path) -> list[Recipient]:
    """Recipients from a CSV of `email,name` (a header row is allowed; repeats are dropped)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle) if row and row[0].strip()]
    if rows and "@" not in rows[0][0]:
        rows = rows[1:]  # the header row
    return _unique(Recipient(r[0].strip(), r[1].strip() if len(r) > 1 else "") for r in rows)


def recipients_problems(folder: Path, written: str) -> list[str]:
    """Why the recipients file `written` (relative to `folder`) cannot be used: outside the
    folder, not a regular file of a sane size, not UTF-8, or rows that are not addresses."""
    try:
        path = inside(folder, written)
        regular(path, RECIPIENTS_MAX, "recipients file")
        text = path.read_text(encoding="utf-8-sig")
    except FileRefused as exc:
        return [str(exc)]
    except UnicodeDecodeError:
        return ["is not UTF-8 text; save it as 'CSV UTF-8'"]
    reader = csv.reader(text.splitlines())
    problems = []
    for row in reader:
        cell = row[0].strip() if row else ""
        if not cell or (reader.line_num == 1 and "@" not in cell):
            continue  # blank lines and the header row
        if not _ADDRESS.fullmatch(cell):
            problems.append(f"line {reader.line_num}: '{cell[:60]}' is not an email address")
    if len(problems) > 3:
        problems[3:] = [f"and {len(problems) - 3} more rows that are not email addresses"]
    return problems


def _unique(recipients: Iterable[Recipient]) -> list[Recipient]:
    """Recipients in order, each address once (compared without case)."""
    seen: set[str] = set()
    out = []
    for r in recipients:
        if r.email.lower() not in seen:
            seen.add(r.email.lower())
            out.append(r)
    return out


class SmtpAdapter(ChannelAdapter):
    """Sends a bulletin to each recipient as its own message; see the module docstring for `sent`."""

    kind = "smtp"

    def __init__(self, name: str, settings: Any, environ: Mapping[str, str], *,
                 now: Callable[[], datetime], timeout: float = 30.0,
                 sleep: Callable[[float], None] | None = None,
                 recipients: Iterable[str] | None = None, base_dir: Path | None = None,
                 sent: MutableSet[str] | None = None,
                 on_sent: Callable[[str, str], None] | None = None,
                 tls_context: ssl.SSLContext | None = None):
        super().__init__(name, settings, environ, now=now, timeout=timeout, sleep=sleep)
        # An explicit list wins; otherwise settings.recipients_file, relative to base_dir
        # (the config file's folder, which only the caller knows).
        self._explicit = None if recipients is None else _unique(Recipient(*_split(r)) for r in recipients)
        self.base_dir = base_dir
        self.sent: MutableSet[str] = sent if sent is not None else set()
        self.on_sent = on_sent
        self.tls_context = tls_context or ssl.create_default_context()
        self.domain = (settings.from_address.rpartition("@")[2] or "wst.invalid").lower()

    @classmethod
    def from_settings(cls, name: str, settings: Any, setup: Setup) -> SmtpAdapter:
        """The recipients file is relative to config.toml; the sent-log lives in the store, so a
        resumed send skips recipients already sent to."""
        log_ = Deliveries(setup.store, name, setup.now)
        return cls(name, settings, setup.environ, now=setup.now, timeout=setup.timeout,
                   base_dir=setup.config.root, sent=log_.sent(), on_sent=log_.record)

    # -- the ChannelAdapter role ---------------------------------------------------------------

    def publish(self, artefact: Artefact) -> Publication:
        """Send to every recipient not yet in `sent`; raise if any could not be sent this time."""
        if artefact.kind != "bulletin":
            raise Rejected(self.name, f"SMTP sends bulletins, not a {artefact.kind!r}")
        if not self.settings.from_address:
            raise Rejected(self.name, "from_address is empty in config; set the sender address")
        everyone = self.recipients()
        todo = [r for r in everyone if self._mid(artefact, r) not in self.sent]
        refused: list[str] = []
        deferred: list[str] = []
        if todo:
            smtp = self._connect()
            try:
                for recipient in todo:
                    self._send_one(smtp, artefact, recipient, refused, deferred)
            except BaseException:
                _close(smtp)  # a broken session: QUIT could only wait on it
                raise
            _quit(smtp)
        if deferred:
            raise Transient(self.name, f"{len(deferred)} recipient(s) deferred by the relay; "
                                       "sending again reaches only those not yet sent")
        if refused and len(refused) == len(todo) == len(everyone):
            raise Rejected(self.name, f"the relay refused every recipient: {', '.join(refused[:5])}")
        return self._publication(artefact, everyone, refused=refused, sent_now=len(todo) - len(refused))

    def find(self, artefact: Artefact) -> Publication | None:
        """From the sent-log (a relay cannot be asked): the bulletin once every recipient has it."""
        everyone = self.recipients()
        if not everyone or any(self._mid(artefact, r) not in self.sent for r in everyone):
            return None
        return self._publication(artefact, everyone, refused=[], sent_now=0)

    def check(self) -> None:
        """Connect, say EHLO, start TLS and log in: proves the relay and the credentials."""
        _quit(self._connect())

    def test_send(self, artefact: Artefact, recipients: Sequence[str]) -> str:
        """The bulletin to `recipients` only, its subject marked [TEST], under Message-IDs of its
        own, and never in the sent-log: the real send later reaches everyone as usual."""
        trial = SmtpAdapter(self.name, self.settings, self.environ, timeout=self.timeout,
                            now=self.now, recipients=recipients, tls_context=self.tls_context)
        stamp = f"{self.now():%Y%m%dT%H%M%S%f}"
        trial.publish(replace(artefact, idempotency_key=f"test-{artefact.idempotency_key}-{stamp}",
                              subject=f"[TEST] {artefact.subject}"))
        return f"test email through {self._address()[1]}"

    def recipients(self) -> list[Recipient]:
        """Who the bulletin goes to: the explicit list, else the recipients file."""
        if self._explicit is not None:
            return self._explicit
        if not self.settings.recipients_file:
            raise Rejected(self.name, "no recipients: set recipients_file in config")
        written = self.settings.recipients_file
        path = Path(written)
        if self.base_dir is None and not path.is_absolute():
            raise Rejected(self.name, f"recipients_file {path} is relative and the adapter "
                                      "was given no base_dir to resolve it against")
        try:
            # never a file outside the project, whatever links or '..' the path holds
            path = path if self.base_dir is None else inside(self.base_dir, written)
            regular(path, RECIPIENTS_MAX, "recipients file")
        except FileRefused as exc:
            raise Rejected(self.name, f"recipients file '{written}' {exc}") from None
        return read_recipients(path)

    # -- messages --------------------------------------------------------------------------------

    def _mid(self, artefact: Artefact, recipient: Recipient) -> str:
        return message_id(artefact.idempotency_key, recipient.email, self.domain)

    def build_message(self, artefact: Artefact, recipient: Recipient) -> EmailMessage:
        """The message for one recipient: plain text first, then HTML, with unsubscribe headers."""
        s = self.settings
        msg = EmailMessage()
        msg["From"] = formataddr((s.from_name, s.from_address)) if s.from_name else s.from_address
        msg["To"] = formataddr((recipient.name, recipient.email)) if recipient.name else recipient.email
        if s.reply_to:
            msg["Reply-To"] = s.reply_to
        msg["Subject"] = artefact.subject
        msg["Date"] = format_datetime(self.now().astimezone(UTC))
        msg["Message-ID"] = self._mid(artefact, recipient)
        links = []
        url = s.unsubscribe_url.replace("{email}", quote(recipient.email, safe="@"))
        if url.startswith("https://"):
            links.append(f"<{url}>")
        mailbox = url.removeprefix("mailto:") if url.startswith("mailto:") else (s.reply_to or s.from_address)
        links.append(f"<mailto:{mailbox}?subject=unsubscribe>")
        msg["List-Unsubscribe"] = ", ".join(links)
        if url.startswith("https://"):
            # RFC 8058 one-click needs the https link; a mailto alone must not claim it.
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg.set_content(artefact.text)
        if artefact.html:
            msg.add_alternative(artefact.html, subtype="html")
        return msg

    def _publication(self, artefact: Artefact, everyone: list[Recipient], *, refused: list[str],
                     sent_now: int) -> Publication:
        bulletin_id = hashlib.sha256(artefact.idempotency_key.encode()).hexdigest()[:24]
        return Publication(remote_id=f"smtp:{bulletin_id}", url="",
                           extra={"recipients": len(everyone), "sent_now": sent_now, "refused": refused})

    # -- SMTP, and the one place its errors become ours --------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        """An open, greeted, encrypted-where-offered and logged-in connection."""
        scheme, host, port = self._address()
        user = password = None
        if "username_env" in self.settings.env_names or "password_env" in self.settings.env_names:
            # Named in config, so required: read both before connecting.
            user, password = self.secret("username"), self.secret("password")
        smtp: smtplib.SMTP | None = None
        try:
            if scheme == "smtps":
                smtp = smtplib.SMTP_SSL(host, port, timeout=self.timeout, context=self.tls_context)
            else:
                smtp = smtplib.SMTP(host, port, timeout=self.timeout)
            smtp.ehlo()
            if scheme == "smtp" and smtp.has_extn("starttls"):
                smtp.starttls(context=self.tls_context)
                smtp.ehlo()
            elif scheme == "smtp" and user and not _is_loopback(host):
                raise AuthExpired(self.name, f"{host} offers no STARTTLS; refusing to send the "
                                             "password unencrypted (use smtps://)")
            if user and password:
                smtp.login(user, password)
            return smtp
        except smtplib.SMTPAuthenticationError as exc:
            _close(smtp)
            raise AuthExpired(self.name, f"the relay refused the login: {exc.smtp_code} "
                                         f"{_text(exc.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError:
            _close(smtp)
            raise AuthExpired(self.name, "the relay does not offer AUTH; remove username_env and "
                                         "password_env from config if it needs none") from None
        except (OSError, smtplib.SMTPException) as exc:
            _close(smtp)
            raise Transient(self.name, f"could not open a session with {host}:{port}: "
                                       f"{type(exc).__name__}") from None
        except AuthExpired:
            _close(smtp)
            raise

    def _address(self) -> tuple[str, str, int]:
        """(scheme, host, port) from api_base: smtp://host:port or smtps://host:port."""
        split = urlsplit(self.settings.api_base)
        if split.scheme not in DEFAULT_PORTS or not split.hostname:
            raise Rejected(self.name, "api_base must be smtp://host:port or smtps://host:port, "
                                      f"not {self.settings.api_base!r}")
        return split.scheme, split.hostname, split.port or DEFAULT_PORTS[split.scheme]

    def _send_one(self, smtp: smtplib.SMTP, artefact: Artefact, recipient: Recipient,
                  refused: list[str], deferred: list[str]) -> None:
        """One SMTP transaction; record it as sent the moment the relay accepts it."""
        msg = self.build_message(artefact, recipient)
        mid = msg["Message-ID"]
        try:
            code, reply = smtp.mail(self.settings.from_address)
            if code != 250:
                smtp.rset()
                self._envelope_refused(code, reply, "sender")
            code, reply = smtp.rcpt(recipient.email)
            if code not in (250, 251):
                smtp.rset()
                (refused if code >= 500 else deferred).append(recipient.email)
                return
        except (OSError, smtplib.SMTPException):
            # Nothing was handed over for this recipient: safe to send again later.
            raise Transient(self.name, f"the connection failed before {recipient.email!r}; those "
                                       "already accepted are in the sent-log and a new send "
                                       "skips them") from None
        try:
            code, reply = smtp.data(msg.as_bytes(policy=SMTP_POLICY))
        except smtplib.SMTPDataError as exc:
            # A relay that answered 421 has closed the connection: the next command reports that.
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.rset()
            if exc.smtp_code >= 500:
                refused.append(recipient.email)
                return
            deferred.append(recipient.email)
            return
        except (OSError, smtplib.SMTPException):
            # The message went over the wire but its acceptance was not heard.
            raise Unconfirmed(self.name, f"no answer after the message to {recipient.email!r}; it may "
                                         f"have been accepted (a resend carries the same Message-ID "
                                         f"{mid})") from None
        if code != 250:
            (refused if code >= 500 else deferred).append(recipient.email)
            return
        self.sent.add(mid)
        if self.on_sent is not None:
            self.on_sent(mid, recipient.email)

    def _envelope_refused(self, code: int, reply: bytes, what: str) -> None:
        """The relay refused the envelope sender: permanent or temporary."""
        detail = f"the relay refused the {what}: {code} {_text(reply)}"
        if code >= 500:
            raise Rejected(self.name, detail)
        raise Transient(self.name, detail)


def _split(value: str) -> tuple[str, str]:
    """(email, name) from 'a@b' or 'Name <a@b>'."""
    name, email = parseaddr(value)
    return email or value.strip(), name


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _quit(smtp: smtplib.SMTP) -> None:
    """Say QUIT politely; the messages are already accepted, so a failure here changes nothing."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        _close(smtp)


def _close(smtp: smtplib.SMTP | None) -> None:
    """Close without waiting on a connection that has already failed."""
    if smtp is not None:
        with contextlib.suppress(OSError):
            smtp.close()
