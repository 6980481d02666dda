"""`make demo`: the main job end to end, with the real commands an operator and officer use.

A sync server on SQLite, the sample programme built and published, a kiosk enrolled with a
fresh code, a demo participant registered on it and synced, and the kiosk window opened
(a real window on a desktop; offscreen for a few seconds under CI or with no display).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SAMPLE = ROOT / "content_packs" / "library" / "alcohol-and-you"


def _run(*args: str | Path, env: dict[str, str], stdin: str | None = None) -> str:
    print("$", " ".join(str(a) for a in args), flush=True)
    done = subprocess.run(
        [str(a) for a in args], env=env, input=stdin, text=True, capture_output=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"demo: {args[0]} failed:\n{done.stdout}{done.stderr}")
    if done.stdout.strip():
        print(done.stdout.rstrip(), flush=True)
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("demo: the server stopped while starting (see build/demo/server.log)")
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    sys.exit("demo: the server did not answer /health within 30 s")


def _register(kiosk_dir: Path) -> tuple[str, str]:
    """A demo participant registered on the kiosk as an officer would, then synced."""
    from kiosk_app.app import KeyStoreChoice, key_store_for
    from kiosk_app.core.clock import SystemClock
    from kiosk_app.core.officer import OfficerService
    from kiosk_app.store.db import open_store
    from kiosk_app.sync.engine import SyncEngine

    store = open_store(kiosk_dir, key_store=key_store_for(kiosk_dir, KeyStoreChoice.FILE))
    try:
        clock = SystemClock()
        credentials = OfficerService(store=store, clock=clock).register(
            first_name="Sam",
            force_reference="DEMO/0001",
            programme_id=SAMPLE.name,
            disposal_type="community_resolution",
            due_date=date.today() + timedelta(days=28),
        )
        result = SyncEngine(store=store, clock=clock).run_once(force=True)
        print(f"sync after registering: {result.outcome.value}", flush=True)
    finally:
        store.close()
    return credentials.access_code, credentials.temporary_pin


def main() -> int:
    parser = argparse.ArgumentParser(prog="python scripts/demo.py")
    parser.add_argument("--dir", type=Path, default=ROOT / "build" / "demo")
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="close the kiosk after this long (default: 8 s under CI or with no display)",
    )
    args = parser.parse_args()
    demo: Path = args.dir
    shutil.rmtree(demo, ignore_errors=True)
    demo.mkdir(parents=True)
    env = {**os.environ, "SYNC_SERVER_DATA_DIR": str(demo / "server")}
    env["SYNC_SERVER_DB"] = f"sqlite:///{demo / 'server' / 'server.sqlite3'}"
    (demo / "server").mkdir()

    _run(BIN / "sync-server", "migrate", env=env)
    _run(BIN / "sync-server", "create-force", "demo", "--name", "Demo Constabulary", env=env)
    _run(BIN / "sync-server", "create-site", "demo-custody", "--force", "demo",
         "--name", "Demo custody suite", env=env)  # fmt: skip
    _run(BIN / "content-pack", "keygen", "-o", demo / "publisher.key", env=env)
    _run(BIN / "sync-server", "add-publisher", demo / "publisher.pub", env=env)
    recipient = _run(BIN / "sync-server", "escrow-recipient", env=env).strip()
    pack = demo / f"{SAMPLE.name}-1.pack"
    _run(BIN / "content-pack", "build", SAMPLE, "-o", pack,
         "--sign-key", demo / "publisher.key", "--recipient", recipient, env=env)  # fmt: skip
    _run(BIN / "sync-server", "publish", pack, "--signature", f"{pack}.minisig", env=env)
    code = _run(BIN / "sync-server", "enrolment-code", "--site", "demo-custody", env=env)
    code = code.strip().splitlines()[0].strip()

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with (demo / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [str(BIN / "sync-server"), "serve", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_healthy(url, server)
        kiosk_dir = demo / "kiosk"
        _run(BIN / "kiosk-app", "--data-dir", kiosk_dir, "--key-store", "file",
             "enrol", "--server", url, "--code", code, "--name", "Demo kiosk", env=env)  # fmt: skip
        access_code, pin = _register(kiosk_dir)
        print(f"\nServer: {url}  (log: {demo / 'server.log'})")
        print(f"Sign in on the kiosk with access code {access_code} and PIN {pin}\n", flush=True)
        headless = os.environ.get("CI") == "true" or not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        )
        seconds = args.seconds if args.seconds is not None else (8.0 if headless else None)
        kiosk_env = {**env, "QT_QPA_PLATFORM": "offscreen"} if headless else env
        kiosk = subprocess.Popen(
            [str(BIN / "kiosk-app"), "--data-dir", str(kiosk_dir), "--key-store", "file",
             "--windowed"], env=kiosk_env,
        )  # fmt: skip
        try:
            status = kiosk.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            kiosk.terminate()  # the kiosk exits cleanly on SIGTERM
            status = kiosk.wait(timeout=30)
            print(f"kiosk closed after {seconds:.0f} s (offscreen demo)")
        return 0 if status in (0, -15) else status
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
