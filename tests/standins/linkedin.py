"""A loopback stand-in for LinkedIn's versioned REST API for one organisation page, answering as
LinkedIn's documentation shows.

- Every /rest/ call needs `Authorization: Bearer`, `LinkedIn-Version: YYYYMM` (400
  VERSION_MISSING without it, 426 NONEXISTENT_VERSION for a month LinkedIn no longer serves) and
  `X-Restli-Protocol-Version: 2.0.0`; URNs in query strings are percent-encoded, and a list is
  `List(a,b)` with only its members encoded.
- `POST /rest/posts` answers 201 with an empty body and the post's URN in `x-restli-id`; the
  same text again by the same author is 422 DUPLICATE_POST ("Content is a duplicate of ...").
- The commentary is in the "little" text format: a backslash escapes, `#word` is a hashtag,
  `@[Name](urn)` a mention; any other unescaped reserved character cuts the post there (LinkedIn
  still answers 201). Read back, hashtags come as `{hashtag|\\#|word}` templates.
- `GET /rest/posts?q=author&author=URN` lists the author's posts, most recently changed first.
- Images API: `POST /rest/images?action=initializeUpload` gives an upload address and an image
  URN; PUT the bytes there; `GET /rest/images/{urn}` says PROCESSING (for `processing_polls`
  reads), AVAILABLE or PROCESSING_FAILED.
- `GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity=URN
  &shares=List(...)` (or `ugcPosts=List(...)`) answers lifetime totals for several posts at once.
- 401 for a bad, expired or revoked token; 403 ACCESS_DENIED for a missing permission; 429 with
  "... DAY limit ..." (daily limits reset at midnight UTC), or with Retry-After.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import unquote

from standins.server import Call, Reply, StandIn

VERSIONS = ("202510", "202511", "202512")
SCOPES = frozenset({"w_organization_social", "r_organization_social", "rw_organization_admin"})
RESERVED = set("\\|{}@[]()<>#*_~")
LINK = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,;:!?)\]'}]")
HASHTAG = re.compile(r"#(\w+)")
MENTION = re.compile(r"@\[([^\]]*)\]\((urn:li:[a-z]+:[^)]+)\)")
STATS = ("uniqueImpressionsCount", "shareCount", "engagement", "clickCount", "likeCount",
         "impressionCount", "commentCount")
REQUIRED = ("author", "commentary", "visibility", "distribution", "lifecycleState")


def error(status: int, message: str, code: str = "", service_code: int | None = None,
          **more: Any) -> Reply:
    """LinkedIn's error body."""
    body: dict[str, Any] = {"status": status, "message": message}
    if code:
        body["code"] = code
    if service_code is not None:
        body["serviceErrorCode"] = service_code
    body.update(more)
    return Reply(status, body)


def shown(commentary: str) -> tuple[str, str]:
    """What a reader sees of a little-format commentary, and how LinkedIn returns it (hashtags
    as templates). An unescaped reserved character that starts nothing cuts the post there."""
    seen, stored, i = [], [], 0
    while i < len(commentary):
        char, rest = commentary[i], commentary[i:]
        link, tag, mention = LINK.match(rest), HASHTAG.match(rest), MENTION.match(rest)
        if char == "\\" and i + 1 < len(commentary):
            seen.append(commentary[i + 1])
            stored.append(commentary[i:i + 2])
            i += 2
        elif link:
            seen.append(link.group())
            stored.append(link.group())
            i += link.end()
        elif tag:
            seen.append(tag.group())
            stored.append("{hashtag|\\#|" + tag.group(1) + "}")
            i += tag.end()
        elif mention:
            seen.append(mention.group(1))
            stored.append(mention.group())
            i += mention.end()
        elif char in RESERVED:
            break   # LinkedIn drops the rest of the post, and still answers 201
        else:
            seen.append(char)
            stored.append(char)
            i += 1
    return "".join(seen), "".join(stored)


