"""The web workspace: accounts, invitations and sessions, and how each audited action was taken.

- events.via, events.origin: "cli" and the operating-system user, or "web" and the client's
  address, or "daemon"; older events have neither.
- web_accounts, web_invites, web_sessions: sign-in for the people of [people] (password
  hashes and token hashes only).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the two columns and the three tables."""
    op.add_column("events", sa.Column("via", sa.String(10), nullable=True))
    op.add_column("events", sa.Column("origin", sa.String(200), nullable=True))
    op.create_table(
        "web_accounts",
        sa.Column("person", sa.String(80), primary_key=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("feed_token_hash", sa.String(64), nullable=True),
        sa.UniqueConstraint("feed_token_hash"),
    )
    op.create_table(
        "web_invites",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("person", sa.String(80), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("used_at", sa.String(32), nullable=True),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("person", sa.String(80), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("last_seen_at", sa.String(32), nullable=False),
        sa.Column("address", sa.String(100), nullable=False),
    )
    op.create_index("ix_web_sessions_person", "web_sessions", ["person"])


def downgrade() -> None:
    """Not supported: restore a backup instead."""
    raise NotImplementedError("downgrades are not supported; restore a backup")
