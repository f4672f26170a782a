"""X (Twitter) through tweepy 4.17, API v2, OAuth 1.0a user context."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import tweepy
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth1

from pipeline.channels.base import (
    Artefact,
    AuthExpired,
    ChannelAdapter,
    Duplicate,
    Publication,
    RateLimited,
    Rejected,
    Transient,
)
from pipeline.channels.http import Wording, answered_at, settle_environment, transport_error
from pipeline.images import media_type

# tweepy builds every address on this host (BaseClient.request); we re-address on the session.
TWEEPY_HOST = "https://api.twitter.com"
RATE_WINDOW = timedelta(minutes=15)   # X's window, used when a 429 carries no reset header
RECENT = 100                          # the most one timeline page holds
WORDING = Wording("could not connect to X (timed out)", "X did not answer in time",
                  "the connection to X broke after sending", "could not connect to X",
                  "the tweet may exist")


class _Rebase(HTTPAdapter):
    """Sends requests addressed to tweepy's fixed host to the configured base, with a timeout."""

    def __init__(self, base: str, timeout: float):
        super().__init__()
        self.base = base.rstrip("/")
        self.timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Rewrite the host part; tweepy never passes a timeout, so supply ours."""
        url = request.url or ""
        if url.startswith(TWEEPY_HOST):
            request.url = self.base + url[len(TWEEPY_HOST):]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


class XAdapter(ChannelAdapter):
    """Posts (with one image and its alt text) to the account in settings.handle."""

    kind = "x"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._client: tweepy.Client | None = None
        self._user_id: str = getattr(self.settings, "account_id", "") or ""

    # -- the role --------------------------------------------------------------------------

    def publish(self, artefact: Artefact) -> Publication:
        """Upload the image (if any) with its alt text, then create the tweet once."""
        client = self._connect()
        media_ids = [self._upload(artefact.image, artefact.alt)] if artefact.image else None
        with self._errors(sending=True):
            response = client.create_tweet(text=artefact.text, media_ids=media_ids, user_auth=True)
        tweet_id = str(response.data["id"])
        return Publication(tweet_id, self._url(tweet_id), extra={"text": response.data.get("text", "")})

    def find(self, artefact: Artefact) -> Publication | None:
        """The account's recent tweet whose text is exactly the artefact's, if any."""
        client = self._connect()
        user_id = self._me()
        with self._errors(sending=False):
            response = client.get_users_tweets(user_id, max_results=RECENT, user_auth=True,
                                               tweet_fields=["created_at", "entities"])
        for tweet in response.data or []:
            if _as_posted(tweet.text, tweet.entities) == artefact.text.strip():
                return Publication(str(tweet.id), self._url(str(tweet.id)))
        return None

    def check(self) -> None:
        """Ask X who we are: proves all four credentials."""
        self._connect()
        self._user_id = ""
        self._me()

    # -- helpers -----------------------------------------------------------------------------

    def _connect(self) -> tweepy.Client:
        """The tweepy client, built once; a missing credential raises AuthExpired before any call."""
        if self._client is None:
            client = tweepy.Client(consumer_key=self.secret("consumer_key"),
                                   consumer_secret=self.secret("consumer_secret"),
                                   access_token=self.secret("access_token"),
                                   access_token_secret=self.secret("access_secret"))
            base = self.settings.api_base or TWEEPY_HOST
            # The trailing slash keeps look-alike hosts (api.twitter.com.example) off this adapter.
            client.session.mount(TWEEPY_HOST + "/", _Rebase(base, self.timeout))
            settle_environment(client.session, base, self.environ)
            self._client = client
        return self._client

    def _me(self) -> str:
        if not self._user_id:
            with self._errors(sending=False):
                self._user_id = str(self._connect().get_me(user_auth=True).data["id"])
        return self._user_id

    def _upload(self, image: Path, alt: str) -> str:
        """v2 media upload (tweepy has none) signed like tweepy signs, then the alt text."""
        client = self._connect()
        auth = OAuth1(client.consumer_key, client_secret=client.consumer_secret,
                      resource_owner_key=client.access_token,
                      resource_owner_secret=client.access_token_secret)
        mime = media_type(image)
        # An upload that times out leaves at most an orphan that X expires: retrying is safe.
        with self._errors(sending=False):
            uploaded = _checked(client.session.post(
                f"{TWEEPY_HOST}/2/media/upload", auth=auth,
                data={"media_category": "tweet_image"},
                files={"media": (image.name, image.read_bytes(), mime)}))
            media_id = str(uploaded.json()["data"]["id"])
            if alt:
                _checked(client.session.post(
                    f"{TWEEPY_HOST}/2/media/metadata", auth=auth,
                    json={"id": media_id, "metadata": {"alt_text": {"text": alt}}}))
        return media_id

    def _url(self, tweet_id: str) -> str:
        return f"https://x.com/{self.settings.handle.lstrip('@')}/status/{tweet_id}"

    @contextmanager
    def _errors(self, *, sending: bool) -> Iterator[None]:
        """The one place X's and the transport's errors become ours; `sending` marks a post."""
        try:
            yield
        except tweepy.TooManyRequests as exc:
            raise RateLimited(self.name, _reset_at(exc, self.now)) from exc
        except tweepy.Unauthorized as exc:
            raise AuthExpired(self.name, "X refused the credentials (401): renew the access "
                              "token and secret") from exc
        except tweepy.Forbidden as exc:
            if any("duplicate content" in str(m).lower() for m in exc.api_messages):
                raise Duplicate(self.name, "X already has a tweet with exactly this text") from exc
            raise Rejected(self.name, f"X refused the tweet: {_reason(exc)}") from exc
        except tweepy.TwitterServerError as exc:
            raise Transient(self.name, f"X server error: {_reason(exc)}") from exc
        except tweepy.HTTPException as exc:
            raise Rejected(self.name, f"X refused the request: {_reason(exc)}") from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise transport_error(exc, self.name, write=sending, wording=WORDING) from exc


def _checked(response: requests.Response) -> requests.Response:
    """Raise tweepy's exception for a failed raw call, as tweepy's own request() does."""
    status = response.status_code
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset")
        raise tweepy.TooManyRequests(response, reset_time=int(reset) if reset else None)
    errors = {400: tweepy.BadRequest, 401: tweepy.Unauthorized, 403: tweepy.Forbidden,
              404: tweepy.NotFound}
    if status in errors:
        raise errors[status](response)
    if status >= 500:
        raise tweepy.TwitterServerError(response)
    if not 200 <= status < 300:
        raise tweepy.HTTPException(response)
    return response


def _reset_at(exc: tweepy.TooManyRequests, now: Callable[[], datetime]) -> datetime:
    if exc.reset_time is not None:
        return datetime.fromtimestamp(exc.reset_time, UTC)
    return answered_at(exc.response, now) + RATE_WINDOW


def _reason(exc: tweepy.HTTPException) -> str:
    return "; ".join(str(m) for m in exc.api_messages) or f"HTTP {exc.response.status_code}"


def _as_posted(text: str, entities: dict[str, Any] | None) -> str:
    """The text as it was posted: t.co links expanded, the photo link dropped, &amp; unescaped."""
    for url in (entities or {}).get("urls", []):
        original = "" if url.get("media_key") else url.get("expanded_url", url["url"])
        text = text.replace(url["url"], original)
    return html.unescape(text).strip()
