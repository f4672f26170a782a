"""`wst run`: the daemon. One per store; reconciles jobs with the plan whenever the files change."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent

from pipeline.jobs import PREPARE_AHEAD, RUNTIMES, Runtime, utc_now
from pipeline.ledger import APPROVED, PLANNED
from pipeline.scheduler import PUBLISH_PREFIX, RETRY_PREFIX, make_scheduler, reconcile
from pipeline.store import LockHolder, StoreFileChanged

log = logging.getLogger("wst.daemon")
COLLECT_FUNC = "pipeline.metrics.collect:collect_job"
COLLECT_JOB = "collect-metrics"
# Housekeeping that is not urgent runs at most this often.
UNAPPROVED_EVERY = timedelta(hours=1)
RECHECK_EVERY = timedelta(minutes=1)
# Items due soon are prepared again this often (well inside jobs.PREPARE_AHEAD).
PREPARE_EVERY = timedelta(minutes=10)


class AlreadyRunning(Exception):
    """Another daemon holds this store's lock."""

    def __init__(self, holder):
        self.holder = holder
        where = f"pid {holder.pid} on {holder.host}" if holder else "another process"
        super().__init__(f"another `wst run` ({where}) is already publishing from this store; "
                         f"stop it first, or point this one at another store with [store] url")


@dataclass
class Fingerprint:
    """The modification state of everything the plan is made from."""

    value: tuple

    @classmethod
    def of(cls, runtime: Runtime) -> Fingerprint:
        config = runtime.config
        paths = [Path(runtime.config_path)]
        for folder in (config.schedules_dir, config.content_dir):
            if folder.is_dir():
                paths += sorted(p for p in folder.rglob("*") if p.is_file())
        stats = []
        for p in paths:
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            stats.append((str(p), st.st_mtime_ns, st.st_size))
        # a reactive post scheduled with `wst post --at` changes the plan too
        return cls((*stats, runtime.reactive.signature()))


