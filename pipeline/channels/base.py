"""The channel role: what every adapter does, the artefact it receives, the errors it raises."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pipeline.redaction import Redactor
from pipeline.states import ErrorKind

# The most of a platform's words an error keeps (they go into alerts, the store and tables).
DETAIL_MAX = 500


class ChannelError(Exception):
    """Base of every adapter error; the message is built here and the data kept as attributes."""

    kind: ClassVar[ErrorKind] = ErrorKind.REJECTED  # what the failure means; never its words

    def __init__(self, channel: str, detail: str):
        self.channel = channel
        self.detail = detail
        super().__init__(f"{channel}: {detail}")

    def redact(self, redactor: Redactor) -> None:
        """Take every secret out of the words, then keep them short (after, so that no secret
        is ever cut into a piece the redactor cannot recognise)."""
        detail = redactor(self.detail)
        if len(detail) > DETAIL_MAX:
            detail = detail[:DETAIL_MAX - 1] + "…"
        self.detail = detail
        self.args = (f"{self.channel}: {detail}",)
        # the vendor's exception underneath still holds the raw words: no traceback may show it
        self.__cause__ = self.__context__ = None
        self.__suppress_context__ = True


F = TypeVar("F", bound=Callable[..., Any])


def redacting(method: F) -> F:
    """`method` of an adapter (or metric source), with every ChannelError leaving it redacted
    by the instance's `redactor`: the boundary between the platforms' words and everything that
    keeps or shows them (the store, alerts, logs, the screen), whatever a platform quoted back."""
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except ChannelError as exc:
            exc.redact(self.redactor)
            raise
    return wrapper  # type: ignore[return-value]


class RateLimited(ChannelError):
    """The platform said 429: try again at `retry_at` (UTC), without blocking other channels."""

    kind = ErrorKind.RATE_LIMITED

    def __init__(self, channel: str, retry_at: datetime, detail: str = "rate limited"):
        self.retry_at = retry_at
        super().__init__(channel, f"{detail}; retry at {retry_at.isoformat()}")


class AuthExpired(ChannelError):
    """Credentials missing, expired or revoked: flag the channel, hold its items, alert."""

    kind = ErrorKind.AUTH_EXPIRED


class Rejected(ChannelError):
    """The platform refused this content; retrying the same request will not help."""

    kind = ErrorKind.REJECTED


class Duplicate(Rejected):
    """The platform already has this exact content (X's duplicate-content 403): never retried."""

    kind = ErrorKind.DUPLICATE


class Transient(ChannelError):
    """A 5xx or connection failure before the request was accepted: retry with backoff."""

    kind = ErrorKind.TRANSIENT


class Unconfirmed(ChannelError):
    """The request may or may not have been applied (a timeout): ask the platform, never retry blind."""

    kind = ErrorKind.UNCONFIRMED


@dataclass(frozen=True)
class Artefact:
    """A finished thing to publish: adapters send exactly this and never render."""

    item_id: str
    idempotency_key: str          # derived from (item, channel, version); stable across retries
    kind: str                     # "post" | "bulletin"
    text: str = ""                # post: the final text; bulletin: the plain-text part
    link: str = ""                # post: the final (UTM-tagged) link, also inside `text`
    image: Path | None = None     # a local image file
    alt: str = ""
    facets: tuple[dict[str, Any], ...] = ()  # Bluesky facets, as record dicts
    language: str = "en"
    html: str = ""                # bulletin: the email HTML
    subject: str = ""             # bulletin: the subject line
    preheader: str = ""           # bulletin: preview text
    title: str = ""               # bulletin: the campaign title used to find it again
    send_at: datetime | None = None  # bulletin: when the mailing service should send (UTC)
    gates: tuple[str, ...] = ()   # the publication gates it passed (a dry run records them)


@dataclass(frozen=True)
class Publication:
    """What the platform answered: its id and a public link."""

    remote_id: str
    url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Setup:
    """What an adapter is built from besides its own settings: the environment and the clock
    the entry point passed in, the loaded config (its folder, its people, the outbox) and the
    store (where a mailing channel keeps its sent-log)."""

    environ: Mapping[str, str]
    now: Callable[[], datetime]
    config: Any = None                # pipeline.config.Config
    store: Any = None                 # pipeline.store.Store
    timeout: float = 30.0


class ChannelAdapter(ABC):
    """One publishing channel. Secrets come from `environ` by the names config gives; the time
    from `now`, a clock the entry point passes in: an adapter reads neither by itself."""

    kind: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Every adapter, however it words its errors, gets the one redaction step on every
        # call of the role (publish, find, check, test_send... whatever the role grows).
        for name in _ROLE:
            if name in cls.__dict__:
                setattr(cls, name, redacting(cls.__dict__[name]))

    def __init__(self, name: str, settings: Any, environ: Mapping[str, str], *,
                 now: Callable[[], datetime], timeout: float = 30.0,
                 sleep: Callable[[float], None] | None = None):
        self.name = name
        self.settings = settings          # pipeline.config.Channel
        self.environ = environ
        self.now = now                    # the clock the entry point passed in (UTC)
        self.timeout = timeout
        self.sleep = sleep
        # Every secret config names for this channel; an adapter adds the tokens it is issued.
        self.redactor = Redactor.of(settings.env_names.values(), environ)

    @classmethod
    def from_settings(cls, name: str, settings: Any, setup: Setup) -> ChannelAdapter:
        """This kind of adapter for channel `name`, built from its settings and the setup."""
        return cls(name, settings, setup.environ, now=setup.now, timeout=setup.timeout)

    @classmethod
    def settled(cls, settings: Any, setup: Setup) -> Any:
        """The channel's settings with this kind's defaults that depend on the rest of config
        filled in; the outbox standing in for the channel in dry-run gets the same."""
        return settings

    def secret(self, key: str) -> str:
        """The credential `key` (e.g. 'token'), or AuthExpired naming the variable to set."""
        value = self.settings.secret(key, self.environ)
        if not value:
            var = self.settings.env_names.get(f"{key}_env", f"<{key}_env not set in config>")
            raise AuthExpired(self.name, f"credential missing: set the environment variable {var}")
        return value

    @abstractmethod
    def publish(self, artefact: Artefact) -> Publication:
        """Send `artefact` once. Raise a ChannelError subclass on failure."""

    @abstractmethod
    def find(self, artefact: Artefact) -> Publication | None:
        """Ask the platform whether `artefact` was already published (to resolve `unconfirmed`)."""

    @abstractmethod
    def check(self) -> None:
        """Verify the credentials work (a cheap call); raise AuthExpired if not."""

    def test_send(self, artefact: Artefact, recipients: Sequence[str]) -> str:
        """Send a bulletin once to `recipients` only, marked as a test, without scheduling or
        recording it as sent; returns where it went in words. Mailing channels only."""
        raise Rejected(self.name, f"a {self.kind or 'social'} channel has no test send; test "
                                  f"sends are for bulletins")


# The calls of the role: every public method ChannelAdapter declares, but reading a secret.
_ROLE = frozenset(name for name, value in vars(ChannelAdapter).items()
                  if callable(value) and not name.startswith("_") and name != "secret")
