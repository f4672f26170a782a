"""Mailchimp Marketing API v3: one campaign per bulletin, found again by its title, never created twice."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from pipeline.channels.base import (
    Artefact,
    AuthExpired,
    ChannelAdapter,
    Publication,
    RateLimited,
    Rejected,
    Setup,
    Transient,
)
from pipeline.channels.http import send, settle_environment

# Mailchimp sends no rate headers (platforms.md): after a 429 wait this long before trying again.
RATE_LIMIT_WAIT = timedelta(seconds=60)
# The most campaigns one list call may return (Mailchimp caps `count` at 1000).
PAGE_SIZE = 1000
# Statuses in which the campaign is out of our hands: published, as far as the ledger cares.
DONE_STATUSES = frozenset({"schedule", "sending", "sent"})
_FIELDS = ",".join(["total_items", *(f"campaigns.{f}" for f in (
    "id", "web_id", "status", "settings.title", "settings.subject_line", "settings.preview_text",
    "settings.from_name", "settings.reply_to", "archive_url", "send_time"))])
_KEY_DC = re.compile(r"-([a-z]+[0-9]+)$")


def quarter_hour_up(moment: datetime) -> datetime:
    """`moment` in UTC rounded up to the next :00/:15/:30/:45 (a quarter hour already stays)."""
    moment = moment.astimezone(UTC)
    start = moment.replace(minute=0, second=0, microsecond=0)
    quarters = math.ceil((moment - start) / timedelta(minutes=15))
    return start + quarters * timedelta(minutes=15)


def base_from_key(api_key: str) -> str:
    """The API base for a key ending in its data centre, e.g. '…-us21' → https://us21.api.mailchimp.com/3.0."""
    match = _KEY_DC.search(api_key)
    return f"https://{match.group(1)}.api.mailchimp.com/3.0" if match else ""


