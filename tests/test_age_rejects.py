"""Malformed and tampered age files, modelled on the C2SP CCTV age test kit, are rejected."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from bech32 import bech32_decode, convertbits
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content_packs import age

# The CCTV test kit's fixed identity and file key.
TEST_IDENTITY = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"
TEST_FILE_KEY = b"YELLOW SUBMARINE"
OTHER_SECRET = bytes(range(32))
FULL = bytes(age.CHUNK_SIZE)

# Points of small order on Curve25519: X25519 with any scalar gives all zeroes.
LOW_ORDER_POINTS = {
    "zero": bytes(32),
    "one": (1).to_bytes(32, "little"),
    "order_8": bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def not_canonical(text: str) -> str:
    """The next base64 letter sets a spare trailing bit: same bytes, non-canonical text."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return text[:-1] + alphabet[alphabet.index(text[-1]) + 1]


def hkdf(ikm: bytes, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


@dataclass
class AgeFile:
    """Builds an age file line by line, the way the CCTV test kit does."""

    file_key: bytes = TEST_FILE_KEY
    buf: bytearray = field(default_factory=bytearray)
    stream_key: bytes = b""
    counter: int = 0

    def line(self, text: str | bytes) -> AgeFile:
        self.buf += (text.encode() if isinstance(text, str) else text) + b"\n"
        return self

    def version(self, v: str = "v1") -> AgeFile:
        return self.line("age-encryption.org/" + v)

    def args(self, *args: str) -> AgeFile:
        return self.line(" ".join(("->", *args)))

    def body(self, data: bytes) -> AgeFile:
        while True:
            part, data = data[:48], data[48:]
            self.line(b64(part))
            if len(part) < 48:
                return self

    def x25519(
        self,
        secret: bytes,
        share: bytes | None = None,
        file_key: bytes | None = None,
        args: tuple[str, ...] | None = None,
    ) -> AgeFile:
        identity = X25519PrivateKey.from_private_bytes(secret)
        if share is None:
            share = X25519PrivateKey.generate().public_key().public_bytes_raw()
        self.args(*(args if args is not None else ("X25519", b64(share))))
        shared = identity.exchange(X25519PublicKey.from_public_bytes(share))
        recipient = identity.public_key().public_bytes_raw()
        key = hkdf(shared, share + recipient, b"age-encryption.org/v1/X25519")
        return self.body(ChaCha20Poly1305(key).encrypt(bytes(12), file_key or self.file_key, None))

    def mac_value(self) -> bytes:
        key = hkdf(self.file_key, None, b"header")
        return hmac.digest(key, bytes(self.buf) + b"---", "sha256")

    def mac(self) -> AgeFile:
        return self.line("--- " + b64(self.mac_value()))

    def nonce(self, nonce: bytes = b"N" * 16) -> AgeFile:
        self.stream_key = hkdf(self.file_key, nonce, b"payload")
        self.buf += nonce
        return self

    def chunk(self, plaintext: bytes, *, final: bool = False) -> AgeFile:
        nonce = self.counter.to_bytes(11, "big") + (b"\x01" if final else b"\x00")
        self.buf += ChaCha20Poly1305(self.stream_key).encrypt(nonce, plaintext, None)
        self.counter += 1
        return self

    def payload(self, plaintext: bytes = b"age") -> AgeFile:
        return self.nonce().chunk(plaintext, final=True)

    def raw(self, data: bytes) -> AgeFile:
        self.buf += data
        return self

    def done(self) -> bytes:
        return bytes(self.buf)


def ident() -> bytes:
    """The raw 32-byte secret of TEST_IDENTITY."""
    return _secret_of(TEST_IDENTITY)


@cache
def _secret_of(text: str) -> bytes:
    _, words = bech32_decode(text)
    assert words is not None
    data = convertbits(words, 5, 8, False)
    assert data is not None
    return bytes(data)


def std() -> AgeFile:
    """Version line and one good X25519 stanza for TEST_IDENTITY."""
    return AgeFile().version().x25519(ident())


Case = Callable[[], bytes]


def low_order_file(point: bytes) -> Case:
    """A stanza whose share is a low-order point; no honest sender can produce one."""
    return lambda: (
        AgeFile().version().args("X25519", b64(point)).body(bytes(32)).mac().payload().done()
    )


# name -> (builder, expected plaintext or exception class). Names follow the CCTV kit.
CASES: dict[str, tuple[Case, bytes | type[age.AgeError]]] = {
    "x25519": (lambda: std().mac().payload().done(), b"age"),
    "x25519_multiple_recipients": (
        lambda: AgeFile().version().x25519(OTHER_SECRET).x25519(ident()).mac().payload().done(),
        b"age",
    ),
    "x25519_grease": (
        lambda: (
            AgeFile()
            .version()
            .args("grease", "x")
            .body(b"\x00" * 100)
            .x25519(ident())
            .args("x25519", "lowercase")
            .body(b"")
            .mac()
            .payload()
            .done()
        ),
        b"age",
    ),
    "stanza_valid_characters": (
        lambda: (
            AgeFile()
            .version()
            .args("!\"#$%&'", "()*+,-./", "01234567", "89:;<=>?")
            .body(b"")
            .args("@ABCDEFG", "XYZ[\\]^_", "`abcdefg", "xyz{|}~")
            .body(b"")
            .x25519(ident())
            .mac()
            .payload()
            .done()
        ),
        b"age",
    ),
    "stanza_empty_body": (lambda: std().args("empty").body(b"").mac().payload().done(), b"age"),
    "stanza_empty_last_line": (
        lambda: std().args("full").body(b"\x01" * 48).mac().payload().done(),
        b"age",
    ),
    "stream_empty_payload": (lambda: std().mac().nonce().chunk(b"", final=True).done(), b""),
    "stream_last_chunk_full": (lambda: std().mac().nonce().chunk(FULL, final=True).done(), FULL),
    "stream_two_chunks": (
        lambda: std().mac().nonce().chunk(FULL).chunk(b"two", final=True).done(),
        FULL + b"two",
    ),
    "stream_three_chunks": (
        lambda: std().mac().nonce().chunk(FULL).chunk(FULL).chunk(b"3", final=True).done(),
        FULL + FULL + b"3",
    ),
    # Header: version line and line endings.
    "version_unsupported": (
        lambda: AgeFile().version("v1234").x25519(ident()).mac().payload().done(),
        age.UnsupportedVersionError,
    ),
    "header_crlf": (
        lambda: AgeFile().line("age-encryption.org/v1\r").x25519(ident()).mac().payload().done(),
        age.HeaderError,
    ),
    "not_age": (lambda: b"hello world\n" + bytes(100), age.HeaderError),
    "empty_file": (lambda: b"", age.HeaderError),
    "no_stanzas": (lambda: AgeFile().version().mac().payload().done(), age.HeaderError),
    # Header MAC line.
    "hmac_bad": (
        lambda: std().line("--- " + b64(bytes(32))).payload().done(),
        age.HeaderMacError,
    ),
    "hmac_extra_space": (
        lambda: (f := std()).line("---  " + b64(f.mac_value())).payload().done(),
        age.HeaderError,
    ),
    "hmac_trailing_space": (
        lambda: (f := std()).line("--- " + b64(f.mac_value()) + " ").payload().done(),
        age.HeaderError,
    ),
    "hmac_no_space": (
        lambda: (f := std()).line("---" + b64(f.mac_value())).payload().done(),
        age.HeaderError,
    ),
    "hmac_truncated": (
        lambda: (f := std()).line("--- " + b64(f.mac_value())[:-1]).payload().done(),
        age.HeaderError,
    ),
    "hmac_garbage": (
        lambda: (f := std()).line("--- " + b64(f.mac_value()) + "AAAA").payload().done(),
        age.HeaderError,
    ),
    "hmac_not_canonical": (
        lambda: (f := std()).line("--- " + not_canonical(b64(f.mac_value()))).payload().done(),
        age.HeaderError,
    ),
    "hmac_missing": (lambda: std().payload().done(), age.HeaderError),
    # Stanza shapes.
    "stanza_bad_start": (
        lambda: std().line("-| stanza").body(b"").mac().payload().done(),
        age.HeaderError,
    ),
    "stanza_no_arguments": (
        lambda: std().line("->").body(b"").mac().payload().done(),
        age.HeaderError,
    ),
    "stanza_empty_argument": (
        lambda: std().line("-> stanza  arg").body(b"").mac().payload().done(),
        age.HeaderError,
    ),
    "stanza_invalid_character": (
        lambda: std().args("stanza", "\x7f").body(b"").mac().payload().done(),
        age.HeaderError,
    ),
    "stanza_non_ascii_argument": (
        lambda: std().args("stanza", "caf\u00e9").body(b"").mac().payload().done(),
        age.HeaderError,
    ),
    "stanza_base64_padding": (
        lambda: std().args("stanza").line(b64(b"\x00" * 10) + "==").mac().payload().done(),
        age.HeaderError,
    ),
    "stanza_not_canonical": (
        lambda: std().args("stanza").line(not_canonical(b64(b"\x00" * 10))).mac().payload().done(),
        age.HeaderError,
    ),
    "stanza_long_line": (
        lambda: std().args("stanza").line("A" * 68).line("").mac().payload().done(),
        age.HeaderError,
    ),
    "stanza_multiple_short_lines": (
        lambda: std().args("stanza").line("A" * 32).line("A" * 32).mac().payload().done(),
        age.HeaderError,
    ),
    "stanza_missing_body": (lambda: std().args("stanza").mac().payload().done(), age.HeaderError),
    "stanza_missing_final_line": (
        lambda: std().args("stanza").line("A" * 64).mac().payload().done(),
        age.HeaderError,
    ),
    "stanza_spurious_cr": (
        lambda: std().args("stanza").line(b64(b"\x00" * 10) + "\r").mac().payload().done(),
        age.HeaderError,
    ),
    "stanza_bad_base64_character": (
        lambda: std().args("stanza").line("AAA*").mac().payload().done(),
        age.HeaderError,
    ),
    # X25519 stanza shapes and outcomes.
    "x25519_extra_argument": (
        lambda: (
            AgeFile()
            .version()
            .x25519(ident(), share=(s := _share()), args=("X25519", b64(s), "extra"))
            .mac()
            .payload()
            .done()
        ),
        age.HeaderError,
    ),
    "x25519_missing_share": (
        lambda: AgeFile().version().x25519(ident(), args=("X25519",)).mac().payload().done(),
        age.HeaderError,
    ),
    "x25519_long_share": (
        lambda: (
            AgeFile()
            .version()
            .x25519(ident(), share=(s := _share()), args=("X25519", b64(s + b"\x00")))
            .mac()
            .payload()
            .done()
        ),
        age.HeaderError,
    ),
    "x25519_short_share": (
        lambda: (
            AgeFile()
            .version()
            .x25519(ident(), share=(s := _share()), args=("X25519", b64(s[:31])))
            .mac()
            .payload()
            .done()
        ),
        age.HeaderError,
    ),
    "x25519_not_canonical_share": (
        lambda: (
            AgeFile()
            .version()
            .x25519(ident(), share=(s := _share()), args=("X25519", not_canonical(b64(s))))
            .mac()
            .payload()
            .done()
        ),
        age.HeaderError,
    ),
    "x25519_not_canonical_body": (
        lambda: _edit_line(std().mac().payload().done(), 2, not_canonical),
        age.HeaderError,
    ),
    "x25519_long_file_key": (
        lambda: (
            AgeFile()
            .version()
            .x25519(ident(), file_key=TEST_FILE_KEY + b"\x00")
            .mac()
            .payload()
            .done()
        ),
        age.HeaderError,
    ),
    "x25519_bad_tag": (
        lambda: _edit_line(std().mac().payload().done(), 2, _flip_first_char),
        age.NoMatchingIdentityError,
    ),
    "x25519_no_match": (
        lambda: AgeFile().version().x25519(OTHER_SECRET).mac().payload().done(),
        age.NoMatchingIdentityError,
    ),
    "x25519_lowercase": (
        lambda: (
            AgeFile()
            .version()
            .x25519(ident(), share=(s := _share()), args=("x25519", b64(s)))
            .mac()
            .payload()
            .done()
        ),
        age.NoMatchingIdentityError,
    ),
    **{
        f"x25519_low_order_{name}": (low_order_file(point), age.LowOrderPointError)
        for name, point in LOW_ORDER_POINTS.items()
    },
    # Payload (STREAM).
    "stream_no_nonce": (lambda: std().mac().done(), age.TruncatedError),
    "stream_short_nonce": (lambda: std().mac().raw(b"N" * 10).done(), age.TruncatedError),
    "stream_no_chunks": (lambda: std().mac().nonce().done(), age.MissingFinalChunkError),
    "stream_no_final": (lambda: std().mac().nonce().chunk(b"age").done(), age.ChunkAuthError),
    "stream_no_final_full": (
        lambda: std().mac().nonce().chunk(FULL).done(),
        age.MissingFinalChunkError,
    ),
    "stream_no_final_two_chunks_full": (
        lambda: std().mac().nonce().chunk(FULL).chunk(FULL).done(),
        age.MissingFinalChunkError,
    ),
    "stream_last_chunk_empty": (
        lambda: std().mac().nonce().chunk(FULL).chunk(b"", final=True).done(),
        age.EmptyFinalChunkError,
    ),
    "stream_two_final_chunks": (
        lambda: std().mac().nonce().chunk(FULL, final=True).chunk(b"x", final=True).done(),
        age.DataAfterFinalChunkError,
    ),
    "stream_trailing_garbage_short": (
        lambda: std().mac().nonce().chunk(FULL, final=True).raw(b"\x00" * 5).done(),
        age.TrailingDataError,
    ),
    "stream_trailing_garbage_long": (
        lambda: std().mac().nonce().chunk(FULL, final=True).raw(b"\x00" * 100).done(),
        age.DataAfterFinalChunkError,
    ),
    "stream_trailing_garbage_after_short_final": (
        lambda: std().mac().payload().raw(b"\x00" * 5).done(),
        age.ChunkAuthError,
    ),
    "stream_bad_tag": (lambda: _flip_last(std().mac().payload().done()), age.ChunkAuthError),
    "stream_bad_tag_second_chunk": (
        lambda: _flip_last(std().mac().nonce().chunk(FULL).chunk(b"x", final=True).done()),
        age.ChunkAuthError,
    ),
    "stream_bad_first_chunk": (
        lambda: _flip_at(std().mac().nonce().chunk(FULL).chunk(b"x", final=True).done(), -100),
        age.ChunkAuthError,
    ),
    "stream_missing_tag": (
        lambda: std().mac().payload(b"").done()[:-6],
        age.TruncatedError,
    ),
    "stream_short_chunk": (lambda: std().mac().payload(b"hello").done()[:-1], age.ChunkAuthError),
    "stream_short_second_chunk": (
        lambda: std().mac().nonce().chunk(FULL).chunk(b"hello", final=True).done()[:-1],
        age.ChunkAuthError,
    ),
}


def _share() -> bytes:
    return X25519PrivateKey.generate().public_key().public_bytes_raw()


def _flip_first_char(text: str) -> str:
    return ("B" if text[0] == "A" else "A") + text[1:]


def _edit_line(data: bytes, index: int, edit: Callable[[str], str]) -> bytes:
    head, mac_sep, rest = data.partition(b"\n--- ")
    lines = head.split(b"\n")
    lines[index] = edit(lines[index].decode()).encode()
    return b"\n".join(lines) + mac_sep + rest


def _flip_at(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def _flip_last(data: bytes) -> bytes:
    return _flip_at(data, -1)


@cache
def built(name: str) -> bytes:
    return CASES[name][0]()


def identities() -> list[age.X25519Identity]:
    return [age.X25519Identity.from_str(TEST_IDENTITY)]


def read_all_seekable(data: bytes) -> bytes:
    return age.SeekableReader(io.BytesIO(data), identities=identities()).read()


GOOD = sorted(name for name, (_, want) in CASES.items() if isinstance(want, bytes))
BAD = sorted(name for name, (_, want) in CASES.items() if not isinstance(want, bytes))


@pytest.mark.parametrize("name", GOOD)
def test_valid_vector_decrypts(name: str) -> None:
    assert age.decrypt(built(name), identities()) == CASES[name][1]


@pytest.mark.parametrize("name", BAD)
def test_invalid_vector_raises_its_specific_error(name: str) -> None:
    expected = CASES[name][1]
    assert isinstance(expected, type)
    out = io.BytesIO()
    with pytest.raises(expected) as info:
        age.decrypt_stream(io.BytesIO(built(name)), out, identities())
    message = str(info.value)
    assert message
    assert "\n" not in message
    # Only whole chunks that authenticated before the damage can have been written.
    assert len(out.getvalue()) % age.CHUNK_SIZE == 0


@pytest.mark.parametrize("name", BAD)
def test_invalid_vector_is_refused_by_seekable_reader(name: str) -> None:
    with pytest.raises(age.AgeError):
        read_all_seekable(built(name))


@pytest.mark.parametrize("name", GOOD + BAD)
def test_reference_cli_agrees_with_vector(name: str, age_cli: Path, tmp_path: Path) -> None:
    key = tmp_path / "key.txt"
    key.write_text(TEST_IDENTITY + "\n")
    result = subprocess.run(
        [str(age_cli), "-d", "-i", str(key)], input=built(name), capture_output=True, check=False
    )
    want = CASES[name][1]
    if isinstance(want, bytes):
        assert result.returncode == 0, result.stderr
        assert hashlib.sha256(result.stdout).digest() == hashlib.sha256(want).digest()
    else:
        assert result.returncode != 0, f"age accepted {name}"


def test_test_identity_matches_its_raw_secret() -> None:
    assert age.X25519Identity(ident()).to_str() == TEST_IDENTITY


# --- Any damage to a small file is an AgeError, and decrypt_stream writes nothing. ---

SMALL_PLAINTEXT = b"a small secret message " * 8
LARGE_PLAINTEXT = bytes(range(256)) * 300  # two chunks


@cache
def small_file() -> bytes:
    return age.encrypt(SMALL_PLAINTEXT, [identities()[0].recipient])


@cache
def large_file() -> bytes:
    return age.encrypt(LARGE_PLAINTEXT, [identities()[0].recipient])


def _assert_refused_without_output(data: bytes) -> None:
    out = io.BytesIO()
    with pytest.raises(age.AgeError):
        age.decrypt_stream(io.BytesIO(data), out, identities())
    assert out.getvalue() == b""


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_flipping_any_bits_is_refused_without_output(data: st.DataObject) -> None:
    original = small_file()
    index = data.draw(st.integers(0, len(original) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    damaged = bytearray(original)
    damaged[index] ^= mask
    _assert_refused_without_output(bytes(damaged))


@settings(max_examples=200, deadline=None)
@given(length=st.integers(min_value=0))
def test_truncating_at_any_length_is_refused_without_output(length: int) -> None:
    original = small_file()
    _assert_refused_without_output(original[: length % len(original)])


@settings(max_examples=60, deadline=None)
@given(length=st.integers(min_value=0))
def test_truncating_a_two_chunk_file_is_refused(length: int) -> None:
    # Multi-chunk files: an AgeError always, but chunks authenticated before the damage may
    # already have been written, which is why the CLI writes to a temp file and renames.
    original = large_file()
    out = io.BytesIO()
    with pytest.raises(age.AgeError):
        age.decrypt_stream(io.BytesIO(original[: length % len(original)]), out, identities())
    assert LARGE_PLAINTEXT.startswith(out.getvalue())
    assert len(out.getvalue()) in (0, age.CHUNK_SIZE)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_flipping_bits_is_refused_by_seekable_reader(data: st.DataObject) -> None:
    original = large_file()
    index = data.draw(st.integers(0, len(original) - 1), label="index")
    damaged = bytearray(original)
    damaged[index] ^= data.draw(st.integers(1, 255), label="mask")
    with pytest.raises(age.AgeError):
        read_all_seekable(bytes(damaged))
