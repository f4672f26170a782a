"""The workspace's pages, one blueprint per area. `NAV` is the main navigation, in order; an
area whose blueprint is not registered is simply left out of it."""

from __future__ import annotations

# report.py adds the evaluation report's pages to the oversight blueprint
from pipeline.web.views import approvals, assets, bulletins, calendar, items, oversight, report  # noqa: F401

BLUEPRINTS = [assets.blueprint, calendar.blueprint, items.blueprint, approvals.blueprint,
              bulletins.blueprint, oversight.blueprint]

NAV = [
    ("calendar.month", "Calendar"),
    ("approvals.queue", "Approvals"),
    ("freeze.page", "Freeze"),
    ("compose.page", "New post"),
    ("bulletins.page", "Bulletin"),
    ("oversight.status", "Status"),
    ("oversight.history", "History"),
    ("oversight.report", "Report"),
]