class MailchimpAdapter(ChannelAdapter):
    """Creates, fills, test-sends and schedules (or sends) one Mailchimp campaign per bulletin."""

    kind = "mailchimp"

    def __init__(self, name: str, settings: Any, environ: Mapping[str, str], *,
                 now: Callable[[], datetime], timeout: float = 120.0,
                 sleep: Callable[[float], None] | None = None, http: requests.Session | None = None):
        # 120 s is Mailchimp's own request timeout: waiting longer cannot help.
        super().__init__(name, settings, environ, now=now, timeout=timeout, sleep=sleep)
        self.http = http or requests.Session()

    @classmethod
    def settled(cls, settings: Any, setup: Setup) -> Any:
        """The business unit queues the bulletin, so it gets the test send unless config
        names who does."""
        if settings.test_recipients:
            return settings
        unit = [p.email for p in setup.config.settings.people.values()
                if "business-unit" in p.roles and p.email]
        return settings.model_copy(update={"test_recipients": unit})

    # -- the ChannelAdapter role ---------------------------------------------------------------

    def publish(self, artefact: Artefact) -> Publication:
        """Find or create the campaign by title, fill it, test it, then schedule or send it once."""
        campaign = self._draft(artefact)
        if campaign["status"] in DONE_STATUSES:
            return self._publication(campaign)
        cid = campaign["id"]
        if self.settings.test_recipients:
            self._request("POST", f"/campaigns/{cid}/actions/test", write=True,
                          json={"test_emails": list(self.settings.test_recipients), "send_type": "html"})
        now = self.now()
        if artefact.send_at is None or artefact.send_at <= now:
            self._request("POST", f"/campaigns/{cid}/actions/send", write=True)
            status, when = "sending", now
        else:
            when = quarter_hour_up(artefact.send_at)
            self._request("POST", f"/campaigns/{cid}/actions/schedule", write=True,
                          json={"schedule_time": when.isoformat()})
            status = "schedule"
        return self._publication({**campaign, "status": status, "send_time": when.isoformat()})

    def test_send(self, artefact: Artefact, recipients: Sequence[str]) -> str:
        """Mailchimp's own test email of the campaign draft, filled with this version; the draft
        stays a draft (publication later fills and schedules the same campaign)."""
        campaign = self._draft(artefact)
        if campaign["status"] in DONE_STATUSES:
            raise Rejected(self.name, f"campaign {_title(artefact)!r} is already "
                                      f"{campaign['status']!r} in Mailchimp; a test send can no "
                                      f"longer change what goes out")
        self._request("POST", f"/campaigns/{campaign['id']}/actions/test", write=True,
                      json={"test_emails": list(recipients), "send_type": "html"})
        return f"Mailchimp test email of campaign {campaign['id']}"

    def _draft(self, artefact: Artefact) -> dict[str, Any]:
        """The bulletin's campaign, found by title or created, with this version's settings and
        content; one already scheduled, sending or sent is returned untouched."""
        if artefact.kind != "bulletin":
            raise Rejected(self.name, f"Mailchimp sends bulletins, not a {artefact.kind!r}")
        title = _title(artefact)
        campaign = self._campaign_titled(title)
        if campaign is not None and campaign["status"] in DONE_STATUSES:
            return campaign
        if campaign is not None and campaign["status"] != "save":
            raise Rejected(self.name, f"campaign {title!r} is {campaign['status']!r}; "
                                      "a person must decide what happens to it in Mailchimp")
        wanted = self._campaign_settings(artefact, title)
        if campaign is None:
            campaign = self._request("POST", "/campaigns", write=True, json={
                "type": "regular", "recipients": {"list_id": self.settings.account_id},
                "settings": wanted})
        elif any(campaign.get("settings", {}).get(k) != v for k, v in wanted.items()):
            # A draft left by an interrupted run may hold an older subject: bring it up to date.
            campaign = self._request("PATCH", f"/campaigns/{campaign['id']}", write=True,
                                     json={"settings": wanted})
        self._request("PUT", f"/campaigns/{campaign['id']}/content", write=True,
                      json={"html": artefact.html, "plain_text": artefact.text})
        return campaign

    def find(self, artefact: Artefact) -> Publication | None:
        """The campaign with this bulletin's title, if it is scheduled, sending or sent."""
        campaign = self._campaign_titled(_title(artefact))
        if campaign is None or campaign["status"] not in DONE_STATUSES:
            return None
        return self._publication(campaign)

    def check(self) -> None:
        """GET /ping: the cheapest call that proves the key works."""
        self._request("GET", "/ping", write=False)

    # -- campaigns ---------------------------------------------------------------------------

    def _campaign_titled(self, title: str) -> dict[str, Any] | None:
        """The campaign whose settings.title is `title` (reading every page), or None."""
        matches: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self._request("GET", "/campaigns", write=False, params={
                "count": str(PAGE_SIZE), "offset": str(offset), "fields": _FIELDS,
                "sort_field": "create_time", "sort_dir": "ASC"})
            campaigns = page.get("campaigns", [])
            matches += [c for c in campaigns if c.get("settings", {}).get("title") == title]
            offset += len(campaigns)
            if not campaigns or offset >= int(page.get("total_items", 0)):
                break
        if not matches:
            return None
        # If a person made a second one by hand, the one already going out is the truth.
        done = [c for c in matches if c.get("status") in DONE_STATUSES]
        return (done or matches)[0]

    def _campaign_settings(self, artefact: Artefact, title: str) -> dict[str, str]:
        """The campaign settings this bulletin needs."""
        return {"subject_line": artefact.subject, "preview_text": artefact.preheader, "title": title,
                "from_name": self.settings.from_name, "reply_to": self.settings.reply_to}

    def _publication(self, campaign: dict[str, Any]) -> Publication:
        """Our Publication from a campaign object."""
        return Publication(remote_id=campaign["id"], url=campaign.get("archive_url", ""),
                           extra={"web_id": campaign.get("web_id"), "status": campaign.get("status"),
                                  "send_time": campaign.get("send_time") or ""})

    # -- HTTP, and the one place platform errors become ours -------------------------------------

    def _base(self, api_key: str) -> str:
        base = self.settings.api_base or base_from_key(api_key)
        if not base:
            raise AuthExpired(self.name, "the API key has no data-centre suffix (like -us21) "
                                         "and api_base is empty; set one of them")
        return base.rstrip("/")

    def _request(self, method: str, path: str, *, write: bool, json: dict[str, Any] | None = None,
                 params: dict[str, str] | None = None) -> dict[str, Any]:
        """Send one request with basic auth and return its JSON ({} for 204), or raise."""
        api_key = self.secret("api_key")
        url = self._base(api_key) + path
        if self.http.trust_env:   # the data centre is known once the key is: settle for it
            settle_environment(self.http, url, self.environ)
        action = f"{method} {path}"
        response = send(self.http, self.name, action, method, url, write=write, timeout=self.timeout,
                        auth=("wst", api_key), json=json, params=params,
                        headers={"Accept": "application/json"})
        if response.status_code < 300:
            return response.json() if response.content else {}
        self._raise_for(action, response)
        raise AssertionError("unreachable")  # _raise_for always raises

    def _raise_for(self, action: str, response: requests.Response) -> None:
        """Turn a problem+json answer into our exception."""
        status = response.status_code
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        detail = f"{action}: HTTP {status} {problem.get('title', '')}: {problem.get('detail', '')}"
        errors = problem.get("errors")
        if isinstance(errors, list) and errors:
            detail += " (" + "; ".join(f"{e.get('field', '')}: {e.get('message', '')}"
                                       for e in errors if isinstance(e, dict)) + ")"
        if status in (401, 403):
            raise AuthExpired(self.name, detail)
        if status == 429:
            raise RateLimited(self.name, self.now() + RATE_LIMIT_WAIT, detail)
        if status >= 500:
            raise Transient(self.name, detail)
        raise Rejected(self.name, detail)


def _title(artefact: Artefact) -> str:
    """The campaign title the bulletin is found by."""
    return artefact.title or artefact.item_id

