"""The participant PIN's shape, kept apart from `auth` so screens can import it cheaply."""

from __future__ import annotations

PIN_LENGTH = 6
