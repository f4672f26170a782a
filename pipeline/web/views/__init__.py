"""The workspace's pages, one blueprint per area. `NAV` is the main navigation, in order; an
area whose blueprint is not registered is simply left out of it."""

from __future__ import annotations

from pipeline.web.views import approvals, assets, calendar, compose, freeze, items

BLUEPRINTS = [assets.blueprint, calendar.blueprint, items.blueprint, approvals.blueprint,
              freeze.blueprint, compose.blueprint]

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
