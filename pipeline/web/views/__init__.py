"""The workspace's pages, one blueprint per area. `NAV` is the main navigation, in order; an
area whose blueprint is not registered is simply left out of it."""

from __future__ import annotations

# report.py adds the evaluation report's pages to the oversight blueprint
from pipeline.web.views import (  # noqa: F401
    approvals,
    assets,
    bulletins,
    calendar,
    compose,
    freeze,
    items,
    oversight,
    report,
    writing,
)

BLUEPRINTS = [assets.blueprint, calendar.blueprint, items.blueprint, approvals.blueprint,
              bulletins.blueprint, freeze.blueprint, compose.blueprint, oversight.blueprint,
              writing.blueprint]

NAV = [
    ("calendar.month", "Calendar"),
    ("approvals.queue", "Approvals"),
    ("freeze.page", "Freeze"),
    ("compose.page", "New post"),
    ("writing.index", "Write"),
    ("bulletins.page", "Bulletin"),
    ("oversight.status", "Status"),
    ("oversight.history", "History"),
    ("oversight.report", "Report"),
]

# Pages that belong under another entry of the navigation than their blueprint's first one.
SECTIONS = {"oversight.audit_trail": "oversight.history"}


def section_of(endpoint: str | None, shown: list[str]) -> str | None:
    """The navigation entry (of those `shown`) that a page belongs under: its own, the one
    SECTIONS names, or else its blueprint's first (the calendar's week and agenda views)."""
    if endpoint is None:
        return None
    if endpoint in shown:
        return endpoint
    if SECTIONS.get(endpoint) in shown:
        return SECTIONS[endpoint]
    area = endpoint.split(".")[0]
    return next((e for e in shown if e.split(".")[0] == area), None)

