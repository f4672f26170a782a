"""A loopback stand-in for the Facebook Graph API's Page endpoints, answering as Graph does.

Paths carry the version (/v21.0/...); the token may come as the access_token form field or
query parameter or in an Authorization header; errors are {"error": {message, type, code,
error_subcode, fbtrace_id}}; usage headers are JSON strings of percentages.

`GraphStandIn` is what every Graph product's stand-in shares (Instagram's too): the token,
Graph's errors and rate limits, the usage headers and the batch endpoint.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from standins.server import Call, Reply, StandIn, http_date


def graph_error(status: int, message: str, code: int, subcode: int | None = None,
                type_: str = "OAuthException", **more: Any) -> Reply:
    """Graph's error body."""
    error: dict[str, Any] = {"message": message, "type": type_, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(more)
    error["fbtrace_id"] = "AbCdEfGhIjKlMnOpQrStUvW"
    return Reply(status, {"error": error})


RATE_MESSAGES = {
    4: "Application request limit reached", 17: "User request limit reached",
    32: "Page request limit reached", 613: "Calls to this api have exceeded the rate limit.",
    80001: "There have been too many calls to this Page account. Wait a bit and try again.",
    80002: "There have been too many calls to this Instagram account. Wait a bit and try again."}
# Business-use-case limits name their account and say when access returns.
BUC = {80001: "pages", 80002: "instagram"}


class GraphStandIn(StandIn):
    """The Graph host: a token, versioned paths, Graph's errors, usage headers, batch requests."""

    ENV: ClassVar[str] = ""          # config.toml's variable name for the token
    BATCH_LIMIT = 50

    def __init__(self, *, account_id: str, token: str, version: str,
                 clock: Callable[[], datetime] | None = None):
        super().__init__(clock)
        self.account_id, self.token, self.version = account_id, token, version
        self.expired = False
        self.route("POST", rf"(?:/{version})?/?", self._batch)

    # -- the contract suite's knobs ----------------------------------------------------------

    @property
    def environ(self) -> dict[str, str]:
        """The credential under config.toml's variable name."""
        return {self.ENV: self.token}

    @property
    def secrets(self) -> list[str]:
        """Every credential string, which must never appear in a message."""
        return [self.token]

    def rate_limit(self, times: int = 1, code: int = 80001, regain_minutes: int = 15) -> datetime:
        """The next calls answer a Graph rate limit; returns when the adapter should retry.

        With a business-use-case limit (80001 Pages, 80002 Instagram) the
        X-Business-Use-Case-Usage header says how many minutes until access returns; the other
        codes carry no time, so an hour is the rule.
        """
        now = self.clock().replace(microsecond=0)
        reply = graph_error(400, RATE_MESSAGES[code], code, is_transient=True)
        reply.headers["Date"] = http_date(now)
        if code in BUC:
            reply.headers["x-business-use-case-usage"] = json.dumps({self.account_id: [{
                "type": BUC[code], "call_count": 100, "total_cputime": 12, "total_time": 40,
                "estimated_time_to_regain_access": regain_minutes}]})
            reset = now + timedelta(minutes=regain_minutes)
        else:
            reply.headers["x-app-usage"] = json.dumps({"call_count": 100, "total_cputime": 10,
                                                       "total_time": 30})
            reset = now + timedelta(hours=1)
        self.answer_next(reply, times)
        return reset

    def server_error(self, times: int = 1, status: int = 500) -> None:
        """The next calls answer Graph's temporary error."""
        self.answer_next(graph_error(status, "An unexpected error has occurred. Please retry your "
                                     "request later.", 2, is_transient=True), times)

    def error_reply(self, status: int, message: str) -> Reply:
        """Graph's error body (code 100, invalid parameter) with `message`."""
        return graph_error(status, message, 100, type_="GraphMethodException")

    def expire_token(self) -> None:
        """The token expires: every call from now on is code 190."""
        self.expired = True

    # -- what every answer carries -----------------------------------------------------------

    def authorise(self, call: Call) -> Reply | None:
        """Graph's answers to a missing, wrong or expired token."""
        given = call.arg("access_token") or call.field("access_token")
        scheme, _, value = call.headers.get("authorization", "").partition(" ")
        if not given and scheme.lower() in {"oauth", "bearer"}:
            given = value.strip()
        if not given:
            return graph_error(400, "An active access token must be used to query information "
                               "about the current user.", 2500)
        if given != self.token:
            return graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        if self.expired:
            when = self.clock().strftime("%A, %d-%b-%y %H:%M:%S PST")
            return graph_error(400, f"Error validating access token: Session has expired on {when}. "
                               "The current time is later.", 190, 463)
        return None

    def decorate(self, call: Call, reply: Reply) -> Reply:
        """Usage headers on every answer, as Graph sends them."""
        reply.headers.setdefault("x-app-usage", json.dumps({"call_count": 1, "total_cputime": 1,
                                                            "total_time": 1}))
        reply.headers.setdefault("facebook-api-version", self.version)
        return reply

    def not_found(self, call: Call) -> Reply:
        """Graph's answer to a path it does not know."""
        target = call.path.rsplit("/", 1)[-1]
        return graph_error(400, f"Unsupported {call.method.lower()} request. Object with ID "
                           f"'{target}' does not exist, cannot be loaded due to missing permissions, "
                           "or does not support this operation.", 100, 33, type_="GraphMethodException")

    # -- batch requests ----------------------------------------------------------------------

    @property
    def batch_calls(self) -> list[Call]:
        """Every batch request."""
        return [c for c in self.calls_to("POST", rf"(?:/{self.version})?/?") if c.field("batch")]

    def _batch(self, call: Call) -> Reply:
        raw = call.field("batch")
        if not raw:
            return self.not_found(call)
        try:
            ops = json.loads(raw)
        except ValueError:
            return graph_error(400, "(#100) The parameter batch must be a JSON array", 100)
        if not isinstance(ops, list) or len(ops) > self.BATCH_LIMIT:
            return graph_error(400, "(#100) Too many requests in batch message. Maximum batch "
                               f"size is {self.BATCH_LIMIT}", 100)
        with_headers = call.field("include_headers", "true") != "false"
        answers = []
        for op in ops:
            split = urlsplit("/" + str(op.get("relative_url", "")).lstrip("/"))
            path = split.path if split.path.startswith(f"/{self.version}/") else \
                f"/{self.version}{split.path}"
            sub = Call(str(op.get("method", "GET")).upper(), path,
                       parse_qs(split.query, keep_blank_values=True), {}, b"", split.query)
            reply = self._route(sub)
            answer: dict[str, Any] = {"code": reply.status, "body": json.dumps(reply.body)}
            if with_headers:
                answer["headers"] = [{"name": "Content-Type",
                                      "value": "text/javascript; charset=UTF-8"}]
            answers.append(answer)
        return Reply(200, answers)

    def _route(self, call: Call) -> Reply:
        """An operation inside a batch: routed as its own call (the batch's token covers it)."""
        if call.method == "POST":
            return self.not_found(call)
        for method, pattern, handler in self._routes:
            m = pattern.fullmatch(call.path)
            if m and method == call.method:
                return handler(call, **m.groupdict())
        return self.not_found(call)


class FacebookStandIn(GraphStandIn):
    """One Page's feed and photos on loopback, with Graph's errors and usage headers."""

    name = "facebook"
    rejects_duplicates = False
    ENV = "WST_FACEBOOK_PAGE_TOKEN"

    def __init__(self, *, page_id: str = "104857600000001", page_name: str = "WST",
                 token: str = "EAAB-facebook-page-token-TEST", version: str = "v21.0",
                 clock: Callable[[], datetime] | None = None):
        super().__init__(account_id=page_id, token=token, version=version, clock=clock)
        self.page_id, self.page_name = page_id, page_name
        self.feed: list[dict[str, Any]] = []     # newest last
        self._ids = itertools.count(122100000000000001)
        v, page = rf"/{version}", rf"(?P<page>{page_id}|me)"
        self.route("POST", rf"{v}/{page}/feed", self._post_feed)
        self.route("POST", rf"{v}/{page}/photos", self._post_photo)
        self.route("GET", rf"{v}/{page}/feed", self._get_feed)
        self.route("GET", rf"{v}/{page}", self._get_page)
        # Metrics: a post's fields and its insights (carried by the batch endpoint).
        post = r"(?P<post>\d+_\d+)"
        self.route("GET", rf"{v}/{post}", self._get_post)
        self.route("GET", rf"{v}/{post}/insights", self._get_insights)
        # Names Meta has retired: any request naming one fails whole with code 100.
        self.retired_metrics = {"post_impressions", "post_impressions_unique",
                                "post_engaged_users", "post_impressions_organic"}
        # post id -> {"shares", "reactions", "comments", "insights": {metric: value}}
        self.post_metrics: dict[str, dict[str, Any]] = {}

    # -- the contract suite's knobs ----------------------------------------------------------

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Each Page post as {"id", "text", "image_alt", "link"}."""
        with self.lock:
            return [{"id": p["id"], "text": p["message"], "image_alt": p.get("alt"),
                     "link": p.get("link")} for p in self.feed]

    @property
    def create_calls(self) -> list[Call]:
        """Every attempt to create a post (feed or photo)."""
        return self.calls_to("POST", rf"/{self.version}/.+/(feed|photos)")

    def delay(self, seconds: float, times: int = 1, land: bool = True) -> None:
        """Delay the next post creation; `land` says whether the post is made."""
        rx = f"/{self.version}/"
        self.delay_next(seconds, times, land,
                        match=lambda c: c.method == "POST" and c.path.startswith(rx)
                        and c.path.endswith(("/feed", "/photos")))

    # -- routes ------------------------------------------------------------------------------

    def _new_post(self, message: str, **more: Any) -> dict[str, Any]:
        post = {"id": f"{self.page_id}_{next(self._ids)}", "message": message,
                "created_time": self.clock().strftime("%Y-%m-%dT%H:%M:%S+0000"), **more}
        self.feed.append(post)
        return post

    def _post_feed(self, call: Call, page: str) -> Reply:
        if call.content_type not in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            return graph_error(400, "(#100) The parameter message or link is required", 100)
        message, link = call.field("message", ""), call.field("link", "")
        if not message and not link:
            return graph_error(400, "(#100) The parameter message or link is required", 100)
        post = self._new_post(message or "", **({"link": link} if link else {}))
        return Reply(200, {"id": post["id"]})

    def _post_photo(self, call: Call, page: str) -> Reply:
        source, url = call.file("source"), call.field("url")
        if source is None and not url:
            return graph_error(400, "(#324) Requires upload file", 324)
        photo_id = str(next(self._ids))
        post = self._new_post(call.field("caption", "") or "", alt=call.field("alt_text_custom"),
                              photo_id=photo_id, image=source.data if source else url)
        return Reply(200, {"id": photo_id, "post_id": post["id"]})

    def _get_feed(self, call: Call, page: str) -> Reply:
        fields = (call.arg("fields") or "message,created_time").split(",")
        limit = min(int(call.arg("limit") or 25), 100)
        newest_first = list(reversed(self.feed))[:limit]
        data = [{"id": p["id"], **{f: p[f] for f in fields if f in p and f != "id"}}
                for p in newest_first]
        answer: dict[str, Any] = {"data": data}
        if data:
            answer["paging"] = {"cursors": {"before": "QVFIUkJFRk9SRQ", "after": "QVFIUkFGVEVS"}}
        return Reply(200, answer)

    # -- metrics -----------------------------------------------------------------------------

    def add_post(self, message: str, *, shares: int = 0, reactions: int = 0, comments: int = 0,
                 **insights: int) -> str:
        """A Page post made elsewhere (for metrics tests), with its counts and insight values."""
        with self.lock:
            post = self._new_post(message)
            self.post_metrics[post["id"]] = {"shares": shares, "reactions": reactions,
                                             "comments": comments, "insights": dict(insights)}
        return post["id"]

    def _known_post(self, post: str) -> dict[str, Any] | None:
        if post in self.post_metrics:
            return self.post_metrics[post]
        if any(p["id"] == post for p in self.feed):
            return self.post_metrics.setdefault(post, {"shares": 0, "reactions": 0, "comments": 0,
                                                       "insights": {}})
        return None

    def _get_post(self, call: Call, post: str) -> Reply:
        counts = self._known_post(post)
        if counts is None:
            return self.not_found(call)
        wanted = call.arg("fields") or ""
        answer: dict[str, Any] = {"id": post}
        # Graph leaves `shares` out for a post nobody has shared.
        if "shares" in wanted and counts["shares"]:
            answer["shares"] = {"count": counts["shares"]}
        if "reactions" in wanted:
            answer["reactions"] = {"data": [], "summary": {"total_count": counts["reactions"],
                                                           "viewer_reaction": "NONE"}}
        if "comments" in wanted:
            answer["comments"] = {"data": [], "summary": {"order": "ranked",
                                                          "total_count": counts["comments"],
                                                          "can_comment": True}}
        return Reply(200, answer)

    def _get_insights(self, call: Call, post: str) -> Reply:
        counts = self._known_post(post)
        if counts is None:
            return self.not_found(call)
        names = [m for m in (call.arg("metric") or "").split(",") if m]
        if not names or any(m in self.retired_metrics for m in names):
            return graph_error(400, "(#100) The value must be a valid insights metric", 100,
                               type_="OAuthException")
        data = [{"name": m, "period": "lifetime",
                 "values": [{"value": counts["insights"].get(m, 0)}],
                 "title": m.replace("_", " ").title(), "description": f"Lifetime: {m}",
                 "id": f"{post}/insights/{m}/lifetime"} for m in names]
        return Reply(200, {"data": data, "paging": {"previous": "", "next": ""}})

    def _get_page(self, call: Call, page: str) -> Reply:
        fields = (call.arg("fields") or "name,id").split(",")
        known = {"id": self.page_id, "name": self.page_name}
        return Reply(200, {f: known[f] for f in fields if f in known} | {"id": self.page_id})
