"""Mailchimp campaign reports: one GET /reports/{campaign_id} per bulletin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import requests

from pipeline.channels.mailchimp import MailchimpAdapter
from pipeline.metrics.base import DERIVED, CollectResult, MetricSource, Ref
from pipeline.metrics.snapshots import Snapshot

API_VERSION = "3.0"
# Report fields kept, as Mailchimp names them (nested ones dotted).
FIELDS = (
    "emails_sent", "unsubscribed", "abuse_reports",
    "opens.opens_total", "opens.unique_opens", "opens.open_rate",
    "opens.proxy_excluded_opens", "opens.proxy_excluded_unique_opens",
    "opens.proxy_excluded_open_rate",
    "clicks.clicks_total", "clicks.unique_clicks", "clicks.unique_subscriber_clicks",
    "clicks.click_rate",
    "bounces.hard_bounces", "bounces.soft_bounces", "bounces.syntax_errors",
)
# Apple Mail Privacy Protection opens every email it delivers, so the proxy-excluded opens are
# the measure wherever Mailchimp reports them; the plain ones are the fallback.
PREFERRED = {
    "unique_opens": ("opens.proxy_excluded_unique_opens", "opens.unique_opens"),
    "open_rate": ("opens.proxy_excluded_open_rate", "opens.open_rate"),
    # People who clicked (not links clicked per person): what click_rate is a rate of.
    "unique_clicks": ("clicks.unique_subscriber_clicks", "clicks.unique_clicks"),
    "click_rate": ("clicks.click_rate",),
    "unsubscribes": ("unsubscribed",),
}
BOUNCES = ("bounces.hard_bounces", "bounces.soft_bounces", "bounces.syntax_errors")


class MailchimpSource(MetricSource):
    """The campaign report, through the adapter's key handling and error mapping."""

    kind = "mailchimp"
    batch_size = 1

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._adapter = self.adapter(MailchimpAdapter, http=self.counted(requests.Session()))

    @property
    def api_version(self) -> str:
        """Mailchimp Marketing API 3.0."""
        return API_VERSION

    def collect(self, refs: list[Ref], now: datetime) -> CollectResult:
        """One report per campaign; a 429 or a dead key ends the round for this account."""
        self._now = now
        return self.one_call_each(
            refs, now,
            lambda ref: self._adapter._request("GET", f"/reports/{ref.remote_id}", write=False),
            self._report, "no report")

    def _report(self, ref: Ref, report: dict[str, Any], now: datetime) -> list[Snapshot]:
        values = {name: _dig(report, name) for name in FIELDS}
        measures: dict[str, str] = {}
        for measure, candidates in PREFERRED.items():
            chosen = next((c for c in candidates if isinstance(values.get(c), int | float)), None)
            if chosen is not None:
                measures[chosen] = measure
        out = [self.snapshot(ref, name, measures.get(name), value, now)
               for name, value in values.items() if value is not None]
        bounce_parts = [values[b] for b in BOUNCES if isinstance(values.get(b), int | float)]
        bounces = sum(bounce_parts) if bounce_parts else None
        if bounces is not None:
            out.append(self.snapshot(ref, DERIVED + "bounces", "bounces", bounces, now))
        sent = values.get("emails_sent")
        if isinstance(sent, int | float):
            out.append(self.snapshot(ref, DERIVED + "delivered", "delivered",
                                     sent - (bounces or 0), now))
        return out


def _dig(report: dict[str, Any], dotted: str) -> Any:
    value: Any = report
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
