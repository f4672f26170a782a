"""The workflow: a released row's new start, reactive posts that answer a pause, and the notices
sent to approvers.

- ledger.released_at: when a person released a held row; its lateness runs from then, so an
  item released after a pause goes out late on purpose instead of being held as missed.
- reactive_posts.answers_pause: the Accountable person confirmed it answers the event a pause
  is for, so it goes out during that pause.
- notices: which approver was told about which item version (queued, reminded), once each.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the two columns and the notices table."""
    op.add_column("ledger", sa.Column("released_at", sa.String(32), nullable=True))
    op.add_column("reactive_posts", sa.Column("answers_pause", sa.Boolean(), nullable=False,
                                              server_default=sa.false()))
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("person", sa.String(80), nullable=False),
        sa.Column("item_id", sa.String(300), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.UniqueConstraint("person", "item_id", "version", "kind", name="uq_notices_once"),
    )


def downgrade() -> None:
    """Not supported: restore a backup instead."""
    raise NotImplementedError("downgrades are not supported; restore a backup")
