"""A loopback stand-in for the X API v2, answering as X does (../shared/platforms.md).

It checks every call's OAuth 1.0a signature against the address tweepy signed
(https://api.twitter.com/...), wraps links in t.co and HTML-escapes text as X does in the
answers, refuses a repeated text with the duplicate-content 403, and sends x-rate-limit-*
headers on every answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from oauthlib.oauth1.rfc5849 import signature as oauth_signature

from standins.server import Call, Reply, StandIn

SIGNED_HOST = "https://api.twitter.com"
URL = re.compile(r"https?://\S+")
WINDOW = timedelta(minutes=15)
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."


def problem(status: int, title: str, detail: str, type_: str = "about:blank") -> Reply:
    """X's error body: {"title", "type", "status", "detail"}."""
    return Reply(status, {"title": title, "type": type_, "status": status, "detail": detail})


class XStandIn(StandIn):
    """X API v2 on loopback: tweets, media with alt text, the user's timeline, faults."""

    name = "x"
    rejects_duplicates = True

    def __init__(self, *, consumer_key: str = "x-consumer-key-TEST",
                 consumer_secret: str = "x-consumer-secret-TEST",
                 access_token: str = "1500000000000000001-x-access-token-TEST",
                 access_secret: str = "x-access-secret-TEST",
                 user_id: str = "1500000000000000001", username: str = "wvsafeguarding",
                 clock: Callable[[], datetime] | None = None):
        super().__init__(clock)
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.access_token, self.access_secret = access_token, access_secret
        self.user_id, self.username = user_id, username
        self.revoked = False
        self.tweets: list[dict[str, Any]] = []       # newest last; "sent" is the text as posted
        self.media: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1860000000000000001)
        self._window_end = self.clock().replace(microsecond=0) + WINDOW
        # Metrics: counts per tweet id (defaults are zeros), and which tweets this account may
        # read non-public/organic metrics for (its own, under 30 days old).
        self.metrics: dict[str, dict[str, Any]] = {}   # id -> {"public_metrics": {...}, "clicks": n}
        self.private_readable: set[str] = set()
        self.reads: list[tuple[str, str]] = []       # (tweet id, UTC date) per post returned
        self.route("POST", r"/2/tweets", self._create)
        self.route("DELETE", r"/2/tweets/(?P<tweet_id>\d+)", self._delete)
        self.route("GET", r"/2/tweets", self._lookup)
        self.route("GET", r"/2/users/me", self._me)
        self.route("GET", r"/2/users/(?P<user_id>\d+)/tweets", self._timeline)
        self.route("POST", r"/2/media/upload", self._upload)
        self.route("POST", r"/2/media/metadata", self._metadata)

    # -- the contract suite's knobs ----------------------------------------------------------

    @property
    def environ(self) -> dict[str, str]:
        """The credentials under config.toml's variable names."""
        return {"WST_X_CONSUMER_KEY": self.consumer_key, "WST_X_CONSUMER_SECRET": self.consumer_secret,
                "WST_X_ACCESS_TOKEN": self.access_token, "WST_X_ACCESS_SECRET": self.access_secret}

    @property
    def secrets(self) -> list[str]:
        """Every credential string, which must never appear in a message."""
        return list(self.environ.values())

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Each tweet as {"id", "text" (as posted), "image_alt"}."""
        with self.lock:
            return [{"id": t["id"], "text": t["sent"],
                     "image_alt": self.media[t["media_ids"][0]]["alt"] if t["media_ids"] else None}
                    for t in self.tweets]

    @property
    def create_calls(self) -> list[Call]:
        """Every attempt to create a tweet."""
        return self.calls_to("POST", r"/2/tweets")

    def rate_limit(self, times: int = 1) -> datetime:
        """The next `times` calls answer 429; returns the reset time they announce."""
        reset = self.clock().replace(microsecond=0) + WINDOW
        reply = problem(429, "Too Many Requests", "Too Many Requests")
        reply.headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0",
                         "x-rate-limit-reset": str(int(reset.timestamp()))}
        self.answer_next(reply, times)
        return reset

    def server_error(self, times: int = 1, status: int = 503) -> None:
        """The next `times` calls answer a 5xx."""
        self.answer_next(problem(status, "Service Unavailable", "Service Unavailable"), times)

    def expire_token(self) -> None:
        """Revoke the access token: every call from now on is 401."""
        self.revoked = True

    def delay(self, seconds: float, times: int = 1, land: bool = True) -> None:
        """Delay the next tweet creation; `land` says whether the tweet is made."""
        self.delay_next(seconds, times, land, match=lambda c: c.method == "POST" and c.path == "/2/tweets")

    def error_reply(self, status: int, message: str) -> Reply:
        """X's problem body, with the message as its detail."""
        return problem(status, "Invalid Request", message)

    # -- what every answer carries -----------------------------------------------------------

    def authorise(self, call: Call) -> Reply | None:
        """401 unless the call is signed, with the stand-in's keys, by OAuth 1.0a HMAC-SHA1."""
        header = call.headers.get("authorization", "")
        params = dict(oauth_signature.collect_parameters(headers={"Authorization": header},
                                                         exclude_oauth_signature=False))
        body: list[tuple[str, str]] = []
        if call.content_type == "application/x-www-form-urlencoded":
            body = [(k, v) for k, vs in call.form().items() for v in vs]
        signed = oauth_signature.collect_parameters(
            uri_query=call.raw_query, body=body, headers={"Authorization": header})
        base = oauth_signature.signature_base_string(
            call.method, oauth_signature.base_string_uri(SIGNED_HOST + call.path),
            oauth_signature.normalize_parameters(signed))
        escape = oauth_signature.utils.escape
        key = f"{escape(self.consumer_secret)}&{escape(self.access_secret)}"
        expected = base64.b64encode(hmac.digest(key.encode(), base.encode(), "sha1")).decode()
        good = (not self.revoked
                and params.get("oauth_consumer_key") == self.consumer_key
                and params.get("oauth_token") == self.access_token
                and unquote(params.get("oauth_signature", "")) == expected)
        return None if good else problem(401, "Unauthorized", "Unauthorized")

    def decorate(self, call: Call, reply: Reply) -> Reply:
        """x-rate-limit-* on every answer (a 429 already carries its own)."""
        if "x-rate-limit-reset" not in reply.headers:
            used = len(self.calls)
            reply.headers.update({"x-rate-limit-limit": "100000",
                                  "x-rate-limit-remaining": str(max(0, 100000 - used)),
                                  "x-rate-limit-reset": str(int(self._window_end.timestamp()))})
        return reply

    # -- routes ------------------------------------------------------------------------------

    def _create(self, call: Call) -> Reply:
        body = call.json() or {}
        text = body.get("text", "")
        media_ids = list((body.get("media") or {}).get("media_ids") or [])
        if not text and not media_ids:
            return self._invalid("text", "Tweet text or media is required")
        if any(m not in self.media for m in media_ids):
            return self._invalid("media.media_ids", "Your media IDs are invalid.")
        if any(t["sent"] == text for t in self.tweets):
            return problem(403, "Forbidden", DUPLICATE)
        tweet_id = str(next(self._ids))
        shown, urls = self._as_x_shows(text, tweet_id, media_ids)
        tweet = {"id": tweet_id, "text": shown, "sent": text, "media_ids": media_ids,
                 "urls": urls, "created_at": self.clock().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                 "author_id": self.user_id, "edit_history_tweet_ids": [tweet_id]}
        self.tweets.append(tweet)
        return Reply(201, {"data": {"id": tweet_id, "text": shown,
                                    "edit_history_tweet_ids": [tweet_id]}})

    def _delete(self, call: Call, tweet_id: str) -> Reply:
        before = len(self.tweets)
        self.tweets = [t for t in self.tweets if t["id"] != tweet_id]
        return Reply(200, {"data": {"deleted": len(self.tweets) < before}})

    def _lookup(self, call: Call) -> Reply:
        ids = (call.arg("ids") or "").split(",")
        if not ids or len(ids) > 100:
            return self._invalid("ids", "The `ids` query parameter value must be 1 to 100 ids")
        fields = (call.arg("tweet.fields") or "").split(",")
        found = {t["id"]: t for t in self.tweets}
        answer: dict[str, Any] = {}
        data = [self._shape(found[i], fields) for i in ids if i in found]
        if data:
            answer["data"] = data
            day = self.clock().astimezone(UTC).date().isoformat()
            self.reads += [(d["id"], day) for d in data]
        missing = [i for i in ids if i not in found]
        errors: list[dict[str, Any]] = []
        if missing:
            errors += [{"value": i, "detail": f"Could not find tweet with ids: [{i}].",
                        "title": "Not Found Error", "resource_type": "tweet",
                        "parameter": "ids", "resource_id": i,
                        "type": "https://api.twitter.com/2/problems/resource-not-found"}
                       for i in missing]
        # Private metrics of posts we may not read: the post comes back without them and an
        # errors[] entry names the field (a 200, never an HTTP error).
        for group in ("non_public_metrics", "organic_metrics"):
            if group not in fields:
                continue
            for i in ids:
                if i in found and i not in self.private_readable:
                    errors.append({
                        "value": group, "resource_id": i, "parameter": "tweet.fields",
                        "resource_type": "tweet", "section": "data", "field": group,
                        "title": "Field Authorization Error",
                        "detail": f"Sorry, you are not authorized to access '{group}' on the "
                                  f"Tweet with ids: [{i}].",
                        "type": "https://api.twitter.com/2/problems/not-authorized-for-field"})
        if errors:
            answer["errors"] = errors
        return Reply(200, answer)

    # -- metrics knobs -----------------------------------------------------------------------

    def add_tweet(self, text: str, *, private: bool = True, clicks: int = 0, **counts: int) -> str:
        """A tweet made elsewhere (for metrics tests); counts override public_metrics fields,
        `clicks` is its url_link_clicks and `private` whether we may read its private metrics."""
        tweet_id = str(next(self._ids))
        with self.lock:
            self.tweets.append({"id": tweet_id, "text": text, "sent": text, "media_ids": [],
                                "urls": [], "created_at": self.clock().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                "author_id": self.user_id, "edit_history_tweet_ids": [tweet_id]})
            self.metrics[tweet_id] = {"public_metrics": dict(counts), "clicks": clicks}
            if private:
                self.private_readable.add(tweet_id)
        return tweet_id

    @property
    def lookup_calls(self) -> list[Call]:
        """Every GET /2/tweets (the metrics reads)."""
        return self.calls_to("GET", r"/2/tweets")

    def charged_usd(self, cost: float = 0.005) -> float:
        """What X would bill: each post once per UTC day it was read."""
        with self.lock:
            return len(set(self.reads)) * cost

    def _me(self, call: Call) -> Reply:
        return Reply(200, {"data": {"id": self.user_id, "name": "Wolverhampton Safeguarding",
                                    "username": self.username}})

    def _timeline(self, call: Call, user_id: str) -> Reply:
        if user_id != self.user_id:
            return Reply(200, {"meta": {"result_count": 0}})
        limit = int(call.arg("max_results") or 10)
        if not 5 <= limit <= 100:
            return self._invalid("max_results", "The `max_results` query parameter value must be 5 to 100")
        fields = (call.arg("tweet.fields") or "").split(",")
        newest_first = list(reversed(self.tweets))[:limit]
        if not newest_first:
            return Reply(200, {"meta": {"result_count": 0}})
        return Reply(200, {"data": [self._shape(t, fields) for t in newest_first],
                           "meta": {"result_count": len(newest_first),
                                    "newest_id": newest_first[0]["id"],
                                    "oldest_id": newest_first[-1]["id"]}})

    def _upload(self, call: Call) -> Reply:
        part = call.file("media")
        category = call.field("media_category", "tweet_image")
        if part is None or not part.data:
            return self._invalid("media", "media is required")
        media_id = str(next(self._ids))
        self.media[media_id] = {"bytes": part.data, "category": category, "alt": None}
        return Reply(200, {"data": {"id": media_id, "media_key": f"3_{media_id}",
                                    "size": len(part.data), "expires_after_secs": 86400,
                                    "image": {"image_type": part.content_type, "w": 1, "h": 1}}})

    def _metadata(self, call: Call) -> Reply:
        body = call.json() or {}
        media_id = body.get("id", "")
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text", "")
        if media_id not in self.media:
            return self._invalid("id", "Media not found")
        if len(alt) > 1000:
            return self._invalid("metadata.alt_text.text", "Alt text is longer than 1000 characters")
        self.media[media_id]["alt"] = alt
        return Reply(200, {"data": {"id": media_id, "associated_metadata": {"alt_text": {"text": alt}}}})

    # -- how X shows text --------------------------------------------------------------------

    def _as_x_shows(self, text: str, tweet_id: str,
                    media_ids: list[str]) -> tuple[str, list[dict[str, Any]]]:
        """X's text: links replaced by t.co, &<> escaped, a trailing t.co link per photo."""
        shown, urls, last = "", [], 0
        for m in URL.finditer(text):
            shown += html.escape(text[last:m.start()], quote=False)
            tco = "https://t.co/" + hashlib.sha1(m.group().encode()).hexdigest()[:10]
            urls.append({"start": len(shown), "end": len(shown) + len(tco), "url": tco,
                         "expanded_url": m.group(),
                         "display_url": m.group().split("://", 1)[1][:26]})
            shown += tco
            last = m.end()
        shown += html.escape(text[last:], quote=False)
        if media_ids:
            tco = "https://t.co/" + hashlib.sha1(tweet_id.encode()).hexdigest()[:10]
            shown += " "
            urls.append({"start": len(shown), "end": len(shown) + len(tco), "url": tco,
                         "expanded_url": f"https://x.com/{self.username}/status/{tweet_id}/photo/1",
                         "display_url": "pic.x.com/" + tco[-10:], "media_key": f"3_{media_ids[0]}"})
            shown += tco
        return shown, urls

    def _shape(self, tweet: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        shaped = {"id": tweet["id"], "text": tweet["text"],
                  "edit_history_tweet_ids": tweet["edit_history_tweet_ids"]}
        if "created_at" in fields:
            shaped["created_at"] = tweet["created_at"]
        if "author_id" in fields:
            shaped["author_id"] = tweet["author_id"]
        if "entities" in fields and tweet["urls"]:
            shaped["entities"] = {"urls": tweet["urls"]}
        if "attachments" in fields and tweet["media_ids"]:
            shaped["attachments"] = {"media_keys": [f"3_{m}" for m in tweet["media_ids"]]}
        if "public_metrics" in fields:
            shaped["public_metrics"] = {"retweet_count": 0, "reply_count": 0, "like_count": 0,
                                        "quote_count": 0, "bookmark_count": 0, "impression_count": 0,
                                        **self.metrics.get(tweet["id"], {}).get("public_metrics", {})}
        if tweet["id"] in self.private_readable:
            public = shaped.get("public_metrics") or {}
            counts = {**public, **self.metrics.get(tweet["id"], {}).get("public_metrics", {})}
            impressions = counts.get("impression_count", 0)
            clicks = self.metrics.get(tweet["id"], {}).get("clicks", 0)
            if "non_public_metrics" in fields:
                shaped["non_public_metrics"] = {
                    "impression_count": impressions, "url_link_clicks": clicks,
                    "user_profile_clicks": 0,
                    "engagements": clicks + sum(counts.get(k, 0) for k in (
                        "like_count", "retweet_count", "reply_count", "quote_count"))}
            if "organic_metrics" in fields:
                shaped["organic_metrics"] = {
                    "impression_count": impressions, "like_count": counts.get("like_count", 0),
                    "reply_count": counts.get("reply_count", 0),
                    "retweet_count": counts.get("retweet_count", 0),
                    "url_link_clicks": clicks, "user_profile_clicks": 0}
        return shaped

    def _invalid(self, parameter: str, message: str) -> Reply:
        return Reply(400, {"errors": [{"parameters": {parameter: []}, "message": message}],
                           "title": "Invalid Request",
                           "detail": "One or more parameters to your request was invalid.",
                           "type": "https://api.twitter.com/2/problems/invalid-request"})
