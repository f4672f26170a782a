"""A LinkedIn organisation page through LinkedIn's versioned REST API (the Posts API), with requests.

Every call carries `LinkedIn-Version` (the channel's `api_version`, YYYYMM) and
`X-Restli-Protocol-Version: 2.0.0`. A post is `POST /rest/posts`; LinkedIn answers 201 with the
post's URN only in the `x-restli-id` header. An image goes first through the Images API
(`initializeUpload`, then PUT the bytes to the address it gives). A link without an image is an
article card. find() reads the organisation's recent posts (`q=author`) and matches the text.

The text is sent in LinkedIn's "little" text format, where \\ | { } @ [ ] ( ) < > # * _ ~ are
markup: unescaped, LinkedIn cuts the post at the first one and still answers 201. So they are
escaped, except inside links (which must stay whole) and in hashtags (which stay live).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from pipeline.channels.base import (
    Artefact,
    AuthExpired,
    ChannelAdapter,
    Duplicate,
    Publication,
    RateLimited,
    Rejected,
    Transient,
    Unconfirmed,
)
from pipeline.channels.http import Wording, answered_at, send, settle_environment
from pipeline.images import media_type

API = "https://api.linkedin.com"
RESTLI = "2.0.0"
RECENT = 50                           # recent posts find() reads
IMAGE_POLLS = 10                      # bounded wait while LinkedIn processes an uploaded image
IMAGE_POLL_SECONDS = 1.0
SHORT_WAIT = timedelta(minutes=5)     # a 429 that is not the daily limit and names no time
TITLE_MAX = 200                       # an article card's title, cut at a word
PERMISSIONS = ("w_organization_social and r_organization_social (rw_organization_admin for "
               "statistics), and its member needs the ADMINISTRATOR or CONTENT_ADMIN role on "
               "the page")
WORDING = Wording("could not connect to LinkedIn (timed out)", "LinkedIn did not answer in time",
                  "the connection to LinkedIn broke after sending", "could not connect to LinkedIn",
                  "the post may exist")
# Kept as written: links (whole, or they break) and hashtags (so they stay hashtags). A link
# does not take a closing bracket or a full stop after it: "(see https://x.org)."
_VERBATIM = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,;:!?)\]'}]|(?<![\w#&])#\w+")
_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
_HASHTAG_TEMPLATE = re.compile(r"\{hashtag\|\\?#\|([^}]*)\}")
_MENTION = re.compile(r"@\[([^\]]*)\]\([^)]*\)")
_ESCAPED = re.compile(r"\\(.)")


def little(text: str) -> str:
    """`text` in LinkedIn's little text format, shown exactly as written."""
    out, last = [], 0
    for m in _VERBATIM.finditer(text):
        out += [_RESERVED.sub(r"\\\1", text[last:m.start()]), m.group()]
        last = m.end()
    out.append(_RESERVED.sub(r"\\\1", text[last:]))
    return "".join(out)


def plain(commentary: str) -> str:
    """A post's commentary as LinkedIn returns it, back to the text a reader sees."""
    text = _HASHTAG_TEMPLATE.sub(lambda m: "#" + m.group(1), commentary)
    text = _MENTION.sub(lambda m: m.group(1), text)
    return _ESCAPED.sub(r"\1", text)


def post_url(urn: str) -> str:
    """The public address of a post (share or ugcPost URN)."""
    return f"https://www.linkedin.com/feed/update/{urn}/"


