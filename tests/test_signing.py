"""Minisign-compatible signing: interop with the `minisign` CLI and rejection of tampering."""

from __future__ import annotations

import base64
import dataclasses
import io
import random
import re
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content_packs.signing import (
    SCRYPT_INTERACTIVE,
    BadSignatureError,
    BadTrustedCommentError,
    KeyFormatError,
    KeyIdMismatchError,
    PasswordError,
    PublicKey,
    SecretKey,
    Signature,
    SignatureError,
    SignatureFormatError,
    write_secret_key,
)

MESSAGES = {
    "empty": b"",
    "one-byte": b"\x00",
    "multi-megabyte": random.Random(1).randbytes(3 * 1024 * 1024 + 17),
}
PASSWORD = "correct horse battery staple"


def run_cli(cli: Path, *args: str | Path, stdin: str | None = None) -> str:
    """Run minisign, failing the test with its stderr if it exits non-zero."""
    done = subprocess.run(
        [str(cli), *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"minisign {args} failed: {done.stderr.strip()}"
    return done.stdout


def flip_bit(raw: bytes, index: int = 0, bit: int = 0) -> bytes:
    changed = bytearray(raw)
    changed[index] ^= 1 << bit
    return bytes(changed)


@pytest.fixture
def cli_keys(tmp_path: Path, minisign_cli: Path) -> tuple[Path, Path]:
    """An unencrypted key pair made by `minisign -G -W`: (public, secret)."""
    pub, key = tmp_path / "cli.pub", tmp_path / "cli.key"
    run_cli(minisign_cli, "-G", "-W", "-p", pub, "-s", key)
    return pub, key


@pytest.fixture(scope="module")
def key() -> SecretKey:
    return SecretKey.generate()


@pytest.fixture(scope="module")
def signed(key: SecretKey) -> tuple[bytes, str]:
    data = b"manifest bytes"
    return data, key.sign(data, trusted_comment="pack: anger-management 1.2.0")


# --- interop: keys and signatures in both directions -------------------------------------


def test_cli_public_key_reads_and_writes_byte_for_byte(cli_keys: tuple[Path, Path]) -> None:
    pub_path, key_path = cli_keys
    public = PublicKey.load(pub_path)
    assert public.to_str() == pub_path.read_text()
    assert f"minisign public key {public.key_id_hex}" in pub_path.read_text()
    assert SecretKey.load(key_path).public_key == public
    bare = pub_path.read_text().splitlines()[1]
    assert PublicKey.from_str(bare) == public


@pytest.mark.parametrize("message", MESSAGES.values(), ids=MESSAGES.keys())
@pytest.mark.parametrize("streaming", [False, True], ids=["sign", "sign_file"])
def test_we_sign_with_cli_key_and_cli_verifies(
    tmp_path: Path,
    minisign_cli: Path,
    cli_keys: tuple[Path, Path],
    message: bytes,
    streaming: bool,
) -> None:
    pub_path, key_path = cli_keys
    secret = SecretKey.load(key_path)
    data_path = tmp_path / "module.bin"
    data_path.write_bytes(message)
    signature = (
        secret.sign_file(data_path) if streaming else secret.sign(message, file_name="module.bin")
    )
    sig_path = tmp_path / "module.bin.minisig"
    sig_path.write_text(signature)

    out = run_cli(minisign_cli, "-V", "-H", "-p", pub_path, "-m", data_path, "-x", sig_path)

    assert re.search(r"Trusted comment: timestamp:\d+\tfile:module\.bin\thashed", out)


def test_cli_verifies_our_custom_comments(
    tmp_path: Path, minisign_cli: Path, key: SecretKey
) -> None:
    pub_path = tmp_path / "ours.pub"
    pub_path.write_text(key.public_key.to_str())
    data_path = tmp_path / "data"
    data_path.write_bytes(b"payload")
    trusted = "pack: victim-awareness 2.0 \u2013 r\u00e9paration"
    sig_path = tmp_path / "data.minisig"
    sig_path.write_text(key.sign(b"payload", trusted_comment=trusted, untrusted_comment="hi"))

    out = run_cli(minisign_cli, "-V", "-Q", "-p", pub_path, "-m", data_path, "-x", sig_path)

    assert out.strip() == trusted


@pytest.mark.parametrize("message", MESSAGES.values(), ids=MESSAGES.keys())
@pytest.mark.parametrize("password", [None, PASSWORD], ids=["unencrypted", "encrypted"])
def test_cli_signs_with_our_key_and_we_verify(
    tmp_path: Path, minisign_cli: Path, key: SecretKey, message: bytes, password: str | None
) -> None:
    key_path = tmp_path / "ours.key"
    write_secret_key(key_path, key, password, limits=SCRYPT_INTERACTIVE)
    data_path = tmp_path / "data.bin"
    data_path.write_bytes(message)
    stdin = None if password is None else password + "\n"

    run_cli(minisign_cli, "-S", "-s", key_path, "-m", data_path, "-t", "from cli", stdin=stdin)

    signature = (tmp_path / "data.bin.minisig").read_text()
    assert key.public_key.verify(message, signature) == "from cli"
    assert key.public_key.verify_file(data_path, signature) == "from cli"


@pytest.mark.parametrize("message", MESSAGES.values(), ids=MESSAGES.keys())
@pytest.mark.parametrize("flags", [(), ("-l",)], ids=["prehashed", "legacy"])
def test_cli_signatures_verify_here(
    tmp_path: Path,
    minisign_cli: Path,
    cli_keys: tuple[Path, Path],
    message: bytes,
    flags: tuple[str, ...],
) -> None:
    pub_path, key_path = cli_keys
    data_path = tmp_path / "data.bin"
    data_path.write_bytes(message)

    run_cli(minisign_cli, "-S", *flags, "-s", key_path, "-m", data_path)

    signature = (tmp_path / "data.bin.minisig").read_text()
    trusted = PublicKey.load(pub_path).verify(message, signature)
    assert re.fullmatch(r"timestamp:\d+\tfile:data\.bin(\thashed)?", trusted)
    assert Signature.from_str(signature).prehashed == (flags == ())


@pytest.mark.slow
def test_cli_password_protected_key_decrypts_here(tmp_path: Path, minisign_cli: Path) -> None:
    # Real minisign parameters (1 GiB scrypt): checks libsodium's parameter derivation.
    pub_path, key_path = tmp_path / "enc.pub", tmp_path / "enc.key"
    run_cli(minisign_cli, "-G", "-p", pub_path, "-s", key_path, stdin=f"{PASSWORD}\n" * 2)

    secret = SecretKey.load(key_path, password=PASSWORD)

    assert secret.public_key == PublicKey.load(pub_path)


def test_minisign_reads_our_unencrypted_key_file(
    tmp_path: Path, minisign_cli: Path, key: SecretKey
) -> None:
    key_path, pub_path = tmp_path / "k.key", tmp_path / "k.pub"
    write_secret_key(key_path, key)

    run_cli(minisign_cli, "-R", "-s", key_path, "-p", pub_path)

    assert PublicKey.load(pub_path) == key.public_key


# --- our own round trips -------------------------------------------------------------------


@pytest.mark.parametrize("message", MESSAGES.values(), ids=MESSAGES.keys())
def test_sign_and_verify_round_trip(key: SecretKey, message: bytes) -> None:
    signature = key.sign(message, trusted_comment="tc")

    assert key.public_key.verify(message, signature) == "tc"
    assert key.public_key.verify_file(io.BytesIO(message), signature) == "tc"
    assert key.sign_file(io.BytesIO(message), trusted_comment="tc") == signature


def test_default_trusted_comment_is_minisigns(key: SecretKey) -> None:
    signature = key.sign(b"x", file_name="/some/dir/manifest.json")
    assert re.fullmatch(
        r"timestamp:\d+\tfile:manifest\.json\thashed", key.public_key.verify(b"x", signature)
    )


@pytest.mark.parametrize("password", [None, PASSWORD], ids=["unencrypted", "encrypted"])
def test_secret_key_file_is_0600_and_round_trips(
    tmp_path: Path, key: SecretKey, password: str | None
) -> None:
    path = tmp_path / "publisher.key"
    path.write_text("old contents")

    write_secret_key(path, key, password, limits=SCRYPT_INTERACTIVE)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["publisher.key"]
    assert SecretKey.load(path, password).public_key == key.public_key


def test_secret_key_repr_shows_only_the_key_id(key: SecretKey) -> None:
    assert repr(key) == f"SecretKey(key_id={key.key_id_hex})"


@pytest.mark.parametrize(
    "kwargs",
    [{"trusted_comment": "two\nlines"}, {"untrusted_comment": "cr\r"}, {"file_name": "a\nb"}],
)
def test_sign_refuses_multi_line_comments(key: SecretKey, kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="single line"):
        key.sign(b"x", **kwargs)


# --- rejections ----------------------------------------------------------------------------


def _replace(**changes: object) -> Callable[[Signature], str]:
    def tamper(sig: Signature) -> str:
        return dataclasses.replace(sig, **changes).to_str()  # type: ignore[arg-type]

    return tamper


def _noncanonical(text: str) -> str:
    """Set an unused low bit before the `==` padding: same bytes to a lax decoder."""
    lines = text.splitlines(keepends=True)
    b64 = lines[3].rstrip("\n")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet[alphabet.index(b64[-3]) | 1]
    lines[3] = b64[:-3] + last + "==\n"
    return "".join(lines)


SIGNATURE_TAMPERING: list[tuple[str, Callable[[Signature], str], type[SignatureError]]] = [
    ("signature bit", lambda s: _replace(signature=flip_bit(s.signature, 5))(s), BadSignatureError),
    (
        "trusted comment bit",
        lambda s: _replace(trusted_comment=flip_bit(s.trusted_comment.encode(), 3).decode())(s),
        BadTrustedCommentError,
    ),
    (
        "global signature bit",
        lambda s: _replace(global_signature=flip_bit(s.global_signature, 63, 7))(s),
        BadTrustedCommentError,
    ),
    ("key id bit", lambda s: _replace(key_id=flip_bit(s.key_id))(s), KeyIdMismatchError),
    ("algorithm bytes", _replace(algorithm=b"Ex"), SignatureFormatError),
    (
        "malformed base64",
        lambda s: s.to_str().replace(s.to_str().splitlines()[1], "not*base64!"),
        SignatureFormatError,
    ),
    (
        "non-canonical base64 padding bits",
        lambda s: _noncanonical(s.to_str()),
        SignatureFormatError,
    ),
    ("truncated file", lambda s: s.to_str()[: len(s.to_str()) // 2], SignatureFormatError),
    ("missing last line", lambda s: "".join(s.to_str().splitlines(True)[:3]), SignatureFormatError),
    ("empty file", lambda s: "", SignatureFormatError),
    (
        "no trusted comment prefix",
        lambda s: s.to_str().replace("trusted comment: ", "comment: "),
        SignatureFormatError,
    ),
]


@pytest.mark.parametrize(
    ("tamper", "error"),
    [(t, e) for _, t, e in SIGNATURE_TAMPERING],
    ids=[name for name, _, _ in SIGNATURE_TAMPERING],
)
def test_tampered_signature_is_rejected(
    signed: tuple[bytes, str],
    key: SecretKey,
    tamper: Callable[[Signature], str],
    error: type[SignatureError],
) -> None:
    data, signature = signed
    with pytest.raises(error):
        key.public_key.verify(data, tamper(Signature.from_str(signature)))


def test_flipped_bit_in_data_is_rejected(signed: tuple[bytes, str], key: SecretKey) -> None:
    data, signature = signed
    with pytest.raises(BadSignatureError):
        key.public_key.verify(flip_bit(data, 4, 2), signature)
    with pytest.raises(BadSignatureError):
        key.public_key.verify_file(io.BytesIO(flip_bit(data, 4, 2)), signature)


def test_signature_from_another_key_names_both_key_ids(key: SecretKey) -> None:
    other = SecretKey.generate()
    with pytest.raises(KeyIdMismatchError, match=other.key_id_hex):
        key.public_key.verify(b"data", other.sign(b"data"))


def test_streaming_verify_refuses_legacy_signatures(
    tmp_path: Path, minisign_cli: Path, cli_keys: tuple[Path, Path]
) -> None:
    pub_path, key_path = cli_keys
    data_path = tmp_path / "data"
    data_path.write_bytes(b"legacy")
    run_cli(minisign_cli, "-S", "-l", "-s", key_path, "-m", data_path)
    with pytest.raises(SignatureFormatError, match="legacy"):
        PublicKey.load(pub_path).verify_file(data_path, (tmp_path / "data.minisig").read_text())


def _pub_b64(raw: bytes) -> str:
    return "untrusted comment: k\n" + base64.b64encode(raw).decode() + "\n"


PUBLIC_KEY_DAMAGE: list[tuple[str, Callable[[bytes], str]]] = [
    ("malformed base64", lambda raw: "untrusted comment: k\nRWQ$$$$\n"),
    ("wrong algorithm bytes", lambda raw: _pub_b64(b"ED" + raw[2:])),
    ("too short", lambda raw: _pub_b64(raw[:-1])),
    ("too long", lambda raw: _pub_b64(raw + b"\0")),
    ("comment line only", lambda raw: "untrusted comment: k\n"),
    ("no comment prefix", lambda raw: "comment\n" + _pub_b64(raw).splitlines()[1]),
]


@pytest.mark.parametrize(
    "damage", [d for _, d in PUBLIC_KEY_DAMAGE], ids=[n for n, _ in PUBLIC_KEY_DAMAGE]
)
def test_damaged_public_key_is_rejected(key: SecretKey, damage: Callable[[bytes], str]) -> None:
    raw = base64.b64decode(key.public_key.to_base64())
    with pytest.raises(KeyFormatError):
        PublicKey.from_str(damage(raw))


def _with_byte(raw: bytes, index: int, value: bytes) -> bytes:
    return raw[:index] + value + raw[index + len(value) :]


# Offsets in the 158-byte secret key: sig alg 0, kdf alg 2, chk alg 4, keynum_sk 54,
# secret key 62 (seed 62..93, public half 94..125), checksum 126.
SECRET_KEY_DAMAGE: list[tuple[str, Callable[[bytes], bytes]]] = [
    ("wrong algorithm bytes", lambda raw: _with_byte(raw, 0, b"ED")),
    ("unknown kdf", lambda raw: _with_byte(raw, 2, b"Ar")),
    ("unknown checksum", lambda raw: _with_byte(raw, 4, b"B3")),
    ("truncated", lambda raw: raw[:100]),
    ("bad checksum", lambda raw: flip_bit(raw, 140)),
    ("corrupted public half", lambda raw: flip_bit(raw, 100)),
]


@pytest.mark.parametrize(
    "damage", [d for _, d in SECRET_KEY_DAMAGE], ids=[n for n, _ in SECRET_KEY_DAMAGE]
)
def test_damaged_secret_key_is_rejected(key: SecretKey, damage: Callable[[bytes], bytes]) -> None:
    raw = base64.b64decode(key.to_str().splitlines()[1])
    text = "untrusted comment: k\n" + base64.b64encode(damage(raw)).decode() + "\n"
    with pytest.raises(KeyFormatError):
        SecretKey.from_str(text)


def test_secret_key_asking_for_huge_scrypt_memory_is_rejected(key: SecretKey) -> None:
    raw = base64.b64decode(key.to_str().splitlines()[1])
    hostile = raw[:2] + b"Sc" + raw[4:38] + (1 << 40).to_bytes(8, "little") * 2 + raw[54:]
    text = "untrusted comment: k\n" + base64.b64encode(hostile).decode() + "\n"
    with pytest.raises(KeyFormatError, match="scrypt parameters"):
        SecretKey.from_str(text, PASSWORD)


def test_malformed_secret_key_base64_is_rejected() -> None:
    with pytest.raises(KeyFormatError, match="base64"):
        SecretKey.from_str("untrusted comment: k\nRWQAAEIy%%%\n")


@pytest.mark.parametrize(
    ("password", "message"),
    [(None, "password is needed"), ("wrong", "wrong password"), ("", "wrong password")],
)
def test_encrypted_key_needs_the_right_password(
    key: SecretKey, password: str | None, message: str
) -> None:
    text = key.to_str(PASSWORD, limits=SCRYPT_INTERACTIVE)
    with pytest.raises(PasswordError, match=message):
        SecretKey.from_str(text, password)


# --- property: tampering only ever raises SignatureError --------------------------------------


def xor_byte(raw: bytes, index: int, mask: int) -> bytes:
    changed = bytearray(raw)
    changed[index] ^= mask
    return bytes(changed)


@settings(max_examples=400, deadline=None)
@given(position=st.integers(min_value=0), mask=st.integers(min_value=1, max_value=255))
def test_any_byte_change_in_signature_raises_signature_error(
    signed: tuple[bytes, str], key: SecretKey, position: int, mask: int
) -> None:
    data, signature = signed
    raw = signature.encode()
    position %= len(raw)
    tampered = xor_byte(raw, position, mask)
    try:
        trusted = key.public_key.verify(data, tampered)
    except SignatureError:
        return
    # Only the unsigned untrusted comment may change, and the final LF may become
    # CR (minisign strips both).
    in_untrusted_body = len(b"untrusted comment: ") <= position < raw.index(b"\n")
    final_cr = position == len(raw) - 1 and tampered.endswith(b"\r")
    assert in_untrusted_body or final_cr
    assert trusted == "pack: anger-management 1.2.0"


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), mask=st.integers(min_value=1, max_value=255))
def test_any_byte_change_in_message_raises_bad_signature(
    signed: tuple[bytes, str], key: SecretKey, position: int, mask: int
) -> None:
    data, signature = signed
    with pytest.raises(BadSignatureError):
        key.public_key.verify(xor_byte(data, position % len(data), mask), signature)


@settings(max_examples=200, deadline=None)
@given(garbage=st.binary(max_size=400) | st.text(max_size=400))
def test_arbitrary_input_raises_only_signature_errors(
    signed: tuple[bytes, str], key: SecretKey, garbage: bytes | str
) -> None:
    data, _ = signed
    with pytest.raises(SignatureError):
        key.public_key.verify(data, garbage)
    with pytest.raises(SignatureError):
        PublicKey.from_str(garbage if isinstance(garbage, str) else garbage.decode("latin-1"))


def test_key_id_is_printed_as_minisign_prints_it_without_leading_zeros() -> None:
    # minisign writes the key number with printf's %PRIX64: no zero padding, so a key whose
    # number starts with a zero nibble has fewer than 16 digits (one key in sixteen).
    real = SecretKey.generate().public_key
    key = PublicKey(key_id=bytes([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x00]), raw=real.raw)
    assert key.key_id_hex == "7060504030201"
    assert key.to_str().splitlines()[0] == "untrusted comment: minisign public key 7060504030201"
    assert PublicKey.from_str(key.to_str()) == key