def midnight_after(moment: datetime) -> datetime:
    """The next midnight UTC, when LinkedIn's daily limits reset."""
    return datetime.combine(moment.astimezone(UTC).date() + timedelta(days=1), time(0), tzinfo=UTC)


class LinkedInStandIn(StandIn):
    """One organisation page on loopback."""

    name = "linkedin"
    rejects_duplicates = True

    def __init__(self, *, organisation: str = "2414183", token: str = "AQX-linkedin-token-TEST",
                 processing_polls: int = 0, clock: Callable[[], datetime] | None = None):
        super().__init__(clock)
        self.organisation = f"urn:li:organization:{organisation}"
        self.organisation_id, self.token = organisation, token
        self.processing_polls = processing_polls   # image reads that answer PROCESSING
        self.scopes = set(SCOPES)
        self.expired = False
        self.versions = set(VERSIONS)
        self.feed: list[dict[str, Any]] = []       # newest last
        self.images: dict[str, dict[str, Any]] = {}
        self.stats: dict[str, dict[str, float]] = {}  # post URN → totalShareStatistics
        self._ids = itertools.count(7390000000000000001)
        self.route("POST", r"/rest/posts", self._create)
        self.route("GET", r"/rest/posts", self._find)
        self.route("POST", r"/rest/images", self._initialise_upload)
        self.route("PUT", r"/dms-uploads/(?P<key>\w+)", self._receive)
        self.route("GET", r"/rest/images/(?P<urn>[^/]+)", self._image)
        self.route("GET", r"/rest/organizationalEntityShareStatistics", self._statistics)

    # -- the contract suite's knobs ----------------------------------------------------------

    @property
    def environ(self) -> dict[str, str]:
        """The credential under config.toml's variable name."""
        return {"WST_LINKEDIN_TOKEN": self.token}

    @property
    def secrets(self) -> list[str]:
        """Every credential string, which must never appear in a message."""
        return [self.token]

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Each post as {"id", "text" (as readers see it), "image_alt", "link", "commentary"}."""
        with self.lock:
            return [{"id": p["id"], "text": p["text"], "commentary": p["commentary"],
                     "image_alt": ((p.get("content") or {}).get("media") or {}).get("altText"),
                     "link": ((p.get("content") or {}).get("article") or {}).get("source")}
                    for p in self.feed]

    @property
    def create_calls(self) -> list[Call]:
        """Every attempt to create a post."""
        return self.calls_to("POST", r"/rest/posts")

    def rate_limit(self, times: int = 1, retry_after: int | None = None) -> datetime:
        """The next calls answer 429: the daily limit (reset at midnight UTC), or with
        `retry_after` seconds a short throttle that says so; returns the reset."""
        now = self.clock().replace(microsecond=0)
        if retry_after is None:
            reply = error(429, "Resource level throttle APPLICATION DAY limit for calls to this "
                          "resource is reached.", "TOO_MANY_REQUESTS", 101)
            reset = midnight_after(now)
        else:
            reply = error(429, "Too Many Requests", "TOO_MANY_REQUESTS", 101)
            reply.headers["Retry-After"] = str(retry_after)
            reset = now + timedelta(seconds=retry_after)
        self.answer_next(reply, times)
        return reset

    def server_error(self, times: int = 1, status: int = 500) -> None:
        """The next calls answer a 5xx."""
        self.answer_next(error(status, "Internal Server Error"), times)

    def expire_token(self) -> None:
        """The token expires (they last 60 days): every call from now on is 401."""
        self.expired = True

    def delay(self, seconds: float, times: int = 1, land: bool = True) -> None:
        """Delay the next post creation; `land` says whether the post is made."""
        self.delay_next(seconds, times, land, match=lambda c: c.method == "POST" and c.path == "/rest/posts")

    # -- for tests ---------------------------------------------------------------------------

    def add_post(self, text: str, *, kind: str = "share", **stats: float) -> str:
        """A post of the organisation made elsewhere (a `share` or a `ugcPost`), with its
        lifetime statistics; its URN."""
        with self.lock:
            post = self._new_post({"commentary": text, "author": self.organisation}, kind)
            self.stats[post["id"]] = {name: stats.get(name, 0) for name in STATS}
        return post["id"]

    # -- what every call must carry ----------------------------------------------------------

    def authorise(self, call: Call) -> Reply | None:
        """The token first, then (for /rest/) the version and protocol headers."""
        scheme, _, given = call.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or given != self.token:
            return error(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)
        if self.expired:
            return error(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN",
                         65601)
        if not call.path.startswith("/rest/"):
            return None
        version = call.headers.get("linkedin-version", "")
        if not version:
            return error(400, "A version must be present. Please specify a version by adding the "
                         "LinkedIn-Version header.", "VERSION_MISSING")
        if version not in self.versions:
            return error(426, f"Requested version {version} is not active", "NONEXISTENT_VERSION")
        if call.headers.get("x-restli-protocol-version") != "2.0.0":
            return error(400, "Invalid query parameters passed to request", "ILLEGAL_ARGUMENT")
        return None

    def _denied(self, scope: str, resource: str) -> Reply | None:
        if scope in self.scopes:
            return None
        return error(403, f"Not enough permissions to access: {resource}.{sorted(self.versions)[-1]}",
                     "ACCESS_DENIED", 100)

    def not_found(self, call: Call) -> Reply:
        """LinkedIn's 404."""
        return error(404, f"No virtual resource found for {call.path}", "RESOURCE_NOT_FOUND")

    # -- posts ---------------------------------------------------------------------------------

    def _new_post(self, body: dict[str, Any], kind: str = "share") -> dict[str, Any]:
        urn = f"urn:li:{kind}:{next(self._ids)}"
        text, stored = shown(body["commentary"])
        at = int(self.clock().timestamp() * 1000)
        post = {"id": urn, "author": body["author"], "commentary": stored, "text": text,
                "visibility": body.get("visibility", "PUBLIC"),
                "distribution": body.get("distribution", {"feedDistribution": "MAIN_FEED"}),
                "lifecycleState": body.get("lifecycleState", "PUBLISHED"),
                "isReshareDisabledByAuthor": body.get("isReshareDisabledByAuthor", False),
                "createdAt": at, "publishedAt": at, "lastModifiedAt": at,
                "content": body.get("content"), "sent": body["commentary"]}
        self.feed.append(post)
        self.stats[urn] = {name: 0 for name in STATS}
        return post

    def _create(self, call: Call) -> Reply:
        denied = self._denied("w_organization_social", "partnerApiPostsExternal.CREATE")
        if denied:
            return denied
        body = call.json() if call.body else None
        if not isinstance(body, dict):
            return error(400, "Request body could not be converted to data map", "ILLEGAL_ARGUMENT")
        missing = [f for f in REQUIRED if f not in body]
        article = ((body.get("content") or {}).get("article") or {})
        if article:
            missing += [f"content/article/{f}" for f in ("source", "title") if not article.get(f)]
        if missing:
            return error(422, "".join(f"ERROR :: /{f} :: field is required but not found and has no "
                                      "default value\n" for f in missing))
        if body["author"] != self.organisation:
            return error(403, f"Not enough permissions to create posts as {body['author']}",
                         "ACCESS_DENIED", 100)
        media = ((body.get("content") or {}).get("media") or {}).get("id")
        if media is not None and (self.images.get(media) or {}).get("status") != "AVAILABLE":
            return error(400, f"Image {media} is not available", "ILLEGAL_ARGUMENT")
        for post in self.feed:
            if post["author"] == body["author"] and post["sent"] == body["commentary"]:
                return error(422, "com.linkedin.content.common.exception.BadRequestResponseException: "
                             f"Content is a duplicate of {post['id']}",
                             errorDetailType="com.linkedin.common.error.BadRequest",
                             errorDetails={"inputErrors": [{"description": "Duplicate post is detected",
                                                            "input": {}, "code": "DUPLICATE_POST"}]})
        post = self._new_post(body)
        return Reply(201, None, {"x-restli-id": post["id"], "x-linkedin-id": post["id"]})

    def _find(self, call: Call) -> Reply:
        denied = self._denied("r_organization_social", "partnerApiPostsExternal.FINDER-author")
        if denied:
            return denied
        if call.arg("q") != "author" or "urn%3Ali%3A" not in call.raw_query:
            return error(400, "Invalid query parameters passed to request", "ILLEGAL_ARGUMENT")
        author = call.arg("author")
        count = min(int(call.arg("count") or 10), 100)
        mine = sorted((p for p in self.feed if p["author"] == author),
                      key=lambda p: p["lastModifiedAt"], reverse=True)[:count]
        elements = [{k: v for k, v in p.items() if k not in ("text", "sent") and v is not None}
                    for p in mine]
        return Reply(200, {"paging": {"start": 0, "count": count, "links": []}, "elements": elements})

    # -- images --------------------------------------------------------------------------------

    def _initialise_upload(self, call: Call) -> Reply:
        if call.arg("action") != "initializeUpload":
            return self.not_found(call)
        denied = self._denied("w_organization_social", "images.ACTION-initializeUpload")
        if denied:
            return denied
        owner = ((call.json() or {}).get("initializeUploadRequest") or {}).get("owner")
        if owner != self.organisation:
            return error(403, f"Not enough permissions to upload images as {owner}", "ACCESS_DENIED", 100)
        key = f"{next(self._ids)}"
        urn = f"urn:li:image:C4E10AQ{key}"
        self.images[urn] = {"key": key, "status": "WAITING_UPLOAD", "polls": self.processing_polls,
                            "owner": owner}
        expires = int((self.clock() + timedelta(days=1)).timestamp() * 1000)
        return Reply(200, {"value": {"uploadUrlExpiresAt": expires, "image": urn,
                                     "uploadUrl": f"{self.base_url}/dms-uploads/{key}"}})

    def _receive(self, call: Call, key: str) -> Reply:
        image = next((i for i in self.images.values() if i["key"] == key), None)
        if image is None:
            return self.not_found(call)
        image.update(status="PROCESSING", data=call.body)
        return Reply(201, None)

    def _image(self, call: Call, urn: str) -> Reply:
        urn = unquote(urn)
        image = self.images.get(urn)
        if image is None:
            return self.not_found(call)
        if image["status"] == "PROCESSING":
            if image["polls"] <= 0:
                image["status"] = "AVAILABLE"
            image["polls"] -= 1
        return Reply(200, {"id": urn, "owner": image["owner"], "status": image["status"]})

    # -- statistics ----------------------------------------------------------------------------

    def _statistics(self, call: Call) -> Reply:
        denied = self._denied("rw_organization_admin", "organizationalEntityShareStatistics.FINDER")
        if denied:
            return denied
        if call.arg("q") != "organizationalEntity" or call.arg("organizationalEntity") != self.organisation:
            return error(400, "Invalid query parameters passed to request", "ILLEGAL_ARGUMENT")
        elements = []
        for param, kind in (("shares", "share"), ("ugcPosts", "ugcPost")):
            raw = call.arg(param)
            if raw is None:
                continue
            # Rest.li 2.0.0: List( and , and ) as they are, each member percent-encoded.
            if not re.search(rf"{param}=List\((urn%3Ali%3A{kind}%3A\d+,?)+\)", call.raw_query):
                return error(400, f"Invalid value for param {param}", "ILLEGAL_ARGUMENT")
            for urn in raw[len("List("):-1].split(","):
                if urn in self.stats:
                    elements.append({"organizationalEntity": self.organisation, kind: urn,
                                     "totalShareStatistics": dict(self.stats[urn])})
        return Reply(200, {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements})
