"""A loopback stand-in for a Mastodon instance's REST API, answering as Mastodon 4.x does.

Statuses come back with HTML `content` (links wrapped in invisible/ellipsis spans, hashtags
linked), not the text as posted; a repeated Idempotency-Key within an hour answers the original
status; errors are {"error": "..."}; X-RateLimit-Reset is an ISO 8601 timestamp.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from standins.server import Call, Reply, StandIn

URL = re.compile(r"https?://[^\s<>\"]+")
HASHTAG = re.compile(r"(?<![\w/])#(\w+)")
IDEMPOTENCY_WINDOW = timedelta(hours=1)
RATE_PERIOD = timedelta(minutes=5)
URL_WEIGHT = 23


def iso(moment: datetime) -> str:
    """Mastodon's timestamp format (Ruby's iso8601(6))."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def error(status: int, message: str) -> Reply:
    """Mastodon's error body."""
    return Reply(status, {"error": message})


class MastodonStandIn(StandIn):
    """One account on one instance, on loopback."""

    name = "mastodon"
    rejects_duplicates = False

    def __init__(self, *, token: str = "mastodon-access-token-TEST", account_id: str = "109000000000000001",
                 username: str = "wst", domain: str = "social.example", max_characters: int = 500,
                 processing_polls: int = 0, clock: Callable[[], datetime] | None = None):
        super().__init__(clock)
        self.token, self.account_id, self.username, self.domain = token, account_id, username, domain
        self.max_characters = max_characters
        self.processing_polls = processing_polls   # GETs of a new media item that answer 206
        self.revoked = False
        self.statuses: list[dict[str, Any]] = []   # newest last; "sent" is the text as posted
        self.media: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, tuple[datetime, str]] = {}
        self._ids = itertools.count(113000000000000001)
        self._window_end = self.clock().replace(microsecond=0) + RATE_PERIOD
        self.route("GET", r"/api/v2/instance", self._instance)
        self.route("GET", r"/api/v1/accounts/verify_credentials", self._verify)
        self.route("GET", r"/api/v1/accounts/(?P<account>\d+)/statuses", self._account_statuses)
        self.route("POST", r"/api/v1/statuses", self._create)
        self.route("GET", r"/api/v1/statuses/(?P<status_id>\d+)", self._get_status)
        self.route("GET", r"/api/v1/statuses/(?P<status_id>\d+)/source", self._source)
        self.route("DELETE", r"/api/v1/statuses/(?P<status_id>\d+)", self._delete)
        self.route("POST", r"/api/v2/media", self._upload)
        self.route("GET", r"/api/v1/media/(?P<media_id>\d+)", self._get_media)
        self.counts: dict[str, dict[str, int]] = {}   # status id -> replies/reblogs/favourites

    # -- the contract suite's knobs ----------------------------------------------------------

    @property
    def environ(self) -> dict[str, str]:
        """The credential under config.toml's variable name."""
        return {"WST_MASTODON_TOKEN": self.token}

    @property
    def secrets(self) -> list[str]:
        """Every credential string, which must never appear in a message."""
        return [self.token]

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Each status as {"id", "text" (as posted), "image_alt", "language", "visibility"}."""
        with self.lock:
            return [{"id": s["id"], "text": s["sent"], "language": s["language"],
                     "visibility": s["visibility"],
                     "image_alt": next((m["description"] for m in s["media_attachments"]), None)}
                    for s in self.statuses]

    @property
    def create_calls(self) -> list[Call]:
        """Every attempt to create a status."""
        return self.calls_to("POST", r"/api/v1/statuses")

    def rate_limit(self, times: int = 1) -> datetime:
        """The next calls answer 429; returns the reset they announce."""
        reset = self.clock().replace(microsecond=0) + RATE_PERIOD
        reply = error(429, "Too many requests")
        reply.headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                         "X-RateLimit-Reset": iso(reset)}
        self.answer_next(reply, times)
        return reset

    def server_error(self, times: int = 1, status: int = 503) -> None:
        """The next calls answer a 5xx (Mastodon behind its proxy)."""
        self.answer_next(Reply(status, b"<html><body><h1>503 Service Unavailable</h1></body></html>",
                               {"Content-Type": "text/html"}), times)

    def error_reply(self, status: int, message: str) -> Reply:
        """Mastodon's error body with `message`."""
        return error(status, message)

    def expire_token(self) -> None:
        """Revoke the token: every authenticated call from now on is 401."""
        self.revoked = True

    def delay(self, seconds: float, times: int = 1, land: bool = True) -> None:
        """Delay the next status creation; `land` says whether the status is made."""
        self.delay_next(seconds, times, land,
                        match=lambda c: c.method == "POST" and c.path == "/api/v1/statuses")

    # -- what every answer carries -----------------------------------------------------------

    def authorise(self, call: Call) -> Reply | None:
        """401 for a missing, wrong or revoked bearer token (the instance document is public)."""
        if call.path == "/api/v2/instance":
            return None
        scheme, _, given = call.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or given != self.token or self.revoked:
            return error(401, "The access token is invalid")
        return None

    def decorate(self, call: Call, reply: Reply) -> Reply:
        """X-RateLimit-* on every answer (a 429 already carries its own)."""
        if "X-RateLimit-Reset" not in reply.headers:
            reply.headers.update({"X-RateLimit-Limit": "300",
                                  "X-RateLimit-Remaining": str(max(0, 300 - len(self.calls))),
                                  "X-RateLimit-Reset": iso(self._window_end)})
        return reply

    def not_found(self, call: Call) -> Reply:
        """Mastodon's 404."""
        return error(404, "Record not found")

    # -- how Mastodon shows text -------------------------------------------------------------

    def render(self, text: str) -> str:
        """Mastodon's HTML for a plain-text status: paragraphs, <br />, linked URLs and tags."""
        paragraphs = re.split(r"\n{2,}", text.strip())
        return "".join("<p>" + "<br />".join(self._linkify(line) for line in para.split("\n")) + "</p>"
                       for para in paragraphs)

    def _linkify(self, line: str) -> str:
        out, last = "", 0
        for m in URL.finditer(line):
            out += self._tags(html.escape(line[last:m.start()]))
            url = m.group()
            scheme, rest = re.match(r"(https?://(?:www\.)?)(.*)", url).groups()  # type: ignore[union-attr]
            shown, hidden = rest[:30], rest[30:]
            out += (f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
                    f'<span class="invisible">{html.escape(scheme)}</span>'
                    f'<span class="{"ellipsis" if hidden else ""}">{html.escape(shown)}</span>'
                    f'<span class="invisible">{html.escape(hidden)}</span></a>')
            last = m.end()
        return out + self._tags(html.escape(line[last:]))

    def _tags(self, escaped: str) -> str:
        return HASHTAG.sub(lambda m: f'<a href="https://{self.domain}/tags/{m.group(1).lower()}" '
                           f'class="mention hashtag" rel="tag">#<span>{m.group(1)}</span></a>', escaped)

    def length(self, text: str) -> int:
        """Mastodon's count: every URL is 23 characters."""
        return len(URL.sub("x" * URL_WEIGHT, text))

    # -- routes ------------------------------------------------------------------------------

    def _instance(self, call: Call) -> Reply:
        return Reply(200, {
            "domain": self.domain, "title": "Social Example", "version": "4.3.2",
            "source_url": "https://github.com/mastodon/mastodon", "description": "A test instance.",
            "usage": {"users": {"active_month": 1200}},
            "thumbnail": {"url": f"https://{self.domain}/thumb.png"}, "languages": ["en"],
            "configuration": {
                "urls": {"streaming": f"wss://{self.domain}"},
                "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                "statuses": {"max_characters": self.max_characters, "max_media_attachments": 4,
                             "characters_reserved_per_url": URL_WEIGHT},
                "media_attachments": {"supported_mime_types": ["image/jpeg", "image/png", "image/gif",
                                                               "image/webp"],
                                      "description_limit": 1500, "image_size_limit": 16777216,
                                      "image_matrix_limit": 33177600},
                "polls": {"max_options": 4, "max_characters_per_option": 50,
                          "min_expiration": 300, "max_expiration": 2629746},
                "translation": {"enabled": False}},
            "registrations": {"enabled": False, "approval_required": True, "message": None},
            "contact": {"email": f"admin@{self.domain}"}, "rules": []})

    def _account(self) -> dict[str, Any]:
        return {"id": self.account_id, "username": self.username, "acct": self.username,
                "display_name": "Wolverhampton Safeguarding Together", "locked": False, "bot": False,
                "url": f"https://{self.domain}/@{self.username}", "statuses_count": len(self.statuses)}

    def _verify(self, call: Call) -> Reply:
        return Reply(200, {**self._account(), "source": {"privacy": "public", "sensitive": False,
                                                         "language": "en", "note": "", "fields": []}})

    def _account_statuses(self, call: Call, account: str) -> Reply:
        if account != self.account_id:
            return self.not_found(call)
        limit = min(int(call.arg("limit") or 20), 40)
        newest_first = list(reversed(self.statuses))[:limit]
        return Reply(200, [self._public(s) for s in newest_first])

    def _create(self, call: Call) -> Reply:
        key = call.headers.get("idempotency-key")
        now = self.clock()
        if key and key in self.idempotency:
            when, status_id = self.idempotency[key]
            if now - when < IDEMPOTENCY_WINDOW:
                original = next((s for s in self.statuses if s["id"] == status_id), None)
                if original is not None:
                    return Reply(200, self._public(original))
        form = call.json() if call.content_type == "application/json" else call.form()
        def one(name: str, default: str = "") -> str:
            value = form.get(name, default)
            return value[0] if isinstance(value, list) else value
        text = one("status")
        media_ids = form.get("media_ids[]") or form.get("media_ids") or []
        if not text and not media_ids:
            return error(422, "Validation failed: Text can't be blank")
        if self.length(text) > self.max_characters:
            return error(422, f"Validation failed: Text character limit of {self.max_characters} exceeded")
        if any(m not in self.media for m in media_ids):
            return error(422, "Validation failed: Media attachments are invalid")
        if any(self.media[m]["polls_left"] > 0 for m in media_ids):
            return error(422, "Cannot attach files that have not finished processing. Try again in a moment!")
        status_id = str(next(self._ids))
        status = {"id": status_id, "sent": text, "created_at": iso(now), "language": one("language") or None,
                  "visibility": one("visibility", "public"), "content": self.render(text),
                  "media_attachments": [self._attachment(m) for m in media_ids]}
        self.statuses.append(status)
        if key:
            self.idempotency[key] = (now, status_id)
        return Reply(200, self._public(status))

    def _get_status(self, call: Call, status_id: str) -> Reply:
        status = next((s for s in self.statuses if s["id"] == status_id), None)
        return Reply(200, self._public(status)) if status else self.not_found(call)

    def _source(self, call: Call, status_id: str) -> Reply:
        status = next((s for s in self.statuses if s["id"] == status_id), None)
        if status is None:
            return self.not_found(call)
        return Reply(200, {"id": status_id, "text": status["sent"], "spoiler_text": ""})

    def _delete(self, call: Call, status_id: str) -> Reply:
        status = next((s for s in self.statuses if s["id"] == status_id), None)
        if status is None:
            return self.not_found(call)
        self.statuses.remove(status)
        return Reply(200, {**self._public(status), "text": status["sent"]})

    def _upload(self, call: Call) -> Reply:
        part = call.file("file")
        if part is None:
            return error(422, "Validation failed: File can't be blank")
        description = call.field("description")
        if description and len(description) > 1500:
            return error(422, "Validation failed: Description is too long (maximum is 1500 characters)")
        media_id = str(next(self._ids))
        self.media[media_id] = {"bytes": part.data, "description": description,
                                "polls_left": self.processing_polls}
        attachment = self._attachment(media_id)
        if self.processing_polls:
            return Reply(202, {**attachment, "url": None})
        return Reply(200, attachment)

    def _get_media(self, call: Call, media_id: str) -> Reply:
        if media_id not in self.media:
            return self.not_found(call)
        item = self.media[media_id]
        if item["polls_left"] > 0:
            item["polls_left"] -= 1
            return Reply(206, {**self._attachment(media_id), "url": None})
        return Reply(200, self._attachment(media_id))

    # -- metrics -----------------------------------------------------------------------------

    def add_status(self, text: str, **counts: int) -> str:
        """A status made elsewhere (for metrics tests) with its counts; returns its id."""
        with self.lock:
            status_id = str(next(self._ids))
            self.statuses.append({"id": status_id, "sent": text, "created_at": iso(self.clock()),
                                  "language": "en", "visibility": "public",
                                  "content": self.render(text), "media_attachments": []})
            self.counts[status_id] = dict(counts)
        return status_id

    @property
    def status_reads(self) -> list[Call]:
        """Every GET of one status."""
        return self.calls_to("GET", r"/api/v1/statuses/\d+")

    # -- shapes ------------------------------------------------------------------------------

    def _attachment(self, media_id: str) -> dict[str, Any]:
        return {"id": media_id, "type": "image",
                "url": f"https://{self.domain}/system/media_attachments/{media_id}/original.png",
                "preview_url": f"https://{self.domain}/system/media_attachments/{media_id}/small.png",
                "remote_url": None, "text_url": None, "meta": {"original": {"width": 1, "height": 1}},
                "description": self.media[media_id]["description"],
                "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH"}

    def _public(self, status: dict[str, Any]) -> dict[str, Any]:
        """The Status entity as the API shows it (no plain text: that is only in /source)."""
        return {"id": status["id"], "created_at": status["created_at"], "in_reply_to_id": None,
                "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "",
                "visibility": status["visibility"], "language": status["language"],
                "uri": f"https://{self.domain}/users/{self.username}/statuses/{status['id']}",
                "url": f"https://{self.domain}/@{self.username}/{status['id']}",
                "replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "quotes_count": 0,
                **self.counts.get(status["id"], {}), "edited_at": None,
                "content": status["content"], "reblog": None, "account": self._account(),
                "media_attachments": status["media_attachments"], "mentions": [], "tags": [],
                "emojis": [], "card": None, "poll": None}
