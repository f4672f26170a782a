"""A loopback stand-in for the Instagram Graph API (through the Facebook Graph host), answering
as its documentation shows.

- `POST /{ig-user-id}/media` (`image_url`, `caption`, `alt_text`) makes a container, answering
  `{"id"}`; Instagram cURLs the image then, and an image it cannot fetch is refused at once
  (code 9004, subcode 2207052). `GET /{container-id}?fields=status_code,status` says
  IN_PROGRESS (for `processing_polls` reads), FINISHED, ERROR, EXPIRED or PUBLISHED.
- `POST /{ig-user-id}/media_publish` (`creation_id`) publishes a FINISHED container, answering
  the media `{"id"}`; a container not ready is code 9007 subcode 2207027; over the publishing
  limit is code 9 subcode 2207042.
- `GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config` answers
  `{"data": [{"quota_usage", "config": {"quota_total", "quota_duration"}}]}`, counting posts
  published through the API in the moving window.
- `GET /{ig-user-id}/media` lists the account's media newest first (`id, caption, permalink,
  timestamp, ...`); `GET /{media-id}/insights?metric=...` answers Graph's insights shape, and
  one name Instagram does not know for an image fails the whole request (code 100).
- Publishing needs `instagram_content_publish`, insights `instagram_manage_insights`; without
  it Graph answers code 10.

The stand-in also plays the partnership's website, where content/images/ is published: it
serves the files of `site_root` under `/site/`. Instagram's cURL of an `image_url` is answered
from there; any other address fails as an unreachable one would. Nothing is fetched from the
network, let alone the internet.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from standins.facebook import GraphStandIn, graph_error
from standins.server import Call, Reply

WINDOW = timedelta(hours=24)
# What Instagram accepts for an image's insights today; anything else fails the request.
IMAGE_METRICS = ("views", "reach", "likes", "comments", "shares", "saved", "total_interactions",
                 "profile_visits", "profile_activity", "follows")
PERMISSIONS = frozenset({"instagram_basic", "instagram_content_publish", "pages_read_engagement",
                         "instagram_manage_insights"})
_SHORTCODE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def shortcode(media_id: str) -> str:
    """A permalink's code, as Instagram derives it from the media id."""
    number, out = int(media_id), ""
    while number:
        number, digit = divmod(number, 64)
        out = _SHORTCODE[digit] + out
    return out[-11:]


