"""The one place a `requests` connection problem becomes one of our errors.

ConnectTimeout → Transient (nothing was sent). Timeout → Unconfirmed for a write (it may have
landed), else Transient. ConnectionError → Unconfirmed for a write that had connected, else
Transient. Each adapter keeps its own words for these through a `Wording`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from urllib.request import proxy_bypass_environment

import requests
from requests.utils import address_in_network, is_ipv4_address, is_valid_cidr
from urllib3.exceptions import NewConnectionError

from pipeline.channels.base import ChannelError, Transient, Unconfirmed


class Wording(NamedTuple):
    """An adapter's messages: str.format templates that may use {action} and {timeout}."""

    connect_timeout: str = "{action}: could not connect in time"
    no_answer: str = "{action}: no answer within {timeout:g}s"
    lost: str = "{action}: connection lost before the answer"
    failed: str = "{action}: connection failed"
    may_exist: str = "ask find() before trying again"   # added when a write may have landed


STEPS = Wording()   # names the failed step (an XRPC method, "POST /campaigns") in every message


def never_connected(exc: requests.ConnectionError) -> bool:
    """True when the request never reached the server (refused, unresolvable), so no write happened."""
    cause = exc.args[0] if exc.args else None
    if isinstance(getattr(cause, "reason", None), NewConnectionError):  # includes NameResolutionError
        return True
    text = repr(cause) if exc.args else ""
    return "NewConnectionError" in text or "NameResolutionError" in text


def transport_error(exc: requests.Timeout | requests.ConnectionError, channel: str, *, write: bool,
                    wording: Wording = STEPS, action: str = "", timeout: float = 0.0) -> ChannelError:
    """Our error for a request that failed in transport; `write` marks one that may change things."""
    def say(template: str) -> str:
        return template.format(action=action, timeout=timeout)

    if isinstance(exc, requests.ConnectTimeout):   # before Timeout: it is both
        return Transient(channel, say(wording.connect_timeout))
    if isinstance(exc, requests.Timeout):
        if write:
            return Unconfirmed(channel, f"{say(wording.no_answer)}; {wording.may_exist}")
        return Transient(channel, say(wording.no_answer))
    if write and not never_connected(exc):
        return Unconfirmed(channel, f"{say(wording.lost)}; {wording.may_exist}")
    return Transient(channel, say(wording.failed))


def send(session: requests.Session, channel: str, action: str, method: str, url: str, *, write: bool,
         timeout: float, wording: Wording = STEPS, **kwargs: Any) -> requests.Response:
    """`session.request(method, url, **kwargs)`; a transport failure raises our error instead.
    A 3xx is returned as it is, never followed (a write is never re-sent somewhere else)."""
    kwargs.setdefault("allow_redirects", False)
    try:
        return session.request(method, url, timeout=timeout, **kwargs)
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise transport_error(exc, channel, write=write, wording=wording, action=action,
                              timeout=timeout) from exc


def settle_environment(session: requests.Session, url: str,
                       environ: Mapping[str, str]) -> requests.Session:
    """Take the proxy and CA-bundle settings for `url`'s host from `environ` once.

    With its default `trust_env`, requests re-reads the proxy variables (and checks no_proxy)
    on every request, a measurable share of a post's CPU when hundreds go out at once. An
    adapter talks to one host, so the answer is worked out once here, from the `environ` the
    entry point passed down, by the usual rules: HTTP(S)_PROXY / ALL_PROXY / NO_PROXY (lower
    case first), and REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE. (The one thing given up is ~/.netrc
    credentials, which no adapter uses: each sends its own.)"""
    session.proxies.update(environ_proxies(url, environ))
    bundle = environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE")
    if bundle and session.verify is True:
        session.verify = bundle
    session.trust_env = False
    return session


def environ_proxies(url: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The proxies (scheme → address) `environ` names for `url`; none when NO_PROXY covers it."""
    proxies: dict[str, str] = {}
    # as urllib does: any case first, then lower case wins; an empty lower-case one unsets
    for name, value in environ.items():
        if value and name.lower().endswith("_proxy"):
            proxies[name.lower()[:-6]] = value
    for name, value in environ.items():
        if name.endswith("_proxy"):
            if value:
                proxies[name[:-6]] = value
            else:
                proxies.pop(name[:-6], None)
    no_proxy = proxies.pop("no", "")
    host = urlsplit(url).hostname or ""
    if no_proxy and _bypassed(host, urlsplit(url).netloc.rpartition("@")[2], no_proxy):
        return {}
    return proxies


def _bypassed(host: str, host_port: str, no_proxy: str) -> bool:
    """True when NO_PROXY covers the host (an address or CIDR block, or a name suffix)."""
    entries = [e.strip() for e in no_proxy.split(",") if e.strip()]
    if is_ipv4_address(host):
        return any(address_in_network(host, e) if is_valid_cidr(e) else host == e for e in entries)
    return bool(proxy_bypass_environment(host_port or host, {"no": no_proxy}))


def answered_at(response: requests.Response, now: Callable[[], datetime]) -> datetime:
    """When the platform answered (its Date header), else `now()`: the adapter's clock."""
    try:
        return parsedate_to_datetime(response.headers["Date"]).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return now()
