"""Which published items are due a collection, and collecting them from every platform at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.channels.registry import has_source
from pipeline.config import Config, load_config
from pipeline.ledger import Entry, Publications
from pipeline.metrics.base import CollectResult, MetricSource, Ref, make_source
from pipeline.metrics.budget import XReads
from pipeline.metrics.snapshots import Snapshots
from pipeline.states import State
from pipeline.store import Store, open_store

log = logging.getLogger("wst.metrics")


@dataclass(frozen=True)
class Due:
    """A ref and the cadence step it is collected for (the soonest-due are read first)."""

    ref: Ref
    step_at: datetime


@dataclass
class PlatformSummary:
    """One platform's round."""

    due: int = 0
    collected: int = 0          # items that got at least one snapshot with a value
    calls: int = 0
    snapshots: int = 0
    missing: int = 0
    deferred: int = 0           # X posts already read today: left due until tomorrow (UTC)
    skipped_budget: int = 0
    errors: list[str] = field(default_factory=list)
    rate_limited_until: str | None = None


@dataclass
class Summary:
    """What a collection round did, per platform and overall."""

    platforms: dict[str, PlatformSummary] = field(default_factory=dict)
    calls_made: int = 0
    snapshots_stored: int = 0
    missing: int = 0
    errors: list[str] = field(default_factory=list)
    x_spent_usd: float = 0.0         # X reads this calendar month (UTC), this round included
    x_budget_usd: float = 0.0
    skipped_channels: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


class SourceCache:
    """Sources kept between rounds by channel, so a kept session (Bluesky) is reused."""

    def __init__(self) -> None:
        self._sources: dict[tuple[str, str], MetricSource] = {}
        self._lock = threading.Lock()

    def get(self, name: str, settings: Any, environ: Mapping[str, str], **kwargs: Any) -> MetricSource:
        """The source for channel `name`, built again only when its settings change."""
        key = (name, settings.model_dump_json())
        with self._lock:
            source = self._sources.get(key)
            if source is None:
                self._sources = {k: v for k, v in self._sources.items() if k[0] != name}
                source = self._sources[key] = make_source(name, settings, environ, **kwargs)
            source.store = kwargs.get("store", source.store)
            source.metrics = kwargs.get("metrics", source.metrics)
            return source


def cadence_start(entry: Entry) -> datetime | None:
    """When an item's cadence starts: publication, or a bulletin's send time when that is later
    (bulletins are handed to the mailing service before they go out)."""
    if entry.published_at is None:
        return None
    return max(entry.published_at, entry.due) if entry.kind == "bulletin" else entry.published_at


def due_refs(entries: Iterable[Entry], last_collected: Mapping[tuple[str, str], datetime],
             cadence_hours: list[float], now: datetime, *, only_due: bool = True) -> list[Due]:
    """Live published items due now, soonest due first: each step once, a missed step once at
    the next run, and never after the last step (with only_due=False: every live published item)."""
    steps = sorted(timedelta(hours=h) for h in cadence_hours)
    out: list[Due] = []
    for e in entries:
        start = cadence_start(e)
        if e.state != State.PUBLISHED or e.dry_run or not e.remote_id or start is None:
            continue
        ref = Ref(e.item_id, e.channel, e.remote_id, e.kind, start)
        passed = [start + s for s in steps if start + s <= now]
        if not only_due:
            out.append(Due(ref, passed[-1] if passed else start))
            continue
        if not passed:
            continue
        last = last_collected.get((e.item_id, e.channel))
        if last is None or last < passed[-1]:
            out.append(Due(ref, passed[-1]))
    out.sort(key=lambda d: (d.step_at, d.ref.item_id, d.ref.channel))
    return out


