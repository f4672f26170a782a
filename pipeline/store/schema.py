"""Every table of the application, on one `metadata`: what the migrations bring a database to.

APScheduler's job table (`apscheduler_jobs`) is APScheduler's own: it creates and owns it in the
same database, and it is not part of this schema (nor of the migrations).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.types import TypeDecorator

# Named like this, never `apscheduler_jobs`: APScheduler owns that table in the same database.
APSCHEDULER_TABLE = "apscheduler_jobs"


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored as fixed-width UTC ISO text, so text order is time order."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            # A naive time is ambiguous on the days the clocks change; refuse rather than guess.
            raise ValueError(f"naive datetime {value.isoformat()}: pass a timezone-aware time")
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return datetime.fromisoformat(value)


metadata = MetaData()

# -- publishing -------------------------------------------------------------------------------

ledger_table = Table(
    "ledger", metadata,
    Column("key", String(40), primary_key=True),
    Column("item_id", String(300), nullable=False, index=True),
    Column("channel", String(80), nullable=False),
    Column("version", String(40), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("campaign", String(120), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("responsibility", String(80), nullable=False, default=""),
    Column("help", Boolean, nullable=False, default=False),
    Column("due", UTCDateTime, nullable=False, index=True),
    Column("state", String(20), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("remote_id", Text),
    Column("url", Text),
    Column("last_error", Text),
    Column("published_at", UTCDateTime),
    Column("lateness_seconds", Float),
    Column("dry_run", Boolean, nullable=False, default=False),
    Column("held_pause_id", Integer, ForeignKey("pauses.id")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Typed beside the readable `last_error` (revision 0002): a pipeline.states value each.
    Column("error_kind", String(20)),    # ErrorKind, on failed rows
    Column("hold_reason", String(20)),   # HoldReason, on held rows
    Column("released_at", UTCDateTime),   # a person let it go after a hold: lateness runs from then
)

approvals_table = Table(
    "approvals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(300), nullable=False, index=True),
    Column("version", String(40), nullable=False),
    Column("person", String(80), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("accepted_identifying", Boolean, nullable=False, default=False),
    # Set when an edit replaces this version: the approval no longer counts.
    Column("voided_at", UTCDateTime),
)

events_table = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("by", String(80), nullable=False),
    Column("key", String(40)),
    Column("item_id", String(300)),
    Column("details", Text, nullable=False, default="{}"),
    # How the person acted (revision 0004): "cli" (origin: the operating-system user), "web"
    # (origin: the client's address) or "daemon"; empty on events older than that.
    Column("via", String(10)),
    Column("origin", String(200)),
)

pauses_table = Table(
    "pauses", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reason", Text, nullable=False),
    Column("by", String(80), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("until", UTCDateTime),
    Column("keep_help", Boolean, nullable=False, default=False),
    Column("ended_at", UTCDateTime),
    Column("ended_by", String(80)),
)

channel_health_table = Table(
    "channel_health", metadata,
    Column("channel", String(80), primary_key=True),
    Column("flagged", Boolean, nullable=False, default=False),
    Column("reason", Text),
    Column("flagged_at", UTCDateTime),
    Column("rate_limited_until", UTCDateTime),
    Column("updated_at", UTCDateTime),
)

daemon_lock_table = Table(
    "daemon_lock", metadata,
    Column("name", String(40), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("host", String(255), nullable=False),
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
)

# Reactive posts (`wst post`) live here, not in content/, because they are written in the moment.
reactive_table = Table(
    "reactive_posts", metadata,
    Column("id", String(80), primary_key=True),
    Column("text", Text, nullable=False),
    Column("channels", Text, nullable=False),      # JSON list
    Column("image", Text, nullable=False, default=""),
    Column("alt", Text, nullable=False, default=""),
    Column("help", Boolean, nullable=False, default=False),
    Column("due", UTCDateTime, nullable=False),
    Column("created_by", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # confirmed by an Accountable person to answer the event a pause is for: goes out in it
    Column("answers_pause", Boolean, nullable=False, default=False, server_default=false()),
)

# Which approver was told about which item version, and how (queued, reminder): once each.
notices_table = Table(
    "notices", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person", String(80), nullable=False),
    Column("item_id", String(300), nullable=False),
    Column("version", String(40), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("person", "item_id", "version", "kind", name="uq_notices_once"),
)

# The web workspace's sign-in (revision 0004): one account per person of [people], with an
# argon2id hash only; one-time invitations to set a password, kept as hashes of their tokens;
# and the sessions the server knows, so signing out (or going idle) ends one for good.
accounts_table = Table(
    "web_accounts", metadata,
    Column("person", String(80), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # the person's private calendar-subscription link (its token's hash), if they made one
    Column("feed_token_hash", String(64), unique=True),
)

invites_table = Table(
    "web_invites", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("person", String(80), nullable=False),
    Column("created_by", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)

sessions_table = Table(
    "web_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("person", String(80), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("address", String(100), nullable=False, default=""),
)

# Which Message-IDs an SMTP send already handed over, so a resumed send skips those recipients.
deliveries_table = Table(
    "deliveries", metadata,
    Column("message_id", String(300), primary_key=True),
    Column("channel", String(80), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# -- evaluation -------------------------------------------------------------------------------

snapshots_table = Table(
    "snapshots", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(300), nullable=False),
    Column("channel", String(80), nullable=False),
    Column("platform", String(20), nullable=False),      # channel kind: x, facebook, ...
    Column("remote_id", Text, nullable=False),
    Column("field", String(120), nullable=False),        # the platform's own metric name
    Column("measure", String(40)),                       # our normalised name, if it maps to one
    Column("value", Float),                              # NULL when missing
    Column("missing", Boolean, nullable=False, default=False),
    Column("reason", Text),                              # why missing (retired, refused, ...)
    Column("api_version", String(40), nullable=False, default=""),
    Column("collected_at", UTCDateTime, nullable=False),
    Index("ix_snapshots_item", "item_id", "channel", "collected_at"),
    Index("ix_snapshots_time", "collected_at"),
)

x_reads_table = Table(
    "x_reads", metadata,
    Column("post_id", String(40), nullable=False),
    Column("day", String(10), nullable=False),          # the UTC date, YYYY-MM-DD
    Column("cost_usd", Float, nullable=False),
    Column("channel", String(80), nullable=False, default=""),
    Column("read_at", UTCDateTime, nullable=False),
    # One row per post per UTC day: the database itself refuses a second read that day.
    PrimaryKeyConstraint("post_id", "day", name="pk_x_reads"),
)

engagement_table = Table(
    "engagement_activity", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("date", String(10), nullable=False, index=True),   # local date, YYYY-MM-DD
    Column("event", Text, nullable=False),
    Column("people", Integer, nullable=False),
    Column("groups", Integer, nullable=False, default=0),
    Column("recorded_by", String(80), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

shares_table = Table(
    "partner_shares", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner", String(200), nullable=False),
    Column("channel", String(120), nullable=False),            # an id from channel-audit.toml
    Column("item_id", String(300), nullable=False, index=True),
    Column("date", String(10), nullable=False, index=True),
    Column("recorded_by", String(80), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

concerns_table = Table(
    "concerns", metadata,
    Column("month", String(7), primary_key=True),              # YYYY-MM
    Column("children", Integer, nullable=False),
    Column("adults", Integer, nullable=False),
    Column("source", Text, nullable=False, default=""),        # the file it came from
    Column("recorded_by", String(80), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

RECORD_TABLES = (engagement_table, shares_table, concerns_table)
