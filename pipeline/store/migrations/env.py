"""Alembic's environment: run inside the caller's connection and transaction (migrate.upgrade)."""

from alembic import context

from pipeline.store.schema import APSCHEDULER_TABLE, metadata


def include_name(name, type_, parent_names):
    """APScheduler's job table is APScheduler's own, never ours to migrate."""
    return not (type_ == "table" and name == APSCHEDULER_TABLE)


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `wst db upgrade` (or open_store), not the alembic command")
# The caller's transaction is the migration's: alembic begins none of its own inside it.
context.configure(connection=connection, target_metadata=metadata, include_name=include_name,
                  transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
