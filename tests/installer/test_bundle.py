"""The PyInstaller kiosk bundle (`make test-bundle` builds it, then runs these).

The bundled program alone, with no virtualenv and no source tree on any path: it enrols
against a real sync server on loopback, downloads the published programme, opens on a real X
display (Xvfb), syncs by itself, shows the login screen when Start is pressed, and stops
cleanly on SIGTERM.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk_app.app import LOG_DIR_NAME, LOG_FILE_NAME
from sync_server import models
from sync_server.app import create_app
from sync_server.db import SessionFactory, make_engine, session_factory
from sync_server.settings import Settings
from tests.support import bundle, databases
from tests.support.display import keys, xvfb
from tests.support.live_server import LiveServer, wait_until
from tests.support.world import PROGRAMME_ID, World, make_world

pytestmark = pytest.mark.bundle

# The server's shortest sync interval, so the kiosk's own first sync comes 24-36 s after the
# one `enrol` made (the interval is jittered by 20 %).
SYNC_INTERVAL_S = 30
WAIT_FOR_SYNC_S = 75
WAIT_FOR_SCREEN_S = 60


@pytest.fixture(scope="module")
def bundled() -> Path:
    """The bundle's executable; missing or out of date, the test fails saying how to build it."""
    why = bundle.not_ready()
    if why is not None:
        pytest.fail(f"{why}: `make test-bundle` builds it, then runs these tests", pytrace=False)
    return bundle.EXECUTABLE


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[tuple[Settings, SessionFactory]]:
    template = databases.sqlite_template(tmp_path / "template")
    made = databases.SqliteDatabases(template=template, root=tmp_path / "databases")
    settings = Settings(database_url=made.migrated(), data_dir=tmp_path / "server")
    engine = make_engine(settings.database_url)
    yield settings, session_factory(engine)
    engine.dispose()


@pytest.fixture
def world(sessions: tuple[Settings, SessionFactory], tmp_path: Path) -> World:
    """The sample programme published; kiosks sync every SYNC_INTERVAL_S seconds."""
    settings, factory = sessions
    made = make_world(settings, factory, tmp_path)
    with factory.begin() as s:
        s.add(
            models.Setting(
                force_id=None, key="sync_interval_seconds", value={"value": SYNC_INTERVAL_S}
            )
        )
    return made


@pytest.fixture
def server(world: World) -> Iterator[LiveServer]:
    with LiveServer(create_app(world.settings)) as live:
        yield live


def bundle_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """What a kiosk session gives the program: no virtualenv, no Python paths, its own home."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "KIOSK_KEY_STORE": "file",  # never the OS key store of whoever runs the tests
    }
    return {**env, **extra}


def run_bundled(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bundle.EXECUTABLE), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def mapped_files(pid: int) -> set[str]:
    """Every file the process has mapped: the libraries it loaded, and where from."""
    with open(f"/proc/{pid}/maps", encoding="utf-8") as maps:
        return {row.split(maxsplit=5)[5].strip() for row in maps if len(row.split()) == 6}


def log_text(path: Path) -> str:
    return path.read_text("utf-8") if path.is_file() else ""


def test_the_bundle_folder_is_within_budget_and_archived_whole(bundled: Path) -> None:
    size = bundle.folder_bytes()
    assert size < bundle.SIZE_BUDGET_MB * bundle.MB, f"{size / bundle.MB:.1f} MB"
    archive = bundle.archive()
    assert archive.is_file(), f"no {archive.name}"
    with tarfile.open(archive) as tar:
        archived = {m.name for m in tar.getmembers() if not m.isdir()}
    on_disk = {
        str(p.relative_to(bundle.BUNDLE_DIR))
        for p in bundle.BUNDLE.rglob("*")
        if p.is_file() or p.is_symlink()
    }
    assert archived == on_disk
    # Qt's WebEngine, QML modules and translations nobody reads stay out.
    kept = {p.name for p in bundle.BUNDLE.rglob("*")}
    assert not {n for n in kept if "WebEngine" in n or n == "qml" or n.startswith("qt_")}


def test_the_app_data_files_are_in_the_bundle_as_in_the_source(bundled: Path) -> None:
    internal = bundle.BUNDLE / "_internal"
    sources = [
        *(bundle.ROOT / "kiosk_app" / "ui" / "translations").glob("*.qm"),
        *(bundle.ROOT / "kiosk_app" / "store" / "migrations").rglob("*.py"),
    ]
    assert sources
    for source in sources:
        copy = internal / source.relative_to(bundle.ROOT)
        assert copy.is_file(), f"{copy.relative_to(bundle.ROOT)} is missing"
        assert copy.read_bytes() == source.read_bytes(), f"{copy.name} differs from the source"


def elf_files(folder: Path) -> list[Path]:
    """The programs and libraries under `folder` (not the links to them)."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def dpkg_paths(path: str) -> list[str]:
    """Where the package database may record the library `path` names: Debian 12 merged /lib
    into /usr/lib and packages record either; a link made by ldconfig is nobody's, its
    target is."""
    found = []
    for name in (path, os.path.realpath(path)):
        other = name.removeprefix("/usr") if name.startswith("/usr/") else f"/usr{name}"
        found += [name, other]
    return list(dict.fromkeys(found))


