"""Staff decisions that check state and then write it, under the locks a device push takes."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from sync_server.services.ingest import CHANGE_LOG_LOCK


def begin_decision(s: Session) -> None:
    """Call first in the transaction of a decision that may append to the change log.

    On SQLite the write lock is taken before the first read (BEGIN IMMEDIATE), so what the
    decision checked still holds when it writes and a second writer waits instead of failing
    on a stale snapshot. On PostgreSQL the change-log advisory lock is taken, as ingest does,
    so change sequence numbers commit in order and decisions on one record are serialised.
    """
    connection = s.connection()
    if connection.dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHANGE_LOG_LOCK})
        return
    driver = connection.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
