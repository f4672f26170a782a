"""A loopback Bluesky PDS: sessions, records under caller-chosen keys, blobs, XRPC errors."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from standins.server import Call, Reply, StandIn

POST = "app.bsky.feed.post"
# The AT Protocol's record-key syntax, and the TID syntax that app.bsky.feed.post declares.
RKEY = re.compile(r"^[A-Za-z0-9._:~-]{1,512}$")
TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
# createSession is limited to 30 per 5 minutes per account (platforms.md).
SESSION_LIMIT, SESSION_WINDOW = 30, timedelta(minutes=5)


def xrpc_error(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    """An XRPC error answer: {"error", "message"}."""
    return Reply(status, {"error": error, "message": message}, headers or {})


def fake_cid(data: bytes, prefix: str = "bafyrei") -> str:
    """A CID-shaped string that is stable for the same bytes."""
    return prefix + base64.b32encode(hashlib.sha256(data).digest()).decode().lower().rstrip("=")[:52]


@dataclass
class Tokens:
    """One session's tokens and whether each still works."""

    access: str
    refresh: str
    access_expired: bool = False
    refresh_revoked: bool = False


@dataclass
class StoredRecord:
    """A record in the repo, as getRecord returns it."""

    uri: str
    cid: str
    value: dict[str, Any]
    rkey: str


@dataclass
class Blob:
    """An uploaded blob."""

    data: bytes
    mime: str
    ref: dict[str, Any] = field(default_factory=dict)


