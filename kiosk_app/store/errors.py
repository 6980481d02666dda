"""The store's errors, importable without loading SQLAlchemy (the CLI catches them at start)."""

from __future__ import annotations


class StoreError(Exception):
    """The kiosk store cannot be opened or used."""


class StoreKeyError(StoreError):
    """The database exists but the key does not open it (wrong key, or not a kiosk database)."""
