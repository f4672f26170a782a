"""`wst run`: the daemon. One per store; reconciles jobs with the plan whenever the files change."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent

from pipeline import housekeeping
from pipeline.jobs import PUBLISHERS
from pipeline.plan import Item
from pipeline.publisher import PREPARE_AHEAD, Publisher, PublishResult
from pipeline.scheduler import PUBLISH_PREFIX, RETRY_PREFIX, make_scheduler, reconcile, schedule_retry
from pipeline.services.notices import tell_approvers
from pipeline.states import State
from pipeline.store import LockHolder, Store, StoreFileChanged
from pipeline.workspace import Fingerprint, Workspace, utc_now

log = logging.getLogger("wst.daemon")
COLLECT_FUNC = "pipeline.metrics.collect:collect_job"
COLLECT_JOB = "collect-metrics"
# Housekeeping that is not urgent runs at most this often.
UNAPPROVED_EVERY = timedelta(hours=1)
RECHECK_EVERY = timedelta(minutes=1)
# Items due soon are prepared again this often (well inside publisher.PREPARE_AHEAD).
PREPARE_EVERY = timedelta(minutes=10)
# A publication refreshes the daemon lock at most this often (seconds, monotonic).
HEARTBEAT_EVERY = 1.0


class AlreadyRunning(Exception):
    """Another daemon holds this store's lock."""

    def __init__(self, holder):
        self.holder = holder
        where = f"pid {holder.pid} on {holder.host}" if holder else "another process"
        super().__init__(f"another `wst run` ({where}) is already publishing from this store; "
                         f"stop it first, or point this one at another store with [store] url")


def owner_name() -> str:
    """A unique name for this daemon in the lock table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Heartbeat:
    """The daemon lock, refreshed at most once a second by whichever publication comes first:
    in a burst a write transaction per job cost as much as the publication. The watch loop
    refreshes it too; and begin_publishing is a compare-and-set, so a daemon that lost the lock
    still can't post an item a second time. One thread refreshes; the others go on."""

    def __init__(self, store: Store, owner: str):
        self.store = store
        self.owner = owner
        self.lost = False
        self._lock = threading.Lock()
        self._next = 0.0  # time.monotonic() of the next refresh

    def fresh(self, now: datetime) -> bool:
        """False once the lock was taken over: this process must not publish any more."""
        if self.lost:
            return False
        due = time.monotonic()
        if due < self._next or not self._lock.acquire(blocking=False):
            return True
        try:
            if self.store.file_problem() is not None or not self.store.heartbeat(self.owner, now):
                self.lost = True
                return False
            self._next = due + HEARTBEAT_EVERY
            return True
        finally:
            self._lock.release()


def run_once(config_path: Path, environ: Mapping[str, str],
             clock: Callable[[], datetime] = utc_now) -> list[PublishResult]:
    """Publish everything due now and return (for cron or a systemd timer)."""
    owner = owner_name()
    with Workspace(config_path, environ, clock=clock) as ws:
        now = clock()
        if not ws.store.acquire_daemon_lock(owner, now):
            raise AlreadyRunning(ws.store.lock_holder())
        try:
            _hold_file(ws, owner, now)
            publisher = Publisher(ws, may_publish=Heartbeat(ws.store, owner).fresh)
            housekeeping.recover(publisher, now)
            items = housekeeping.sync(ws, now)
            housekeeping.recheck_flagged(publisher, now)
            done = housekeeping.catch_up(publisher, now, items)
            housekeeping.alert_unapproved(ws, now)
            housekeeping.settle_undecided(ws, now)
            tell_approvers(ws, now)
            return done
        finally:
            ws.store.release_daemon_lock(owner)


