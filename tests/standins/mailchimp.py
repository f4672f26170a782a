"""A loopback Mailchimp Marketing API v3: campaigns, content, test sends, schedules, problem+json."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from standins.server import Call, Reply, StandIn

PROBLEM_TYPE = "https://mailchimp.com/developer/marketing/docs/errors/"
# Mailchimp sends no rate headers; the adapter waits this long after a 429 (its RATE_LIMIT_WAIT).
RATE_LIMIT_WAIT = timedelta(seconds=60)
ID = r"(?P<cid>[0-9a-f]{10})"


def problem(status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None) -> Reply:
    """An application/problem+json answer, as Mailchimp gives for every error."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE, "title": title, "status": status, "detail": detail,
                            "instance": str(uuid.uuid4())}
    if errors:
        body["errors"] = errors
    return Reply(status, body, {"Content-Type": "application/problem+json; charset=utf-8"})


def not_found() -> Reply:
    """Mailchimp's 404."""
    return problem(404, "Resource Not Found", "The requested resource could not be found.")


def project(value: Any, include: dict[str, Any] | None, exclude: dict[str, Any] | None) -> Any:
    """Apply Mailchimp's `fields` / `exclude_fields` dot paths to an answer."""
    if isinstance(value, list):
        return [project(v, include, exclude) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, sub in value.items():
        if include is not None and key not in include:
            continue
        sub_include = include.get(key) if include is not None else None
        sub_exclude = exclude.get(key) if exclude is not None else None
        if exclude is not None and key in exclude and not sub_exclude:
            continue
        out[key] = project(sub, sub_include or None, sub_exclude or None)
    return out


def _tree(paths: str | None) -> dict[str, Any] | None:
    if not paths:
        return None
    tree: dict[str, Any] = {}
    for path in paths.split(","):
        node = tree
        for part in path.strip().split("."):
            node = node.setdefault(part, {})
    return tree


class MailchimpStandIn(StandIn):
    """Answers /3.0 like <dc>.api.mailchimp.com for one account and one audience."""

    name = "mailchimp"

    def __init__(self, clock: Callable[[], datetime] | None = None, *,
                 api_key: str = "0123456789abcdef0123456789abcdef-us21", list_id: str = "a1b2c3d4e5"):
        super().__init__(clock)
        self.api_key, self.list_id = api_key, list_id
        self.revoked_keys: list[str] = []                 # keys expire_token() retired
        self.campaigns: dict[str, dict[str, Any]] = {}   # id -> campaign, in creation order
        self.content: dict[str, dict[str, str]] = {}     # id -> {"html", "plain_text"}
        self.tests: dict[str, list[dict[str, Any]]] = {}  # id -> test sends
        self._web_id = 5000
        base = r"/3\.0"
        self.route("GET", base + r"/ping", lambda call: Reply(200, {"health_status": "Everything's Chimpy!"}))
        self.route("GET", base + r"/campaigns", self._list)
        self.route("POST", base + r"/campaigns", self._create)
        self.route("GET", base + rf"/campaigns/{ID}", self._get)
        self.route("PATCH", base + rf"/campaigns/{ID}", self._patch)
        self.route("PUT", base + rf"/campaigns/{ID}/content", self._put_content)
        self.route("POST", base + rf"/campaigns/{ID}/actions/test", self._test)
        self.route("POST", base + rf"/campaigns/{ID}/actions/schedule", self._schedule)
        self.route("POST", base + rf"/campaigns/{ID}/actions/send", self._send)
        # Metrics: a sent campaign's report.
        self.route("GET", base + rf"/reports/{ID}", self._report)
        self.reports: dict[str, dict[str, Any]] = {}   # id -> report figures (overrides)

    # -- what tests read --------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        """The address to put in the channel's api_base."""
        return self.base_url + "/3.0"

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Campaigns that have been scheduled or sent (the published ones)."""
        with self.lock:
            return [c for c in self.campaigns.values() if c["status"] in ("schedule", "sending", "sent")]

    @property
    def create_calls(self) -> list[Call]:
        """Every POST /campaigns (an attempt to create a campaign)."""
        return self.calls_to("POST", r"/3\.0/campaigns")

    @property
    def secrets(self) -> list[str]:
        """Values that must never appear in an adapter's messages: the key, and any it replaced
        (an adapter still holds the revoked one)."""
        with self.lock:
            return [self.api_key, *self.revoked_keys]

    def environ(self, api_key_env: str = "WST_MAILCHIMP_API_KEY") -> dict[str, str]:
        """An environment holding the key under the config's name."""
        return {api_key_env: self.api_key}

    def calls_named(self, method: str, suffix: str) -> list[Call]:
        """Calls with this method whose path ends with `suffix` (e.g. '/actions/schedule')."""
        with self.lock:
            return [c for c in self.calls if c.method == method and c.path.endswith(suffix)]

    # -- fault knobs (the contract suite's names) --------------------------------------------

    @staticmethod
    def _is_release(call: Call) -> bool:
        return call.method == "POST" and call.path.endswith(("/actions/schedule", "/actions/send"))

    def rate_limit(self, times: int = 1) -> datetime:
        """The next `times` calls get 429; Mailchimp names no reset, so this is clock + the adapter's wait."""
        self.answer_next(problem(429, "Too Many Requests",
                                 "You have exceeded the limit of 10 simultaneous connections."), times)
        return self.clock() + RATE_LIMIT_WAIT

    def server_error(self, times: int = 1, status: int = 503) -> None:
        """The next `times` calls fail with a 5xx and change nothing."""
        titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        self.answer_next(problem(status, titles.get(status, "Internal Server Error"),
                                 "An unexpected internal error has occurred. Please contact Support "
                                 "for more information."), times)

    def delay(self, seconds: float, times: int = 1, land: bool = True) -> None:
        """Hold the next `times` schedule/send answers; `land` says whether the action happens."""
        self.delay_next(seconds, times, land, self._is_release)

    def error_reply(self, status: int, message: str) -> Reply:
        """Mailchimp's problem+json with `message` as its detail."""
        return problem(status, "Invalid Resource", message)

    def expire_token(self) -> None:
        """The API key is revoked: every call answers 401 API Key Invalid."""
        with self.lock:
            self.revoked_keys.append(self.api_key)
            self.api_key = "revoked" + secrets.token_hex(12) + "-us21"

    # -- metrics -----------------------------------------------------------------------------

    def add_sent_campaign(self, title: str, *, emails_sent: int = 2241, **report: Any) -> str:
        """A campaign already sent (for metrics tests); `report` overrides report sections."""
        with self.lock:
            cid = secrets.token_hex(5)
            self._web_id += 1
            self.campaigns[cid] = {
                "id": cid, "web_id": self._web_id, "type": "regular", "status": "sent",
                "create_time": self.clock().astimezone(UTC).isoformat(timespec="seconds"),
                "archive_url": f"http://eepurl.com/{cid[:6]}", "emails_sent": emails_sent,
                "send_time": self.clock().astimezone(UTC).isoformat(), "content_type": "html",
                "recipients": {"list_id": self.list_id, "list_is_active": True,
                               "recipient_count": emails_sent},
                "settings": {"title": title, "subject_line": title, "preview_text": "",
                             "from_name": "WST", "reply_to": "wst@example.test"}, "_links": []}
            self.reports[cid] = dict(report)
        return cid

    @property
    def report_calls(self) -> list[Call]:
        """Every GET /reports/{id}."""
        return self.calls_to("GET", r"/3\.0/reports/[0-9a-f]{10}")

    def _report(self, call: Call, cid: str) -> Reply:
        campaign = self.campaigns.get(cid)
        if campaign is None or campaign["status"] not in ("sending", "sent"):
            return not_found()
        sent = int(campaign.get("emails_sent") or 0)
        over = self.reports.get(cid, {})
        report: dict[str, Any] = {
            "id": cid, "campaign_title": campaign["settings"].get("title", ""), "type": "regular",
            "list_id": self.list_id, "list_is_active": True, "list_name": "WST bulletin",
            "subject_line": campaign["settings"].get("subject_line", ""),
            "emails_sent": sent, "abuse_reports": 0, "unsubscribed": 0,
            "send_time": campaign.get("send_time", ""),
            "bounces": {"hard_bounces": 0, "soft_bounces": 0, "syntax_errors": 0},
            "forwards": {"forwards_count": 0, "forwards_opens": 0},
            "opens": {"opens_total": 0, "proxy_excluded_opens": 0, "unique_opens": 0,
                      "proxy_excluded_unique_opens": 0, "open_rate": 0,
                      "proxy_excluded_open_rate": 0, "last_open": ""},
            "clicks": {"clicks_total": 0, "unique_clicks": 0, "unique_subscriber_clicks": 0,
                       "click_rate": 0, "last_click": ""},
            "list_stats": {"sub_rate": 0, "unsub_rate": 0, "open_rate": 0, "click_rate": 0},
            "_links": []}
        for key, value in over.items():
            if isinstance(value, dict) and isinstance(report.get(key), dict):
                report[key] = {**report[key], **value}
            else:
                report[key] = value
        return self._answer(call, report)

    # -- auth --------------------------------------------------------------------------------

    def authorise(self, call: Call) -> Reply | None:
        """HTTP basic auth with any user name and the API key as the password."""
        header = call.headers.get("authorization", "")
        password = ""
        if header.startswith("Basic "):
            try:
                password = base64.b64decode(header[6:]).decode().partition(":")[2]
            except ValueError:
                password = ""
        if password != self.api_key:
            return problem(401, "API Key Invalid", "Your API key may be invalid, or you've attempted "
                                                   "to access the wrong datacenter.")
        return None

    def not_found(self, call: Call) -> Reply:
        """Mailchimp's 404 for an unknown path."""
        return not_found()

    # -- campaigns ---------------------------------------------------------------------------

    def _answer(self, call: Call, body: dict[str, Any]) -> Reply:
        return Reply(200, project(body, _tree(call.arg("fields")), _tree(call.arg("exclude_fields"))))

    def _list(self, call: Call) -> Reply:
        count = min(int(call.arg("count", "10") or 10), 1000)  # the real default is 10
        offset = int(call.arg("offset", "0") or 0)
        items = list(self.campaigns.values())
        if call.arg("status"):
            items = [c for c in items if c["status"] == call.arg("status")]
        if call.arg("sort_dir", "").upper() == "DESC":
            items.reverse()
        return self._answer(call, {"campaigns": items[offset:offset + count], "total_items": len(items),
                                   "_links": []})

    def _create(self, call: Call) -> Reply:
        body = call.json() or {}
        if body.get("type") not in ("regular", "plaintext", "absplit", "rss", "variate"):
            return problem(400, "Invalid Resource", "The resource submitted could not be validated. "
                           "For field-specific details, see the 'errors' array.",
                           [{"field": "type", "message": "Value is not one of the allowed values"}])
        list_id = (body.get("recipients") or {}).get("list_id", "")
        if list_id and list_id != self.list_id:
            return problem(400, "Invalid Resource", "The resource submitted could not be validated. "
                           "For field-specific details, see the 'errors' array.",
                           [{"field": "recipients.list_id", "message": "Invalid List ID"}])
        cid = secrets.token_hex(5)
        self._web_id += 1
        settings = {"subject_line": "", "preview_text": "", "title": "", "from_name": "", "reply_to": "",
                    **(body.get("settings") or {})}
        campaign = {
            "id": cid, "web_id": self._web_id, "type": body["type"],
            "create_time": self.clock().astimezone(UTC).isoformat(timespec="seconds"),
            "archive_url": f"http://eepurl.com/{cid[:6]}",
            "long_archive_url": f"https://us21.campaign-archive.com/?u=wst&id={cid}",
            "status": "save", "emails_sent": 0, "send_time": "", "content_type": "template",
            "recipients": {"list_id": list_id, "list_is_active": True, "recipient_count": 0},
            "settings": settings, "_links": []}
        self.campaigns[cid] = campaign
        return self._answer(call, campaign)

    def _get(self, call: Call, cid: str) -> Reply:
        campaign = self.campaigns.get(cid)
        return self._answer(call, campaign) if campaign else not_found()

    def _patch(self, call: Call, cid: str) -> Reply:
        campaign = self.campaigns.get(cid)
        if campaign is None:
            return not_found()
        if campaign["status"] != "save":
            return problem(400, "Bad Request", "Cannot update a campaign that has been scheduled or sent.")
        campaign["settings"].update((call.json() or {}).get("settings") or {})
        return self._answer(call, campaign)

    def _put_content(self, call: Call, cid: str) -> Reply:
        campaign = self.campaigns.get(cid)
        if campaign is None:
            return not_found()
        if campaign["status"] != "save":
            return problem(400, "Bad Request", "Cannot update content of a campaign that has been "
                                               "scheduled or sent.")
        body = call.json() or {}
        self.content[cid] = {"html": body.get("html", ""), "plain_text": body.get("plain_text", "")}
        campaign["content_type"] = "html"
        return Reply(200, {"plain_text": self.content[cid]["plain_text"], "html": self.content[cid]["html"],
                           "archive_html": self.content[cid]["html"], "_links": []})

    def _not_ready(self, cid: str) -> Reply | None:
        campaign = self.campaigns[cid]
        settings = campaign["settings"]
        ready = (self.content.get(cid, {}).get("html") and settings.get("subject_line")
                 and settings.get("from_name") and settings.get("reply_to")
                 and campaign["recipients"].get("list_id"))
        return None if ready else problem(400, "Bad Request", "Your Campaign is not ready to send.")

    def _test(self, call: Call, cid: str) -> Reply:
        if cid not in self.campaigns:
            return not_found()
        body = call.json() or {}
        if not body.get("test_emails") or body.get("send_type") not in ("html", "plaintext"):
            return problem(400, "Invalid Resource", "The resource submitted could not be validated.")
        refused = self._not_ready(cid)
        if refused:
            return refused
        self.tests.setdefault(cid, []).append(body)
        return Reply(204)

    def _schedule(self, call: Call, cid: str) -> Reply:
        campaign = self.campaigns.get(cid)
        if campaign is None:
            return not_found()
        if campaign["status"] != "save":
            return problem(400, "Bad Request", "This campaign has already been scheduled or sent.")
        raw = (call.json() or {}).get("schedule_time", "")
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)
        except (ValueError, AttributeError, TypeError):
            return problem(400, "Invalid Resource", "The resource submitted could not be validated.",
                           [{"field": "schedule_time", "message": "Data did not match any of the schemas"}])
        if when.minute % 15 or when.second or when.microsecond:
            return problem(400, "Invalid Resource", "Schedule time must be on the quarter-hour "
                                                    "(:00, :15, :30, :45).")
        if when <= self.clock():
            return problem(400, "Invalid Resource", "This campaign cannot be scheduled in the past.")
        refused = self._not_ready(cid)
        if refused:
            return refused
        campaign.update(status="schedule", send_time=when.isoformat())
        return Reply(204)

    def _send(self, call: Call, cid: str) -> Reply:
        campaign = self.campaigns.get(cid)
        if campaign is None:
            return not_found()
        if campaign["status"] != "save":
            return problem(400, "Bad Request", "This campaign has already been scheduled or sent.")
        refused = self._not_ready(cid)
        if refused:
            return refused
        # The real service passes through "sending"; the stand-in finishes at once.
        campaign.update(status="sent", send_time=self.clock().astimezone(UTC).isoformat(),
                        emails_sent=2241)
        return Reply(204)
