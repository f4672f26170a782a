"""A Facebook Page through the Graph API (versioned paths), with requests.

The Graph plumbing is shared with Instagram, which goes through the same host: `GraphAdapter`
(the versioned address, the token kept out of URLs, one request method) and `graph_error` (the
one mapping of Graph's error answers to ours), each speaking of its platform through a
`GraphVoice`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

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
from pipeline.channels.http import Wording, answered_at, send, settle_environment
from pipeline.images import media_type

GRAPH = "https://graph.facebook.com"
# app, user, Page, custom, Page business-use-case and Instagram business-use-case limits
RATE_CODES = frozenset({4, 17, 32, 613, 80001, 80002})
RATE_SUBCODES = frozenset({2207042})           # Instagram: the content publishing limit is reached
TRANSIENT_CODES = frozenset({1, 2, -1, -2})    # "unknown", "temporary", Instagram's server errors
# Instagram: server error, download timed out, container expired or not ready, "re-create media"
TRANSIENT_SUBCODES = frozenset({2207001, 2207003, 2207020, 2207027, 2207032})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
RATE_FALLBACK = timedelta(hours=1)             # Meta gives no reset time unless BUC says so
RECENT = 100                                   # the most one feed page holds
WORDING = Wording("could not connect to Facebook (timed out)", "Facebook did not answer in time",
                  "the connection to Facebook broke after sending", "could not connect to Facebook",
                  "the post may exist")


@dataclass(frozen=True)
class GraphVoice:
    """How one Graph product speaks of itself in our messages."""

    platform: str                 # "Facebook", "Instagram"
    token: str                    # what the credential is called
    renew: str                    # the fix for a token that no longer works
    wording: Wording
    # When set, a missing permission flags the channel (AuthExpired) naming what the token
    # needs; when empty, Graph's permission errors refuse only the request (Rejected).
    permissions: str = ""


FACEBOOK = GraphVoice("Facebook", "the Page token", "generate a new Page access token", WORDING)


class GraphAdapter(ChannelAdapter):
    """A channel on the Graph host: versioned paths, the token never in a URL, Graph's errors."""

    voice: ClassVar[GraphVoice] = FACEBOOK

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._session = settle_environment(requests.Session(), self.settings.api_base or GRAPH,
                                           self.environ)

    def _call(self, method: str, path: str, *, sending: bool, params: dict[str, Any] | None = None,
              data: dict[str, Any] | None = None, files: dict[str, Any] | None = None) -> dict[str, Any]:
        """One Graph request's JSON body; see _request."""
        return self._request(method, path, sending=sending, params=params, data=data, files=files)[0]

    def _request(self, method: str, path: str, *, sending: bool, params: dict[str, Any] | None = None,
                 data: dict[str, Any] | None = None, files: dict[str, Any] | None = None
                 ) -> tuple[dict[str, Any], requests.Response]:
        """One Graph request: its JSON body and the answer; every vendor and transport error
        becomes ours here."""
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
                        wording=self.voice.wording, params=params, data=data, files=files,
                        headers=headers)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.ok and isinstance(body, dict):
            return body, response
        raise graph_error(self.name, response, body, "request", self.now, self.voice)


class FacebookAdapter(GraphAdapter):
    """Posts to the Page in settings.account_id (or the token's own Page when empty)."""

    kind = "facebook"

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

    @property
    def _page(self) -> str:
        # A Page access token's "me" is the Page itself.
        return self.settings.account_id or "me"


def graph_error(channel: str, response: requests.Response, body: Any, what: str,
                now: Callable[[], datetime], voice: GraphVoice = FACEBOOK) -> ChannelError:
    """Our error for a failed Graph answer (shared with the metrics sources); `what` was refused;
    `now` is the caller's clock, read only when Graph's answer carries no date.
    Graph may quote the token back: the channel role's one redaction step removes it."""
    error = body.get("error", {}) if isinstance(body, dict) else {}
    code, subcode = error.get("code"), error.get("error_subcode")
    detail = (f"{error.get('message') or response.reason} "
              f"(HTTP {response.status_code}, code {code}, subcode {subcode})")
    if code == 190 or response.status_code == 401:
        return AuthExpired(channel, f"{voice.token} no longer works: {detail}; {voice.renew}")
    if code in RATE_CODES or subcode in RATE_SUBCODES:
        return RateLimited(channel, _retry_at(response, now), f"rate limited: {detail}")
    if voice.permissions and code in PERMISSION_CODES:
        return AuthExpired(channel, f"{voice.token} lacks a permission: {detail}; "
                           f"it needs {voice.permissions}")
    if (response.status_code >= 500 or code in TRANSIENT_CODES or subcode in TRANSIENT_SUBCODES
            or error.get("is_transient")):
        return Transient(channel, f"{voice.platform} server error: {detail}")
    return Rejected(channel, f"{voice.platform} refused the {what}: {detail}")


def _retry_at(response: requests.Response, now: Callable[[], datetime]) -> datetime:
    """When Meta says access returns (Business Use Case header), else an hour after it answered."""
    answered = answered_at(response, now)
    minutes = 0
    try:
        usage = json.loads(response.headers.get("x-business-use-case-usage", "{}"))
        for entries in usage.values():
            for entry in entries:
                minutes = max(minutes, int(entry.get("estimated_time_to_regain_access") or 0))
    except (ValueError, TypeError, AttributeError):
        minutes = 0  # a garbled header is no reason to lose the rate limit itself
    return answered + (timedelta(minutes=minutes) if minutes > 0 else RATE_FALLBACK)


def _file(image: Path) -> tuple[str, bytes, str]:
    return image.name, image.read_bytes(), media_type(image)


def _url(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"
