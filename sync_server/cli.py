"""The `sync-server` command: run the server, migrate, and administer forces, staff and packs."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from content_packs import age, signing
from content_packs.pack import PackError, signature_path_for
from sync_server import db
from sync_server.models import Role, Site, StaffUser
from sync_server.services import admin, enrolment, packs
from sync_server.services.writelock import begin_decision
from sync_server.settings import Settings, default_data_dir, default_database_url

P = ParamSpec("P")
R = TypeVar("R")

DB_ENV = "SYNC_SERVER_DB"
DATA_DIR_ENV = "SYNC_SERVER_DATA_DIR"
NOT_MIGRATED = "database not migrated; run sync-server migrate"

log = logging.getLogger("sync_server.cli")


class CliError(Exception):
    """A refusal the command reports as one line."""


# Every failure an operator can cause is one line on stderr and exit status 1.
_EXPECTED = (
    CliError,
    admin.AdminError,
    packs.PackServiceError,
    enrolment.EnrolmentRefused,
    LookupError,
    PackError,
    signing.SignatureError,
    age.AgeError,
    OSError,
)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except _EXPECTED as exc:
            message = exc.args[0] if isinstance(exc, LookupError) and exc.args else str(exc)
            click.echo(
                f"sync-server: error: {_one_line(str(message) or type(exc).__name__)}", err=True
            )
        except SQLAlchemyError as exc:
            # The driver's text can be long and may name the connection; the class is enough.
            orig = getattr(exc, "orig", None)
            detail = (
                _one_line(str(orig).splitlines()[0]) if orig is not None else type(exc).__name__
            )
            click.echo(f"sync-server: error: database error: {detail}", err=True)
        sys.exit(1)

    return wrapper


def _common_options(func: Callable[P, R]) -> Callable[P, R]:
    func = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=DATA_DIR_ENV,
        show_envvar=True,
        help="Where packs, keys and the default SQLite database live.",
    )(func)
    func = click.option(
        "--db",
        "db_url",
        envvar=DB_ENV,
        show_envvar=True,
        help="SQLAlchemy database URL; default: a SQLite file under the data directory.",
    )(func)
    return func


def make_settings(db_url: str | None, data_dir: Path | None) -> Settings:
    data_dir = (data_dir or default_data_dir()).expanduser().absolute()
    return Settings(database_url=db_url or default_database_url(data_dir), data_dir=data_dir)


def _is_migrated(engine: Engine) -> bool:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(db.alembic_config(engine)).get_current_head()
    return db.current_revision(engine) == head


@contextmanager
def _engine(settings: Settings, *, require_migrated: bool = True) -> Iterator[Engine]:
    engine = db.make_engine(settings.database_url)
    try:
        if require_migrated and not _is_migrated(engine):
            raise CliError(NOT_MIGRATED)
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _transaction(settings: Settings) -> Iterator[Session]:
    with _engine(settings) as engine, db.session_factory(engine).begin() as s:
        yield s


def _now() -> datetime:
    return datetime.now(UTC)


@click.group()
@click.version_option(package_name="intervention-kiosk")
def main() -> None:
    """Intervention Kiosk central sync server."""
    # Quiet by default so a refusal stays one line; the audit log records every change.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


# The factory uvicorn calls in each worker; settings travel through the environment.
def app_from_environment() -> Any:
    from sync_server.app import create_worker_app

    return create_worker_app(make_settings(os.environ.get(DB_ENV), _env_path(DATA_DIR_ENV)))


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


@main.command("serve")
@_common_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@_one_line_errors
def serve(db_url: str | None, data_dir: Path | None, host: str, port: int, workers: int) -> None:
    """Serve the API and dashboard with uvicorn (X-Forwarded-* trusted from FORWARDED_ALLOW_IPS)."""
    import uvicorn

    settings = make_settings(db_url, data_dir)
    with _engine(settings):
        pass
    packs.load_or_create_escrow_identity(settings)
    os.environ[DB_ENV] = settings.database_url
    os.environ[DATA_DIR_ENV] = str(settings.data_dir)
    uvicorn.run(
        "sync_server.cli:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
    )


@main.command("migrate")
@_common_options
@_one_line_errors
def migrate(db_url: str | None, data_dir: Path | None) -> None:
    """Create or upgrade the database schema to the newest revision."""
    settings = make_settings(db_url, data_dir)
    logging.getLogger("alembic").setLevel(logging.INFO)
    with _engine(settings, require_migrated=False) as engine:
        db.upgrade(engine)
        click.echo(f"database at revision {db.current_revision(engine)}")


@main.command("create-force")
@click.argument("force_id", metavar="ID")
@click.option("--name", required=True, help="The force's full name.")
@_common_options
@_one_line_errors
def create_force(force_id: str, name: str, db_url: str | None, data_dir: Path | None) -> None:
    """Add a police force."""
    with _transaction(make_settings(db_url, data_dir)) as s:
        admin.create_force(s, force_id=force_id, name=name, now=_now())
    click.echo(f"created force {force_id}")


@main.command("create-site")
@click.argument("site_id", metavar="ID")
@click.option("--force", "force_id", required=True, help="The force the site belongs to.")
@click.option("--name", required=True, help="The site's name (station, custody suite, library).")
@_common_options
@_one_line_errors
def create_site(
    site_id: str, force_id: str, name: str, db_url: str | None, data_dir: Path | None
) -> None:
    """Add a site (where kiosks and tablets are enrolled) to a force."""
    with _transaction(make_settings(db_url, data_dir)) as s:
        admin.create_site(s, site_id=site_id, force_id=force_id, name=name, now=_now())
    click.echo(f"created site {site_id} in force {force_id}")


def _read_password() -> str:
    if sys.stdin.isatty():
        password: str = click.prompt(
            "Password", hide_input=True, confirmation_prompt=True, err=True
        )
        return password
    line = sys.stdin.readline()
    if not line:
        raise CliError("no password on standard input")
    return line.removesuffix("\n").removesuffix("\r")


@main.command("create-staff")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--force", "force_id", help="The staff member's force (required unless admin).")
@click.option("--name", "display_name", help="Display name; default: the username.")
@_common_options
@_one_line_errors
def create_staff(
    username: str,
    role: str,
    force_id: str | None,
    display_name: str | None,
    db_url: str | None,
    data_dir: Path | None,
) -> None:
    """Add a staff account; the password is prompted for (or read from stdin's first line)."""
    settings = make_settings(db_url, data_dir)
    # Refuse a bad database before asking for a password nobody will use.
    with _engine(settings):
        pass
    password = _read_password()
    with _transaction(settings) as s:
        admin.create_staff(
            s,
            username=username,
            display_name=display_name or username,
            role=Role(role),
            force_id=force_id,
            password=password,
            now=_now(),
        )
    log.info("created staff user %s (%s)", username, role)
    click.echo(f"created {role} {username}" + (f" in force {force_id}" if force_id else ""))


@main.command("set-password")
@click.argument("username")
@_common_options
@_one_line_errors
def set_password(username: str, db_url: str | None, data_dir: Path | None) -> None:
    """Give a staff account a new password (prompted for, or read from stdin's first line),
    clear its lockout and sign it out everywhere; kiosks learn it at their next sync."""
    from sync_server.dashboard.auth import forget_failed_sign_ins, sign_out_everywhere

    settings = make_settings(db_url, data_dir)
    with _engine(settings):
        pass
    password = _read_password()
    admin.check_password(password)
    password_hash = admin.hash_password(password)
    with _transaction(settings) as s:
        begin_decision(s)
        user = s.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is None:
            raise admin.AdminError(f"no staff user {username!r}")
        at = _now()
        admin.set_password(s, user, password_hash=password_hash, now=at)
        sign_out_everywhere(s, user, now=at)
        forget_failed_sign_ins(s, user)
    log.info("set a new password for staff user %s", username)
    click.echo(f"new password set for {username}; signed out everywhere")


@main.command("enrolment-code")
@click.option("--site", "site_id", required=True, help="The site the device will belong to.")
@click.option("--created-by", "created_by", help="Username of the staff member issuing it.")
@_common_options
@_one_line_errors
def enrolment_code(
    site_id: str, created_by: str | None, db_url: str | None, data_dir: Path | None
) -> None:
    """Print a single-use device enrolment code for a site, and when it expires."""
    settings = make_settings(db_url, data_dir)
    now = _now()
    with _transaction(settings) as s:
        if s.get(Site, site_id) is None:
            raise admin.AdminError(f"unknown site {site_id!r}")
        staff_id = admin.staff_by_username(s, created_by).id if created_by else None
        code = enrolment.issue_code(
            s,
            site_id=site_id,
            created_by=staff_id,
            now=now,
            lifetime=settings.enrolment_code_lifetime,
        )
    expires = (now + settings.enrolment_code_lifetime).replace(microsecond=0)
    log.info("issued an enrolment code for site %s", site_id)
    click.echo(code)
    click.echo(f"single use; expires {expires.isoformat().replace('+00:00', 'Z')}")


@main.command("publish")
@click.argument("pack_path", metavar="PACK", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--signature",
    "signature_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The pack's .minisig; default: beside the pack.",
)
@click.option(
    "--force",
    "forces",
    multiple=True,
    help="A force to offer the pack to (repeatable); default: every force.",
)
@_common_options
@_one_line_errors
def publish(
    pack_path: Path,
    signature_path: Path | None,
    forces: tuple[str, ...],
    db_url: str | None,
    data_dir: Path | None,
) -> None:
    """Verify a signed pack built for the escrow recipient and publish it."""
    settings = make_settings(db_url, data_dir)
    sig_path = signature_path or signature_path_for(pack_path)
    try:
        signature_text = sig_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CliError(f"signature {sig_path} is not text") from None
    with _transaction(settings) as s:
        release = packs.publish(
            s,
            settings,
            pack_path=pack_path,
            signature_text=signature_text,
            forces=list(forces) or None,
            now=_now(),
        )
        forces_now = packs.release_forces(s, release)
        summary = f"published {release.pack_id} version {release.version}"
    click.echo(f"{summary} to {', '.join(forces_now) or 'no forces'}")


@main.command("retire")
@click.argument("pack_id", metavar="ID")
@click.argument("version", type=click.IntRange(1))
@_common_options
@_one_line_errors
def retire(pack_id: str, version: int, db_url: str | None, data_dir: Path | None) -> None:
    """Withdraw a published pack version from every device."""
    with _transaction(make_settings(db_url, data_dir)) as s:
        packs.retire(s, pack_id=pack_id, version=version, now=_now())
    click.echo(f"retired {pack_id} version {version}")


@main.command("escrow-recipient")
@_common_options
@_one_line_errors
def escrow_recipient(db_url: str | None, data_dir: Path | None) -> None:
    """Print the server's age recipient (made on first use); build packs for it."""
    click.echo(packs.escrow_recipient(make_settings(db_url, data_dir)).to_str())


@main.command("add-publisher")
@click.argument("pub_path", metavar="PUBFILE", type=click.Path(dir_okay=False, path_type=Path))
@_common_options
@_one_line_errors
def add_publisher(pub_path: Path, db_url: str | None, data_dir: Path | None) -> None:
    """Trust a publisher's minisign public key (.pub) for `publish`."""
    try:
        text = pub_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{pub_path} is not a minisign public key file") from None
    key = packs.add_publisher_key(make_settings(db_url, data_dir), text)
    click.echo(f"trusted publisher key {key.key_id_hex}")


if __name__ == "__main__":
    main(prog_name="sync-server")
