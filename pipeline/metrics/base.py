"""The metric-source role: one per platform kind, reading engagement back in the fewest calls."""

from __future__ import annotations

import dataclasses
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import requests

from pipeline.metrics.snapshots import Snapshot
from pipeline.redaction import Redactor

T = TypeVar("T")
A = TypeVar("A")

# The field name of a snapshot that says the post itself could not be read (deleted, hidden).
POST_FIELD = "post"
# Measures we compute from the platform's own figures are stored under these field names.
DERIVED = "derived."
# The interactions summed into `engagements` when the platform gives no total of its own.
ENGAGEMENT_PARTS = ("likes", "shares", "replies", "quotes", "clicks")


@dataclass(frozen=True)
class Ref:
    """One published item to ask a platform about."""

    item_id: str
    channel: str
    remote_id: str
    kind: str                 # "post" | "bulletin"
    published_at: datetime    # when its cadence starts (a bulletin's send time)


@dataclass
class CollectResult:
    """What one source's round produced: snapshots, HTTP calls made, and readable errors."""

    snapshots: list[Snapshot] = field(default_factory=list)
    calls_made: int = 0
    errors: list[str] = field(default_factory=list)
    # Set when the platform said 429: this round stopped there and the rest stay due.
    rate_limited_until: datetime | None = None
    # Refs not asked about this round and left due (X: already read today).
    deferred: list[Ref] = field(default_factory=list)
    # Refs not asked about because the X budget ran out (recorded as missing snapshots).
    skipped_budget: list[Ref] = field(default_factory=list)

    def failed(self, exc: Exception) -> bool:
        """Record a failed call; True when the round must stop for this account (a 429 or
        dead credentials), False when the next call may still succeed."""
        from pipeline.channels.base import AuthExpired, RateLimited

        self.errors.append(str(exc))
        if isinstance(exc, RateLimited):
            self.rate_limited_until = exc.retry_at
        return isinstance(exc, (RateLimited, AuthExpired))


def make_source(name: str, settings: Any, environ: Mapping[str, str], **kwargs: Any) -> MetricSource:
    """The metric source for channel `name`, chosen by its kind (pipeline.channels.registry)."""
    from pipeline.channels.registry import KINDS, load

    return load(KINDS[settings.kind].source)(name, settings, environ, **kwargs)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


