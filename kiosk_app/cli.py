"""The `kiosk-app` command: the bare command runs the kiosk; subcommands look after it."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import click
import platformdirs
from sqlalchemy import func, select

from kiosk_app.app import KeyStoreChoice, KioskSetupError, configure_logging, open_kiosk
from kiosk_app.store import keys
from kiosk_app.store.db import StoreError
from kiosk_app.store.models import Enrolment, InstalledPack, JournalEvent, Participant

DEFAULT_DATA_DIR = Path(platformdirs.user_data_dir("intervention-kiosk", appauthor=False))


@dataclass(frozen=True, slots=True)
class CliOptions:
    data_dir: Path
    key_store: KeyStoreChoice


@click.group(invoke_without_command=True)
@click.version_option(package_name="intervention-kiosk")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA_DIR,
    show_default=True,
    envvar="KIOSK_DATA_DIR",
    help="Where the kiosk keeps everything: database, device key file, packs, logs.",
)
@click.option(
    "--key-store",
    type=click.Choice([c.value for c in KeyStoreChoice]),
    default=KeyStoreChoice.AUTO.value,
    show_default=True,
    envvar="KIOSK_KEY_STORE",
    help="Where the database key lives: a 0600 file in the data folder, or the OS key store"
    " (auto: the key file if there is one, else the OS key store when usable, else a file).",
)
@click.option(
    "--windowed",
    is_flag=True,
    help="Development only: an ordinary window instead of the locked full screen.",
)
@click.pass_context
def main(ctx: click.Context, data_dir: Path, key_store: str, windowed: bool) -> None:
    """Intervention Kiosk participant application (runs the kiosk when no command is given)."""
    ctx.obj = CliOptions(data_dir=data_dir, key_store=KeyStoreChoice(key_store))
    if ctx.invoked_subcommand is not None:
        return
    configure_logging(data_dir)
    # Qt is imported only to run the window: `status` works on a machine without a display.
    from kiosk_app.ui.main import RunOptions, run

    try:
        status = run(
            RunOptions(data_dir=data_dir, key_store=KeyStoreChoice(key_store), windowed=windowed)
        )
    except (StoreError, KioskSetupError, keys.KeyStoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(status)


@main.command()
@click.pass_obj
def status(options: CliOptions) -> None:
    """Open the kiosk store and print counts (no names, no answers)."""
    try:
        services = open_kiosk(options.data_dir, key_store_choice=options.key_store)
    except (StoreError, KioskSetupError, keys.KeyStoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    with services, services.store.unit() as s:
        counts = {
            "participants": s.scalar(select(func.count()).select_from(Participant)),
            "enrolments": s.scalar(select(func.count()).select_from(Enrolment)),
            "installed packs": s.scalar(select(func.count()).select_from(InstalledPack)),
            "journal events": s.scalar(select(func.count()).select_from(JournalEvent)),
        }
    click.echo(f"data folder: {options.data_dir}")
    for name, value in counts.items():
        click.echo(f"{name}: {value or 0}")
