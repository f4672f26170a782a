"""The schema v0.1 created (the release before migrations).

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from alembic import op

from pipeline.store.migrations import v0_1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table of v0.1, exactly as v0.1 did."""
    v0_1.metadata.create_all(op.get_bind())


def downgrade() -> None:
    """Not supported: restore a backup instead."""
    raise NotImplementedError("downgrades are not supported; restore a backup")
