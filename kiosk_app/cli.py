"""The `kiosk-app` command: the bare command runs the kiosk; subcommands look after it."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import platformdirs

from kiosk_app.app import KeyStoreChoice, KioskSetupError, configure_logging, open_kiosk
from kiosk_app.store import keys
from kiosk_app.store.errors import StoreError

DEFAULT_DATA_DIR = Path(platformdirs.user_data_dir("intervention-kiosk", appauthor=False))


class LazyGroup(click.Group):
    """Subcommands imported only when invoked (click's documented lazy-loading pattern), so
    starting the kiosk window never pays for the sync client's imports."""

    lazy = {"enrol": "kiosk_app.sync.cli:enrol"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, name = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), name)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)


@dataclass(frozen=True, slots=True)
class CliOptions:
    data_dir: Path
    key_store: KeyStoreChoice


@click.group(cls=LazyGroup, invoke_without_command=True)
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
    # Imported here: the bare command shows its first screen before loading SQLAlchemy.
    from sqlalchemy import func, select

    from kiosk_app.store.models import Enrolment, InstalledPack, JournalEvent, Participant

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
