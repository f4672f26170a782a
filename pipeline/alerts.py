"""Alerts to the business unit: failures, holds, expired credentials, unapproved items due soon."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import threading
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from pipeline.config import Config
from pipeline.redaction import Redactor

log = logging.getLogger("wst.alerts")


class Alerts:
    """Logs every alert, and emails it over SMTP when `[alerts] smtp_url` is set. Each alert is
    sent once per (kind, subject) so a retried item does not flood the inbox."""

    def __init__(self, config: Config, environ: Mapping[str, str]):
        self.settings = config.settings.alerts
        self.environ = environ
        # the relay's refusal may quote the login back: its words pass the one redaction step
        self.redact = Redactor.of((self.settings.username_env, self.settings.password_env), environ)
        people = config.settings.people
        self.to = list(self.settings.to) or [
            p.email for p in people.values() if "business-unit" in p.roles and p.email]
        self._sent: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._batch: list[tuple[str, str]] | None = None

    @contextlib.contextmanager
    def digest(self, title: str, now: datetime):
        """Collect the alerts raised inside the block and send them as one email."""
        self._batch = []
        try:
            yield
        finally:
            batch, self._batch = self._batch, None
            if batch:
                body = "\n\n".join(f"{subject}\n{text}" for subject, text in batch)
                self._email(f"{title}: {len(batch)} alert(s)", body, now)

    def send(self, kind: str, subject: str, body: str, now: datetime, *, link: str = "") -> bool:
        """Log the alert and email it (once); True if it was new. `link`: the workspace page
        it is about (pipeline.links), for the reader to open."""
        if link:
            body = f"{body}\n\nOpen it in the workspace: {link}"
        with self._lock:
            if (kind, subject) in self._sent:
                return False
            self._sent.add((kind, subject))
        log.warning("ALERT %s: %s: %s", kind, subject, body.replace("\n", " "))
        if self._batch is not None:
            self._batch.append((subject, body))
            return True
        self._email(subject, f"{body}\n\n({kind} at {now.isoformat()})", now)
        return True

    def tell(self, kind: str, to: list[str], subject: str, body: str, now: datetime) -> None:
        """Log a notice for named people and email it to their addresses (e.g. an approver's
        digest); unlike send(), never deduplicated: the caller records what it told."""
        log.warning("NOTICE %s to %s: %s", kind, ", ".join(to) or "nobody (no email)", subject)
        if to:
            self._email(subject, f"{body}\n\n({kind} at {now.isoformat()})", now, to)

    def _email(self, subject: str, body: str, now: datetime, to: list[str] | None = None) -> None:
        to = self.to if to is None else to
        if not self.settings.smtp_url or not to:
            return
        message = EmailMessage()
        message["Subject"] = f"[WST pipeline] {subject}"
        message["From"] = self.settings.from_address or to[0]
        message["To"] = ", ".join(to)
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid(domain="wst-pipeline")
        message.set_content(body + "\n")
        try:
            self._deliver(message)
        except (OSError, smtplib.SMTPException) as exc:
            # an alert that cannot be emailed is still in the log; never let it stop publishing
            log.error("could not email alert %r: %s", subject, self.redact(str(exc)))

    def _deliver(self, message: EmailMessage) -> None:
        url = urlsplit(self.settings.smtp_url)
        host, port = url.hostname or "localhost", url.port
        smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
        with smtp_class(host, port or (465 if url.scheme == "smtps" else 25), timeout=30) as smtp:
            user = self.environ.get(self.settings.username_env) if self.settings.username_env else None
            password = (self.environ.get(self.settings.password_env)
                        if self.settings.password_env else None)
            if user and password:
                smtp.login(user, password)
            smtp.send_message(message)