def owning_packages(paths: set[str]) -> dict[str, set[str]]:
    """The Debian packages (`dpkg -S`) each of `paths` belongs to; empty for none."""
    asked = sorted({name for path in paths for name in dpkg_paths(path)})
    done = subprocess.run(
        ["dpkg-query", "--search", *asked], capture_output=True, text=True, check=False
    )  # exits 1 when some name is nobody's, which some of the variants always are
    owners: dict[str, set[str]] = {}
    for line in done.stdout.splitlines():
        names, sep, path = line.partition(": ")
        if sep and not line.startswith("diversion "):
            packages = {name.strip().partition(":")[0] for name in names.split(",")}
            owners.setdefault(path.strip(), set()).update(packages)
    return {
        path: set().union(*(owners.get(name, set()) for name in dpkg_paths(path))) for path in paths
    }


def test_every_program_and_library_in_the_bundle_finds_what_it_links(bundled: Path) -> None:
    """As the bundled program runs them (its bootloader puts `_internal` on LD_LIBRARY_PATH):
    a plugin whose library was left out, or a library `strip` broke, cannot be loaded. What
    is found outside the bundle must come from a Debian package the kiosk OS installs
    (installer/kiosk/packages.txt)."""
    internal = bundle.BUNDLE / "_internal"
    root = bundle.BUNDLE.resolve()
    env = {"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": str(internal)}
    files = elf_files(bundle.BUNDLE)
    assert len(files) > 50
    assert bundle.EXECUTABLE in files
    problems = {}
    outside: dict[str, set[str]] = {}
    for path in files:
        done = subprocess.run(["ldd", str(path)], env=env, capture_output=True, text=True,
                              check=False)  # fmt: skip
        name = str(path.relative_to(bundle.BUNDLE))
        bad = [
            line.strip()
            for line in (done.stdout + done.stderr).splitlines()
            if "not found" in line or "error while loading" in line
        ]
        if bad:
            problems[name] = bad
        for found in re.findall(r"(?:=>\s+|^\s*)(/\S+)\s+\(0x", done.stdout, re.MULTILINE):
            if not Path(found).resolve().is_relative_to(root):
                outside.setdefault(found, set()).add(name)
    assert problems == {}

    # Only libpython is a library of the OS's kind at the top of _internal (the rest are links
    # into PySide6 and Python's own extensions): the OS's own libraries stay the OS's.
    top = {p.name for p in internal.glob("lib*.so*") if not p.is_symlink()}
    assert top == {"libpython3.11.so.1.0"}
    assert len(outside) > 20
    listed = set(bundle.os_packages())
    owners = owning_packages(set(outside))
    assert {path: sorted(outside[path]) for path, packages in owners.items() if not packages} == {}
    unlisted = {
        path: sorted(packages) for path, packages in owners.items() if not packages & listed
    }
    assert unlisted == {}, f"add to {bundle.OS_PACKAGES.relative_to(bundle.ROOT)}"

    plugins = internal / "PySide6" / "Qt" / "plugins"
    for plugin in ("platforms/libqxcb.so", "platforms/libqwayland.so",
                   "multimedia/libffmpegmediaplugin.so", "imageformats/libqsvg.so"):  # fmt: skip
        assert (plugins / plugin).is_file(), plugin


