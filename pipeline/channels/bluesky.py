"""Bluesky over the AT Protocol's XRPC: one kept session, record keys derived from idempotency keys."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable, Mapping
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
    Transient,
)
from pipeline.channels.http import send, settle_environment

COLLECTION = "app.bsky.feed.post"
DEFAULT_BASE = "https://bsky.social"
# TIDs are written in this "base32-sortable" alphabet (the AT Protocol's record-key spec).
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
# Derived keys carry a timestamp in a fixed past window so they are valid, plausible TIDs
# that never sort into the future, whatever the hash gives.
_TID_WINDOW_START_US = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
_TID_WINDOW_US = int(timedelta(days=730).total_seconds() * 1_000_000)
# When a 429 carries no ratelimit-reset header, wait this long rather than hammer the server.
_DEFAULT_RATE_WAIT = timedelta(seconds=60)


def record_key(idempotency_key: str) -> str:
    """The record key for `idempotency_key`: a TID-syntax string, the same on every retry."""
    digest = hashlib.sha256(b"wst-bluesky-rkey\n" + idempotency_key.encode("utf-8")).digest()
    micros = _TID_WINDOW_START_US + int.from_bytes(digest[:8], "big") % _TID_WINDOW_US
    clock_id = int.from_bytes(digest[8:10], "big") & 0x3FF
    value = (micros << 10) | clock_id  # top bit stays 0, as a TID requires
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def post_url(handle: str, rkey: str) -> str:
    """The public bsky.app address of a post."""
    return f"https://bsky.app/profile/{handle}/post/{rkey}"


def _created_at(moment: datetime) -> str:
    """The record timestamp as the official clients write it: UTC, milliseconds, 'Z'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _TokenExpired(Exception):
    """Internal: the server said ExpiredToken, so the session should be refreshed once."""


