"""Server settings, passed explicitly to `create_app` and the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import platformdirs

APP_NAME = "intervention-kiosk-server"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_database_url(data_dir: Path | None = None) -> str:
    """A SQLite file under the user data directory, as `sync-server` uses with no --db."""
    return f"sqlite:///{(data_dir or default_data_dir()) / 'server.sqlite3'}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server needs to know; nothing is read from globals."""

    database_url: str
    data_dir: Path = field(default_factory=default_data_dir)
    # How far a device's signature `created` may be from the server clock.
    max_clock_skew: timedelta = timedelta(minutes=5)
    enrolment_code_lifetime: timedelta = timedelta(hours=24)
    # Failed enrolment attempts allowed per client address within the window.
    enrol_attempts_per_window: int = 10
    enrol_window: timedelta = timedelta(minutes=15)
    pull_page_size: int = 500
    idle_timeout_seconds: int = 120
    # Staff dashboard: a session ends after this long without a request, and after the
    # lifetime however active it is.
    dashboard_idle_timeout: timedelta = timedelta(minutes=30)
    dashboard_session_lifetime: timedelta = timedelta(hours=12)
    # Secure (HTTPS-only) cookies; turn off only for a plain-HTTP development server.
    dashboard_secure_cookies: bool = True
    # Failed staff logins allowed per username within the window before it is locked.
    staff_login_failures_per_window: int = 5
    staff_login_window: timedelta = timedelta(minutes=15)
    # Where "today", "overdue" and displayed times are reckoned.
    dashboard_timezone: str = "Europe/London"

    @property
    def pack_dir(self) -> Path:
        return self.data_dir / "packs"

    @property
    def escrow_identity_path(self) -> Path:
        """The server's age identity: packs are built for it, and it re-wraps them per device."""
        return self.data_dir / "escrow.key"

    @property
    def publisher_keys_dir(self) -> Path:
        """Publisher minisign public keys (*.pub) the server accepts packs from."""
        return self.data_dir / "publishers"
