"""Alembic environment: runs on the connection that bot.store.db.migrate hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bot.store.models import Base
from bot.store.search import include_name

target_metadata = Base.metadata

connection = context.config.attributes.get("connection")

if connection is None:  # `alembic revision --autogenerate` from a shell
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