class BlueskyAdapter(ChannelAdapter):
    """Posts to Bluesky. Keep one instance per process: it holds the session and refreshes it."""

    kind = "bluesky"

    def __init__(self, name: str, settings: Any, environ: Mapping[str, str], *,
                 now: Callable[[], datetime], timeout: float = 30.0,
                 sleep: Callable[[float], None] | None = None, http: requests.Session | None = None):
        super().__init__(name, settings, environ, now=now, timeout=timeout, sleep=sleep)
        self.base = (settings.api_base or DEFAULT_BASE).rstrip("/")
        self.http = settle_environment(http or requests.Session(), self.base, environ)
        self._session: dict[str, str] | None = None
        self.create_session_calls = 0  # so a caller (and the tests) can see logins are rare

    # -- the ChannelAdapter role ---------------------------------------------------------------

    def publish(self, artefact: Artefact) -> Publication:
        """Create the post under its derived record key; a repeat finds the first instead of doubling."""
        rkey = record_key(artefact.idempotency_key)
        record: dict[str, Any] = {
            "$type": COLLECTION,
            "text": artefact.text,
            "createdAt": _created_at(self.now()),
            "langs": [_language_tag(artefact.language)],
        }
        if artefact.facets:
            record["facets"] = [dict(f) for f in artefact.facets]
        if artefact.image is not None:
            blob = self._upload(artefact)
            record["embed"] = {"$type": "app.bsky.embed.images",
                               "images": [{"alt": artefact.alt, "image": blob}]}
        try:
            answer = self._authed("POST", "com.atproto.repo.createRecord", write=True,
                                  body=lambda s: {"repo": s["did"], "collection": COLLECTION,
                                                  "rkey": rkey, "record": record})
        except (Transient, Rejected) as failure:
            # A record already under our key (the PDS answers a duplicate rkey with an error,
            # a 500 today) means an earlier attempt landed: that one is the publication.
            existing = self._get_record(rkey, quiet=True)
            if existing is not None:
                return self._publication(existing, rkey)
            raise failure from None
        return self._publication(answer, rkey)

    def find(self, artefact: Artefact) -> Publication | None:
        """The post under this artefact's record key, or None if there is none."""
        rkey = record_key(artefact.idempotency_key)
        found = self._get_record(rkey, quiet=False)
        return None if found is None else self._publication(found, rkey)

    def check(self) -> None:
        """Log in if needed and ask the server who we are."""
        self._authed("GET", "com.atproto.server.getSession", write=False)

    @property
    def repo(self) -> str:
        """The account's DID (from config or the session), else its handle."""
        if self.settings.account_id:
            return self.settings.account_id
        if self._session:
            return self._session["did"]
        return self.settings.handle or self._session_now()["did"]

    # -- the session ---------------------------------------------------------------------------

    def _session_now(self) -> dict[str, str]:
        """The kept session, logging in only if there is none yet."""
        if self._session is None:
            self._login()
        assert self._session is not None
        return self._session

    def _login(self) -> None:
        """createSession with the app password (rate-limited by the server: done rarely)."""
        # Both are read before any call, so a missing one names its variable and sends nothing.
        identifier = self.secret("username")
        password = self.secret("password")
        self.create_session_calls += 1
        try:
            answer = self._call("POST", "com.atproto.server.createSession", write=False,
                                json={"identifier": identifier, "password": password})
        except _TokenExpired:
            raise AuthExpired(self.name, "the server refused the app password") from None
        self._keep(answer)

    def _refresh(self) -> None:
        """refreshSession with the refresh token; if that is refused, log in once more."""
        assert self._session is not None
        try:
            answer = self._call("POST", "com.atproto.server.refreshSession", write=False,
                                token=self._session["refreshJwt"])
        except (_TokenExpired, AuthExpired):
            # The refresh token expired or was revoked; the app password may still work.
            self._session = None
            self._login()
            return
        self._keep(answer)

    def _keep(self, answer: dict[str, Any]) -> None:
        """Keep the session the server issued; its tokens are secrets from now on."""
        self._session = {k: answer[k] for k in ("accessJwt", "refreshJwt", "did", "handle")}
        self.redactor.add(self._session["accessJwt"])
        self.redactor.add(self._session["refreshJwt"])

    def _authed(self, method: str, nsid: str, *, write: bool,
                body: Callable[[dict[str, str]], dict[str, Any]] | None = None,
                data: bytes | None = None, content_type: str | None = None) -> dict[str, Any]:
        """One authenticated call; on ExpiredToken refresh once and try again."""
        for attempt in range(2):
            session = self._session_now()
            try:
                return self._call(method, nsid, write=write, token=session["accessJwt"],
                                  json=body(session) if body else None, data=data,
                                  content_type=content_type)
            except _TokenExpired:
                if attempt:
                    break
                self._refresh()
        raise AuthExpired(self.name, "the access token expired again straight after a refresh")

    # -- HTTP, and the one place platform errors become ours -------------------------------------

    def _call(self, method: str, nsid: str, *, write: bool, token: str | None = None,
              json: dict[str, Any] | None = None, params: dict[str, str] | None = None,
              data: bytes | None = None, content_type: str | None = None) -> dict[str, Any]:
        """Send one XRPC request and return its JSON, or raise a ChannelError."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        response = send(self.http, self.name, nsid, method, f"{self.base}/xrpc/{nsid}", write=write,
                        timeout=self.timeout, json=json, params=params, data=data, headers=headers)
        if response.status_code < 300:
            return response.json() if response.content else {}
        self._raise_for(nsid, response)
        raise AssertionError("unreachable")  # _raise_for always raises

    def _raise_for(self, nsid: str, response: requests.Response) -> None:
        """Turn an XRPC error answer into our exception."""
        status = response.status_code
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        error = str(payload.get("error", "")) if isinstance(payload, dict) else ""
        message = str(payload.get("message", "")) if isinstance(payload, dict) else ""
        detail = f"{nsid}: HTTP {status} {error}: {message}".strip()
        if error == "ExpiredToken":
            raise _TokenExpired(detail)
        if status == 429:
            raise RateLimited(self.name, self._reset_time(response), detail)
        if status in (401, 403):
            raise AuthExpired(self.name, detail)
        if status >= 500:
            raise Transient(self.name, detail)
        raise Rejected(self.name, detail)

    def _reset_time(self, response: requests.Response) -> datetime:
        """When the rate limit resets: the ratelimit-reset header (epoch seconds), else a minute."""
        raw = response.headers.get("ratelimit-reset", "")
        try:
            return datetime.fromtimestamp(int(raw), UTC)
        except ValueError:
            return self.now() + _DEFAULT_RATE_WAIT

    # -- records and blobs ------------------------------------------------------------------------

    def _upload(self, artefact: Artefact) -> dict[str, Any]:
        """Upload the image and return its blob reference for the embed."""
        assert artefact.image is not None
        mime = mimetypes.guess_type(artefact.image.name)[0] or "application/octet-stream"
        # An upload is not a post: repeating it only leaves an unused blob, so not a "write".
        answer = self._authed("POST", "com.atproto.repo.uploadBlob", write=False,
                              data=artefact.image.read_bytes(), content_type=mime)
        return answer["blob"]

    def _get_record(self, rkey: str, *, quiet: bool) -> dict[str, Any] | None:
        """getRecord by key: the record, or None when the server says RecordNotFound."""
        try:
            return self._call("GET", "com.atproto.repo.getRecord", write=False,
                              params={"repo": self.repo, "collection": COLLECTION, "rkey": rkey})
        except Rejected as exc:
            if quiet or "RecordNotFound" in exc.detail:
                return None
            raise
        except Transient:
            if quiet:
                return None
            raise

    def _publication(self, answer: dict[str, Any], rkey: str) -> Publication:
        """Our Publication from a createRecord or getRecord answer."""
        handle = self.settings.handle or (self._session or {}).get("handle") or self.repo
        return Publication(remote_id=answer["uri"], url=post_url(handle, rkey),
                           extra={"cid": answer.get("cid", ""), "rkey": rkey})


def _language_tag(language: str) -> str:
    """The BCP 47 tag for the record: WST writes British English."""
    return "en-GB" if language in ("", "en", "en-GB") else language

