"""The `kiosk-app` command: the bare command runs the kiosk; subcommands look after it.

Parsed with `argparse`, not click as the server's and the pack toolkit's commands are: the
bare command is the kiosk's cold start (DESIGN.md §7), and importing click alone cost it
about 18 ms of CPU, while PySide's own start-up imports argparse anyway. Subcommands import
what they need when they run, so starting the window never pays for the sync client.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from kiosk_app.app import KeyStoreChoice, KioskSetupError, configure_early_logging, open_kiosk
from kiosk_app.store import keys
from kiosk_app.store.errors import StoreError

PROG = "kiosk-app"
APP_DIR_NAME = "intervention-kiosk"
DATA_DIR_ENV = "KIOSK_DATA_DIR"
KEY_STORE_ENV = "KIOSK_KEY_STORE"


class CommandError(Exception):
    """A command could not do its job; the message is printed as one plain line."""


def default_data_dir() -> Path:
    """The user data folder (platformdirs), e.g. ~/.local/share/intervention-kiosk."""
    import platformdirs  # only when --data-dir and KIOSK_DATA_DIR are both absent

    return Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False))


class _Version(argparse.Action):
    """`--version`: the installed distribution's version, looked up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="Show the version and exit.")

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        from importlib.metadata import version

        print(f"{PROG}, version {version('intervention-kiosk')}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: options of the bare command, then `status` and `enrol`."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Intervention Kiosk participant application"
        " (runs the kiosk when no command is given).",
    )
    parser.add_argument("--version", action=_Version)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="Where the kiosk keeps everything: database, device key file, packs, logs"
        f" (default: ${DATA_DIR_ENV}, else the user data folder, {APP_DIR_NAME}).",
    )
    parser.add_argument(
        "--key-store",
        choices=[c.value for c in KeyStoreChoice],
        default=None,
        help="Where the database key lives: a 0600 file in the data folder, or the OS key"
        " store (auto: the key file if there is one, else the OS key store when usable, else"
        f" a file; default: ${KEY_STORE_ENV}, else auto).",
    )
    parser.add_argument(
        "--windowed",
        action="store_true",
        help="Development only: an ordinary window instead of the locked full screen.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "status",
        help="Open the kiosk store and print counts (no names, no answers).",
        description="Open the kiosk store and print counts (no names, no answers).",
    )
    enrol = commands.add_parser(
        "enrol",
        help="Enrol this kiosk with the sync server and run its first sync.",
        description="Enrol this kiosk with the sync server and run its first sync.",
    )
    enrol.add_argument("--server", dest="server_url", required=True, help="https://host[:port]")
    enrol.add_argument("--code", required=True, help="The one-time enrolment code.")
    enrol.add_argument(
        "--data-dir",
        dest="enrol_data_dir",  # its own dest: a subparser default would hide the group's
        type=Path,
        default=None,
        metavar="DIR",
        help="The kiosk's data folder (default: kiosk-app's --data-dir).",
    )
    enrol.add_argument("--name", dest="device_name", default="Kiosk", help="Device name.")
    return parser


_PLAIN_OPTIONS = {"--data-dir": "data_dir", "--key-store": "key_store"}
_KEY_STORES = frozenset(c.value for c in KeyStoreChoice)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """`argv` parsed as `build_parser()` parses it.

    The bare command's own options in their plain spellings (`--data-dir DIR`,
    `--key-store=file`, `--windowed`...) are read without building the parsers: argparse's
    first parser imports `locale` and looks its messages up in gettext's catalogues, some
    5 ms of the kiosk's cold start. Anything else (a command, help, an abbreviation, an
    error) goes to argparse.
    """
    plain = _plain_kiosk_options(argv)
    return plain if plain is not None else build_parser().parse_args(argv)


def _plain_kiosk_options(argv: Sequence[str]) -> argparse.Namespace | None:
    found: dict[str, object] = {"windowed": False}
    tokens = list(argv)
    while tokens:
        token = tokens.pop(0)
        if token == "--windowed":
            found["windowed"] = True
            continue
        option, equals, value = token.partition("=")
        if option not in _PLAIN_OPTIONS:
            return None
        if not equals:
            if not tokens:
                return None
            value = tokens.pop(0)
        if not value or value.startswith("-"):
            return None
        if option == "--key-store" and value not in _KEY_STORES:
            return None
        found[_PLAIN_OPTIONS[option]] = Path(value) if option == "--data-dir" else value
    return argparse.Namespace(
        version=None,
        data_dir=found.get("data_dir"),
        key_store=found.get("key_store"),
        windowed=found["windowed"],
        command=None,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run `kiosk-app` with `argv` (default: the process's arguments); the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    data_dir: Path = args.data_dir or _env_path(DATA_DIR_ENV) or default_data_dir()
    choice = args.key_store or os.environ.get(KEY_STORE_ENV) or KeyStoreChoice.AUTO.value
    if choice not in _KEY_STORES:
        build_parser().error(f"{KEY_STORE_ENV}={choice!r} is not one of auto, file, keyring")
    key_store = KeyStoreChoice(choice)
    try:
        if args.command == "status":
            return _status(data_dir, key_store)
        if args.command == "enrol":
            return _enrol(args, args.enrol_data_dir or data_dir, key_store)
        return _run_kiosk(data_dir, key_store, windowed=args.windowed)
    except (CommandError, StoreError, KioskSetupError, keys.KeyStoreError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _enrol(args: argparse.Namespace, data_dir: Path, key_store: KeyStoreChoice) -> int:
    from kiosk_app.sync.cli import EnrolError, enrol

    try:
        return enrol(data_dir, key_store, args.server_url, args.code, args.device_name)
    except EnrolError as exc:
        raise CommandError(str(exc)) from exc


def _run_kiosk(data_dir: Path, key_store: KeyStoreChoice, *, windowed: bool) -> int:
    # No garbage collection while the kiosk starts: start-up builds a great deal (Qt's types
    # and enums, the screens, then the store's modules) and frees almost nothing, yet each
    # full collection walked all of it, some 8 ms of the cold start before the welcome screen
    # alone. `run` resumes collecting once the services are ready (`resume_collector`).
    gc.disable()
    early_log = configure_early_logging(data_dir)  # rotated once the store is opening
    # Qt is imported only to run the window: `status` works on a machine without a display.
    # The application first, then the screens' modules: its font database fills meanwhile.
    from kiosk_app.ui.session import open_application

    open_application()
    from kiosk_app.ui.main import RunOptions, run

    options = RunOptions(
        data_dir=data_dir,
        key_store=key_store,
        windowed=windowed,
        early_log=early_log,
        collector_paused=True,
    )
    return run(options)


def _status(data_dir: Path, key_store: KeyStoreChoice) -> int:
    """Open the kiosk store and print counts (no names, no answers)."""
    from sqlalchemy import func, select

    from kiosk_app.store.models import Enrolment, InstalledPack, JournalEvent, Participant

    services = open_kiosk(data_dir, key_store_choice=key_store)
    with services, services.store.unit() as s:
        counts = {
            "participants": s.scalar(select(func.count()).select_from(Participant)),
            "enrolments": s.scalar(select(func.count()).select_from(Enrolment)),
            "installed packs": s.scalar(select(func.count()).select_from(InstalledPack)),
            "journal events": s.scalar(select(func.count()).select_from(JournalEvent)),
        }
    print(f"data folder: {data_dir}")
    for name, value in counts.items():
        print(f"{name}: {value or 0}")
    return 0
