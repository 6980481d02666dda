"""Kiosk budgets: cold start to the login screen, Next to the next step, RSS while a video plays.

Cold start and memory run the real app (`python -m kiosk_app --data-dir SEEDED`) under a
private Xvfb display, against a private PulseAudio server whose one sink discards sound (a
kiosk has a sound device; QtMultimedia behaves differently without one). `xdotool` types on
the display as a keyboard would; the app's own log lines ("screen shown: ...", "step shown:
...", stamped to the millisecond when logged) say when it got there. The reference is
`benchmarks.bare_window`, a bare PySide6 window started the same way and logging the same way.
Next-to-step runs in a child process on the offscreen platform (`benchmarks.kiosk_steps`).
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import func, select

from benchmarks.bare_window import MARK as BARE_MARK
from benchmarks.report import Line
from content_packs import model
from kiosk_app.app import LOG_DIR_NAME, LOG_FILE_NAME
from kiosk_app.core.clock import ManualClock
from kiosk_app.store.db import Store
from kiosk_app.store.models import JournalEvent
from tests.support.display import keys as _keys
from tests.support.display import xvfb as _xvfb
from tests.support.kiosk import (
    START,
    build_sample_pack,
    install_sample,
    open_test_store,
    register,
    settle_first_login,
    work_until,
)

REPO = Path(__file__).resolve().parents[1]
RUNS = 7  # measured cold starts of each; one more of each first, discarded, warms the caches
SAMPLE_SECONDS = 5.0  # RSS sampled this long while the video plays (it lasts 12 s)
SAMPLE_EVERY = 0.1
CODE = "ABC-00001"
PIN = "482916"
MB = 1_000_000

COLD_NAME = f"kiosk cold start to login (Xvfb, median of {RUNS})"
COLD_BUDGET = "<= 1.5 x bare PySide6 window"
NEXT_NAME = "next step shown after Next (p95, offscreen)"
NEXT_BUDGET = "<= 50 ms"
RSS_NAME = f"kiosk RSS while a video step plays (peak over {SAMPLE_SECONDS:.0f} s)"
RSS_BUDGET = "<= 250 MB"


@dataclass(frozen=True)
class _Seeded:
    data: Path
    video_step: str


def _seed(workdir: Path) -> _Seeded:
    """A kiosk whose participant (own PIN chosen) stopped at the sample's video step."""
    sample = build_sample_pack(workdir)
    video = next(s for s in sample.programme.all_steps() if isinstance(s, model.VideoStep))
    clock = ManualClock(START)
    data = workdir / "data"
    with open_test_store(data) as store:
        install_sample(store, sample)
        who = register(store, programme=sample.programme, access_code=CODE)
        who = settle_first_login(store, who, own_pin=PIN, clock=clock)
        work_until(store, who, sample.programme, step_id=video.id, clock=clock)
    return _Seeded(data, video.id)


# -- the desk: a display, a sound sink, processes on them ----------------------------------------


@contextmanager
def _null_sound(home: Path) -> Iterator[str]:
    """A private PulseAudio server with one sink that discards sound; its PULSE_SERVER."""
    home.mkdir(parents=True, exist_ok=True)
    socket = home / "native"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "XDG_RUNTIME_DIR": str(home)}
    subprocess.run(
        [
            "pulseaudio",
            *("--daemonize=yes", "--use-pid-file=yes", "--system=no", "-n"),
            *("--exit-idle-time=60", "--realtime=no", "--high-priority=no"),
            f"--log-target=file:{home / 'pulseaudio.log'}",
            "--load=module-null-sink sink_name=kiosk_bench",
            f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=30,
    )
    pid_file = home / "pulse" / "pid"
    try:
        yield f"unix:{socket}"
    finally:
        if pid_file.is_file():
            with suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)


