"""Shared set-up for the metrics tests: a config pointed at the stand-ins, and published rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.config import Config, load_config
from pipeline.ledger import ledger_key
from pipeline.metrics.snapshots import Snapshot
from pipeline.states import State
from pipeline.store import Store, ledger_table, open_store

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)

BASE = """
mode = "live"

[partnership]
name = "Test Safeguarding Partnership"
website = "https://www.wolverhamptonsafeguarding.org.uk"

[official]
child_mash = "01902 555392"
adult_mash = "01902 551199"
out_of_hours = "01902 552999"
website = "www.wolverhamptonsafeguarding.org.uk"

[store]
url = "sqlite:///wst.sqlite"

[scheduler]
request_timeout_seconds = 5
"""

CREDENTIALS = {
    "x": {"consumer_key_env": "WST_X_CONSUMER_KEY", "consumer_secret_env": "WST_X_CONSUMER_SECRET",
          "access_token_env": "WST_X_ACCESS_TOKEN", "access_secret_env": "WST_X_ACCESS_SECRET"},
    "facebook": {"token_env": "WST_FACEBOOK_PAGE_TOKEN"},
    "instagram": {"token_env": "WST_INSTAGRAM_TOKEN"},
    "linkedin": {"token_env": "WST_LINKEDIN_TOKEN"},
    "bluesky": {"username_env": "WST_BLUESKY_HANDLE", "password_env": "WST_BLUESKY_APP_PASSWORD"},
    "mastodon": {"token_env": "WST_MASTODON_TOKEN"},
    "mailchimp": {"api_key_env": "WST_MAILCHIMP_API_KEY"},
}


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(folder: Path, channels: dict[str, dict[str, Any]],
                 metrics: dict[str, Any] | None = None) -> Path:
    """A config.toml in `folder` with these channels (kind → settings) and [metrics] values."""
    lines = [BASE]
    if metrics:
        lines.append("[metrics]")
        lines += [f"{k} = {_toml(v)}" for k, v in metrics.items()]
    for name, table in channels.items():
        lines.append(f"\n[channels.{name}]")
        kind = table.get("kind", name)
        merged = {"kind": kind, **CREDENTIALS.get(kind, {}), **table}
        lines += [f"{k} = {_toml(v)}" for k, v in merged.items()]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def config_for(folder: Path, channels: dict[str, dict[str, Any]],
               metrics: dict[str, Any] | None = None) -> tuple[Config, Store]:
    """The loaded config and its (fresh, real SQLite) store."""
    config = load_config(write_config(folder, channels, metrics))
    return config, open_store(config.store_url)


def publish(store: Store, channel: str, remote_id: str, published_at: datetime, *,
            item_id: str | None = None, kind: str = "post", dry_run: bool = False,
            due: datetime | None = None) -> str:
    """A published ledger row, written directly (the publishing path has its own tests)."""
    item_id = item_id or f"campaign/{channel}/{remote_id}"
    with store.engine.begin() as conn:
        conn.execute(ledger_table.insert().values(
            key=ledger_key(item_id, channel, "v1", dry_run), item_id=item_id, channel=channel,
            version="v1", kind=kind, campaign="test", title=item_id, responsibility="",
            help=False, due=due or published_at, state=State.PUBLISHED, attempts=1,
            remote_id=remote_id, url="", published_at=published_at, dry_run=dry_run,
            created_at=published_at - timedelta(days=1), updated_at=published_at))
    return item_id


def by_field(snapshots: list[Snapshot], remote_id: str) -> dict[str, Snapshot]:
    """One item's snapshots by platform field."""
    return {s.field: s for s in snapshots if s.remote_id == remote_id}


def measures(snapshots: list[Snapshot], remote_id: str) -> dict[str, float | None]:
    """One item's valued measures."""
    return {s.measure: s.value for s in snapshots
            if s.remote_id == remote_id and s.measure and not s.missing}
