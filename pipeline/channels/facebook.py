"""A Facebook Page through the Graph API (versioned paths), with requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import requests

from pipeline.channels.base import (
    Artefact,
    AuthExpired,
    ChannelAdapter,
    ChannelError,
    Publication,
    RateLimited,
    Rejected,
    Transient,
)
from pipeline.channels.http import Wording, send, settle_environment

GRAPH = "https://graph.facebook.com"
RATE_CODES = frozenset({4, 17, 32, 613, 80001})   # app, user, page, custom and Page-BUC limits
TRANSIENT_CODES = frozenset({1, 2})               # "unknown" and "temporary" API errors
RATE_FALLBACK = timedelta(hours=1)                # Meta gives no reset time unless BUC says so
RECENT = 100                                      # the most one feed page holds
WORDING = Wording("could not connect to Facebook (timed out)", "Facebook did not answer in time",
                  "the connection to Facebook broke after sending", "could not connect to Facebook",
                  "the post may exist")
MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}


class FacebookAdapter(ChannelAdapter):
    """Posts to the Page in settings.account_id (or the token's own Page when empty)."""

    kind = "facebook"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._session = settle_environment(requests.Session(), self.settings.api_base or GRAPH)

    # -- the role --------------------------------------------------------------------------

    def publish(self, artefact: Artefact) -> Publication:
        """A feed post with message and link, or a photo post with caption and alt text."""
        if artefact.image is None:
            fields = {"message": artefact.text}
            if artefact.link:
                fields["link"] = artefact.link
            answer = self._call("POST", f"{self._page}/feed", sending=True, data=fields)
            post_id = str(answer["id"])
        else:
            answer = self._call("POST", f"{self._page}/photos", sending=True,
                                data={"caption": artefact.text, "alt_text_custom": artefact.alt},
                                files={"source": _file(artefact.image)})
            # The photo's post (not the photo) is what the feed lists and find() matches.
            post_id = str(answer.get("post_id") or answer["id"])
        return Publication(post_id, _url(post_id), extra={"photo_id": answer.get("id")}
                           if artefact.image else {})

    def find(self, artefact: Artefact) -> Publication | None:
        """The Page's recent post whose message is exactly the artefact's text, if any."""
        answer = self._call("GET", f"{self._page}/feed", sending=False,
                            params={"fields": "message,created_time", "limit": RECENT})
        for post in answer.get("data", []):
            if post.get("message", "").strip() == artefact.text.strip():
                return Publication(str(post["id"]), _url(str(post["id"])))
        return None

    def check(self) -> None:
        """Read the Page's name with the token: raises AuthExpired if the token is bad."""
        self._call("GET", self._page, sending=False, params={"fields": "id,name"})

    # -- the one place that talks to Graph ---------------------------------------------------

    @property
    def _page(self) -> str:
        # A Page access token's "me" is the Page itself.
        return self.settings.account_id or "me"

    def _call(self, method: str, path: str, *, sending: bool, params: dict[str, Any] | None = None,
              data: dict[str, Any] | None = None, files: dict[str, Any] | None = None) -> dict[str, Any]:
        """One Graph request; every vendor and transport error becomes ours here."""
        token = self.secret("token")
        base = (self.settings.api_base or GRAPH).rstrip("/")
        version = self.settings.api_version.strip("/")
        url = f"{base}/{version}/{path}" if version else f"{base}/{path}"
        headers: dict[str, str] = {}
        if method == "GET":
            # In a header, not the query string, so the token never sits in a URL that an
            # exception message, proxy log or traceback might print.
            headers["Authorization"] = f"OAuth {token}"
        else:
            data = {**(data or {}), "access_token": token}
        response = send(self._session, self.name, path, method, url, write=sending, timeout=self.timeout,
                        wording=WORDING, params=params, data=data, files=files, headers=headers)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.ok and isinstance(body, dict):
            return body
        raise _graph_error(self.name, response, body, "request")


def _graph_error(channel: str, response: requests.Response, body: Any, what: str) -> ChannelError:
    """Our error for a failed Graph answer (shared with the metrics source); `what` was refused."""
    error = body.get("error", {}) if isinstance(body, dict) else {}
    code = error.get("code")
    detail = (f"{error.get('message') or response.reason} "
              f"(HTTP {response.status_code}, code {code}, subcode {error.get('error_subcode')})")
    if code == 190 or response.status_code == 401:
        return AuthExpired(channel, f"the Page token no longer works: {detail}; "
                           "generate a new Page access token")
    if code in RATE_CODES:
        return RateLimited(channel, _retry_at(response), f"rate limited: {detail}")
    if response.status_code >= 500 or code in TRANSIENT_CODES or error.get("is_transient"):
        return Transient(channel, f"Facebook server error: {detail}")
    return Rejected(channel, f"Facebook refused the {what}: {detail}")


def _retry_at(response: requests.Response) -> datetime:
    """When Meta says access returns (Business Use Case header), else an hour after it answered."""
    answered = _answered_at(response)
    minutes = 0
    try:
        usage = json.loads(response.headers.get("x-business-use-case-usage", "{}"))
        for entries in usage.values():
            for entry in entries:
                minutes = max(minutes, int(entry.get("estimated_time_to_regain_access") or 0))
    except (ValueError, TypeError, AttributeError):
        minutes = 0  # a garbled header is no reason to lose the rate limit itself
    return answered + (timedelta(minutes=minutes) if minutes > 0 else RATE_FALLBACK)


def _answered_at(response: requests.Response) -> datetime:
    """When Graph answered (its Date header), so the adapter reads no clock of its own."""
    try:
        return parsedate_to_datetime(response.headers["Date"]).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return datetime.now(UTC)


def _file(image: Path) -> tuple[str, bytes, str]:
    return image.name, image.read_bytes(), MIME.get(image.suffix.lower(), "application/octet-stream")


def _url(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"
