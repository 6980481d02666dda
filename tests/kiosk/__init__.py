"""Tests of the kiosk application."""
