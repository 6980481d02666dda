"""Kiosk sync client."""