class InstagramStandIn(GraphStandIn):
    """One Instagram professional account, and the website its images are fetched from."""

    name = "instagram"
    rejects_duplicates = False
    ENV = "WST_INSTAGRAM_TOKEN"

    def __init__(self, *, ig_user_id: str = "17841400000000001", username: str = "wolvsafeguarding",
                 token: str = "EAAB-instagram-token-TEST", version: str = "v21.0",
                 site_root: Path | None = None, processing_polls: int = 0, quota_total: int = 100,
                 clock: Callable[[], datetime] | None = None):
        super().__init__(account_id=ig_user_id, token=token, version=version, clock=clock)
        self.ig_user_id, self.username = ig_user_id, username
        self.site_root = site_root               # the website's content/images/ folder
        self.processing_polls = processing_polls # status reads that answer IN_PROGRESS
        self.quota_total = quota_total
        self.permissions = set(PERMISSIONS)
        self.fail_processing = ""                # set: new containers end in ERROR with this
        self.containers: dict[str, dict[str, Any]] = {}
        self.media: list[dict[str, Any]] = []    # newest last
        self.api_published: list[datetime] = []  # what the publishing limit counts
        self.few_viewers: set[str] = set()       # media whose insights Graph withholds (code 10)
        self._ids = itertools.count(17900000000000001)
        v, ig = rf"/{version}", rf"/{version}/{ig_user_id}"
        self.route("GET", r"/site/(?P<path>.+)", self._site)
        self.route("POST", rf"{ig}/media", self._create_container)
        self.route("POST", rf"{ig}/media_publish", self._publish)
        self.route("GET", rf"{ig}/media", self._list_media)
        self.route("GET", rf"{ig}/content_publishing_limit", self._limit)
        self.route("GET", ig, self._account)
        self.route("GET", rf"{v}/(?P<node>\d+)/insights", self._insights)
        self.route("GET", rf"{v}/(?P<node>\d+)", self._node)

    # -- the contract suite's knobs ----------------------------------------------------------

    @property
    def site_url(self) -> str:
        """The website's address of content/images/ (a channel's image_base_url)."""
        return f"{self.base_url}/site/"

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Each media as {"id", "text" (the caption), "image_alt", "image" (bytes), "permalink"}."""
        with self.lock:
            return [{"id": m["id"], "text": m["caption"], "image_alt": m.get("alt_text"),
                     "image": m.get("image"), "permalink": m["permalink"]} for m in self.media]

    @property
    def create_calls(self) -> list[Call]:
        """Every attempt to publish (a container alone is not a post)."""
        return self.calls_to("POST", rf"/{self.version}/{self.ig_user_id}/media_publish")

    @property
    def container_calls(self) -> list[Call]:
        """Every attempt to make a container."""
        return self.calls_to("POST", rf"/{self.version}/{self.ig_user_id}/media")

    def rate_limit(self, times: int = 1, code: int = 80002, regain_minutes: int = 15) -> datetime:
        """Instagram's business-use-case limit by default (see GraphStandIn.rate_limit)."""
        return super().rate_limit(times, code, regain_minutes)

    def delay(self, seconds: float, times: int = 1, land: bool = True) -> None:
        """Delay the next media_publish; `land` says whether the post is made."""
        path = f"/{self.version}/{self.ig_user_id}/media_publish"
        self.delay_next(seconds, times, land, match=lambda c: c.method == "POST" and c.path == path)

    # -- for tests ---------------------------------------------------------------------------

    def published_earlier(self, caption: str, at: datetime, *, by_api: bool = True, **insights: int) -> str:
        """Media published at `at` (through the API, so it counts towards the limit, unless
        by_api=False: posted in the app), with its insight values; its id."""
        with self.lock:
            media = self._new_media(caption, at=at, insights=insights)
            if by_api:
                self.api_published.append(at)
        return media["id"]

    def quota_usage(self) -> int:
        """Posts published through the API within the moving window, by the stand-in's clock."""
        now = self.clock()
        return sum(1 for t in self.api_published if now - WINDOW < t <= now)

    # -- what every answer carries -----------------------------------------------------------

    def authorise(self, call: Call) -> Reply | None:
        """The website is public; Graph wants its token."""
        if call.path.startswith("/site/"):
            return None
        return super().authorise(call)

    def _without(self, permission: str) -> Reply | None:
        if permission in self.permissions:
            return None
        return graph_error(403, "(#10) Application does not have permission for this action", 10)

    # -- the website ---------------------------------------------------------------------------

    def _file(self, path: str) -> bytes | None:
        if self.site_root is None or ".." in Path(path).parts:
            return None
        target = self.site_root / path
        return target.read_bytes() if target.is_file() else None

    def _site(self, call: Call, path: str) -> Reply:
        data = self._file(path)
        if data is None:
            return Reply(404, b"<html><body>Not Found</body></html>", {"Content-Type": "text/html"})
        return Reply(200, data, {"Content-Type": "image/png"})

    def _fetch(self, url: str) -> bytes | None:
        """Instagram's cURL of image_url, answered by the website above and nothing else."""
        prefix = self.site_url
        return self._file(url[len(prefix):]) if url.startswith(prefix) else None

    # -- publishing ----------------------------------------------------------------------------

    def _create_container(self, call: Call) -> Reply:
        refused = self._without("instagram_content_publish")
        if refused:
            return refused
        image_url = call.field("image_url") or call.arg("image_url")
        if not image_url:
            return graph_error(400, "(#100) The parameter image_url is required", 100)
        image = self._fetch(image_url)
        if image is None:
            return graph_error(400, "Only photo or video can be accepted as media type.", 9004, 2207052,
                               error_user_title="Media download has failed.",
                               error_user_msg=f"The media could not be fetched from this uri: {image_url}")
        container_id = str(next(self._ids))
        self.containers[container_id] = {
            "id": container_id, "image_url": image_url, "image": image,
            "caption": call.field("caption", "") or "", "alt_text": call.field("alt_text"),
            "polls": self.processing_polls, "state": "IN_PROGRESS", "error": self.fail_processing}
        return Reply(200, {"id": container_id})

    def _container_state(self, container: dict[str, Any]) -> str:
        if container["state"] == "IN_PROGRESS" and container["polls"] <= 0:
            container["state"] = "ERROR" if container["error"] else "FINISHED"
        return container["state"]

    def _publish(self, call: Call) -> Reply:
        refused = self._without("instagram_content_publish")
        if refused:
            return refused
        container = self.containers.get(call.field("creation_id") or call.arg("creation_id") or "")
        if container is None:
            return graph_error(400, "(#100) Param creation_id must be a valid media container id", 100)
        if self.quota_usage() >= self.quota_total:
            return graph_error(400, "Application request limit reached", 9, 2207042,
                               error_user_title="Can't publish",
                               error_user_msg="You reached maximum number of posts that is allowed "
                                              "to be published by Content Publishing API.")
        if self._container_state(container) != "FINISHED":
            return graph_error(400, "Media ID is not available", 9007, 2207027,
                               error_user_msg="The media is not ready for publishing, please wait "
                                              "for a moment")
        container["state"] = "PUBLISHED"
        now = self.clock()
        media = self._new_media(container["caption"], at=now, alt_text=container["alt_text"],
                                image=container["image"], media_url=container["image_url"])
        self.api_published.append(now)
        return Reply(200, {"id": media["id"]})

    def _new_media(self, caption: str, *, at: datetime, insights: dict[str, int] | None = None,
                   **more: Any) -> dict[str, Any]:
        media_id = str(next(self._ids))
        media = {"id": media_id, "caption": caption, "media_type": "IMAGE",
                 "media_product_type": "FEED", "username": self.username,
                 "permalink": f"https://www.instagram.com/p/{shortcode(media_id)}/",
                 "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S+0000"), "like_count": 0,
                 "comments_count": 0, "insights": dict(insights or {}), **more}
        self.media.append(media)
        return media

    # -- reading -------------------------------------------------------------------------------

    def _limit(self, call: Call) -> Reply:
        refused = self._without("instagram_content_publish")
        if refused:
            return refused
        fields = (call.arg("fields") or "quota_usage").split(",")
        entry: dict[str, Any] = {"quota_usage": self.quota_usage()}
        if "config" in fields:
            entry["config"] = {"quota_total": self.quota_total,
                               "quota_duration": int(WINDOW.total_seconds())}
        return Reply(200, {"data": [entry]})

    def _list_media(self, call: Call) -> Reply:
        fields = (call.arg("fields") or "id").split(",")
        limit = min(int(call.arg("limit") or 25), 100)
        newest = list(reversed(self.media))[:limit]
        data = [{"id": m["id"], **{f: m[f] for f in fields if f in m and f != "id"}} for m in newest]
        answer: dict[str, Any] = {"data": data}
        if data:
            answer["paging"] = {"cursors": {"before": "QVFIUkJFRk9SRQ", "after": "QVFIUkFGVEVS"}}
        return Reply(200, answer)

    def _account(self, call: Call) -> Reply:
        known = {"id": self.ig_user_id, "username": self.username, "media_count": len(self.media)}
        fields = (call.arg("fields") or "id").split(",")
        return Reply(200, {f: known[f] for f in fields if f in known} | {"id": self.ig_user_id})

    def _node(self, call: Call, node: str) -> Reply:
        fields = (call.arg("fields") or "id").split(",")
        container = self.containers.get(node)
        if container is not None:
            state = self._container_state(container)
            if state == "IN_PROGRESS":
                container["polls"] -= 1
            status = {"IN_PROGRESS": "In Progress: Media is still being processed.",
                      "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
                      "PUBLISHED": "Published: Media has been successfully published.",
                      "ERROR": f"Error: {container['error']}", "EXPIRED": "Expired"}[state]
            known = {"id": node, "status_code": state, "status": status}
            return Reply(200, {f: known[f] for f in fields if f in known} | {"id": node})
        media = next((m for m in self.media if m["id"] == node), None)
        if media is None:
            return self.not_found(call)
        return Reply(200, {f: media[f] for f in fields if f in media and f not in ("image", "insights")}
                     | {"id": node})

    def _insights(self, call: Call, node: str) -> Reply:
        refused = self._without("instagram_manage_insights")
        if refused:
            return refused
        media = next((m for m in self.media if m["id"] == node), None)
        if media is None:
            return self.not_found(call)
        names = [m for m in (call.arg("metric") or "").split(",") if m]
        for i, name in enumerate(names):
            if name not in IMAGE_METRICS:
                return graph_error(400, f"(#100) metric[{i}] must be one of the following values: "
                                   f"{', '.join(IMAGE_METRICS)}", 100)
        if not names:
            return graph_error(400, "(#100) The parameter metric is required", 100)
        if node in self.few_viewers:
            return graph_error(400, "(#10) Not enough viewers for the media to show insights", 10)
        data = [{"name": name, "period": "lifetime",
                 "values": [{"value": media["insights"].get(name, 0)}],
                 "title": name.replace("_", " ").title(), "description": f"Lifetime: {name}",
                 "id": f"{node}/insights/{name}/lifetime"} for name in names]
        return Reply(200, {"data": data})
