"""A Mastodon account through the instance's REST API, with requests.

Every status is sent with `Idempotency-Key: artefact.idempotency_key`: Mastodon keeps the key
for an hour and answers a repeat with the original status, so even a blind repeat within the
hour would not post twice. find() never relies on that (it would post if the first attempt was
lost): it reads the account's recent statuses and matches the text.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from pipeline.channels.base import (
    Artefact,
    AuthExpired,
    ChannelAdapter,
    Publication,
    RateLimited,
    Rejected,
    Transient,
)
from pipeline.channels.http import Wording, answered_at, send, settle_environment
from pipeline.images import media_type

RATE_PERIOD = timedelta(minutes=5)   # Mastodon's window, when a 429 carries no reset
RECENT = 40                          # the most one page of an account's statuses holds
MEDIA_POLLS = 10                     # bounded wait for an image the instance is still processing
MEDIA_POLL_SECONDS = 1.0
URL = re.compile(r"https?://[^\s<>\"]+")
WORDING = Wording("could not connect to the instance (timed out)", "the instance did not answer in time",
                  "the connection broke after sending", "could not connect to the instance",
                  "the status may exist")


class MastodonAdapter(ChannelAdapter):
    """Posts public statuses to the account whose token is configured."""

    kind = "mastodon"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._session = settle_environment(requests.Session(), self.settings.api_base or "",
                                           self.environ)
        self._limits: tuple[int, int] | None = None     # (max characters, characters per URL)
        self._account_id = ""

    # -- the role --------------------------------------------------------------------------

    def publish(self, artefact: Artefact) -> Publication:
        """Check the instance's length limit, upload the image with its alt text, post once."""
        self.secret("token")   # a missing credential is reported before any request
        limit, per_url = self._instance_limits()
        length = len(URL.sub("x" * per_url, artefact.text))
        if length > limit:
            raise Rejected(self.name, f"the text is {length} characters; this instance allows {limit}")
        fields: dict[str, Any] = {"status": artefact.text, "visibility": "public",
                                  "language": (artefact.language or "en").split("-")[0]}
        if artefact.image is not None:
            fields["media_ids[]"] = [self._upload(artefact.image, artefact.alt)]
        status = self._call("POST", "/api/v1/statuses", sending=True, data=fields,
                            headers={"Idempotency-Key": artefact.idempotency_key}).json()
        return Publication(str(status["id"]), status.get("url") or status.get("uri", ""))

    def find(self, artefact: Artefact) -> Publication | None:
        """The account's recent status whose text is the artefact's, if any."""
        statuses = self._call("GET", f"/api/v1/accounts/{self._me()}/statuses", sending=False,
                              params={"limit": RECENT, "exclude_replies": "true",
                                      "exclude_reblogs": "true"}).json()
        wanted = _squash(artefact.text)
        for status in statuses:
            if _squash(_plain(status.get("content", ""))) == wanted:
                return Publication(str(status["id"]), status.get("url") or status.get("uri", ""))
        return None

    def check(self) -> None:
        """verify_credentials: raises AuthExpired if the token no longer works."""
        self._account_id = ""
        self._me()

    # -- helpers -----------------------------------------------------------------------------

    def _instance_limits(self) -> tuple[int, int]:
        """The instance's (max characters, characters per URL), asked once; config overrides."""
        if self._limits is None:
            statuses = (self._call("GET", "/api/v2/instance", sending=False).json()
                        .get("configuration", {}).get("statuses", {}))
            self._limits = (int(statuses.get("max_characters", 500)),
                            int(statuses.get("characters_reserved_per_url", 23)))
        if self.settings.max_characters:
            return self.settings.max_characters, self._limits[1]
        return self._limits

    def _me(self) -> str:
        if not self._account_id:
            answer = self._call("GET", "/api/v1/accounts/verify_credentials", sending=False).json()
            self._account_id = str(answer["id"])
        return self._account_id

    def _upload(self, image: Path, alt: str) -> str:
        """POST /api/v2/media with the alt text; waits (bounded) while the instance processes it."""
        mime = media_type(image)
        # A lost upload leaves at most an unattached file the instance cleans up: not a post.
        response = self._call("POST", "/api/v2/media", sending=False, data={"description": alt},
                              files={"file": (image.name, image.read_bytes(), mime)})
        media = response.json()
        polls = 0
        while response.status_code in (202, 206) or media.get("url") is None:
            if polls >= MEDIA_POLLS:
                raise Transient(self.name, "the instance is still processing the image; try later")
            polls += 1
            (self.sleep or time.sleep)(MEDIA_POLL_SECONDS)
            response = self._call("GET", f"/api/v1/media/{media['id']}", sending=False)
            media = response.json()
        return str(media["id"])

    def _call(self, method: str, path: str, *, sending: bool, headers: dict[str, str] | None = None,
              **kwargs: Any) -> requests.Response:
        """One request to the instance; every vendor and transport error becomes ours here."""
        token = self.secret("token")
        base = self.settings.api_base.rstrip("/")
        if not base:
            raise Rejected(self.name, "api_base (the instance address) is not set in config.toml")
        response = send(self._session, self.name, path, method, base + path, write=sending,
                        timeout=self.timeout, wording=WORDING,
                        headers={"Authorization": f"Bearer {token}", **(headers or {})}, **kwargs)
        status = response.status_code
        if status < 300:
            return response
        detail = f"{_message(response)} (HTTP {status})"
        if status == 429:
            raise RateLimited(self.name, _reset_at(response, self.now), f"rate limited: {detail}")
        if status == 401 or (status == 403 and "scope" in detail.lower()):
            raise AuthExpired(self.name, f"the instance refused the token: {detail}; "
                              "create a new access token with write:statuses and write:media")
        if status >= 500:
            raise Transient(self.name, f"instance error: {detail}")
        raise Rejected(self.name, f"the instance refused the request: {detail}")


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or "no explanation"
    return str(body.get("error") or response.reason) if isinstance(body, dict) else response.reason


def _reset_at(response: requests.Response, now: Callable[[], datetime]) -> datetime:
    """X-RateLimit-Reset (ISO 8601), else a window after the instance answered."""
    try:
        return datetime.fromisoformat(response.headers["X-RateLimit-Reset"]).astimezone(UTC)
    except (KeyError, ValueError):
        pass
    return answered_at(response, now) + RATE_PERIOD


def _plain(content: str) -> str:
    """A status's HTML back to its text: Mastodon's invisible link spans hold the full URLs."""
    text = re.sub(r"<br\s*/?>", "\n", content)
    text = re.sub(r"</p>\s*<p>", "\n\n", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _squash(text: str) -> str:
    return " ".join(text.split())
