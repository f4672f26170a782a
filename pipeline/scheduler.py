"""APScheduler set-up and reconciliation: the job store holds one job per future item."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from pipeline.plan import Item

PUBLISH_PREFIX = "publish:"
RETRY_PREFIX = "retry:"
PUBLISH_FUNC = "pipeline.jobs:publish_job"
JOBS_TABLE = "apscheduler_jobs"


@dataclass(frozen=True)
class Reconciled:
    """What a reconciliation changed."""

    added: int
    moved: int
    updated: int
    removed: int
    unchanged: int

    def __str__(self) -> str:
        return (f"{self.added} added, {self.moved} moved, {self.updated} updated, "
                f"{self.removed} removed, {self.unchanged} unchanged")


def make_scheduler(engine, timezone, *, workers: int, grace_seconds: int) -> BackgroundScheduler:
    """A scheduler whose jobs live in the store's own database (so a restart loses nothing)."""
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        # APScheduler refuses a grace of 0; publish() applies the real grace rule to a missed job
        job_defaults={"coalesce": True, "misfire_grace_time": max(1, grace_seconds),
                      "max_instances": 1},
        timezone=timezone,
    )


def job_id(item_id: str) -> str:
    """The scheduler job id of an item (explicit, so a job is found again after a restart)."""
    return PUBLISH_PREFIX + item_id


def reconcile(scheduler, items: Iterable[Item], config_path: str, now: datetime,
              run_at: Callable[[Item], datetime] = lambda i: i.due) -> Reconciled:
    """Make the job store hold exactly one job per future item: add, move and remove only
    what changed. Jobs are referenced by name and take only ids as arguments."""
    wanted = {job_id(i.id): (i, run_at(i)) for i in items if run_at(i) > now}
    existing = {job.id: job for job in scheduler.get_jobs()
                if job.id.startswith(PUBLISH_PREFIX)}
    added = moved = updated = removed = unchanged = 0
    for jid in existing:
        if jid not in wanted:
            scheduler.remove_job(jid)
            removed += 1
    for jid, (item, when) in wanted.items():
        args = [config_path, item.id]
        job = existing.get(jid)
        if job is None:
            scheduler.add_job(PUBLISH_FUNC, DateTrigger(when), args=args, id=jid,
                              name=item.title[:120], replace_existing=True)
            added += 1
            continue
        changed = False
        if list(job.args) != args:
            scheduler.modify_job(jid, args=args)
            changed = True
            updated += 1
        if job.next_run_time is None or job.next_run_time != when:
            scheduler.reschedule_job(jid, trigger=DateTrigger(when))
            moved += 1
            changed = True
        if not changed:
            unchanged += 1
    return Reconciled(added, moved, updated, removed, unchanged)


def schedule_retry(scheduler, config_path: str, item_id: str, at: datetime) -> None:
    """A one-off retry of an item at `at` (after a 429 reset or a backoff), replacing any other."""
    scheduler.add_job(PUBLISH_FUNC, DateTrigger(at), args=[config_path, item_id],
                      id=RETRY_PREFIX + item_id, replace_existing=True)
