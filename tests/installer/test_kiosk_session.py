"""installer/kiosk/setup-kiosk-session.sh run for real, as root, on a system image in a folder.

`--root DIR` makes the script treat DIR as `/`: `useradd --prefix`, `systemctl --root`, files
under DIR, nothing outside it. The image holds what a Debian image holds for those tools: the
account files (root, and a `sudo` group), login.defs, systemd's own units and the `cage`
program, copied from this machine. The bundle is a stand-in (a shell-script `kiosk-app` and a
few files with awkward modes): the script's job is to install whatever one-folder bundle it is
given; the PyInstaller bundle itself is tested where it is built.

The unit is judged by systemd's own tools (`systemd-analyze verify`, and `systemd-analyze
security --offline` for the sandbox) and read key by key. Not proven here: that systemd really
restarts the session when the app dies, and that cage takes tty1. This machine runs no systemd
as PID 1 and has no seat (no DRM or input devices), so nothing here can start the unit without
faking it; docs/kiosk-deployment.md lists those checks for a real kiosk. The unit's command
itself runs, in cage on wlroots' headless backend, in tests/installer/test_kiosk_in_cage.py.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.bundle import os_packages

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "installer" / "kiosk" / "setup-kiosk-session.sh"
UNIT_NAME = "intervention-kiosk.service"
APP_DIR = "/opt/intervention-kiosk"
DATA_DIR = "/var/lib/intervention-kiosk"
NOLOGIN = "/usr/sbin/nologin"
# Mode bits nobody but root may hold on an installed file.
GROUP_OR_OTHER_WRITE = stat.S_IWGRP | stat.S_IWOTH
SET_ID = stat.S_ISUID | stat.S_ISGID


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not installed; run `make deps` as root (package {package})")
    return found


@pytest.fixture(scope="module", autouse=True)
def as_root() -> None:
    if os.geteuid() != 0:
        pytest.fail(
            "the kiosk session tests run the setup script for real, and it creates an account "
            "and root-owned files even in a staging folder: run them as root (CI does)",
            pytrace=False,
        )


def make_image(root: Path) -> Path:
    """An empty Debian system image: the account files, login.defs, systemd's units, cage
    and Xwayland."""
    etc = root / "etc"
    etc.mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (etc / "group").write_text("root:x:0:\nsudo:x:27:\n")
    for name, text in (("shadow", "root:*:19000:0:99999:7:::\n"), ("gshadow", "root:*::\n")):
        (etc / name).write_text(text)
        (etc / name).chmod(0o640)
    shutil.copyfile("/etc/login.defs", etc / "login.defs")
    systemd_units = Path("/usr/lib/systemd/system")
    assert systemd_units.is_dir(), "systemd's units are missing (Debian package systemd)"
    shutil.copytree(systemd_units, root / "usr/lib/systemd/system", symlinks=True)
    (root / "usr/bin").mkdir(parents=True)
    shutil.copy2(tool("cage", "cage"), root / "usr/bin/cage")
    shutil.copy2(tool("Xwayland", "xwayland"), root / "usr/bin/Xwayland")
    return root


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return make_image(tmp_path / "image")


def write_bundle(folder: Path, *, program: str = "#!/bin/sh\necho kiosk\n") -> Path:
    """A one-folder bundle as PyInstaller lays it out, with modes the installer must fix."""
    folder.mkdir(parents=True)
    (folder / "kiosk-app").write_text(program)
    (folder / "kiosk-app").chmod(0o700)
    internal = folder / "_internal"
    (internal / "PySide6").mkdir(parents=True)
    (internal / "base_library.zip").write_bytes(os.urandom(4096))
    (internal / "base_library.zip").chmod(0o664)  # group-writable: must not stay so
    (internal / "PySide6" / "libQt6Core.so.6").write_bytes(os.urandom(2048))
    (internal / "PySide6" / "libQt6Core.so.6").chmod(0o4755)  # set-uid: must be stripped
    (internal / "libQt6Core.so").symlink_to("PySide6/libQt6Core.so.6")
    return folder


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "build" / "bundle" / "kiosk-app")


def run_setup(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def setup_ok(image: Path, bundle: Path) -> str:
    result = run_setup("--root", image, bundle)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def installed(image: Path, bundle: Path) -> Path:
    setup_ok(image, bundle)
    return image


# -- reading the image ------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: str
    shell: str


def colon_rows(path: Path) -> Iterator[list[str]]:
    for line in path.read_text().splitlines():
        if line:
            yield line.split(":")


def account(image: Path, name: str = "kiosk") -> Account:
    for row in colon_rows(image / "etc/passwd"):
        if row[0] == name:
            return Account(row[0], int(row[2]), int(row[3]), row[5], row[6])
    raise AssertionError(f"no {name} account in {image}/etc/passwd")


def shadow_row(image: Path, name: str = "kiosk") -> list[str]:
    return next(row for row in colon_rows(image / "etc/shadow") if row[0] == name)


def groups_listing(image: Path, name: str = "kiosk") -> list[str]:
    """The groups that name `name` as a member."""
    return [row[0] for row in colon_rows(image / "etc/group") if name in row[3].split(",")]


def read_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as systemd reads it: sections of keys, each key with all its values."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert current is not None, f"a key before any section: {raw!r}"
        assert sep, f"not a unit line: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def unit(image: Path) -> dict[str, dict[str, list[str]]]:
    return read_unit(image / "etc/systemd/system" / UNIT_NAME)


def inside(image: Path, absolute: str) -> Path:
    return image / absolute.lstrip("/")


def tree(folder: Path) -> dict[str, tuple[str, bytes | str]]:
    """Each entry's relative path: its kind and its bytes (file) or target (link)."""
    found: dict[str, tuple[str, bytes | str]] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found[name] = ("link", os.readlink(path))
        elif path.is_dir():
            found[name] = ("dir", "")
        else:
            found[name] = ("file", path.read_bytes())
    return found


def snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Everything about every entry under `root` that a change would alter (not ctime)."""
    seen: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                content: object = os.readlink(path)
            elif stat.S_ISREG(info.st_mode):
                content = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                content = None
            seen[str(path.relative_to(root))] = (
                info.st_mode,
                info.st_uid,
                info.st_gid,
                info.st_size if not stat.S_ISDIR(info.st_mode) else None,
                info.st_mtime_ns,
                content,
            )
    return seen


def assert_installed_from(image: Path, bundle: Path) -> None:
    """The image's app folder holds exactly the bundle, root's and unwritable by others."""
    app = inside(image, APP_DIR)
    assert tree(app) == tree(bundle)
    for path in [app, *app.rglob("*")]:
        info = path.lstat()
        assert (info.st_uid, info.st_gid) == (0, 0), path
        if not path.is_symlink():
            assert info.st_mode & GROUP_OR_OTHER_WRITE == 0, f"{path} is writable by others"
            assert info.st_mode & SET_ID == 0, f"{path} keeps a set-id bit"


# -- the account ------------------------------------------------------------------------------


def test_the_kiosk_account_is_a_system_account_that_cannot_log_in(installed: Path) -> None:
    kiosk = account(installed)
    assert 0 < kiosk.uid < 1000
    assert kiosk.shell == NOLOGIN
    assert Path(NOLOGIN).is_file(), "the shell named is Debian's nologin"
    assert kiosk.home == DATA_DIR


def test_the_kiosk_account_has_no_password_at_all(installed: Path) -> None:
    _name, password, last_change, *_ages, expires, _reserved = shadow_row(installed)
    assert password == "!"  # locked, and no hash behind the lock
    # Not 0 (PAM would demand a new password and refuse the session), and no expiry date.
    assert last_change not in ("", "0")
    assert expires == ""


def test_the_kiosk_account_belongs_to_no_group_but_its_own(installed: Path) -> None:
    kiosk = account(installed)
    assert groups_listing(installed) == []
    own = next(row for row in colon_rows(installed / "etc/group") if row[0] == "kiosk")
    assert int(own[2]) == kiosk.gid
    sudo = next(row for row in colon_rows(installed / "etc/group") if row[0] == "sudo")
    assert sudo[3] == ""


def test_an_existing_kiosk_account_with_a_shell_a_password_and_sudo_is_locked_down(
    image: Path, bundle: Path
) -> None:
    with (image / "etc/passwd").open("a") as f:
        f.write("kiosk:x:990:990:someone's kiosk:/home/kiosk:/bin/bash\n")
    with (image / "etc/group").open("a") as f:
        f.write("kiosk:x:990:\n")
    (image / "etc/group").write_text(
        (image / "etc/group").read_text().replace("sudo:x:27:", "sudo:x:27:kiosk")
    )
    with (image / "etc/shadow").open("a") as f:
        f.write(
            "kiosk:$y$j9T$abcdefgh$0123456789abcdefghijklmnopqrstuvwxyzABCD:19000:0:99999:7:::\n"
        )
    with (image / "etc/gshadow").open("a") as f:
        f.write("kiosk:!::\n")

    output = setup_ok(image, bundle)

    kiosk = account(image)
    assert (kiosk.uid, kiosk.shell, kiosk.home) == (990, NOLOGIN, DATA_DIR)
    assert shadow_row(image)[1] == "!"
    assert groups_listing(image) == []
    assert "taken out of the groups sudo" in output


# -- the app and its data ---------------------------------------------------------------------


def test_the_bundle_is_installed_whole_and_only_root_can_change_it(
    installed: Path, bundle: Path
) -> None:
    assert_installed_from(installed, bundle)
    program = inside(installed, APP_DIR) / "kiosk-app"
    assert stat.S_IMODE(program.stat().st_mode) == 0o755


def test_a_tar_gz_of_the_bundle_installs_the_same_folder(
    image: Path, bundle: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "kiosk-app-linux-x86_64.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle, arcname="kiosk-app")

    setup_ok(image, archive)

    assert_installed_from(image, bundle)


def test_a_new_bundle_replaces_the_old_one_whole(installed: Path, tmp_path: Path) -> None:
    newer = write_bundle(tmp_path / "newer" / "kiosk-app", program="#!/bin/sh\necho v2\n")
    (newer / "_internal" / "base_library.zip").unlink()
    (newer / "_internal" / "added.txt").write_text("new in v2\n")

    output = setup_ok(installed, newer)

    assert "app: installed" in output
    assert_installed_from(installed, newer)
    assert sorted(p.name for p in inside(installed, "/opt").iterdir()) == ["intervention-kiosk"]


def test_the_data_folder_is_private_to_the_kiosk_account(installed: Path) -> None:
    kiosk = account(installed)
    info = inside(installed, DATA_DIR).stat()
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert (info.st_uid, info.st_gid) == (kiosk.uid, kiosk.gid)


def test_a_data_folder_others_could_read_is_made_private_again(
    installed: Path, bundle: Path
) -> None:
    data = inside(installed, DATA_DIR)
    os.chown(data, 0, 0)
    data.chmod(0o755)

    setup_ok(installed, bundle)

    kiosk = account(installed)
    info = data.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o700, kiosk.uid, kiosk.gid)


def test_a_root_owned_file_in_the_data_folder_is_reported_not_taken_over(
    installed: Path, bundle: Path
) -> None:
    stray = inside(installed, DATA_DIR) / "kiosk.db"
    stray.write_bytes(b"made by kiosk-app run as root")

    output = setup_ok(installed, bundle)

    assert f"warning: {DATA_DIR}/kiosk.db is not the kiosk account's" in output
    assert stray.stat().st_uid == 0


# -- the unit ---------------------------------------------------------------------------------

UNIT_SETTINGS = [
    ("Service", "User", "kiosk"),
    ("Service", "PAMName", "login"),
    ("Service", "TTYPath", "/dev/tty1"),
    ("Service", "StandardInput", "tty-fail"),
    ("Service", "Restart", "always"),
    ("Unit", "StartLimitIntervalSec", "0"),
    ("Unit", "Conflicts", "getty@tty1.service"),
    ("Service", "StateDirectory", "intervention-kiosk"),
    ("Service", "StateDirectoryMode", "0700"),
    ("Service", "UMask", "0077"),
    ("Service", "NoNewPrivileges", "yes"),
    ("Service", "CapabilityBoundingSet", ""),
    ("Service", "ProtectSystem", "strict"),
    ("Service", "ReadWritePaths", DATA_DIR),
    ("Service", "ProtectHome", "tmpfs"),
    ("Service", "PrivateTmp", "yes"),
    ("Install", "WantedBy", "graphical.target"),
]


@pytest.mark.parametrize(("section", "key", "value"), UNIT_SETTINGS)
def test_the_unit_sets(installed: Path, section: str, key: str, value: str) -> None:
    assert unit(installed)[section][key] == [value]


def test_the_unit_runs_the_installed_app_alone_in_cage_on_its_data_folder(installed: Path) -> None:
    (exec_start,) = unit(installed)["Service"]["ExecStart"]
    argv = shlex.split(exec_start)
    separator = argv.index("--")
    compositor, options, app = argv[0], argv[1:separator], argv[separator + 1 :]
    assert compositor == "/usr/bin/cage"
    assert options == ["-d"]  # and so no -s: no switching to another console
    assert app == [f"{APP_DIR}/kiosk-app", "--data-dir", DATA_DIR, "--key-store", "file"]
    # What it names is what the script installed.
    program = inside(installed, app[0])
    assert program.is_file()
    assert os.access(program, os.X_OK)
    data = inside(installed, app[2]).stat()
    assert stat.S_IMODE(data.st_mode) == 0o700
    assert data.st_uid == account(installed).uid


def test_the_unit_waits_a_moment_before_restarting(installed: Path) -> None:
    (restart_sec,) = unit(installed)["Service"]["RestartSec"]
    assert 1 <= float(restart_sec) <= 10


def test_the_cage_options_used_mean_what_the_unit_says_in_debians_cage() -> None:
    shown = subprocess.run(
        [tool("cage", "cage"), "-h"], capture_output=True, text=True, timeout=30, check=False
    )
    help_text = shown.stdout + shown.stderr
    options = {
        line.split(None, 1)[0]: line.split(None, 1)[1].strip()
        for line in help_text.splitlines()
        if line.strip().startswith("-") and len(line.split(None, 1)) == 2
    }
    assert options["-d"].startswith("Don't draw client side decorations")
    assert options["-s"] == "Allow VT switching"  # which the unit leaves off


def test_systemd_accepts_the_unit(installed: Path) -> None:
    analyze = tool("systemd-analyze", "systemd")
    checked = subprocess.run(
        [analyze, "verify", f"--root={installed}", UNIT_NAME],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # verify exits 0 even for unknown keys and bad values; it only complains on stderr.
    assert (checked.returncode, checked.stderr, checked.stdout) == (0, "", "")


def test_systemds_security_review_rates_the_sandbox_ok(installed: Path) -> None:
    analyze = tool("systemd-analyze", "systemd")
    review = subprocess.run(
        # The threshold is on systemd's 0-100 scale: 25 is an exposure of 2.5 ("OK").
        [analyze, "security", "--offline=yes", "--threshold=25", f"--root={installed}", UNIT_NAME],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert review.returncode == 0, review.stdout.splitlines()[-1:]


def systemctl(image: Path, *args: str) -> str:
    done = subprocess.run(
        [tool("systemctl", "systemd"), f"--root={image}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout.strip()


def test_the_session_starts_at_boot_in_place_of_the_tty1_login_prompt(installed: Path) -> None:
    assert systemctl(installed, "is-enabled", UNIT_NAME) == "enabled"
    assert systemctl(installed, "get-default") == "graphical.target"
    wants = installed / "etc/systemd/system/graphical.target.wants" / UNIT_NAME
    assert os.readlink(wants) == f"/etc/systemd/system/{UNIT_NAME}"
    for masked in ("getty@tty1.service", "ctrl-alt-del.target"):
        assert systemctl(installed, "is-enabled", masked) == "masked"


def test_the_magic_sysrq_key_is_turned_off(installed: Path) -> None:
    conf = installed / "etc/sysctl.d/90-intervention-kiosk.conf"
    settings = [
        line.replace(" ", "")
        for line in conf.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert settings == ["kernel.sysrq=0"]


# -- the Debian packages the app's libraries come from ---------------------------------------


def test_the_os_packages_are_listed_once_each_in_order() -> None:
    """installer/kiosk/packages.txt: Debian package names, sorted, none twice."""
    packages = os_packages()
    assert packages == sorted(set(packages))
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", name) for name in packages)
    # The host services' clients the spec leaves to the OS (HOST_LIBRARIES) among them.
    assert {"libpulse0", "libcups2", "libspeechd2", "libdbus-1-3", "libsystemd0"} <= set(packages)


def write_package_database(image: Path, installed: list[str], removed: list[str]) -> None:
    """A dpkg status file in the image: `installed` installed, `removed` removed (its
    configuration files left)."""
    states = [(name, "install ok installed") for name in installed]
    states += [(name, "deinstall ok config-files") for name in removed]
    status = image / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text(
        "\n".join(
            f"Package: {name}\nStatus: {state}\nMaintainer: Debian <debian@example.org>\n"
            f"Architecture: amd64\nVersion: 1.0\nDescription: {name}\n"
            for name, state in states
        )
    )


def test_the_packages_an_image_lacks_are_named(image: Path, bundle: Path) -> None:
    listed = os_packages()
    write_package_database(image, installed=listed[2:], removed=listed[1:2])

    output = setup_ok(image, bundle)

    wanted = f"warning: the image lacks Debian packages the app needs: {listed[0]} {listed[1]}"
    assert f"setup-kiosk-session: {wanted}" in output.splitlines()


def test_an_image_with_every_package_is_not_warned(image: Path, bundle: Path) -> None:
    write_package_database(image, installed=os_packages(), removed=[])

    output = setup_ok(image, bundle)

    assert "warning" not in output
    assert_installed_from(image, bundle)


def test_an_image_without_xwayland_is_warned_that_cage_will_not_start(
    image: Path, bundle: Path
) -> None:
    (image / "usr/bin/Xwayland").unlink()
    write_package_database(image, installed=os_packages(), removed=[])

    output = setup_ok(image, bundle)

    assert "Xwayland is missing: put the Debian package xwayland in the image" in output


def test_an_image_with_no_package_database_is_told_to_add_the_packages(
    image: Path, bundle: Path
) -> None:
    output = setup_ok(image, bundle)

    assert "has no Debian package database: put the packages in packages.txt" in output


# -- running it again, and refusing ------------------------------------------------------------


def test_running_it_again_changes_nothing(installed: Path, bundle: Path) -> None:
    before = snapshot(installed)

    output = setup_ok(installed, bundle)

    assert snapshot(installed) == before
    assert output.splitlines()[-1] == "setup-kiosk-session: done; nothing needed changing"


def test_a_folder_without_the_program_is_refused_before_anything_changes(
    image: Path, tmp_path: Path
) -> None:
    not_a_bundle = tmp_path / "dist"
    (not_a_bundle / "_internal").mkdir(parents=True)
    before = snapshot(image)

    refused = run_setup("--root", image, not_a_bundle)

    assert refused.returncode != 0
    assert "holds no kiosk-app program" in refused.stderr
    assert snapshot(image) == before


def test_it_refuses_to_run_as_anyone_but_root(image: Path, bundle: Path) -> None:
    refused = subprocess.run(
        [tool("setpriv", "util-linux"), "--reuid=65534", "--regid=65534", "--clear-groups"]
        + [str(SCRIPT), "--root", str(image), str(bundle)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0
    assert "run this as root" in refused.stderr


def test_the_script_passes_shellcheck() -> None:
    checked = subprocess.run(
        [tool("shellcheck", "shellcheck"), "--external-sources", str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout


# -- with the real bundle (`make bundle`; selected by `pytest -m bundle`) ------------------------


@pytest.fixture
def open_image() -> Iterator[Path]:
    """An image in a folder every account can walk into (pytest's own temporary folders are
    root's alone), so the kiosk account can run what was installed there."""
    base = Path(tempfile.mkdtemp(prefix="kiosk-image-", dir="/var/tmp"))
    base.chmod(0o755)
    try:
        yield make_image(base / "image")
    finally:
        shutil.rmtree(base)


@pytest.mark.bundle
def test_the_built_bundle_runs_from_the_image_as_the_kiosk_account(open_image: Path) -> None:
    archives = sorted((REPO / "build" / "bundle").glob("kiosk-app-*-linux-*.tar.gz"))
    if not archives:
        pytest.fail("no kiosk bundle archive in build/bundle: run `make bundle` first")
    setup_ok(open_image, archives[-1])
    kiosk = account(open_image)
    data = inside(open_image, DATA_DIR)
    program = inside(open_image, APP_DIR) / "kiosk-app"

    ran = subprocess.run(
        [tool("setpriv", "util-linux"), f"--reuid={kiosk.uid}", f"--regid={kiosk.gid}"]
        + ["--clear-groups", str(program), "--data-dir", str(data), "--key-store", "file"]
        + ["status"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(data), "LANG": "C.UTF-8"},
    )

    assert ran.returncode == 0, ran.stderr
    assert "participants: 0" in ran.stdout
    key = (data / "db.key").stat()
    assert (key.st_uid, stat.S_IMODE(key.st_mode)) == (kiosk.uid, 0o600)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
