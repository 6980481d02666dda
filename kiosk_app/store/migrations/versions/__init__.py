"""Kiosk store revisions."""