class LinkedInAdapter(ChannelAdapter):
    """Posts text, link (article) and image posts as the organisation in settings.account_id."""

    kind = "linkedin"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.base = (self.settings.api_base or API).rstrip("/")
        self._session = settle_environment(requests.Session(), self.base, self.environ)
        self._uploads: dict[str, requests.Session] = {}   # upload host → its session

    # -- the role --------------------------------------------------------------------------

    def publish(self, artefact: Artefact) -> Publication:
        """Upload the image (if any), then create the post once."""
        self.secret("token")   # a missing credential is reported before any request
        body: dict[str, Any] = {
            "author": self.organisation, "commentary": little(artefact.text),
            "visibility": "PUBLIC", "lifecycleState": "PUBLISHED",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "isReshareDisabledByAuthor": False}
        if artefact.image is not None:
            body["content"] = {"media": {"id": self._upload(artefact.image), "altText": artefact.alt}}
        elif artefact.link:
            body["content"] = {"article": {"source": artefact.link, "title": _title(artefact)}}
        response = self._call("POST", "/rest/posts", sending=True, json=body)
        urn = response.headers.get("x-restli-id", "")
        if not urn:
            # Accepted, yet not named: the post may well exist, so ask before anything else.
            raise Unconfirmed(self.name, "LinkedIn accepted the post but gave no id; the post may exist")
        return Publication(urn, post_url(urn))

    def find(self, artefact: Artefact) -> Publication | None:
        """The organisation's recent post whose text is the artefact's, if any."""
        answer = self._call("GET", "/rest/posts", sending=False,
                            params={"q": "author", "author": self.organisation,
                                    "count": RECENT, "sortBy": "LAST_MODIFIED"}).json()
        wanted = artefact.text.strip()
        for post in answer.get("elements") or []:
            if plain(post.get("commentary") or "").strip() == wanted:
                return Publication(str(post["id"]), post_url(str(post["id"])))
        return None

    def check(self) -> None:
        """Ask for an image upload address for the organisation: the cheapest call that needs
        the posting permission, so a token that may read but not post is not taken as fixed.
        Nothing is uploaded or posted (an unused upload address expires by itself)."""
        self._initialise_upload()

    # -- helpers -----------------------------------------------------------------------------

    @property
    def organisation(self) -> str:
        """The organisation's URN, from account_id (its number, or the URN itself)."""
        given = self.settings.account_id.strip()
        if given.isdigit():
            return f"urn:li:organization:{given}"
        if re.fullmatch(r"urn:li:organization:\d+", given):
            return given
        raise Rejected(self.name, "account_id must be the LinkedIn organisation's number (from "
                       "its admin page address, linkedin.com/company/NUMBER/admin)")

    def _initialise_upload(self) -> dict[str, Any]:
        answer = self._call("POST", "/rest/images", sending=False, params={"action": "initializeUpload"},
                            json={"initializeUploadRequest": {"owner": self.organisation}}).json()
        return answer["value"]

    def _upload(self, image: Path) -> str:
        """The Images API: an upload address, the bytes PUT there, then (bounded) until LinkedIn
        says the image is AVAILABLE. An upload is not a post: one that fails leaves at most an
        image nobody uses, so none of it counts as a write."""
        upload = self._initialise_upload()
        urn, url = str(upload["image"]), str(upload["uploadUrl"])
        headers = {"Content-Type": media_type(image)}
        if _same_site(url, self.base):
            headers["Authorization"] = f"Bearer {self.secret('token')}"   # never to another host
        response = send(self._upload_session(url), self.name, "image upload", "PUT", url, write=False,
                        timeout=self.timeout, wording=WORDING, data=image.read_bytes(), headers=headers)
        if response.status_code >= 300:
            self._raise_for(response)
        for poll in range(IMAGE_POLLS + 1):
            status = self._call("GET", f"/rest/images/{quote(urn, safe='')}", sending=False).json()
            state = status.get("status")
            if state == "AVAILABLE":
                return urn
            if state == "PROCESSING_FAILED":
                raise Rejected(self.name, f"LinkedIn could not process {image.name}")
            if poll < IMAGE_POLLS:
                (self.sleep or time.sleep)(IMAGE_POLL_SECONDS)
        raise Transient(self.name, "LinkedIn is still processing the image; try later")

    def _upload_session(self, url: str) -> requests.Session:
        host = urlsplit(url).netloc
        if host not in self._uploads:
            self._uploads[host] = settle_environment(requests.Session(), url, self.environ)
        return self._uploads[host]

    # -- the one place that talks to LinkedIn ------------------------------------------------

    def _call(self, method: str, path: str, *, sending: bool, **kwargs: Any) -> requests.Response:
        """One REST call with LinkedIn's headers; every vendor and transport error becomes ours."""
        token = self.secret("token")
        version = self.settings.api_version.strip()
        if not version:
            raise Rejected(self.name, "api_version (the LinkedIn-Version, YYYYMM) is not set in "
                           "config.toml")
        headers = {"Authorization": f"Bearer {token}", "LinkedIn-Version": version,
                   "X-Restli-Protocol-Version": RESTLI}
        response = send(self._session, self.name, path, method, self.base + path, write=sending,
                        timeout=self.timeout, wording=WORDING, headers=headers, **kwargs)
        if response.status_code < 300:
            return response
        self._raise_for(response)
        raise AssertionError("unreachable")   # _raise_for always raises

    def _raise_for(self, response: requests.Response) -> None:
        """Turn LinkedIn's error answer into ours."""
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        message = str(body.get("message") or response.reason or "no explanation")
        code = body.get("code") or body.get("serviceErrorCode") or ""
        detail = f"{message} (HTTP {response.status_code}{f', {code}' if code else ''})"
        token = self.settings.secret("token", self.environ) or ""
        detail = detail.replace(token, "[token]") if token else detail
        status = response.status_code
        if status == 429:
            raise RateLimited(self.name, _retry_at(response, message, self.now), f"rate limited: {detail}")
        if status == 401:
            raise AuthExpired(self.name, f"LinkedIn refused the token: {detail}; generate a new "
                              f"access token (they last 60 days) with {PERMISSIONS}")
        if status == 403:
            raise AuthExpired(self.name, f"the LinkedIn token lacks a permission: {detail}; the "
                              f"token needs {PERMISSIONS}")
        if status == 422 and "duplicate" in str(body).lower():
            raise Duplicate(self.name, f"LinkedIn already has a post with exactly this text: {detail}")
        if status == 426:
            raise Rejected(self.name, f"LinkedIn no longer serves version "
                           f"{self.settings.api_version}: {detail}; set api_version to a "
                           "current month (YYYYMM)")
        if status >= 500:
            raise Transient(self.name, f"LinkedIn server error: {detail}")
        raise Rejected(self.name, f"LinkedIn refused the request: {detail}")


