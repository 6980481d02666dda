"""A fault-injecting TCP proxy for loopback tests: resets, cut bodies, stalls, slow bytes,
and responses dropped after the server has done the work."""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from tests.support.live_server import listening_socket

_BUFFER = 16 * 1024


@dataclass(frozen=True, slots=True)
class Fault:
    """What happens to one proxied connection (None fields: nothing of that kind).

    Byte offsets count from the start of the connection in that direction, so with
    keep-alive a cut lands in whichever request or response is passing then.
    """

    reset_request_after: int | None = None  # close both ends after this many bytes up
    reset_response_after: int | None = None  # close both ends after this many bytes down
    drop_responses: bool = False  # swallow every byte down, then reset (work done, no answer)
    stall_seconds: float = 0.0  # hold the first bytes down this long (beyond a read timeout)
    slow_piece: int = 0  # send down in pieces of this size...
    slow_pause: float = 0.0  # ...with this pause between them
    respond_status: int | None = None  # answer this status at once, never reaching upstream
    hold: threading.Event | None = None  # keep bytes down from `hold_after` until this is set
    hold_after: int = 0
    reset_after_hold: bool = False  # then reset, as if the server had died at that byte
    # With this: reset_response_after counts from the response to the first request whose
    # request line starts with these bytes (nothing is cut before it).
    cut_request: bytes | None = None


Plan = Callable[[int], Fault]  # connection number -> its fault


def no_faults(_: int) -> Fault:
    return Fault()


@dataclass
class FaultProxy:
    """Forwards 127.0.0.1:port to `upstream_port`, each connection with `plan`'s fault."""

    upstream_port: int
    plan: Plan = no_faults
    connections: int = 0
    requests_seen: list[bytes] = field(default_factory=list)
    holding: threading.Event = field(default_factory=threading.Event)  # a `hold` has begun
    _sock: socket.socket = field(init=False)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._sock = listening_socket()
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(10)
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                number = self.connections
                self.connections += 1
            fault = self.plan(number)
            thread = threading.Thread(
                target=self._serve, args=(client, fault), name=f"proxy-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _serve(self, client: socket.socket, fault: Fault) -> None:
        if fault.respond_status is not None:
            _answer(client, fault.respond_status)
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
        except OSError:
            _reset(client)
            return
        done = threading.Event()
        armed = _Armed(fault.cut_request is None)
        up = threading.Thread(
            target=self._pump_up, args=(client, upstream, fault, done, armed), daemon=True
        )
        up.start()
        self._pump_down(upstream, client, fault, done, armed)
        up.join(10)

    def _pump_up(
        self,
        src: socket.socket,
        dst: socket.socket,
        fault: Fault,
        done: threading.Event,
        armed: _Armed,
    ) -> None:
        sent = 0
        while not done.is_set():
            data = _recv(src, done)
            if not data:
                break
            if sent == 0 or data.startswith((b"GET ", b"POST ", b"HEAD ")):
                with self._lock:
                    self.requests_seen.append(data[:2048])
                if fault.cut_request is not None and data.startswith(fault.cut_request):
                    armed.arm()
            limit = fault.reset_request_after
            if limit is not None and sent + len(data) > limit:
                _send(dst, data[: max(0, limit - sent)])
                break
            if not _send(dst, data):
                break
            sent += len(data)
        done.set()
        _reset(src)
        _reset(dst)

    def _pump_down(
        self,
        src: socket.socket,
        dst: socket.socket,
        fault: Fault,
        done: threading.Event,
        armed: _Armed,
    ) -> None:
        sent = 0
        stalled = held = False
        while not done.is_set():
            data = _recv(src, done)
            if not data:
                break
            if fault.drop_responses:
                break
            if fault.stall_seconds and not stalled:
                stalled = True
                if done.wait(fault.stall_seconds):
                    break
            start = armed.start(sent)
            if (
                fault.hold is not None
                and not held
                and start is not None
                and sent + len(data) > start + fault.hold_after
            ):
                head = max(0, start + fault.hold_after - sent)
                if head and not _send(dst, data[:head]):
                    break
                sent, data, held = sent + head, data[head:], True
                self.holding.set()
                while not fault.hold.wait(0.05) and not done.is_set():
                    pass
                if fault.reset_after_hold:
                    break
            limit = fault.reset_response_after
            if limit is not None and start is not None and sent + len(data) > start + limit:
                _send(dst, data[: max(0, start + limit - sent)])
                break
            pieces = (
                [data[i : i + fault.slow_piece] for i in range(0, len(data), fault.slow_piece)]
                if fault.slow_piece
                else [data]
            )
            for piece in pieces:
                if not _send(dst, piece) or (fault.slow_pause and done.wait(fault.slow_pause)):
                    break
            sent += len(data)
        done.set()
        _reset(src)
        _reset(dst)


class _Armed:
    """Where, in the bytes sent down, response cutting starts counting (None: not yet)."""

    def __init__(self, from_start: bool) -> None:
        self._lock = threading.Lock()
        self._armed = from_start
        self._at: int | None = 0 if from_start else None

    def arm(self) -> None:
        with self._lock:
            self._armed = True

    def start(self, sent: int) -> int | None:
        with self._lock:
            if self._armed and self._at is None:
                self._at = sent
            return self._at


def _answer(client: socket.socket, status: int) -> None:
    """Read the request head, answer `status` with an empty body, close."""
    client.settimeout(5)
    with contextlib.suppress(OSError):
        head = b""
        while b"\r\n\r\n" not in head:
            data = client.recv(_BUFFER)
            if not data:
                break
            head += data
        client.sendall(
            f"HTTP/1.1 {status} Injected\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )
    _reset(client)


def _recv(sock: socket.socket, done: threading.Event) -> bytes:
    sock.settimeout(0.05)
    while not done.is_set():
        try:
            return sock.recv(_BUFFER)
        except TimeoutError:
            continue
        except OSError:
            return b""
    return b""


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
    except OSError:
        return False
    return True


def _reset(sock: socket.socket) -> None:
    """Close with RST rather than FIN, as a crashed peer or middlebox would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def random_plan(seed: int, *, stall_seconds: float = 1.5) -> Plan:
    """Every kind of fault in turn, one per connection, at reproducible random places.

    No connection lives for ever: each is also reset somewhere in its first 1.5 MB up, so
    keep-alive cannot carry the whole sync past the faults on one lucky connection.
    """
    rng = random.Random(seed)
    kinds = ("reset_request", "reset_response", "drop", "stall", "slow", "clean")

    def plan(number: int) -> Fault:
        kind = kinds[number % len(kinds)]
        limit = rng.randrange(0, 1_500_000)
        if kind == "reset_response":
            return Fault(reset_request_after=limit, reset_response_after=rng.randrange(200_000))
        if kind == "drop":
            return Fault(drop_responses=True)
        if kind == "stall":
            return Fault(reset_request_after=limit, stall_seconds=stall_seconds)
        if kind == "slow":
            piece = rng.choice([97, 512, 4096])
            return Fault(reset_request_after=limit, slow_piece=piece, slow_pause=0.0005)
        return Fault(reset_request_after=limit)

    return plan
