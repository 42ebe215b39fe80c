"""Alembic environment: runs on the connection cvis hands it (see cvis.store.db)."""

from alembic import context

from cvis.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
