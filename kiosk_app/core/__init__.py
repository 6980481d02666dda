"""Qt-free kiosk core: session, programme player state, rules, timers."""
