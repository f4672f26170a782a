"""What every request of the web workspace shares: the workspace (reloaded when its files
change, as the daemon does), the accounts, the clock (read here, once per request) and the
acting person. A face, like the CLI: it decides no policy."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app, g, request
from flask_login import UserMixin, current_user

from pipeline.accounts import Accounts
from pipeline.ledger import Actor
from pipeline.workspace import Fingerprint, Workspace

# How often a request may look for edits to config.toml, schedules/ and content/.
RECHECK_SECONDS = 2.0


class Holder:
    """The one workspace of this server, swapped for a fresh catalog after an edit (an edit that
    breaks the content keeps the last good one, and alerts, exactly as in the daemon)."""

    def __init__(self, config_path: Path, environ: Mapping[str, str],
                 clock: Callable[[], datetime]):
        self.ws = Workspace(config_path, environ, clock=clock)
        self.clock = clock
        self._seen = Fingerprint.of(self.ws)
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def current(self) -> Workspace:
        """The workspace, reloaded first if its files changed."""
        if time.monotonic() - self._checked >= RECHECK_SECONDS and self._lock.acquire(False):
            try:
                self._checked = time.monotonic()
                now = Fingerprint.of(self.ws)
                if now != self._seen:
                    self._seen = now
                    self.ws.reload(self.clock())
            finally:
                self._lock.release()
        return self.ws

    def close(self) -> None:
        """Release the store's connections."""
        self.ws.close()


@dataclass
class Web:
    """The application's own state (in app.extensions["wst"])."""

    holder: Holder
    accounts: Accounts
    clock: Callable[[], datetime]
    environ: Mapping[str, str]


class User(UserMixin):
    """A signed-in person; their id for Flask-Login is the session's token, so a session the
    server ended is gone at the next request."""

    def __init__(self, token: str, person: str):
        self.token = token
        self.person = person

    def get_id(self) -> str:
        return self.token


def web() -> Web:
    """This application's state."""
    return current_app.extensions["wst"]


def ws() -> Workspace:
    """The workspace, for this request."""
    if "ws" not in g:
        g.ws = web().holder.current()
    return g.ws


def now() -> datetime:
    """The time of this request (the clock is read once per request)."""
    if "now" not in g:
        g.now = web().clock()
    return g.now


def actor() -> Actor:
    """The signed-in person, acting through the web from their address."""
    return Actor(current_user.person, via="web", address=address())


def address() -> str:
    """The client's address (as the reverse proxies in [web] proxies report it)."""
    return request.remote_addr or ""
