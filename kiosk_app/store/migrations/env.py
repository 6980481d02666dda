"""Alembic environment: migrations run on the keyed engine the kiosk hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from kiosk_app.store.models import Base

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run kiosk migrations through kiosk_app.store.db.open_store")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
