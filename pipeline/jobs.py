"""The job functions: the one place where the plan, the renderers, the channels and the store meet.

APScheduler stores jobs by reference (`pipeline.jobs:publish_job`) with ids as arguments. A job
finds the daemon's live `Runtime` through `RUNTIMES`, keyed by config path: the only
process-wide state, because a pickled job cannot carry live objects.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pipeline.alerts import Alerts
from pipeline.channels.base import (
    Artefact,
    AuthExpired,
    ChannelAdapter,
    ChannelError,
    Duplicate,
    RateLimited,
    Rejected,
    Transient,
    Unconfirmed,
)
from pipeline.channels.registry import has_adapter, make_adapter
from pipeline.config import Config, load_config
from pipeline.deliveries import Deliveries
from pipeline.ledger import (
    APPROVED,
    FAILED,
    HELD,
    PLANNED,
    PUBLISHING,
    SYSTEM,
    UNCONFIRMED,
    Ledger,
    LedgerError,
    ledger_key,
)
from pipeline.plan import BULLETIN_CAMPAIGN, Item, make_plan
from pipeline.problems import InputError
from pipeline.project import Project, load_project
from pipeline.reactive import CAMPAIGN as REACTIVE
from pipeline.reactive import ReactivePost, ReactiveStore, items_for
from pipeline.render import Renderer
from pipeline.store import Store, open_store

log = logging.getLogger("wst.jobs")
RUNTIMES: dict[str, Runtime] = {}
# How far back a start-up looks for items that were due while the daemon was down.
CATCH_UP_DAYS = 7
# A job the scheduler runs a moment after its time is on time, even with a grace time of 0.
ON_TIME_SLACK = timedelta(seconds=2)
# publish() refreshes the daemon lock at most this often (seconds, monotonic).
HEARTBEAT_EVERY = 1.0
# Items whose time comes within this long are resolved and rendered ahead (see prepare()).
PREPARE_AHEAD = timedelta(hours=1)
# How the last error of a final failure begins: publish() never tries one again by itself (a
# person decides: `wst resolve --not-published` to try again, or `wst cancel`).
FINAL = ("duplicate content, never retried", "refused, never retried", "gave up after")


def publish_job(config_path: str, item_id: str) -> None:
    """APScheduler's entry point: publish one item now (a no-op outside a daemon)."""
    runtime = RUNTIMES.get(config_path)
    if runtime is None:
        log.error("no running pipeline for %s; %s was not published", config_path, item_id)
        return
    runtime.publish(item_id)


def utc_now() -> datetime:
    """The real clock, read only at the edge."""
    return datetime.now(UTC)


