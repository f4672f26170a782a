"""An Instagram professional account through the Instagram Graph API (the Facebook Graph host).

Publishing an image is three steps: a media container for the image (fetched by Instagram
from its public address) with its caption and alt text; waiting, bounded, until the container
is FINISHED; then `media_publish`. Before the container the account's content publishing limit
is read: over it, the post is rate limited until the oldest post in the window leaves it, never
failed. The two writes (the container, the publish) that time out are Unconfirmed and settled by
find(), which reads the account's recent media: never by publishing again.

Images are local files in content/images/; Instagram needs them at a public address. The
channel's `image_base_url` names where content/images/ is served (the partnership's website):
the image's address is that base plus its path below the images folder. The adapter reads that
address first and publishes only if it serves exactly the local file, so an image not yet on
the website, or an older one under the same name, is refused here rather than posted.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import requests

from pipeline.channels.base import (
    Artefact,
    ChannelError,
    Publication,
    RateLimited,
    Rejected,
    Transient,
    Unconfirmed,
)
from pipeline.channels.facebook import GRAPH, RATE_FALLBACK, GraphAdapter, GraphVoice
from pipeline.channels.http import Wording, answered_at, send, settle_environment

RECENT = 50                          # recent media read by find() and the limit's window
CONTAINER_POLLS = 10                 # bounded wait for Instagram to fetch and process the image
CONTAINER_POLL_SECONDS = 3.0
MAX_IMAGE_BYTES = 8 * 1024 * 1024    # Instagram's limit for an image
QUOTA_TOTAL = 100                    # Meta's documented cap, when the answer gives none
QUOTA_WINDOW = timedelta(hours=24)
IMAGES = "images"                    # the content folder that image_base_url serves
TIMESTAMP = "%Y-%m-%dT%H:%M:%S%z"    # Graph's timestamps: 2026-11-23T09:30:00+0000
INSTAGRAM = GraphVoice(
    "Instagram", "the Instagram token",
    "generate a new long-lived token for the Facebook Page connected to the account",
    Wording("could not connect to Instagram (timed out)", "Instagram did not answer in time",
            "the connection to Instagram broke after sending", "could not connect to Instagram",
            "the post may exist"),
    permissions="instagram_basic, instagram_content_publish and pages_read_engagement "
                "(instagram_manage_insights for metrics)")
SITE_WORDING = Wording("could not connect to the website (timed out)",
                       "the website did not answer in time", "the website broke the connection",
                       "could not connect to the website")


class InstagramAdapter(GraphAdapter):
    """Posts an image with its caption and alt text to the account in settings.account_id."""

    kind = "instagram"
    voice = INSTAGRAM

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # The website is another host than Graph: its own proxy settings, and never the token.
        self._site = settle_environment(requests.Session(), self.settings.image_base_url or GRAPH,
                                        self.environ)

    # -- the role --------------------------------------------------------------------------

    def publish(self, artefact: Artefact) -> Publication:
        """Read the publishing limit, check the public image, make the container, wait, publish."""
        self.secret("token")   # a missing credential is reported before any request
        if artefact.image is None:
            # The content checks refuse this before approval; an adapter never trusts that.
            raise Rejected(self.name, "an Instagram post needs an image; add `image` and `alt`")
        account = self._account
        local = _readable(self.name, artefact.image)
        self._within_limit(account)
        image_url = self._public_image(artefact.image, local)
        container = self._call("POST", f"{account}/media", sending=True,
                               data={"image_url": image_url, "caption": artefact.text,
                                     "alt_text": artefact.alt})
        container_id = str(container["id"])
        self._wait_until_finished(container_id)
        media = self._call("POST", f"{account}/media_publish", sending=True,
                           data={"creation_id": container_id})
        media_id = str(media["id"])
        return Publication(media_id, self._permalink(media_id), extra={"container_id": container_id})

    def find(self, artefact: Artefact) -> Publication | None:
        """The account's recent media whose caption is exactly the artefact's text, if any."""
        for media in self._recent("id,caption,permalink"):
            if (media.get("caption") or "").strip() == artefact.text.strip():
                return Publication(str(media["id"]), media.get("permalink") or self._profile)
        return None

    def check(self) -> None:
        """Read the publishing limit: it needs the token and the publishing permission both."""
        self._call("GET", f"{self._account}/content_publishing_limit", sending=False,
                   params={"fields": "quota_usage,config"})

    # -- the steps -----------------------------------------------------------------------------

    @property
    def _account(self) -> str:
        if not self.settings.account_id:
            raise Rejected(self.name, "account_id (the Instagram professional account's id) is not "
                           "set in config.toml")
        return self.settings.account_id

    @property
    def _profile(self) -> str:
        handle = self.settings.handle.strip().lstrip("@")
        return f"https://www.instagram.com/{handle}/" if handle else ""

    def _public_image(self, image: Path, local: bytes) -> str:
        """The image's public address, once it is known to serve exactly `local`, its bytes."""
        base = self.settings.image_base_url
        if not base:
            raise Rejected(self.name, "image_base_url (where content/images/ is served) is not set "
                           "in config.toml")
        url = image_url(base, image)
        response = send(self._site, self.name, url, "GET", url, write=False, timeout=self.timeout,
                        wording=SITE_WORDING)
        if response.status_code == 404:
            # Often the website has not been updated yet: worth another try later.
            raise Transient(self.name, f"the image is not on the website yet: {url} answers 404; "
                            f"publish content/images/ there")
        if response.status_code >= 500:
            raise Transient(self.name, f"the website answered {response.status_code} for {url}")
        if response.status_code != 200:
            raise Rejected(self.name, f"the website answered {response.status_code} for {url}; "
                           "Instagram must be able to fetch the image there")
        if hashlib.sha256(response.content).digest() != hashlib.sha256(local).digest():
            raise Rejected(self.name, f"{url} is not the same image as {image.name}: publish "
                           "content/images/ to the website again, then release the post")
        return url

    def _within_limit(self, account: str) -> None:
        """The account's content publishing limit; at it, RateLimited until the window frees."""
        answer, response = self._request("GET", f"{account}/content_publishing_limit", sending=False,
                                         params={"fields": "quota_usage,config"})
        entry = (answer.get("data") or [{}])[0]
        used = int(entry.get("quota_usage") or 0)
        config = entry.get("config") or {}
        total = int(config.get("quota_total") or QUOTA_TOTAL)
        window = timedelta(seconds=int(config.get("quota_duration") or QUOTA_WINDOW.total_seconds()))
        if used < total:
            return
        frees = self._window_frees(used - total + 1, window, answered_at(response, self.now))
        raise RateLimited(self.name, frees, f"the account has published {used} of the {total} posts "
                          f"Instagram allows through its API in {window.total_seconds() / 3600:g} "
                          "hours")

    def _window_frees(self, leave: int, window: timedelta, answered: datetime) -> datetime:
        """When `leave` posts will have left the moving window: the `leave`th oldest recent post
        inside it, plus the window. Posts made in the app count in the list but not in the
        limit, so this is never later than the truth; and re-reading the limit then costs one
        read, never a post. Without the list, an hour."""
        try:
            stamps = sorted(t for t in (_stamp(m.get("timestamp")) for m in self._recent("timestamp"))
                            if t is not None and t > answered - window)
        except ChannelError:
            stamps = []
        if len(stamps) >= leave:
            return stamps[leave - 1] + window + timedelta(seconds=1)
        return answered + RATE_FALLBACK

    def _wait_until_finished(self, container_id: str) -> None:
        """Poll the container (bounded) until Instagram has fetched and processed the image."""
        for poll in range(CONTAINER_POLLS + 1):
            answer = self._call("GET", container_id, sending=False,
                                params={"fields": "status_code,status"})
            state, status = answer.get("status_code"), answer.get("status") or ""
            if state == "FINISHED":
                return
            if state == "ERROR":
                raise Rejected(self.name, f"Instagram could not use the image: {status}")
            if state == "EXPIRED":
                raise Transient(self.name, "the media container expired before it was published")
            if state == "PUBLISHED":
                # Not by us (we publish only FINISHED containers), but a post exists: ask first.
                raise Unconfirmed(self.name, "the media container is already published; ask find()")
            if poll < CONTAINER_POLLS:
                (self.sleep or time.sleep)(CONTAINER_POLL_SECONDS)
        # Nothing was published: a later attempt makes a new container (this one expires).
        raise Transient(self.name, f"Instagram is still processing the image after "
                        f"{CONTAINER_POLLS * CONTAINER_POLL_SECONDS:g} s; try later")

    def _permalink(self, media_id: str) -> str:
        """The published post's public link. The post exists now, so no error may escape: a
        failure here would be retried, and a retry would post twice."""
        try:
            answer = self._call("GET", media_id, sending=False, params={"fields": "permalink"})
        except ChannelError:
            return self._profile
        return str(answer.get("permalink") or self._profile)

    def _recent(self, fields: str) -> list[dict[str, Any]]:
        """The account's most recent media, newest first."""
        answer = self._call("GET", f"{self._account}/media", sending=False,
                            params={"fields": fields, "limit": RECENT})
        return list(answer.get("data") or [])


def image_url(base: str, image: Path) -> str:
    """Where `image` is served: the base plus its path below the nearest `images` folder
    (content/images/a/b.png → <base>a/b.png), or plus its file name when it is in no such
    folder."""
    folders = image.parts[:-1]
    if IMAGES in folders:
        nearest = len(folders) - 1 - folders[::-1].index(IMAGES)
        below = image.parts[nearest + 1:]
    else:
        below = (image.name,)
    return urljoin(base.rstrip("/") + "/", quote("/".join(below)))


def _readable(channel: str, image: Path) -> bytes:
    """The image's bytes, refused at once when Instagram would refuse them for their size."""
    local = image.read_bytes()
    if len(local) > MAX_IMAGE_BYTES:
        raise Rejected(channel, f"{image.name} is {len(local) / 1048576:.1f} MB; Instagram takes "
                       "images up to 8 MB")
    return local


def _stamp(value: Any) -> datetime | None:
    try:
        return datetime.strptime(str(value), TIMESTAMP)
    except ValueError:
        return None
