"""`kiosk-app enrol --server URL --code CODE [--data-dir DIR]`: scripted provisioning.

The lead registers `enrol` on the `kiosk-app` group; run alone it works as well. Prints
the device id, force, site and the first sync's outcome; never a key or a code.
"""

from __future__ import annotations

from pathlib import Path

import click
import platformdirs

from kiosk_app.core.clock import SystemClock
from kiosk_app.store import keys
from kiosk_app.store.db import StoreError, open_store
from kiosk_app.sync.engine import SyncEngine
from kiosk_app.sync.enrol import AlreadyEnrolledError
from kiosk_app.sync.enrol import enrol as enrol_device
from kiosk_app.sync.transport import SyncError

DEFAULT_DATA_DIR = Path(platformdirs.user_data_dir("intervention-kiosk", appauthor=False))


def _key_store(ctx: click.Context, data_dir: Path) -> keys.KeyStore:
    """The key store the `kiosk-app` group chose (its --key-store), else the default one."""
    key_file = keys.FileKeyStore(data_dir / keys.KEY_FILE_NAME)
    choice = str(getattr(ctx.obj, "key_store", "auto"))
    if choice == "file" or key_file.path.exists():
        return key_file
    if choice == "keyring":
        return keys.KeyringKeyStore(username=str(data_dir.resolve()))
    return keys.default_key_store(data_dir)


@click.command("enrol")
@click.option("--server", "server_url", required=True, help="The sync server, https://host[:port].")
@click.option("--code", required=True, help="The one-time enrolment code from the server.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The kiosk's data folder (default: the kiosk-app group's, or the user data folder).",
)
@click.option("--name", "device_name", default="Kiosk", show_default=True, help="Device name.")
@click.pass_context
def enrol(
    ctx: click.Context, server_url: str, code: str, data_dir: Path | None, device_name: str
) -> None:
    """Enrol this kiosk with the sync server and run its first sync."""
    folder = data_dir or getattr(ctx.obj, "data_dir", None) or DEFAULT_DATA_DIR
    try:
        store = open_store(Path(folder), key_store=_key_store(ctx, Path(folder)))
    except (StoreError, keys.KeyStoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        engine = SyncEngine(store=store, clock=SystemClock())
        done = enrol_device(
            store=store, engine=engine, server_url=server_url, code=code, device_name=device_name
        )
    except (AlreadyEnrolledError, SyncError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"enrolled: device {done.device_id}")
    click.echo(f"force: {done.force_name}; site: {done.site_name}")
    click.echo(f"access codes: {done.access_code_prefix}-nnnnn")
    first = done.first_sync
    click.echo(f"first sync: {first.outcome.value}")
    for pack_id, pack_version in first.packs_installed:
        click.echo(f"installed: {pack_id} v{pack_version}")
    if first.error:
        click.echo(f"problem: {first.error}", err=True)