def collect_due(store: Store, config: Config, environ: Mapping[str, str], now: datetime,
                only_due: bool = True, *, cache: SourceCache | None = None) -> Summary:
    """Collect every item due now (or every live published item) and store the snapshots."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    settings = config.settings
    metrics = settings.metrics
    snapshots = Snapshots(store)
    reads = XReads(store)
    entries = Publications(store).entries(states=[State.PUBLISHED])
    due = due_refs(entries, snapshots.last_collected(), list(metrics.cadence_hours), now,
                   only_due=only_due)
    summary = Summary(x_budget_usd=metrics.x_monthly_budget_usd)
    per_channel: dict[str, list[Ref]] = {}
    for d in due:
        per_channel.setdefault(d.ref.channel, []).append(d.ref)
    cache = cache or SourceCache()
    jobs: dict[str, tuple[str, MetricSource, list[Ref]]] = {}
    for name, refs in per_channel.items():
        channel = settings.channels.get(name)
        if channel is None or not channel.enabled or not has_source(channel.kind):
            # Removed, switched off, or posted by hand: nothing we can ask automatically.
            summary.skipped_channels.append(name)
            continue
        source = cache.get(name, channel, environ, metrics=metrics, store=store,
                           timeout=settings.scheduler.request_timeout_seconds)
        jobs[name] = (channel.kind, source, refs)
    results: dict[str, CollectResult] = {}
    if jobs:
        # Channels are independent: one platform's slowness or 429 never holds up another.
        with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="collect") as pool:
            futures = {name: pool.submit(_run, source, refs, now)
                       for name, (_, source, refs) in jobs.items()}
            results = {name: f.result() for name, f in futures.items()}
    for name, (kind, _, refs) in jobs.items():
        result = results[name]
        stored = snapshots.add(result.snapshots)
        platform = summary.platforms.setdefault(kind, PlatformSummary())
        platform.due += len(refs)
        platform.collected += len({(s.item_id, s.channel) for s in result.snapshots if not s.missing})
        platform.calls += result.calls_made
        platform.snapshots += stored
        platform.missing += sum(s.missing for s in result.snapshots)
        platform.deferred += len(result.deferred)
        platform.skipped_budget += len(result.skipped_budget)
        platform.errors += result.errors
        if result.rate_limited_until is not None:
            platform.rate_limited_until = result.rate_limited_until.astimezone(UTC).isoformat()
        summary.calls_made += result.calls_made
        summary.snapshots_stored += stored
        summary.missing += sum(s.missing for s in result.snapshots)
        summary.errors += result.errors
    moment = now.astimezone(UTC)
    summary.x_spent_usd = round(reads.spent_usd(moment.year, moment.month), 6)
    return summary


def _run(source: MetricSource, refs: list[Ref], now: datetime) -> CollectResult:
    """One source's round; an unexpected failure is reported, never allowed to stop the others."""
    try:
        return source.collect(refs, now)
    # One platform's bug must not lose the other platforms' figures.
    except Exception as exc:
        log.exception("collecting from %s failed", source.name)
        return CollectResult(errors=[f"{source.name}: collection failed ({type(exc).__name__})"])


# Sources (and so Bluesky's session) kept between the daemon's rounds, by config path: a job
# referenced by name can carry no live objects, and logging in every round would hit
# createSession's daily limit.
_CACHES: dict[str, SourceCache] = {}


def collect_job(config_path: str) -> None:
    """APScheduler's entry point: collect whatever is due now, and log what happened."""
    import os

    now = datetime.now(UTC)   # the one place the job reads the clock
    config = load_config(Path(config_path))
    store = open_store(config.store_url)
    try:
        summary = collect_due(store, config, os.environ, now,
                              cache=_CACHES.setdefault(str(Path(config_path).resolve()), SourceCache()))
    finally:
        store.close()
    for message in summary.errors:
        log.warning("metrics: %s", message)
    log.info("metrics: %d calls, %d snapshots (%d missing), X spend this month $%.3f",
             summary.calls_made, summary.snapshots_stored, summary.missing, summary.x_spent_usd)