class BlueskyStandIn(StandIn):
    """Answers com.atproto.* like bsky.social for one account."""

    name = "bluesky"

    def __init__(self, clock: Callable[[], datetime] | None = None, *,
                 identifier: str = "wst.example.test", password: str = "app-pass-word-1234",
                 did: str = "did:plc:wstexample0000000000000"):
        super().__init__(clock)
        self.identifier, self.password, self.did = identifier, password, did
        self.handle = identifier
        self.sessions: list[Tokens] = []
        self.records: dict[str, StoredRecord] = {}   # rkey -> record (app.bsky.feed.post only)
        self.blobs: dict[str, Blob] = {}
        self.session_times: list[datetime] = []
        # How the PDS answers a create under an rkey already in use: today's PDS serves a 500
        # (bluesky-social/indigo#873; atproto#4728 proposes an explicit XRPC error instead).
        self.duplicate_rkey_reply = xrpc_error(500, "InternalServerError", "Internal Server Error")
        self.route("POST", r"/xrpc/com\.atproto\.server\.createSession", self._create_session)
        self.route("POST", r"/xrpc/com\.atproto\.server\.refreshSession", self._refresh_session)
        self.route("GET", r"/xrpc/com\.atproto\.server\.getSession", self._get_session)
        self.route("POST", r"/xrpc/com\.atproto\.repo\.createRecord", self._create_record)
        self.route("GET", r"/xrpc/com\.atproto\.repo\.getRecord", self._get_record)
        self.route("POST", r"/xrpc/com\.atproto\.repo\.uploadBlob", self._upload_blob)
        # Metrics: the app view's getPosts (proxied by the PDS for a logged-in account).
        self.route("GET", r"/xrpc/app\.bsky\.feed\.getPosts", self._get_posts)
        self.counts: dict[str, dict[str, int]] = {}   # post URI -> likeCount, repostCount, ...

    # -- what tests read --------------------------------------------------------------------

    @property
    def posts(self) -> list[dict[str, Any]]:
        """The contract's view of the repo's posts: {"id" (the AT URI), "text", "image_alt"}, oldest first."""
        with self.lock:
            return [{"id": r.uri, "text": r.value.get("text"), "image_alt": _alt(r.value)}
                    for r in self.records.values()]

    @property
    def post_records(self) -> list[dict[str, Any]]:
        """Every post record exactly as stored, oldest first."""
        with self.lock:
            return [r.value for r in self.records.values()]

    @property
    def create_calls(self) -> list[Call]:
        """Every createRecord request."""
        return self.calls_to("POST", r"/xrpc/com\.atproto\.repo\.createRecord")

    @property
    def secrets(self) -> list[str]:
        """Values that must never appear in an adapter's messages."""
        with self.lock:
            return [self.password, *(t.access for t in self.sessions), *(t.refresh for t in self.sessions)]

    @property
    def create_session_calls(self) -> int:
        """How many createSession calls arrived (logins are rate-limited: they must be rare)."""
        return len(self.calls_to("POST", r"/xrpc/com\.atproto\.server\.createSession"))

    @property
    def refresh_session_calls(self) -> int:
        """How many refreshSession calls arrived."""
        return len(self.calls_to("POST", r"/xrpc/com\.atproto\.server\.refreshSession"))

    @property
    def environ(self) -> dict[str, str]:
        """An environment holding this account's credentials under config.toml's names."""
        return {"WST_BLUESKY_HANDLE": self.identifier, "WST_BLUESKY_APP_PASSWORD": self.password}

    # -- fault knobs (the contract suite's names) --------------------------------------------

    @staticmethod
    def _is_create(call: Call) -> bool:
        return call.path.endswith("com.atproto.repo.createRecord")

    def rate_limit(self, times: int = 1, reset_in: timedelta = timedelta(minutes=5)) -> datetime:
        """The next `times` createRecord calls get 429 RateLimitExceeded; returns the reset time."""
        reset = (self.clock() + reset_in).replace(microsecond=0)
        headers = {"ratelimit-limit": "5000", "ratelimit-remaining": "0",
                   "ratelimit-reset": str(int(reset.timestamp())), "ratelimit-policy": "5000;w=3600"}
        self.answer_next(xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers),
                         times, self._is_create)
        return reset

    def server_error(self, times: int = 1, status: int = 502) -> None:
        """The next `times` createRecord calls fail upstream without creating anything."""
        self.answer_next(xrpc_error(status, "UpstreamFailure", "Upstream Failure"), times, self._is_create)

    def delay(self, seconds: float, times: int = 1, land: bool = True) -> None:
        """Hold the next `times` createRecord answers; `land` says whether the record is written."""
        self.delay_next(seconds, times, land, self._is_create)

    def error_reply(self, status: int, message: str) -> Reply:
        """XRPC's error body with `message`."""
        return Reply(status, {"error": "InvalidRequest", "message": message})

    def expire_token(self) -> None:
        """The contract's "credentials stop working": tokens revoked and the app password deleted."""
        self.revoke_refresh()
        self.revoke_password()

    def expire_access(self) -> None:
        """Every access token issued so far now answers 400 ExpiredToken (refresh still works)."""
        with self.lock:
            for tokens in self.sessions:
                tokens.access_expired = True

    def revoke_refresh(self) -> None:
        """Every refresh token issued so far is revoked (and every access token expired)."""
        with self.lock:
            for tokens in self.sessions:
                tokens.access_expired = tokens.refresh_revoked = True

    def revoke_password(self) -> None:
        """The app password is deleted: createSession refuses it."""
        with self.lock:
            self.password = "revoked-" + secrets.token_hex(8)

    # -- auth --------------------------------------------------------------------------------

    def _bearer(self, call: Call) -> str:
        header = call.headers.get("authorization", "")
        return header[7:] if header.startswith("Bearer ") else ""

    def _access(self, call: Call) -> Reply | None:
        """None if the call carries a live access token, else the PDS's refusal."""
        token = self._bearer(call)
        if not token:
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        for tokens in self.sessions:
            if token == tokens.access:
                return xrpc_error(400, "ExpiredToken", "Token has expired") if tokens.access_expired else None
            if token == tokens.refresh:
                return xrpc_error(400, "InvalidToken", "Invalid token type")
        return xrpc_error(400, "InvalidToken", "Token could not be verified")

    def _issue(self) -> dict[str, Any]:
        tokens = Tokens("eyJ.acc." + secrets.token_urlsafe(24), "eyJ.ref." + secrets.token_urlsafe(24))
        self.sessions.append(tokens)
        return {"accessJwt": tokens.access, "refreshJwt": tokens.refresh, "handle": self.handle,
                "did": self.did, "active": True}

    def _create_session(self, call: Call) -> Reply:
        now = self.clock()
        recent = [t for t in self.session_times if now - t < SESSION_WINDOW]
        if len(recent) >= SESSION_LIMIT:
            reset = min(recent) + SESSION_WINDOW
            return xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", {
                "ratelimit-limit": str(SESSION_LIMIT), "ratelimit-remaining": "0",
                "ratelimit-reset": str(int(reset.timestamp())), "ratelimit-policy": "30;w=300"})
        self.session_times.append(now)
        body = call.json() or {}
        if body.get("identifier") not in (self.identifier, self.did) or body.get("password") != self.password:
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        return Reply(200, self._issue())

    def _refresh_session(self, call: Call) -> Reply:
        token = self._bearer(call)
        for tokens in self.sessions:
            if token == tokens.refresh:
                if tokens.refresh_revoked:
                    return xrpc_error(401, "ExpiredToken", "Token has been revoked")
                # A refresh token is single-use: the old pair stops working.
                tokens.refresh_revoked = tokens.access_expired = True
                return Reply(200, self._issue())
        return xrpc_error(400, "InvalidToken", "Token could not be verified")

    def _get_session(self, call: Call) -> Reply:
        refused = self._access(call)
        return refused or Reply(200, {"handle": self.handle, "did": self.did, "active": True})

    # -- the repo ----------------------------------------------------------------------------

    def _create_record(self, call: Call) -> Reply:
        refused = self._access(call)
        if refused:
            return refused
        body = call.json() or {}
        if body.get("repo") not in (self.did, self.handle):
            return xrpc_error(400, "InvalidRequest", "Invalid repo: not the authenticated account")
        collection, record = body.get("collection"), body.get("record")
        rkey = body.get("rkey") or self._next_tid()
        if not isinstance(record, dict) or record.get("$type") != collection:
            return xrpc_error(400, "InvalidRequest", "Invalid $type: must match the collection")
        if not RKEY.match(rkey) or rkey in (".", ".."):
            return xrpc_error(400, "InvalidRequest", f"Invalid record key: {rkey}")
        if collection == POST:
            problem = self._check_post(record, rkey)
            if problem:
                return xrpc_error(400, "InvalidRequest", f"Invalid {POST} record: {problem}")
        if rkey in self.records:
            return self.duplicate_rkey_reply
        uri = f"at://{self.did}/{collection}/{rkey}"
        cid = fake_cid(json.dumps(record, sort_keys=True).encode())
        self.records[rkey] = StoredRecord(uri, cid, record, rkey)
        return Reply(200, {"uri": uri, "cid": cid,
                           "commit": {"cid": fake_cid(uri.encode()), "rev": self._next_tid()},
                           "validationStatus": "valid"})

    def _check_post(self, record: dict[str, Any], rkey: str) -> str:
        """Why the PDS's lexicon validation would refuse this post ('' if it would not)."""
        text = record.get("text")
        if not isinstance(text, str):
            return "Record/text must be a string"
        if len(text.encode("utf-8")) > 3000 or len(text) > 300:  # code points stand in for graphemes
            return "Record/text must not be longer than 300 graphemes"
        if not isinstance(record.get("createdAt"), str):
            return "Record must have the property \"createdAt\""
        if len(record.get("langs", [])) > 3:
            return "Record/langs must not have more than 3 elements"
        if not TID.match(rkey):
            return "Record key must be a TID"
        embed = record.get("embed")
        if embed is not None:
            for image in embed.get("images", []):
                link = image.get("image", {}).get("ref", {}).get("$link")
                if link not in self.blobs or "alt" not in image:
                    return "Record/embed/images must reference an uploaded blob and have alt"
        return ""

    def _get_record(self, call: Call) -> Reply:
        repo, collection, rkey = call.arg("repo"), call.arg("collection"), call.arg("rkey")
        mine = collection == POST and repo in (self.did, self.handle)
        stored = self.records.get(rkey or "") if mine else None
        if stored is None:
            return xrpc_error(400, "RecordNotFound",
                              f"Could not locate record: at://{repo}/{collection}/{rkey}")
        return Reply(200, {"uri": stored.uri, "cid": stored.cid, "value": stored.value})

    def _upload_blob(self, call: Call) -> Reply:
        refused = self._access(call)
        if refused:
            return refused
        if len(call.body) > 1_000_000:
            return xrpc_error(400, "BlobTooLarge",
                              "This file is too large. It is 1.0MB but the maximum size is 976.56KB.")
        mime = call.headers.get("content-type", "application/octet-stream")
        link = fake_cid(call.body, "bafkrei")
        ref = {"$type": "blob", "ref": {"$link": link}, "mimeType": mime, "size": len(call.body)}
        self.blobs[link] = Blob(call.body, mime, ref)
        return Reply(200, {"blob": ref})

    # -- metrics -----------------------------------------------------------------------------

    GET_POSTS_LIMIT = 25

    def add_post(self, text: str, **counts: int) -> str:
        """A post made elsewhere (for metrics tests) with its counts; returns its AT URI."""
        with self.lock:
            rkey = self._next_tid(len(self.records))
            record = {"$type": POST, "text": text, "createdAt": self.clock().isoformat(),
                      "langs": ["en-GB"]}
            uri = f"at://{self.did}/{POST}/{rkey}"
            self.records[rkey] = StoredRecord(uri, fake_cid(uri.encode()), record, rkey)
            self.counts[uri] = dict(counts)
        return uri

    @property
    def get_posts_calls(self) -> list[Call]:
        """Every getPosts request."""
        return self.calls_to("GET", r"/xrpc/app\.bsky\.feed\.getPosts")

    def rate_limit_reads(self, times: int = 1, reset_in: timedelta = timedelta(minutes=5)) -> datetime:
        """The next `times` getPosts calls get 429 RateLimitExceeded; returns the reset time."""
        reset = (self.clock() + reset_in).replace(microsecond=0)
        headers = {"ratelimit-limit": "3000", "ratelimit-remaining": "0",
                   "ratelimit-reset": str(int(reset.timestamp())), "ratelimit-policy": "3000;w=300"}
        self.answer_next(xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers),
                         times, lambda c: c.path.endswith("app.bsky.feed.getPosts"))
        return reset

    def _get_posts(self, call: Call) -> Reply:
        refused = self._access(call)
        if refused:
            return refused
        uris = call.query.get("uris", [])
        if not uris:
            return xrpc_error(400, "InvalidRequest", 'Error: Params must have the property "uris"')
        if len(uris) > self.GET_POSTS_LIMIT:
            return xrpc_error(400, "InvalidRequest",
                              f"Error: uris must not have more than {self.GET_POSTS_LIMIT} elements")
        by_uri = {r.uri: r for r in self.records.values()}
        posts = []
        for uri in uris:
            stored = by_uri.get(uri)
            if stored is None:
                continue   # the app view leaves out posts it can't find; no error
            counts = {"likeCount": 0, "repostCount": 0, "replyCount": 0, "quoteCount": 0,
                      "bookmarkCount": 0, **self.counts.get(uri, {})}
            posts.append({"uri": uri, "cid": stored.cid,
                          "author": {"did": self.did, "handle": self.handle},
                          "record": stored.value, **counts,
                          "indexedAt": self.clock().isoformat(), "labels": []})
        return Reply(200, {"posts": posts})

    def _next_tid(self, offset: int = 0) -> str:
        micros = int(self.clock().timestamp() * 1_000_000) + len(self.calls) + offset
        value, chars = (micros << 10) | 7, []
        for _ in range(13):
            chars.append("234567abcdefghijklmnopqrstuvwxyz"[value & 31])
            value >>= 5
        return "".join(reversed(chars))


def _alt(record: dict[str, Any]) -> str:
    """The first image's alt text in a post record ('' without images)."""
    images = (record.get("embed") or {}).get("images") or [{}]
    return images[0].get("alt", "")