class Daemon:
    """The long-running scheduler process."""

    def __init__(self, config_path: Path, environ: Mapping[str, str], *,
                 clock: Callable[[], datetime] = utc_now, stop: threading.Event | None = None,
                 standby: bool = False):
        self.owner = owner_name()
        self.standby = standby  # wait for the lock instead of exiting when it is held
        self.clock = clock
        self.stop = stop or threading.Event()
        self.ws = Workspace(config_path, environ, clock=clock)
        self.heartbeat = Heartbeat(self.ws.store, self.owner)
        self.publisher = Publisher(self.ws, retry=self._retry, may_publish=self.heartbeat.fresh)
        self.scheduler = None

    def _retry(self, item: Item, at: datetime) -> None:
        if self.scheduler is not None:
            schedule_retry(self.scheduler, self.ws.config_path, item.id, at)

    def start(self) -> None:
        """Take the lock, settle interrupted work, catch up, and schedule every future item."""
        ws = self.ws
        now = self.clock()
        if not ws.store.acquire_daemon_lock(self.owner, now):
            if not self.standby:
                raise AlreadyRunning(ws.store.lock_holder())
            if not ws.store.lock.wait(self.owner, self.clock, self.stop,
                                      ws.catalog.settings.watch_seconds, _standing_by):
                return  # stopped while standing by
            log.warning("standby: took the daemon lock over; starting")
            now = self.clock()
            ws.reload(now)  # the files may have changed while it stood by
        _hold_file(ws, self.owner, now)
        PUBLISHERS[ws.config_path] = self.publisher
        settings = ws.catalog.settings
        self.scheduler = make_scheduler(ws.store.engine, ws.config.tz, workers=settings.workers,
                                        grace_seconds=settings.grace_minutes * 60)
        self.scheduler.add_listener(self._missed, EVENT_JOB_MISSED)
        self.scheduler.start(paused=True)
        recovered = housekeeping.recover(self.publisher, now)
        if recovered:
            log.warning("settled %d publication(s) interrupted by a crash", len(recovered))
        # What fell due while nothing ran is handled here, once, rather than by stale jobs.
        for job in self.scheduler.get_jobs():
            if job.next_run_time is not None and job.next_run_time <= now:
                self.scheduler.remove_job(job.id)
        items = housekeeping.sync(ws, now)
        for result in housekeeping.catch_up(self.publisher, now, items):
            log.info("catch-up: %s: %s", result.item_id, result)
        result = reconcile(self.scheduler, items, ws.config_path, now, ws.catalog.run_at)
        log.info("scheduled: %s", result)
        housekeeping.recheck_flagged(self.publisher, now)
        tell_approvers(ws, now)
        log.info("prepared %d item(s) due within %s", self.publisher.prepare(now), PREPARE_AHEAD)
        self.scheduler.add_job(
            COLLECT_FUNC, "interval", minutes=ws.config.settings.metrics.every_minutes,
            args=[ws.config_path], id=COLLECT_JOB, replace_existing=True, coalesce=True,
            max_instances=1, misfire_grace_time=300)
        self.scheduler.resume()

    def serve(self) -> None:
        """Watch for edits and keep the lock fresh until stopped (SIGTERM, Ctrl-C)."""
        ws = self.ws
        seen = Fingerprint.of(ws)
        last_unapproved = last_recheck = datetime.min.replace(tzinfo=self.clock().tzinfo)
        last_prepared = self.clock()
        while not self.stop.wait(ws.catalog.settings.watch_seconds):
            now = self.clock()
            changed = ws.store.file_problem()
            if changed is not None:  # deleted or replaced: our connections write to a ghost
                self.heartbeat.lost = True
                error = StoreFileChanged(ws.store.file.path, changed)
                ws.alerts.send("store", f"the store file was {changed}; wst run stopped",
                               str(error), now)
                raise error
            if not ws.store.heartbeat(self.owner, now):
                log.error("the daemon lock was taken over; stopping without publishing more")
                self.heartbeat.lost = True
                break
            current = Fingerprint.of(ws)
            if current != seen:
                seen = current
                if ws.reload(now):
                    self._replan(now)
                    last_prepared = datetime.min.replace(tzinfo=now.tzinfo)  # prepare again now
            if now - last_prepared >= PREPARE_EVERY:
                last_prepared = now
                self.publisher.prepare(now)
            # flagged channels are asked again every 10 watches, at most once a minute
            if now - last_recheck >= min(RECHECK_EVERY,
                                         timedelta(seconds=10 * ws.catalog.settings.watch_seconds)):
                last_recheck = now
                housekeeping.recheck_flagged(self.publisher, now)
            if now - last_unapproved >= UNAPPROVED_EVERY:
                last_unapproved = now
                housekeeping.alert_unapproved(ws, now)
                housekeeping.settle_undecided(ws, now)
                tell_approvers(ws, now)

    def _replan(self, now: datetime) -> None:
        """After an edit: record the new plan and move the jobs to match it."""
        ws = self.ws
        items = housekeeping.sync(ws, now)
        log.info("files changed: %s", reconcile(self.scheduler, items, ws.config_path, now,
                                                ws.catalog.run_at))
        # reconcile only schedules future times: an item added (e.g. `wst post --at`) whose
        # time came before this watch noticed it gets a job now, never none
        due = {ws.key(i): i for i in items if ws.catalog.run_at(i) <= now}
        for entry in ws.ledger.publications.entries(states=[State.PLANNED, State.APPROVED]):
            if entry.key in due:
                self._retry(due[entry.key], now)
        tell_approvers(ws, now)  # a new item, or a new version whose approval the edit voided

    def shutdown(self) -> None:
        """Stop cleanly: let running publications finish, then give the lock up."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        PUBLISHERS.pop(self.ws.config_path, None)
        self.ws.store.release_daemon_lock(self.owner)
        self.ws.close()

    def _missed(self, event: JobExecutionEvent) -> None:
        # APScheduler skipped a job past its grace time: hold it and say so, never drop it.
        for prefix in (PUBLISH_PREFIX, RETRY_PREFIX):
            if event.job_id.startswith(prefix):
                self.publisher.publish(event.job_id[len(prefix):])


def _standing_by(holder: LockHolder | None) -> None:
    where = f"pid {holder.pid} on {holder.host}" if holder else "another daemon"
    log.warning("standby: %s holds the daemon lock; taking over when its heartbeat is stale",
                where)


def _hold_file(ws: Workspace, owner: str, now: datetime) -> None:
    """Hold the OS lock on a SQLite store's file (a process still holding it is a daemon on
    this store that has not noticed yet that its file was replaced)."""
    pid = ws.store.hold_file()
    if pid is not None:
        ws.store.release_daemon_lock(owner)
        raise AlreadyRunning(LockHolder("", pid, ws.store.lock.host, now, now))


def run_daemon(config_path: Path, environ: Mapping[str, str],
               on_ready: Callable[[Daemon], None] | None = None, *, standby: bool = False) -> None:
    """Run until SIGTERM or Ctrl-C (a standby first waits until the lock is free or stale)."""
    daemon = Daemon(config_path, environ, standby=standby)

    def _stop(signum, _frame):
        log.info("signal %s: stopping", signum)
        daemon.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    daemon.start()
    try:
        if daemon.stop.is_set():
            return  # stopped while standing by
        if on_ready:
            on_ready(daemon)
        daemon.serve()
    finally:
        daemon.shutdown()
