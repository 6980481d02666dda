"""Our age files and the reference `age` CLI read each other, with keys made by either side."""

from __future__ import annotations

import io
import os
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from content_packs import age

SIZES = [0, 1, age.CHUNK_SIZE, age.CHUNK_SIZE + 1, 3 * 1024 * 1024 + 17]


@dataclass(frozen=True)
class KeyPair:
    identity: age.X25519Identity
    identity_file: Path


@cache
def plaintext(size: int) -> bytes:
    return os.urandom(size)


def run(args: list[str | Path], data: bytes = b"") -> bytes:
    result = subprocess.run([str(a) for a in args], input=data, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    identity = age.X25519Identity.generate()
    path = tmp_path_factory.mktemp("ours") / "key.txt"
    path.write_text(f"# made by content_packs.age\n{identity}\n")
    return KeyPair(identity, path)


@pytest.fixture(scope="module")
def keygen(tmp_path_factory: pytest.TempPathFactory, age_keygen_cli: Path) -> KeyPair:
    path = tmp_path_factory.mktemp("keygen") / "key.txt"
    run([age_keygen_cli, "-o", path])
    (identity,) = age.parse_identity_file(path.read_text())
    public = run([age_keygen_cli, "-y", path]).decode().strip()
    assert identity.recipient == age.X25519Recipient.from_str(public)
    return KeyPair(identity, path)


@pytest.fixture(params=["ours", "keygen"])
def keys(request: pytest.FixtureRequest) -> KeyPair:
    pair: KeyPair = request.getfixturevalue(request.param)
    return pair


@pytest.mark.parametrize("size", SIZES)
def test_our_file_decrypts_with_age_cli(size: int, keys: KeyPair, age_cli: Path) -> None:
    encrypted = age.encrypt(plaintext(size), [keys.identity.recipient])
    assert run([age_cli, "-d", "-i", keys.identity_file], encrypted) == plaintext(size)


@pytest.mark.parametrize("size", SIZES)
def test_age_cli_file_decrypts_with_ours(size: int, keys: KeyPair, age_cli: Path) -> None:
    encrypted = run([age_cli, "-r", keys.identity.recipient.to_str()], plaintext(size))
    assert age.decrypt(encrypted, [keys.identity]) == plaintext(size)
    out = io.BytesIO()
    age.decrypt_stream(io.BytesIO(encrypted), out, [keys.identity])
    assert out.getvalue() == plaintext(size)


@pytest.mark.parametrize("size", SIZES)
def test_age_cli_file_reads_randomly_with_ours(size: int, keys: KeyPair, age_cli: Path) -> None:
    encrypted = run([age_cli, "-r", keys.identity.recipient.to_str()], plaintext(size))
    reader = age.SeekableReader(io.BytesIO(encrypted), identities=[keys.identity])
    assert reader.size == size
    middle = size // 2
    reader.seek(middle)
    assert reader.read(100) == plaintext(size)[middle : middle + 100]


def test_age_cli_file_for_several_recipients_decrypts_with_ours(
    ours: KeyPair, keygen: KeyPair, age_cli: Path
) -> None:
    encrypted = run(
        [age_cli, "-r", ours.identity.recipient.to_str(), "-r", keygen.identity.recipient.to_str()],
        b"both",
    )
    assert age.decrypt(encrypted, [ours.identity]) == b"both"
    assert age.decrypt(encrypted, [keygen.identity]) == b"both"


def test_our_file_for_several_recipients_decrypts_with_age_cli(
    ours: KeyPair, keygen: KeyPair, age_cli: Path
) -> None:
    encrypted = age.encrypt(b"both", [ours.identity.recipient, keygen.identity.recipient])
    assert run([age_cli, "-d", "-i", ours.identity_file], encrypted) == b"both"
    assert run([age_cli, "-d", "-i", keygen.identity_file], encrypted) == b"both"


def test_age_cli_file_for_another_identity_is_refused(
    ours: KeyPair, keygen: KeyPair, age_cli: Path
) -> None:
    encrypted = run([age_cli, "-r", keygen.identity.recipient.to_str()], b"not yours")
    with pytest.raises(age.NoMatchingIdentityError):
        age.decrypt(encrypted, [ours.identity])


@pytest.mark.parametrize(("source", "target"), [("ours", "keygen"), ("keygen", "ours")])
def test_rewrapped_header_opens_the_original_payload_with_age_cli(
    source: str, target: str, age_cli: Path, request: pytest.FixtureRequest
) -> None:
    src: KeyPair = request.getfixturevalue(source)
    dst: KeyPair = request.getfixturevalue(target)
    data = plaintext(age.CHUNK_SIZE + 1)
    original = run([age_cli, "-r", src.identity.recipient.to_str()], data)
    header = age.read_header(io.BytesIO(original))
    file_key = age.unwrap_file_key(header, [src.identity])
    rewrapped = (
        age.wrap_header(file_key, [dst.identity.recipient]) + original[header.payload_offset :]
    )
    assert rewrapped.endswith(original[header.payload_offset :])
    assert age.decrypt(rewrapped, [dst.identity]) == data
    assert run([age_cli, "-d", "-i", dst.identity_file], rewrapped) == data


def test_age_cli_detects_our_truncated_file(ours: KeyPair, age_cli: Path) -> None:
    encrypted = age.encrypt(plaintext(age.CHUNK_SIZE + 1), [ours.identity.recipient])
    result = subprocess.run(
        [str(age_cli), "-d", "-i", str(ours.identity_file)],
        input=encrypted[:-1],
        capture_output=True,
        check=False,
    )
    assert result.returncode != 0
