"""Addresses of the web workspace's pages, for the links in emails (approver digests and
reminders, alerts, invitations). The one place outside the web layer that knows its paths;
tests/test_web_emails.py opens every link on a running `wst serve`, so a moved page fails there
instead of leaving a dead link in someone's inbox."""

from __future__ import annotations

from urllib.parse import quote

from pipeline.config import Settings

BULLETIN = "bulletin"  # the first part of every bulletin item's id (bulletin/YYYY-MM/channel)


def base_url(settings: Settings) -> str:
    """Where people open the workspace ([web] base_url, else http://HOST:PORT)."""
    web = settings.web
    return (web.base_url or f"http://{web.host}:{web.port}").rstrip("/")


def item_page(settings: Settings, item_id: str) -> str:
    """The review page of an item (or of a whole post or month's bulletin)."""
    return f"{base_url(settings)}/items/{quote(item_id, safe='/')}"


def page_for(settings: Settings, item_id: str) -> str:
    """The page to read an item on: a month's bulletin page for a bulletin (it has the test
    send), else the item's review page."""
    parts = item_id.split("/")
    if parts[0] == BULLETIN and len(parts) >= 2:
        return bulletin_page(settings, parts[1])
    return item_page(settings, item_id)


def approvals_page(settings: Settings) -> str:
    """The approvals queue (each person sees what waits for them)."""
    return f"{base_url(settings)}/approvals"


def bulletin_page(settings: Settings, month: str) -> str:
    """A month's bulletin (YYYY-MM) at desktop and phone width, with its test send."""
    return f"{base_url(settings)}/bulletin/{quote(month)}"


def status_page(settings: Settings) -> str:
    """Channels' health, the daemon and what needs a person."""
    return f"{base_url(settings)}/status"


def freeze_page(settings: Settings) -> str:
    """The pause, and the decision on what it held (release or cancel, in bulk)."""
    return f"{base_url(settings)}/freeze"


def invite_page(settings: Settings, token: str) -> str:
    """The set-password page of an invitation."""
    return f"{base_url(settings)}/invite/{quote(token)}"