def owner_name() -> str:
    """A unique name for this daemon in the lock table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_once(config_path: Path, environ: Mapping[str, str],
             clock: Callable[[], datetime] = utc_now) -> list[str]:
    """Publish everything due now and return (for cron or a systemd timer)."""
    owner = owner_name()
    runtime = Runtime(config_path, environ, clock=clock, owner=owner)
    now = clock()
    if not runtime.store.acquire_daemon_lock(owner, now):
        raise AlreadyRunning(runtime.store.lock_holder())
    try:
        _hold_file(runtime, owner, now)
        runtime.recover(now)
        items = runtime.sync(now)
        runtime.recheck_flagged(now)
        done = runtime.catch_up(now, items)
        runtime.alert_unapproved(now)
        return done
    finally:
        runtime.store.release_daemon_lock(owner)


class Daemon:
    """The long-running scheduler process."""

    def __init__(self, config_path: Path, environ: Mapping[str, str], *,
                 clock: Callable[[], datetime] = utc_now, stop: threading.Event | None = None,
                 standby: bool = False):
        self.owner = owner_name()
        self.standby = standby  # wait for the lock instead of exiting when it is held
        self.clock = clock
        self.stop = stop or threading.Event()
        self.runtime = Runtime(config_path, environ, clock=clock, owner=self.owner)
        self.scheduler = None

    def start(self) -> None:
        """Take the lock, settle interrupted work, catch up, and schedule every future item."""
        runtime = self.runtime
        now = self.clock()
        if not runtime.store.acquire_daemon_lock(self.owner, now):
            if not self.standby:
                raise AlreadyRunning(runtime.store.lock_holder())
            if not runtime.store.lock.wait(self.owner, self.clock, self.stop,
                                           runtime.settings.watch_seconds, _standing_by):
                return  # stopped while standing by
            log.warning("standby: took the daemon lock over; starting")
            runtime.reload()  # the files may have changed while it stood by
            now = self.clock()
        _hold_file(runtime, self.owner, now)
        RUNTIMES[runtime.config_path] = runtime
        settings = runtime.settings
        self.scheduler = make_scheduler(runtime.store.engine, runtime.config.tz,
                                        workers=settings.workers,
                                        grace_seconds=settings.grace_minutes * 60)
        self.scheduler.add_listener(self._missed, EVENT_JOB_MISSED)
        self.scheduler.start(paused=True)
        runtime.scheduler = self.scheduler
        recovered = runtime.recover(now)
        if recovered:
            log.warning("settled %d publication(s) interrupted by a crash", len(recovered))
        # What fell due while nothing ran is handled here, once, rather than by stale jobs.
        for job in self.scheduler.get_jobs():
            if job.next_run_time is not None and job.next_run_time <= now:
                self.scheduler.remove_job(job.id)
        items = runtime.sync(now)
        for line in runtime.catch_up(now, items):
            log.info("catch-up: %s", line)
        result = reconcile(self.scheduler, items, runtime.config_path, now, runtime.run_at)
        log.info("scheduled: %s", result)
        runtime.recheck_flagged(now)
        log.info("prepared %d item(s) due within %s", runtime.prepare(now), PREPARE_AHEAD)
        self.scheduler.add_job(
            COLLECT_FUNC, "interval", minutes=runtime.config.settings.metrics.every_minutes,
            args=[runtime.config_path], id=COLLECT_JOB, replace_existing=True, coalesce=True,
            max_instances=1, misfire_grace_time=300)
        self.scheduler.resume()

    def serve(self) -> None:
        """Watch for edits and keep the lock fresh until stopped (SIGTERM, Ctrl-C)."""
        runtime = self.runtime
        seen = Fingerprint.of(runtime)
        last_unapproved = last_recheck = datetime.min.replace(tzinfo=self.clock().tzinfo)
        last_prepared = self.clock()
        while not self.stop.wait(runtime.settings.watch_seconds):
            now = self.clock()
            changed = runtime.store.file_problem()
            if changed is not None:  # deleted or replaced: our connections write to a ghost
                runtime.lock_lost = True
                error = StoreFileChanged(runtime.store.file.path, changed)
                runtime.alerts.send("store", f"the store file was {changed}; wst run stopped",
                                    str(error), now)
                raise error
            if not runtime.store.heartbeat(self.owner, now):
                log.error("the daemon lock was taken over; stopping without publishing more")
                runtime.lock_lost = True
                break
            current = Fingerprint.of(runtime)
            if current != seen:
                seen = current
                if runtime.reload():
                    items = runtime.sync(now)
                    log.info("files changed: %s", reconcile(self.scheduler, items,
                                                            runtime.config_path, now, runtime.run_at))
                    # reconcile only schedules future times: an item added (e.g. `wst post --at`)
                    # whose time came before this watch noticed it gets a job now, never none
                    due = {runtime.key(i): i for i in items if runtime.run_at(i) <= now}
                    for entry in runtime.ledger.entries(states=[PLANNED, APPROVED]):
                        if entry.key in due:
                            runtime._retry(due[entry.key], now)
                    last_prepared = datetime.min.replace(tzinfo=now.tzinfo)  # prepare again now
            if now - last_prepared >= PREPARE_EVERY:
                last_prepared = now
                runtime.prepare(now)
            # flagged channels are asked again every 10 watches, at most once a minute
            if now - last_recheck >= min(RECHECK_EVERY,
                                         timedelta(seconds=10 * runtime.settings.watch_seconds)):
                last_recheck = now
                runtime.recheck_flagged(now)
            if now - last_unapproved >= UNAPPROVED_EVERY:
                last_unapproved = now
                runtime.alert_unapproved(now)

    def shutdown(self) -> None:
        """Stop cleanly: let running publications finish, then give the lock up."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        RUNTIMES.pop(self.runtime.config_path, None)
        self.runtime.store.release_daemon_lock(self.owner)

    def _missed(self, event: JobExecutionEvent) -> None:
        # APScheduler skipped a job past its grace time: hold it and say so, never drop it.
        for prefix in (PUBLISH_PREFIX, RETRY_PREFIX):
            if event.job_id.startswith(prefix):
                self.runtime.publish(event.job_id[len(prefix):])


def _standing_by(holder: LockHolder | None) -> None:
    where = f"pid {holder.pid} on {holder.host}" if holder else "another daemon"
    log.warning("standby: %s holds the daemon lock; taking over when its heartbeat is stale",
                where)


def _hold_file(runtime: Runtime, owner: str, now: datetime) -> None:
    """Hold the OS lock on a SQLite store's file (a process still holding it is a daemon on
    this store that has not noticed yet that its file was replaced)."""
    pid = runtime.store.hold_file()
    if pid is not None:
        runtime.store.release_daemon_lock(owner)
        raise AlreadyRunning(LockHolder("", pid, runtime.store.lock.host, now, now))


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
