"""The kiosk's QApplication, made first, and what is settled with the desktop session then.

`kiosk-app` calls `open_application()` before it imports the kiosk's screens, so that two
things Qt would otherwise do on the GUI thread on the way to the first screen are done
differently:

- **No D-Bus session bus of its own.** Qt's accessibility bridge asks for the session bus
  when the first label is made. With no `DBUS_SESSION_BUS_ADDRESS`, libdbus then runs
  `dbus-launch --autolaunch` whenever there is an X display: a bus daemon started by the
  kiosk, under the kiosk's account, outliving it. The kiosk session
  (docs/kiosk-deployment.md) has no `dbus-launch`, so there it only cost the start a fork
  of the whole process and a few failed execs before the welcome screen (the first label:
  5.2 ms instead of 0.8 ms). `settle_session_bus` names the user bus instead, where
  systemd keeps it: libdbus looks there by itself, so a session that has one keeps it,
  and one that has none gets a plain "no such file" at once.
- **Fonts looked up off the GUI thread.** Qt reads fontconfig's configuration and lists
  the fonts the first time any text is measured (11-15 ms here). `warm_font_database` has
  a worker thread fill Qt's font database (`QFontDatabase` is thread-safe) while the GUI
  thread goes on with the screens' modules and the screens. The gain is small: the worker
  keeps the interpreter for most of the call, so starting it holds the GUI thread 6-12 ms
  (measured with a counting loop on the GUI thread), against the 7-12 ms the first screen
  spends filling the database itself without it (welcome built and painted in 111 ms
  against 114 ms, medians of six alternating runs under Xvfb).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping, MutableMapping

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication

from kiosk_app.ui.theme import FUSION_ARGS, started_in_fusion

log = logging.getLogger(__name__)

SESSION_BUS_ENV = "DBUS_SESSION_BUS_ADDRESS"
# Bytes a D-Bus address value may hold as they are; any other is written %XX (D-Bus spec,
# "Server Addresses").
_ADDRESS_SAFE = frozenset(b"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz/.\\*")


def user_bus_address(environ: Mapping[str, str], uid: int) -> str | None:
    """The session bus address the kiosk gives libdbus, or None to leave the one it has.

    The user bus is `$XDG_RUNTIME_DIR/bus` (`/run/user/UID/bus` when the session sets no
    runtime folder), the socket systemd's user manager opens when the session has a bus.
    """
    if environ.get(SESSION_BUS_ENV):
        return None
    runtime = environ.get("XDG_RUNTIME_DIR") or f"/run/user/{uid}"
    path = os.fsencode(os.path.join(runtime, "bus"))
    escaped = "".join(chr(b) if b in _ADDRESS_SAFE else f"%{b:02x}" for b in path)
    return f"unix:path={escaped}"


def settle_session_bus(environ: MutableMapping[str, str] | None = None) -> str | None:
    """Point libdbus at the user bus unless the session named one (before any widget).

    Returns the address set, or None when the session gave one or this is not Linux.
    """
    if not sys.platform.startswith("linux"):
        return None
    env = os.environ if environ is None else environ
    address = user_bus_address(env, os.getuid())
    if address is not None:
        env[SESSION_BUS_ENV] = address
        log.debug("no session bus address given: using %s", address)
    return address


def warm_font_database() -> threading.Thread:
    """Fill Qt's font database on a worker thread (after QApplication, before any text).

    The thread runs no Python of its own beyond the call. Given an import to do as well
    (ctypes, to cap glibc's malloc arenas), it made the start slower, not faster (~30 ms
    in alternating runs): each file the GUI thread's imports read let the worker take the
    interpreter, and the GUI thread waited up to the 5 ms switch interval to get it back.
    """
    thread = threading.Thread(target=QFontDatabase.families, name="kiosk-fonts", daemon=True)
    thread.start()
    return thread


_font_warmup: threading.Thread | None = None


def open_application() -> QApplication:
    """The kiosk's QApplication: the one there is, else a new one, made as described above.

    Made with `FUSION_ARGS`, and with `Qt::AA_ForceRasterWidgets`: widgets and video are
    drawn in software, where QVideoWidget would otherwise load an OpenGL driver for one
    video (Mesa's llvmpipe on a kiosk without a GPU: LLVM, ~75 MB resident). Qt reads that
    attribute when a widget is made, so it is set here, just after the application and
    before any widget, while the font database fills: setting it costs the start the `Qt`
    namespace's enums, which are made by Python, on this thread.
    """
    global _font_warmup
    existing = QApplication.instance()
    if existing is not None:
        assert isinstance(existing, QApplication)
        return existing
    settle_session_bus()  # before the first label asks for the bus
    app = QApplication([*sys.argv[:1], *FUSION_ARGS])
    started_in_fusion(app)
    _font_warmup = warm_font_database()
    QApplication.setAttribute(Qt.ApplicationAttribute.AA_ForceRasterWidgets)
    return app


def wait_for_fonts() -> None:
    """Wait for the font database warm-up `open_application` started, if any (at exit)."""
    if _font_warmup is not None:
        _font_warmup.join()