class MetricSource(ABC):
    """Reads engagement for one channel. Secrets come from `environ` by the names config gives."""

    kind: str = ""
    batch_size: int = 1       # the most items one call may ask about

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A source keeps the platforms' words in its result: they pass the one redaction step.
        if "collect" in cls.__dict__:
            cls.collect = _redacted_collect(cls.__dict__["collect"])  # type: ignore[method-assign]

    def __init__(self, name: str, settings: Any, environ: Mapping[str, str], *,
                 metrics: Any = None, store: Any = None, timeout: float = 30.0):
        self.name = name
        self.settings = settings          # pipeline.config.Channel
        self.environ = environ
        self.metrics = metrics            # pipeline.config.MetricsSettings
        self.store = store
        self.timeout = timeout
        self.http_calls = 0               # every HTTP answer received, login calls included
        self.redactor = Redactor.of(settings.env_names.values(), environ)
        self._now: datetime | None = None  # the `now` of the round in progress

    def adapter(self, adapter_class: type[A], **kwargs: Any) -> A:
        """The channel's adapter to read through: its requests, its errors, this round's clock."""
        return adapter_class(self.name, self.settings, self.environ, timeout=self.timeout,
                             now=self.clock, **kwargs)

    def clock(self) -> datetime:
        """The `now` collect() was given: the clock of the adapter a source reads through (a
        source is kept between rounds, so its adapter may not keep a time of its own)."""
        assert self._now is not None, "the clock is read only during collect()"
        return self._now

    @abstractmethod
    def collect(self, refs: list[Ref], now: datetime) -> CollectResult:
        """Read every ref's metrics (in the order given: soonest due first) as snapshots."""

    @classmethod
    def minimum_calls(cls, count: int, metrics: Any = None) -> int:
        """The fewest HTTP calls the platform allows for `count` items (without logging in)."""
        return -(-count // cls.batch_size)

    def counted(self, session: requests.Session) -> requests.Session:
        """`session`, with every answer it receives counted in http_calls."""
        def _count(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
            self.http_calls += 1
            return response
        session.hooks["response"].append(_count)
        return session

    def one_call_each(self, refs: list[Ref], now: datetime,
                      fetch: Callable[[Ref], dict[str, Any]],
                      read: Callable[[Ref, dict[str, Any], datetime], list[Snapshot]],
                      unreadable: str) -> CollectResult:
        """Collect platforms that answer one item per call: a 429 or dead credentials end the
        round for this account; an item the platform refuses is recorded as missing."""
        from pipeline.channels.base import ChannelError, Rejected

        result = CollectResult()
        start_calls = self.http_calls
        for ref in refs:
            try:
                answer = fetch(ref)
            except Rejected as exc:
                result.snapshots.append(self.missing(ref, POST_FIELD, None,
                                                     f"{unreadable}: {exc.detail}", now))
                continue
            except ChannelError as exc:
                if result.failed(exc):
                    break
                continue
            result.snapshots += read(ref, answer, now)
        result.calls_made = self.http_calls - start_calls
        return result

    def snapshot(self, ref: Ref, field_name: str, measure: str | None, value: Any,
                 now: datetime, *, reason: str = "") -> Snapshot:
        """One snapshot of `ref`; a value that is not a number is recorded as missing."""
        number = _number(value)
        missing = number is None
        if missing and not reason:
            reason = "no value given" if value is None else f"not a number: {str(value)[:80]}"
        return Snapshot(item_id=ref.item_id, channel=ref.channel, platform=self.kind,
                        remote_id=ref.remote_id, field=field_name, measure=measure, value=number,
                        collected_at=now, api_version=self.api_version, missing=missing,
                        reason=reason if missing else "")

    def missing(self, ref: Ref, field_name: str, measure: str | None, reason: str,
                now: datetime) -> Snapshot:
        """A snapshot saying why this metric could not be read."""
        return Snapshot(item_id=ref.item_id, channel=ref.channel, platform=self.kind,
                        remote_id=ref.remote_id, field=field_name, measure=measure, value=None,
                        collected_at=now, api_version=self.api_version, missing=True,
                        reason=reason)

    @property
    def api_version(self) -> str:
        """The API version the figures came from (recorded with every snapshot)."""
        return getattr(self.settings, "api_version", "") or ""


def _redacted_collect(collect: Callable[..., CollectResult]) -> Callable[..., CollectResult]:
    """`collect`, with secrets taken out of the errors and reasons it returns or raises."""
    from pipeline.channels.base import redacting

    @functools.wraps(collect)
    def wrapper(self: MetricSource, refs: list[Ref], now: datetime) -> CollectResult:
        self._now = now
        result = redacting(collect)(self, refs, now)
        redact = self.redactor
        result.errors = [redact(e) for e in result.errors]
        result.snapshots = [dataclasses.replace(s, reason=redact(s.reason)) if s.reason else s
                            for s in result.snapshots]
        return result
    return wrapper


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def with_engagements(snapshots: list[Snapshot], ref: Ref, source: MetricSource,
                     now: datetime) -> list[Snapshot]:
    """Add `derived.engagements` (the sum of the interactions) unless the platform gave its own,
    and keep at most one valued snapshot per measure, so a report never counts a figure twice."""
    out = unique_measures(snapshots)
    if any(s.measure == "engagements" and not s.missing for s in out):
        return out
    parts = [s for s in out if s.measure in ENGAGEMENT_PARTS and not s.missing]
    if parts:
        out.append(source.snapshot(ref, DERIVED + "engagements", "engagements",
                                   sum(s.value or 0.0 for s in parts), now))
    return out


def unique_measures(snapshots: Iterable[Snapshot]) -> list[Snapshot]:
    """The first valued snapshot of each measure keeps it; later valued ones keep only their field."""
    seen: set[str] = set()
    out = []
    for s in snapshots:
        if s.measure and not s.missing:
            if s.measure in seen:
                s = Snapshot(**{**s.__dict__, "measure": None})
            seen.add(s.measure or "")
        out.append(s)
    return out
