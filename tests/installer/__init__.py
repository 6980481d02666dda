"""Tests of the installers: the kiosk bundle, the kiosk session, the server deployment."""
