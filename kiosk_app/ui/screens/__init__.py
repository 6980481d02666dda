"""One widget per kiosk screen."""
