"""Pack budgets: sequential decryption and random 64 KiB reads from a generated large pack."""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from benchmarks.report import Line
from content_packs import age, authoring, pack, signing

_CHUNK = age.CHUNK_SIZE


class _NullSink:
    """A writable file that keeps nothing, so only decryption is timed."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        pass


def _median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _raw_chacha_seconds(total: int, repeats: int) -> float:
    """`cryptography`'s ChaCha20-Poly1305 decrypting `total` bytes in 64 KiB chunks."""
    aead = ChaCha20Poly1305(os.urandom(32))
    nonce = bytes(12)
    sealed = aead.encrypt(nonce, os.urandom(_CHUNK), None)
    count = total // _CHUNK

    def run() -> None:
        decrypt = aead.decrypt
        for _ in range(count):
            decrypt(nonce, sealed, None)

    return _median_seconds(run, repeats)


def make_large_source(root: Path, *, size_mb: int) -> authoring.LoadedSource:
    """A one-step programme whose video member is `size_mb` MB of random bytes."""
    media = root / "media"
    media.mkdir(parents=True)
    with (media / "big.mp4").open("wb") as f:
        for _ in range(size_mb):
            f.write(os.urandom(1 << 20))
    (root / "pack.toml").write_text(
        'id = "bench-large"\nversion = 1\ntitle = "Benchmark pack"\nlanguage = "en"\n'
        'topics = ["bench"]\nestimated_minutes = 10\naudience_notes = "benchmark only"\n'
        'sources = ["generated"]\noutcomes = ["none"]\n\n'
        '[[modules]]\nid = "only"\ntitle = "Only module"\nsteps = ["video.md"]\n',
        encoding="utf-8",
    )
    (root / "video.md").write_text(
        "---\ntype: video\nid: big-video\ntitle: A large video\nmedia: media/big.mp4\n"
        "duration_seconds: 600\n---\nWatch the video.\n",
        encoding="utf-8",
    )
    return authoring.load_source(root)


def pack_budgets(workdir: Path, *, size_mb: int) -> list[Line]:
    label = f"{size_mb} MB"
    source = make_large_source(workdir / "src", size_mb=size_mb)
    identity = age.X25519Identity.generate()
    key_file = workdir / "device.key"
    key_file.write_text(identity.to_str() + "\n", encoding="utf-8")
    publisher = signing.SecretKey.generate()
    result = pack.build(
        source, workdir / "large.pack", sign_key=publisher, recipients=[identity.recipient]
    )
    shutil.rmtree(workdir / "src")
    pack_path = result.pack_path
    payload_bytes = pack_path.stat().st_size
    lines: list[Line] = []

    def ours() -> None:
        with pack_path.open("rb") as f:
            age.decrypt_stream(f, _NullSink(), [identity])  # type: ignore[arg-type]

    age_cli = shutil.which("age")
    ours_s = _median_seconds(ours, 3)
    raw_s = _raw_chacha_seconds(payload_bytes, 3)
    share = raw_s / ours_s
    lines.append(
        Line(
            f"sequential decryption, {label} pack",
            f"{payload_bytes / ours_s / 1e6:.0f} MB/s ({share:.0%} of raw)",
            f"raw ChaCha20-Poly1305 {payload_bytes / raw_s / 1e6:.0f} MB/s",
            ">= 50 % of raw",
            "PASS" if share >= 0.5 else "FAIL",
        )
    )
    if age_cli is None:
        lines.append(
            Line(
                f"sequential decryption vs age CLI, {label}",
                "-",
                "age CLI missing",
                "<= 1.5 x age",
                "FAIL",
            )
        )
    else:
        cmd = [age_cli, "-d", "-i", str(key_file), "-o", os.devnull, str(pack_path)]
        age_s = _median_seconds(lambda: subprocess.run(cmd, check=True), 3)
        ratio = ours_s / age_s
        lines.append(
            Line(
                f"sequential decryption vs age CLI, {label}",
                f"{ours_s:.2f} s ({ratio:.2f} x age)",
                f"age -d {age_s:.2f} s",
                "<= 1.5 x age",
                "PASS" if ratio <= 1.5 else "FAIL",
            )
        )

    open_times = []
    for _ in range(5):
        start = time.perf_counter()
        with pack.Pack.open(
            pack_path, public_key=publisher.public_key, identities=[identity]
        ) as opened:
            opened.names()
        open_times.append(time.perf_counter() - start)
    rng = random.Random(20261125)
    read_times = []
    chunk_times = []
    aead = ChaCha20Poly1305(os.urandom(32))
    sealed = aead.encrypt(bytes(12), os.urandom(_CHUNK), None)
    with (
        pack.Pack.open(pack_path, public_key=publisher.public_key, identities=[identity]) as p,
        p.open_member("media/big.mp4") as member,
    ):
        for _ in range(200):
            offset = rng.randrange(0, member.size - _CHUNK)
            start = time.perf_counter()
            member.seek(offset)
            data = member.read(_CHUNK)
            read_times.append(time.perf_counter() - start)
            assert len(data) == _CHUNK
            start = time.perf_counter()
            aead.decrypt(bytes(12), sealed, None)
            chunk_times.append(time.perf_counter() - start)
    read_ms = statistics.median(read_times) * 1000
    lines.append(
        Line(
            f"random 64 KiB read, {label} pack (median of 200)",
            f"{read_ms:.2f} ms (p95 {statistics.quantiles(read_times, n=20)[18] * 1000:.2f} ms)",
            f"one raw 64 KiB chunk decrypt {statistics.median(chunk_times) * 1000:.3f} ms",
            "<= 5 ms",
            "PASS" if read_ms <= 5 else "FAIL",
        )
    )
    lines.append(
        Line(
            f"open + list, {label} pack (median of 5)",
            f"{statistics.median(open_times) * 1000:.1f} ms",
            f"manifest signs {-(-payload_bytes // pack.BLOCK_SIZE)} block hashes",
            "(no budget; shown for the issue)",
            "INFO",
        )
    )
    return lines
