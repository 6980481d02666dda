"""A private X display (Xvfb) and a keyboard on it (xdotool), for the real kiosk process."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

WIDTH, HEIGHT = 1280, 800


@contextmanager
def xvfb(width: int = WIDTH, height: int = HEIGHT) -> Iterator[str]:
    """A fresh Xvfb server on a display number it picks itself (-displayfd); its DISPLAY."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24"]
        + ["-nolisten", "tcp"],
        pass_fds=(write_end,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()
        if not number.isdigit():
            raise RuntimeError("Xvfb did not report a display number")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def keys(env: dict[str, str], *args: str) -> None:
    """`xdotool ARGS` on the display in `env` (e.g. `keys(env, "key", "Return")`)."""
    subprocess.run(["xdotool", *args], env=env, check=True, timeout=30)
