"""Reusable kiosk widgets: keypad, idle overlay."""