def _retry_at(response: requests.Response, message: str, now: Callable[[], datetime]) -> datetime:
    """Retry-After (seconds or a date) when LinkedIn sends it; its daily limits reset at
    midnight UTC; any other throttle, a few minutes after it answered."""
    answered = answered_at(response, now)
    after = response.headers.get("Retry-After", "").strip()
    if after.isdigit():
        return answered + timedelta(seconds=int(after))
    if after:
        try:
            return parsedate_to_datetime(after).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    if "DAY" in message:
        return datetime.combine(answered.date() + timedelta(days=1), clock_time(0), tzinfo=UTC)
    return answered + SHORT_WAIT


def _same_site(url: str, base: str) -> bool:
    """Whether `url` is LinkedIn's (or the configured API's own host and port), so it may see
    the token."""
    target = urlsplit(url)
    host = target.hostname or ""
    return (target.netloc == urlsplit(base).netloc or host == "linkedin.com"
            or host.endswith(".linkedin.com")) and target.scheme in ("https", urlsplit(base).scheme)


def _title(artefact: Artefact) -> str:
    """An article card's title: the artefact's own, else the first line of its text with the
    link taken out, cut at a word."""
    lines = (line.replace(artefact.link, "").strip() for line in artefact.text.splitlines())
    title = artefact.title or next((line for line in lines if line), artefact.link)
    if len(title) <= TITLE_MAX:
        return title
    return title[:TITLE_MAX].rsplit(" ", 1)[0] + "…"
