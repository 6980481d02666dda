"""Kiosk local store: identity, cache index, journal."""