def test_the_trimmed_icu_data_is_the_one_in_the_bundle(bundled: Path) -> None:
    library = bundle.BUNDLE / "_internal" / "PySide6" / "Qt" / "lib" / "libicudata.so.73"
    assert library.stat().st_size < 3 * bundle.MB, "the wheel's 32 MB ICU data came back"


def test_the_bundled_kiosk_enrols_syncs_shows_login_and_stops_on_sigterm(
    bundled: Path, server: LiveServer, world: World, tmp_path: Path
) -> None:
    data = tmp_path / "kiosk"
    env = bundle_env(tmp_path)
    version = run_bundled("--version", env=env, cwd=tmp_path)
    assert version.stdout.strip() == f"kiosk-app, version {bundle.version()}", version.stderr

    code = world.code()
    enrolled = run_bundled(
        "enrol", "--server", server.url, "--code", code, "--data-dir", str(data),
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert enrolled.returncode == 0, enrolled.stdout + enrolled.stderr
    assert "first sync: synced" in enrolled.stdout
    assert f"installed: {PROGRAMME_ID} v1" in enrolled.stdout
    assert code not in enrolled.stdout + enrolled.stderr
    with world.sessions.begin() as s:
        device_id = s.scalars(select(models.Device.id)).one()

    log = data / LOG_DIR_NAME / LOG_FILE_NAME
    with xvfb() as display, (tmp_path / "kiosk.err").open("w+") as err:
        desk = bundle_env(tmp_path, DISPLAY=display)
        started = datetime.now(UTC)
        kiosk = subprocess.Popen(
            [str(bundled), "--data-dir", str(data)], env=desk, cwd=tmp_path,
            stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
        try:

            def logged(line: str) -> bool:
                if kiosk.poll() is not None:
                    err.seek(0)
                    pytest.fail(f"the kiosk stopped ({kiosk.returncode}): {err.read()[-2000:]}")
                return line in log_text(log)

            wait_until(lambda: logged("screen shown: welcome"), timeout=WAIT_FOR_SCREEN_S,
                       what="the welcome screen")  # fmt: skip
            keys(desk, "key", "Return")  # Start has the focus
            wait_until(lambda: logged("screen shown: login"), timeout=WAIT_FOR_SCREEN_S,
                       what="the login screen")  # fmt: skip

            def server_saw_a_sync() -> bool:
                with world.sessions.begin() as s:
                    seen = s.scalar(
                        select(models.Device.last_seen_at).where(models.Device.id == device_id)
                    )
                return seen is not None and seen > started

            wait_until(lambda: logged("sync done") and server_saw_a_sync(),
                       timeout=WAIT_FOR_SYNC_S, what="the kiosk's own sync")  # fmt: skip

            loaded = mapped_files(kiosk.pid)
        finally:
            if kiosk.poll() is None:
                kiosk.send_signal(signal.SIGTERM)
            try:
                status = kiosk.wait(timeout=30)
            finally:
                if kiosk.poll() is None:
                    kiosk.kill()
                    kiosk.wait()
        err.seek(0)
        assert status == 0, f"the kiosk did not stop cleanly on SIGTERM: {err.read()[-2000:]}"

    # Everything the kiosk ran came from the bundle or the operating system.
    here = str(bundle.ROOT)
    strays = {p for p in loaded if p.startswith((here, sys.base_prefix, sys.prefix))}
    assert {p for p in strays if not p.startswith(str(bundle.BUNDLE))} == set()
    assert any(p.startswith(str(bundle.BUNDLE)) and "libQt6Core" in p for p in loaded)

    text = log_text(log)
    assert "kiosk stopped" in text
    assert code not in text
    # The store was closed whole: SQLite removes the write-ahead log with the last connection,
    # and the bundled program opens the database again and finds the programme installed.
    assert not (data / "kiosk.db-wal").exists()
    after = run_bundled("--data-dir", str(data), "status", env=env, cwd=tmp_path)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "installed packs: 1" in after.stdout
