"""Alembic environment: batch mode for SQLite; flashcore may pass its own connection."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context

from flashcore.storage.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    x_args = context.get_x_argument(as_dictionary=True)
    return (
        x_args.get("db")
        or os.environ.get("FLASHCORE_DB")
        or config.get_main_option("sqlalchemy.url")
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        context.run_migrations()
        return

    from flashcore.storage.migrate import migrate_url

    # Plain `alembic upgrade head`: go through flashcore's safe path (foreign keys off on
    # SQLite, one transaction, foreign_key_check) with this connection.
    migrate_url(_url(), config=config)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
