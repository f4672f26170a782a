"""The scheduler's entry points, referenced by name in the job store (`pipeline.jobs:publish_job`).

A stored job carries only ids, never live objects, so a job finds the running daemon's
publisher through `PUBLISHERS`, keyed by config path: the only process-wide state.
"""

from __future__ import annotations

import logging

from pipeline.publisher import Publisher

log = logging.getLogger("wst.jobs")
PUBLISHERS: dict[str, Publisher] = {}


def publish_job(config_path: str, item_id: str) -> None:
    """APScheduler's entry point: publish one item now (a no-op outside a daemon)."""
    publisher = PUBLISHERS.get(config_path)
    if publisher is None:
        log.error("no running pipeline for %s; %s was not published", config_path, item_id)
        return
    publisher.publish(item_id)