class Runtime:
    """The loaded project, the store and the adapters of one daemon (or one `run --once`)."""

    def __init__(self, config_path: Path, environ: Mapping[str, str], *,
                 clock: Callable[[], datetime] = utc_now, owner: str = SYSTEM,
                 store: Store | None = None):
        self.config_path = str(Path(config_path).resolve())
        self.environ = environ
        self.clock = clock
        self.owner = owner
        self.scheduler = None
        self.lock_lost = False
        self._reload_lock = threading.RLock()
        self._adapter_lock = threading.Lock()
        self._heartbeat_lock = threading.Lock()
        self._next_heartbeat = 0.0  # time.monotonic() of the next heartbeat publish() makes
        self.config, self.project = self._load()
        self.store = store or open_store(self.config.store_url,
                                         stale_after=self.config.settings.store.lock_stale_seconds)
        self.ledger = Ledger(self.store)
        self.reactive = ReactiveStore(self.store)
        self.renderer = self._renderer(self.project)
        self.alerts = Alerts(self.config, environ)
        self.adapters: dict[str, ChannelAdapter] = {}
        # Saved reactive posts by id (they never change once saved); emptied by reload().
        self._reactive_posts: dict[str, ReactivePost] = {}
        # Items due soon, by id, resolved from the loaded plan and rendered (prepare()).
        self._prepared: dict[str, Item] = {}

    def _renderer(self, project: Project) -> Renderer:
        renderer = Renderer(project)
        for rp in self.reactive.all():
            renderer.register(rp.campaign_post())
        return renderer

    # -- loading ------------------------------------------------------------------------------

    def _load(self) -> tuple[Config, Project]:
        config = load_config(Path(self.config_path))
        project = load_project(config)
        if project.errors:
            raise InputError(project.errors)
        return config, project

    def reload(self) -> bool:
        """Re-read config, calendar and content; on any error keep what was loaded and alert."""
        try:
            config, project = self._load()
        except InputError as exc:
            self.alerts.send("invalid-input", "an edit broke the calendar or content; the last "
                             "good version is still in use",
                             "\n".join(str(p) for p in exc.problems), self.clock())
            return False
        with self._reload_lock:
            self.config, self.project = config, project
            self.renderer = self._renderer(project)
            self.alerts = Alerts(config, self.environ)
            with self._adapter_lock:
                self.adapters = {}
            self._reactive_posts = {}
            self._prepared = {}
        return True

    # -- the plan -----------------------------------------------------------------------------

    @property
    def settings(self):
        """The scheduler settings in force."""
        return self.config.settings.scheduler

    def dry_run_for(self, channel: str) -> bool:
        """True if this channel only writes to the outbox."""
        c = self.config.settings.channels[channel]
        return self.config.settings.mode == "dry-run" or c.dry_run is True

    def run_at(self, item: Item) -> datetime:
        """When the job runs: bulletins go to the mailing service a lead time early."""
        if item.kind == "bulletin":
            return item.due - timedelta(minutes=self.settings.bulletin_lead_minutes)
        return item.due

    def items(self, start: date, end: date) -> list[Item]:
        """Plan items from `start` to `end` (local dates), reactive posts included."""
        with self._reload_lock:
            items = make_plan(self.project, start, end).items + [
                i for i in self.reactive_items() if start <= i.due.date() <= end]
        return sorted(items, key=lambda i: (i.due, i.kind, i.campaign, i.id))

    def reactive_items(self) -> list[Item]:
        """Every reactive post's items on its enabled channels."""
        enabled = set(self.config.enabled_channels())
        return [i for rp in self.reactive.all() for i in items_for(rp, self.config.tz, enabled)]

    def item(self, item_id: str) -> Item | None:
        """The current plan's item with this id (planned around the date in the id)."""
        parts = item_id.split("/")
        try:
            if parts[0] == "bulletin":
                year, month = map(int, parts[1].split("-"))
                day = date(year, month, 1)
                first, last = day, (day + timedelta(days=31)).replace(day=1) - timedelta(days=1)
                campaign = BULLETIN_CAMPAIGN
            else:
                first = last = date.fromisoformat(parts[-2])
                campaign = parts[0]
        except (ValueError, IndexError):
            return None
        if campaign == REACTIVE:
            # only this post's items: planning every reactive post per job is O(n^2) in a burst
            rp = self._reactive_post(parts[1])
            enabled = set(self.config.enabled_channels())
            return None if rp is None else next(
                (i for i in items_for(rp, self.config.tz, enabled) if i.id == item_id), None)
        with self._reload_lock:
            if campaign != BULLETIN_CAMPAIGN and campaign not in self.project.campaigns:
                return None
            found = make_plan(self.project, first, last, campaign=campaign).items
        return next((i for i in found if i.id == item_id), None)

    def prepare(self, now: datetime) -> int:
        """Resolve and render (with the content checks) every item whose run time is within
        the grace time behind or PREPARE_AHEAD ahead, so that when it falls due its job only
        looks them up, applies the gates and calls the platform. In a burst, rendering at the
        due moment cost about a seventh of each publication's time on the one interpreter all the
        workers share. Rendering is pure and cached by content version, and reload() drops
        what was prepared, so a looked-up item is exactly what item() would return. Returns
        how many items are prepared."""
        behind = timedelta(minutes=self.settings.grace_minutes)
        lead = timedelta(minutes=self.settings.bulletin_lead_minutes)
        start = (now - behind).astimezone(self.config.tz).date()
        end = (now + PREPARE_AHEAD + lead).astimezone(self.config.tz).date()
        with self._reload_lock:
            renderer = self.renderer
            soon = {i.id: i for i in self.items(start, end)
                    if now - behind <= self.run_at(i) <= now + PREPARE_AHEAD}
        for item in soon.values():
            renderer.render(item)
        for channel in sorted({i.channel for i in soon.values()}):
            # built (and their modules imported) now rather than by the first due job
            if self.dry_run_for(channel) or has_adapter(self.config.settings.channels[channel].kind):
                self.adapter(channel)
        with self._reload_lock:
            if renderer is self.renderer:  # not reloaded meanwhile (else the next call redoes it)
                self._prepared = soon
        return len(soon)

    def _reactive_post(self, post_id: str) -> ReactivePost | None:
        """A saved reactive post by id, re-read from the store when one is not known yet."""
        found = self._reactive_posts.get(post_id)
        if found is None:
            self._reactive_posts = {rp.id: rp for rp in self.reactive.all()}
            found = self._reactive_posts.get(post_id)
        return found

    def key(self, item: Item) -> str:
        """The ledger's idempotency key for this item's current version."""
        return ledger_key(item.id, item.channel, item.version, self.dry_run_for(item.channel))

    def adapter(self, channel: str) -> ChannelAdapter:
        """The adapter for a channel, built once per load (sessions are kept between posts)."""
        with self._adapter_lock:
            found = self.adapters.get(channel)
            if found is None:
                settings = self.config.settings.channels[channel]
                extra = {}
                if settings.kind == "smtp" and not self.dry_run_for(channel):
                    # the recipients file is relative to config.toml; the sent-log lives in
                    # the store so a resumed send skips recipients already sent to
                    log_ = Deliveries(self.store, channel)
                    extra = {"base_dir": self.config.root, "sent": log_.sent(),
                             "on_sent": log_.record}
                if settings.kind == "mailchimp" and not settings.test_recipients:
                    # the business unit queues the bulletin, so it gets the test send
                    unit = [p.email for p in self.config.settings.people.values()
                            if "business-unit" in p.roles and p.email]
                    settings = settings.model_copy(update={"test_recipients": unit})
                found = self.adapters[channel] = make_adapter(
                    channel, settings, self.environ, dry_run=self.dry_run_for(channel),
                    outbox=self.config.resolve(self.config.settings.paths.outbox),
                    timeout=self.settings.request_timeout_seconds, **extra)
            return found

    # -- publishing ---------------------------------------------------------------------------

    def publish(self, item_id: str) -> str:
        """Publish one item if everything allows it now; returns the ledger state it ends in."""
        now = self.clock()
        if self.owner != SYSTEM and (self.lock_lost or not self._lock_fresh(now)):
            self.lock_lost = True
            log.error("the daemon lock was lost; %s not published by this process", item_id)
            return "skipped"
        item = self._prepared.get(item_id) or self.item(item_id)
        if item is None:
            log.info("%s is no longer in the plan; nothing to do", item_id)
            return "gone"
        key = self.key(item)
        # One read for the row, the pause and the channel (they were three transactions), and
        # the sync's write transaction only when the row is missing or out of date.
        view = self.ledger.publish_view(key, item.channel, now)
        if not view.in_sync(item):
            self.ledger.sync_planned([item], now, dry_run=self.dry_run_for)
            view = self.ledger.publish_view(key, item.channel, now)
        entry = view.entry
        if entry is None:
            return self.ledger.entry(key).state  # raises UnknownEntry, as before
        if entry.state in (PUBLISHING, UNCONFIRMED):
            return self.resolve_unconfirmed(item, key)
        if entry.state not in (PLANNED, APPROVED, FAILED):
            return entry.state  # published, held, superseded or cancelled: nothing to do
        if entry.state == FAILED and (entry.last_error or "").startswith(FINAL):
            return FAILED  # e.g. X's duplicate 403: another call would only be refused again
        late = now - self.run_at(item)
        if late < timedelta(0):
            return "not due"  # never early: the scheduled job publishes it at its time
        if late > timedelta(minutes=self.settings.grace_minutes) + ON_TIME_SLACK:
            return self._hold(item, key, f"missed its time by {_span(late)}, beyond the "
                              f"{self.settings.grace_minutes}-minute grace time; publish it by hand "
                              f"and run `wst resolve`, or cancel it", now, alert=True)
        pause = view.pause
        if pause is not None and pause.holds(item.due, item.help):
            return self._hold(item, key, f"paused: {pause.reason}", now)
        blocked = view.blocked(now)
        if blocked:
            until = (view.health or {}).get("rate_limited_until")
            if until and until > now:
                self._retry(item, until)
                return entry.state
            return self._hold(item, key, f"channel {item.channel} is flagged: {blocked}", now)
        rendered = self.renderer.render(item)
        if rendered.errors:
            return self._hold(item, key, "content checks failed: " +
                              "; ".join(f.message for f in rendered.errors), now, alert=True)
        if entry.state == PLANNED and not entry.dry_run:
            return self._hold(item, key, "not approved by an accountable person before its time; "
                              "approve it, then `wst release`", now, alert=True)
        if not entry.dry_run and not has_adapter(self.config.settings.channels[item.channel].kind):
            return self._manual(item, key, rendered, now)
        return self._send(item, key, self.artefact(item, rendered, key), now)

    def _lock_fresh(self, now: datetime) -> bool:
        """Heartbeat the daemon lock at most once a second, not once per job: in a burst the
        per-job write transaction cost as much as the publication. The watch loop heartbeats
        too and sets lock_lost; and begin_publishing is atomic, so a daemon that lost the lock
        still can't post an item a second time. One thread heartbeats; the rest go on."""
        due = time.monotonic()
        if due < self._next_heartbeat or not self._heartbeat_lock.acquire(blocking=False):
            return True
        try:
            if self.store.file_problem() is not None or not self.store.heartbeat(self.owner, now):
                return False
            self._next_heartbeat = due + HEARTBEAT_EVERY
            return True
        finally:
            self._heartbeat_lock.release()

    def _send(self, item: Item, key: str, artefact: Artefact, now: datetime) -> str:
        adapter = self.adapter(item.channel)
        try:
            entry = self.ledger.begin_publishing(key, now)
        except LedgerError as exc:
            log.info("%s not started: %s", item.id, exc)
            return self.ledger.entry(key).state
        started = self.clock()
        try:
            publication = adapter.publish(artefact)
        except RateLimited as exc:
            self.ledger.mark_failed(key, str(exc), self.clock())
            self.ledger.rate_limited_until(item.channel, exc.retry_at, self.clock())
            self._retry(item, exc.retry_at)
            return FAILED
        except Transient as exc:
            if entry.attempts <= self.settings.retry_limit:
                self.ledger.mark_failed(key, str(exc), self.clock())
                backoff = self.settings.retry_backoff_seconds * 2 ** (entry.attempts - 1)
                self._retry(item, self.clock() + timedelta(seconds=backoff))
            else:
                self.ledger.mark_failed(key, f"gave up after {entry.attempts} attempts: {exc}",
                                        self.clock())
                self.alerts.send("failed", f"{item.id} failed after {entry.attempts} attempts",
                                 str(exc), self.clock())
            return FAILED
        except Unconfirmed as exc:
            self.ledger.mark_unconfirmed(key, str(exc), self.clock())
            # ask the platform soon; never post again blind
            self._retry(item, self.clock() + timedelta(seconds=max(5.0, adapter.timeout)))
            return UNCONFIRMED
        except AuthExpired as exc:
            self.ledger.mark_failed(key, str(exc), self.clock())
            self.ledger.flag_channel(item.channel, str(exc), self.clock())
            self.alerts.send("credentials", f"{item.channel}: credentials expired or missing",
                             f"{exc}\nIts items are held until the credentials work again.",
                             self.clock())
            return self._hold(item, key, f"channel {item.channel} is flagged: {exc}", self.clock())
        except Duplicate as exc:
            self.ledger.mark_failed(key, f"duplicate content, never retried: {exc}", self.clock())
            self.alerts.send("failed", f"{item.id}: the platform already has this text", str(exc),
                             self.clock())
            return FAILED
        except (Rejected, ChannelError) as exc:
            self.ledger.mark_failed(key, f"refused, never retried: {exc}", self.clock())
            self.alerts.send("failed", f"{item.id} was refused", str(exc), self.clock())
            return FAILED
        self.ledger.mark_published(key, publication.remote_id, publication.url, self.clock(),
                                   lateness=started - self.run_at(item))
        return "published"

    def resolve_unconfirmed(self, item: Item, key: str) -> str:
        """Ask the platform whether an interrupted publication landed; settle it either way."""
        now = self.clock()
        entry = self.ledger.entry(key)
        if entry.state == PUBLISHING:
            return PUBLISHING  # another worker is publishing it right now
        rendered = self.renderer.render(item)
        artefact = self.artefact(item, rendered, key)
        try:
            found = self.adapter(item.channel).find(artefact)
        except ChannelError as exc:
            log.warning("could not ask %s about %s yet: %s", item.channel, item.id, exc)
            self._retry(item, now + timedelta(seconds=self.settings.retry_backoff_seconds))
            return UNCONFIRMED
        if found is not None:
            self.ledger.resolve(item.id, item.channel, found.remote_id, False, SYSTEM, now,
                                url=found.url or None)
            return "published"
        self.ledger.resolve(item.id, item.channel, None, True, SYSTEM, now)
        return self.publish(item.id)  # confirmed absent: publishing now is not a blind retry

    def _manual(self, item: Item, key: str, rendered, now: datetime) -> str:
        outbox = make_adapter(item.channel, self.config.settings.channels[item.channel],
                              self.environ, dry_run=True,
                              outbox=self.config.resolve(self.config.settings.paths.outbox))
        written = outbox.publish(self.artefact(item, rendered, key))
        return self._hold(item, key, f"post by hand: copy-ready text in {written.url}; then run "
                          f"`wst resolve {item.id} --channel {item.channel} --published-as LINK`",
                          now, alert=True)

    def _hold(self, item: Item, key: str, reason: str, now: datetime, alert: bool = False) -> str:
        try:
            self.ledger.mark_held(key, reason, now)
        except LedgerError as exc:
            log.info("%s not held: %s", item.id, exc)
            return self.ledger.entry(key).state
        if alert:
            self.alerts.send("held", f"{item.id} is held", reason, now)
        return HELD

    def _retry(self, item: Item, at: datetime) -> None:
        if self.scheduler is not None:
            from pipeline.scheduler import schedule_retry

            schedule_retry(self.scheduler, self.config_path, item.id, at)

    def artefact(self, item: Item, rendered, key: str) -> Artefact:
        """The finished thing the adapter sends."""
        if item.kind == "post":
            p = rendered.post
            image = self.config.content_dir / p.image if p.image else None
            return Artefact(item.id, key, "post", text=p.text, link=p.link, image=image,
                            alt=p.alt, facets=tuple(f.as_record() for f in p.facets))
        b = rendered.bulletin
        month = item.id.split("/")[1]
        return Artefact(item.id, key, "bulletin", text=b.text, html=b.html, subject=b.subject,
                        preheader=b.preheader,
                        title=f"{self.config.settings.partnership.short_name} e-bulletin {month}",
                        send_at=item.due.astimezone(UTC))

    # -- start-up and housekeeping -------------------------------------------------------------

    def current_items(self, now: datetime) -> list[Item]:
        """Items from the catch-up window to the scheduling horizon."""
        today = now.astimezone(self.config.tz).date()
        lead = timedelta(minutes=self.settings.bulletin_lead_minutes)
        return self.items(today - timedelta(days=CATCH_UP_DAYS),
                          today + timedelta(days=self.settings.horizon_days) + lead)

    def sync(self, now: datetime) -> list[Item]:
        """Record every current item in the ledger (so it can be approved ahead of time).

        Nothing was expected to publish before the pipeline first ran on this store, so items
        due before then (less the grace time) are left out rather than reported as missed.
        """
        items = self.current_items(now)
        since = (self.ledger.first_seen() or now) - timedelta(minutes=self.settings.grace_minutes)
        items = [i for i in items if self.run_at(i) >= since]
        self.ledger.sync_planned(items, now, dry_run=self.dry_run_for)
        return items

    def recover(self, now: datetime) -> list[str]:
        """After a crash: `publishing` rows become `unconfirmed` and are settled by asking."""
        keys = self.ledger.recover_after_crash(now)
        for entry in self.ledger.entries(states=[UNCONFIRMED]):
            item = self.item(entry.item_id)
            if item is not None and self.key(item) == entry.key:
                self.resolve_unconfirmed(item, entry.key)
        return keys

    def catch_up(self, now: datetime, items: list[Item]) -> list[str]:
        """Publish what fell due while nothing was running (within grace); hold the rest."""
        done = []
        with self.alerts.digest("catching up after a stop", now):
            for item in items:
                if self.run_at(item) <= now:
                    entry = self.ledger.entry(self.key(item))
                    if entry.state in (PLANNED, APPROVED, FAILED, UNCONFIRMED):
                        done.append(f"{item.id}: {self.publish(item.id)}")
        return done

    def recheck_flagged(self, now: datetime) -> list[str]:
        """Channels flagged for credentials: if they work again, clear them and release items."""
        released = []
        for channel, health in self.ledger.channel_health().items():
            if not health.get("flagged") or channel not in self.config.settings.channels:
                continue
            try:
                self.adapter(channel).check()
            except ChannelError:
                continue
            self.ledger.clear_channel(channel, now)
            for entry in self.ledger.entries(states=[HELD]):
                if entry.channel == channel and (entry.last_error or "").startswith(
                        f"channel {channel} is flagged"):
                    self.ledger.release(entry.key, SYSTEM, now)
                    released.append(entry.item_id)
                    self._retry_id(entry.item_id, now)
        return released

    def _retry_id(self, item_id: str, at: datetime) -> None:
        item = self.item(item_id)
        if item is not None:
            if self.scheduler is not None:
                self._retry(item, at)
            else:
                self.publish(item_id)

    def alert_unapproved(self, now: datetime) -> int:
        """Alert about live items due within a day that nobody has approved."""
        soon = [e for e in self.ledger.approvals_pending(now)
                if not e.dry_run and now <= e.due <= now + timedelta(days=1)]
        if soon:
            lines = "\n".join(f"{e.due.astimezone(self.config.tz):%a %d %b %H:%M}  {e.item_id}"
                              for e in soon)
            self.alerts.send("unapproved", f"{len(soon)} item(s) due within a day are not approved",
                             f"{lines}\n\nApprove with: wst approve ITEM --by PERSON", now)
        return len(soon)


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"