class _Process:
    """A child on the desk; stderr to a file, read back if it stops early."""

    def __init__(self, cmd: list[str], env: dict[str, str], err: Path) -> None:
        self._err_path = err
        self._err: IO[bytes] = err.open("wb")
        self.started = time.time()
        self.popen = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=self._err
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def check_running(self) -> None:
        if self.popen.poll() is not None:
            self._err.close()
            tail = self._err_path.read_text("utf-8", errors="replace")[-400:]
            raise RuntimeError(f"process stopped ({self.popen.returncode}): {tail}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
        try:
            self.popen.wait(timeout=30)
        finally:
            if self.popen.poll() is None:
                self.popen.kill()
                self.popen.wait()
            self._err.close()

    def __enter__(self) -> _Process:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Log:
    """A log file watched from its current end: when did the process log a line?"""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.is_file() else 0

    def wait(self, mark: str, process: _Process, timeout: float = 60) -> float:
        """The time stamped on the first new line containing `mark` (epoch seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.path.is_file():
                with self.path.open("rb") as f:
                    f.seek(self.offset)
                    text = f.read().decode("utf-8", errors="replace")
                found = text.find(mark)
                if found >= 0:
                    start = text.rfind("\n", 0, found) + 1
                    self.offset += len(text[: found + len(mark)].encode())
                    return _stamp(text[start : start + 23])
            process.check_running()
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {mark!r} logged in {timeout:.0f} s")
            time.sleep(0.005)


def _stamp(asctime: str) -> float:
    """logging's default asctime ("2026-03-02 12:00:00,123", local time) as epoch seconds."""
    return datetime.strptime(asctime, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def _memory(pid: int) -> dict[str, int]:
    """VmRSS, RssAnon (kB) and Threads from /proc/PID/status."""
    wanted = {"VmRSS", "RssAnon", "Threads"}
    found = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for row in f:
            key, _, value = row.partition(":")
            if key in wanted:
                found[key] = int(value.split()[0])
    return found


def _peak_rss(process: _Process, seconds: float) -> dict[str, int]:
    """The /proc status sample with the highest VmRSS over `seconds`."""
    peak: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        process.check_running()
        sample = _memory(process.pid)
        if sample.get("VmRSS", 0) > peak.get("VmRSS", -1):
            peak = sample
        time.sleep(SAMPLE_EVERY)
    return peak


# -- the budgets -----------------------------------------------------------------------------------


class Desk:
    """The display, sound server and seeded data folder the kiosk processes start on."""

    def __init__(self, env: dict[str, str], seeded: _Seeded, workdir: Path) -> None:
        self.env = env
        self.seeded = seeded
        self.workdir = workdir
        self.kiosk_log = seeded.data / LOG_DIR_NAME / LOG_FILE_NAME
        self.kiosk_cmd = [sys.executable, "-m", "kiosk_app", "--data-dir", str(seeded.data)]
        self.bare_log = workdir / "bare.log"
        self.bare_cmd = [sys.executable, "-m", "benchmarks.bare_window", str(self.bare_log)]

    def kiosk(self, cmd: list[str] | None = None) -> tuple[_Process, _Log]:
        """The kiosk started (`python -m kiosk_app` on the seeded data, unless `cmd`)."""
        log = _Log(self.kiosk_log)
        return _Process(cmd or self.kiosk_cmd, self.env, self.workdir / "kiosk.err"), log

    def bare(self) -> tuple[_Process, _Log]:
        log = _Log(self.bare_log)
        return _Process(self.bare_cmd, self.env, self.workdir / "bare.err"), log

    def bare_shown(self) -> float:
        """One cold start of the bare window: seconds from process start to it shown."""
        process, log = self.bare()
        with process:
            return log.wait(BARE_MARK, process) - process.started


class Tapper:
    """Presses Return on the display through XTest, on a connection opened beforehand.

    xdotool would start a process per key (20-30 ms here) between the stamp and the key
    reaching the kiosk; the cold start must not be charged for the driver's own start.
    """

    def __init__(self, display: str) -> None:
        from Xlib import XK, X
        from Xlib import display as xdisplay
        from Xlib.ext import xtest

        self._conn = xdisplay.Display(display)
        self._code = self._conn.keysym_to_keycode(XK.string_to_keysym("Return"))
        self._press, self._release, self._fake = X.KeyPress, X.KeyRelease, xtest.fake_input

    def press_return(self) -> float:
        """Send the key; the time it was sent (epoch seconds)."""
        sent = time.time()
        self._fake(self._conn, self._press, self._code)
        self._fake(self._conn, self._release, self._code)
        self._conn.sync()
        return sent

    def close(self) -> None:
        self._conn.close()


def to_login_screen(
    desk: Desk, tapper: Tapper, cmd: list[str] | None = None
) -> tuple[float, float]:
    """One cold start of the kiosk (`cmd`, else `python -m kiosk_app`): seconds from process
    start to the welcome screen shown, and to the login screen (Start tapped on welcome)."""
    process, log = desk.kiosk(cmd)
    with process:
        to_welcome = log.wait("screen shown: welcome", process) - process.started
        tapped = tapper.press_return()  # Start has the focus
        return to_welcome, to_welcome + log.wait("screen shown: login", process) - tapped


def _cold_start(desk: Desk) -> list[Line]:
    """Process start to the login screen (Start tapped on welcome) vs a bare window shown.

    To login = start to welcome shown + the tap on Start to login shown: the wait before the
    tap is the driver's, not the kiosk's (`Tapper` sends the key from an open connection).
    """
    welcome, login, bare = [], [], []
    tapper = Tapper(desk.env["DISPLAY"])
    try:
        for run in range(RUNS + 1):
            shown = desk.bare_shown()
            to_welcome, to_login = to_login_screen(desk, tapper)
            if run:  # the first run of each only warms the OS file cache
                bare.append(shown)
                welcome.append(to_welcome)
                login.append(to_login)
    finally:
        tapper.close()
    bare_s, login_s = statistics.median(bare), statistics.median(login)
    ratio = login_s / bare_s
    return [
        Line(
            COLD_NAME,
            f"{login_s:.2f} s = {ratio:.2f} x bare (welcome {statistics.median(welcome):.2f} s)",
            f"bare PySide6 window shown {bare_s:.2f} s",
            COLD_BUDGET,
            "PASS" if ratio <= 1.5 else "FAIL",
        )
    ]


def _journal_seq(data: Path) -> int:
    with open_test_store(data) as store, store.unit() as s:
        return int(s.scalar(select(func.max(JournalEvent.seq))) or 0)


def _share_played(store: Store, video_step: str, after_seq: int) -> float:
    """The largest share of the video the kiosk journaled as played since `after_seq`."""
    with store.unit() as s:
        events = s.scalars(
            select(JournalEvent).where(
                JournalEvent.seq > after_seq,
                JournalEvent.type == "media.played",
                JournalEvent.step_id == video_step,
            )
        )
        return max((float(e.data["fraction"]) for e in events), default=0.0)


def _press_play(desk: Desk, after_seq: int) -> None:
    """Space on Play (focused once the video is loaded) until the kiosk journals playing.

    The kiosk journals the share played every 10 % (1.2 s of this video); the journal is
    read between key presses, never while memory is sampled.
    """
    seeded = desk.seeded
    with open_test_store(seeded.data) as store:
        for _ in range(3):
            time.sleep(1.0)  # the player opens the video from the pack
            _keys(desk.env, "key", "space")
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                if _share_played(store, seeded.video_step, after_seq) > 0:
                    return
                time.sleep(0.25)
    raise RuntimeError("the video did not start playing")


def _video_rss(desk: Desk) -> list[Line]:
    """Sign in, Continue to the video step, press Play, sample VmRSS while it plays."""
    before = _journal_seq(desk.seeded.data)
    process, log = desk.kiosk()
    with process:
        log.wait("screen shown: welcome", process)
        _keys(desk.env, "key", "Return")
        log.wait("screen shown: login", process)
        _keys(desk.env, "type", "--delay", "20", CODE)
        _keys(desk.env, "key", "Return")
        _keys(desk.env, "type", "--delay", "20", PIN)
        _keys(desk.env, "key", "Return")
        log.wait("screen shown: home", process)
        _keys(desk.env, "key", "Return")  # Continue has the focus
        log.wait("step shown: video", process)
        _press_play(desk, before)
        peak = _peak_rss(process, SAMPLE_SECONDS)
    # Still playing when sampling ended? The share journaled on stop says how far it got.
    with open_test_store(desk.seeded.data) as store:
        played = _share_played(store, desk.seeded.video_step, before)
    process, log = desk.bare()
    with process:
        log.wait(BARE_MARK, process)
        bare = _peak_rss(process, 2.0)
    rss_mb = peak["VmRSS"] * 1024 / MB
    return [
        Line(
            RSS_NAME,
            f"{rss_mb:.0f} MB (anon {peak['RssAnon'] * 1024 / MB:.0f} MB, "
            f"{peak['Threads']} threads; {played:.0%} of the video played)",
            f"bare PySide6 window {bare['VmRSS'] * 1024 / MB:.0f} MB",
            RSS_BUDGET,
            "PASS" if rss_mb <= 250 else "FAIL",
        )
    ]


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def _next_step(desk: Desk) -> list[Line]:
    """`benchmarks.kiosk_steps` in a child on the offscreen platform (see its docstring)."""
    env = {k: v for k, v in desk.env.items() if k != "DISPLAY"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    workdir = desk.workdir / "steps"
    workdir.mkdir()
    with (desk.workdir / "steps.err").open("wb") as err:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.kiosk_steps", str(workdir)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            timeout=300,
            check=False,
        )
    if done.returncode != 0:
        tail = (desk.workdir / "steps.err").read_text("utf-8", errors="replace")[-400:]
        raise RuntimeError(f"kiosk_steps failed ({done.returncode}): {tail}")
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    nexts = [(float(total), float(click), str(kind)) for total, click, kind in result["next"]]
    totals = [t for t, _, _ in nexts]
    p95 = _p95(totals) * 1000
    by_kind: dict[str, list[float]] = defaultdict(list)
    for total, _, kind in nexts:
        by_kind[kind].append(total * 1000)
    kinds = sorted(by_kind.items(), key=lambda kv: -statistics.median(kv[1]))
    return [
        Line(
            NEXT_NAME,
            f"{p95:.1f} ms ({len(totals)} clicks; median {statistics.median(totals) * 1000:.1f}"
            f" ms; click handler p95 {_p95([c for _, c, _ in nexts]) * 1000:.1f} ms)",
            f"full repaint of the step screen p95 {_p95(result['repaint']) * 1000:.1f} ms",
            NEXT_BUDGET,
            "PASS" if p95 <= 50 else "FAIL",
        ),
        Line(
            "next step shown after Next, median by step type",
            ", ".join(f"{k} {statistics.median(v):.0f}" for k, v in kinds) + " ms",
            f"Back p95 {_p95(result['back']) * 1000:.1f} ms",
            "(no budget; shown for the issue)",
            "INFO",
        ),
    ]


def _guarded(name: str, budget: str, measure: Callable[[], list[Line]]) -> list[Line]:
    """A budget that could not be measured is a FAIL line, not a crashed `make bench`."""
    try:
        return measure()
    except Exception as exc:  # reported on the line
        return [Line(name, "not measured", f"{type(exc).__name__}: {exc}"[:120], budget, "FAIL")]


def _compile_bytecode() -> None:
    """Byte-compile our packages as pip and PyInstaller do when they install the kiosk.

    Run from a checkout with PYTHONDONTWRITEBYTECODE set (as on this machine), every start
    would compile the kiosk's modules from source: a cost no installed kiosk pays.
    """
    for package in ("kiosk_app", "content_packs", "sync_server"):
        if not compileall.compile_dir(REPO / package, quiet=1):
            raise RuntimeError(f"{package} did not byte-compile")


@contextmanager
def open_desk(workdir: Path) -> Iterator[Desk]:
    """Byte-compiled packages, a seeded data folder, a private Xvfb display and sound server."""
    _compile_bytecode()
    seeded = _seed(workdir)
    with _xvfb() as display, _null_sound(workdir / "pulse") as pulse:
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env.update(DISPLAY=display, PULSE_SERVER=pulse, KIOSK_KEY_STORE="file")
        yield Desk(env, seeded, workdir)


def kiosk_budgets(workdir: Path) -> list[Line]:
    budgets = [(COLD_NAME, COLD_BUDGET), (NEXT_NAME, NEXT_BUDGET), (RSS_NAME, RSS_BUDGET)]
    missing = [tool for tool in ("Xvfb", "xdotool", "pulseaudio") if shutil.which(tool) is None]
    if missing:
        why = f"{', '.join(missing)} missing (make deps)"
        return [Line(name, "not measured", why, budget, "FAIL") for name, budget in budgets]
    lines: list[Line] = []
    try:
        with open_desk(workdir) as desk:
            lines += _guarded(COLD_NAME, COLD_BUDGET, lambda: _cold_start(desk))
            lines += _guarded(NEXT_NAME, NEXT_BUDGET, lambda: _next_step(desk))
            lines += _guarded(RSS_NAME, RSS_BUDGET, lambda: _video_rss(desk))
    except Exception as exc:  # the desk itself failed: what was not measured says why
        done = {line.name for line in lines}
        why = f"{type(exc).__name__}: {exc}"[:120]
        lines += [
            Line(name, "not measured", why, budget, "FAIL")
            for name, budget in budgets
            if name not in done
        ]
    return lines
