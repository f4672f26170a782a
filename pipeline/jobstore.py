"""APScheduler's SQLAlchemy job store, with the removal of fired one-off jobs done in one go.

When many publications fall due at once, APScheduler hands each due job to a worker and then
deletes it from the store, one write transaction per job, on its single scheduling thread. Every
one of those deletes queued for the store's write lock behind the workers' own ledger writes, so
the last jobs of a burst were handed out only after every delete before them had waited its
turn (in the 500-item benchmark this alone cost about a tenth of the p99 lateness). Here the
deletes of the jobs just handed out are gathered and made in ONE transaction when APScheduler
next asks the store anything (it asks for the next run time at the end of the same round).

Why this is safe: a fired job whose delete is still pending is at worst run a second time (after
a crash in the few milliseconds before the batch commits), and publishing an item is idempotent
by the ledger (a published or publishing row is never sent again). Every other method reads or
writes only after the pending deletes are made, so nobody sees a job that was already handed out.
"""

from __future__ import annotations

import logging
import threading

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

log = logging.getLogger(__name__)

# SQLite allows 32,766 bound parameters; stay far below it per statement.
DELETE_CHUNK = 500


class BatchingJobStore(SQLAlchemyJobStore):
    """Defers the removal of the jobs `get_due_jobs` just returned and removes them together."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lock = threading.RLock()
        self._due_ids: set[str] = set()   # returned by the last get_due_jobs: known to exist
        self._doomed: list[str] = []      # fired, to be deleted at the next flush

    def flush(self) -> None:
        """Delete the fired jobs whose removal was deferred (one transaction)."""
        with self._lock:
            if not self._doomed:
                return
            doomed = self._doomed
            with self.engine.begin() as conn:
                for start in range(0, len(doomed), DELETE_CHUNK):
                    chunk = doomed[start:start + DELETE_CHUNK]
                    conn.execute(self.jobs_t.delete().where(self.jobs_t.c.id.in_(chunk)))
            self._doomed = []

    def get_due_jobs(self, now):
        with self._lock:
            self.flush()
            jobs = super().get_due_jobs(now)
            self._due_ids = {job.id for job in jobs}
            return jobs

    def remove_job(self, job_id):
        with self._lock:
            if job_id in self._due_ids:
                # a job just handed out: it exists (the scheduler holds its job-store lock for
                # the whole round), so the delete can wait for the end of the round
                self._due_ids.discard(job_id)
                self._doomed.append(job_id)
                return
            self.flush()
            super().remove_job(job_id)

    def get_next_run_time(self):
        with self._lock:
            self._due_ids = set()
            try:
                self.flush()
            except Exception:
                # Kept for the next flush. Until then the jobs stay in the table; if one is
                # fired again, the ledger refuses to publish an item twice.
                log.warning("could not remove %d fired jobs yet; will retry", len(self._doomed),
                            exc_info=True)
            return super().get_next_run_time()

    def lookup_job(self, job_id):
        with self._lock:
            self.flush()
            return super().lookup_job(job_id)

    def get_all_jobs(self):
        with self._lock:
            self.flush()
            return super().get_all_jobs()

    def add_job(self, job):
        with self._lock:
            self.flush()
            super().add_job(job)

    def update_job(self, job):
        with self._lock:
            self.flush()
            super().update_job(job)

    def remove_all_jobs(self):
        with self._lock:
            self._doomed = []
            self._due_ids = set()
            super().remove_all_jobs()

    def shutdown(self):
        with self._lock:
            try:
                self.flush()
            finally:
                super().shutdown()
