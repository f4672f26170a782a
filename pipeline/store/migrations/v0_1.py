"""The schema v0.1 created, frozen: revision 0001 creates exactly this, and a v0.1 store is
completed with it before it is stamped 0001. Never edit it; change the schema in a new revision.

(v0.1 stored times as VARCHAR(32) UTC text through its UTCDateTime type; here they are the plain
column type, so the migrations never depend on the application's code.)
"""

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
)

TIME = String(32)
metadata = MetaData()

Table(
    "ledger", metadata,
    Column("key", String(40), primary_key=True),
    Column("item_id", String(300), nullable=False, index=True),
    Column("channel", String(80), nullable=False),
    Column("version", String(40), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("campaign", String(120), nullable=False),
    Column("title", Text, nullable=False),
    Column("responsibility", String(80), nullable=False),
    Column("help", Boolean, nullable=False),
    Column("due", TIME, nullable=False, index=True),
    Column("state", String(20), nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("remote_id", Text),
    Column("url", Text),
    Column("last_error", Text),
    Column("published_at", TIME),
    Column("lateness_seconds", Float),
    Column("dry_run", Boolean, nullable=False),
    Column("held_pause_id", Integer, ForeignKey("pauses.id")),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
)
Table(
    "approvals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(300), nullable=False, index=True),
    Column("version", String(40), nullable=False),
    Column("person", String(80), nullable=False),
    Column("at", TIME, nullable=False),
    Column("accepted_identifying", Boolean, nullable=False),
    Column("voided_at", TIME),
)
Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", TIME, nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("by", String(80), nullable=False),
    Column("key", String(40)),
    Column("item_id", String(300)),
    Column("details", Text, nullable=False),
)
Table(
    "pauses", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reason", Text, nullable=False),
    Column("by", String(80), nullable=False),
    Column("started_at", TIME, nullable=False),
    Column("until", TIME),
    Column("keep_help", Boolean, nullable=False),
    Column("ended_at", TIME),
    Column("ended_by", String(80)),
)
Table(
    "channel_health", metadata,
    Column("channel", String(80), primary_key=True),
    Column("flagged", Boolean, nullable=False),
    Column("reason", Text),
    Column("flagged_at", TIME),
    Column("rate_limited_until", TIME),
    Column("updated_at", TIME),
)
Table(
    "daemon_lock", metadata,
    Column("name", String(40), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("host", String(255), nullable=False),
    Column("acquired_at", TIME, nullable=False),
    Column("heartbeat_at", TIME, nullable=False),
)
Table(
    "reactive_posts", metadata,
    Column("id", String(80), primary_key=True),
    Column("text", Text, nullable=False),
    Column("channels", Text, nullable=False),
    Column("image", Text, nullable=False),
    Column("alt", Text, nullable=False),
    Column("help", Boolean, nullable=False),
    Column("due", TIME, nullable=False),
    Column("created_by", String(80), nullable=False),
    Column("created_at", TIME, nullable=False),
)
Table(
    "deliveries", metadata,
    Column("message_id", String(300), primary_key=True),
    Column("channel", String(80), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("at", TIME, nullable=False),
)
Table(
    "snapshots", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(300), nullable=False),
    Column("channel", String(80), nullable=False),
    Column("platform", String(20), nullable=False),
    Column("remote_id", Text, nullable=False),
    Column("field", String(120), nullable=False),
    Column("measure", String(40)),
    Column("value", Float),
    Column("missing", Boolean, nullable=False),
    Column("reason", Text),
    Column("api_version", String(40), nullable=False),
    Column("collected_at", TIME, nullable=False),
    Index("ix_snapshots_item", "item_id", "channel", "collected_at"),
    Index("ix_snapshots_time", "collected_at"),
)
Table(
    "x_reads", metadata,
    Column("post_id", String(40), nullable=False),
    Column("day", String(10), nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("channel", String(80), nullable=False),
    Column("read_at", TIME, nullable=False),
    PrimaryKeyConstraint("post_id", "day", name="pk_x_reads"),
)
Table(
    "engagement_activity", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("date", String(10), nullable=False, index=True),
    Column("event", Text, nullable=False),
    Column("people", Integer, nullable=False),
    Column("groups", Integer, nullable=False),
    Column("recorded_by", String(80), nullable=False),
    Column("at", TIME, nullable=False),
)
Table(
    "partner_shares", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner", String(200), nullable=False),
    Column("channel", String(120), nullable=False),
    Column("item_id", String(300), nullable=False, index=True),
    Column("date", String(10), nullable=False, index=True),
    Column("recorded_by", String(80), nullable=False),
    Column("at", TIME, nullable=False),
)
Table(
    "concerns", metadata,
    Column("month", String(7), primary_key=True),
    Column("children", Integer, nullable=False),
    Column("adults", Integer, nullable=False),
    Column("source", Text, nullable=False),
    Column("recorded_by", String(80), nullable=False),
    Column("at", TIME, nullable=False),
)
