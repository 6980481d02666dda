"""The officer console: sign-in, device status, sync, registering participants."""
