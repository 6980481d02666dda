"""The age v1 file format (c2sp.org/age) with X25519 recipients, on `cryptography`."""

from __future__ import annotations

import base64
import binascii
import hmac
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import bech32
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from content_packs.agestream import (
    CHUNK_SIZE,
    FILE_KEY_SIZE,
    AgeError,
    ChunkAuthError,
    DataAfterFinalChunkError,
    DuplicateFinalChunkError,
    EmptyFinalChunkError,
    MissingFinalChunkError,
    PayloadError,
    PayloadReader,
    TrailingDataError,
    TruncatedError,
    decrypt_payload,
    encrypt_payload,
)

__all__ = [
    "CHUNK_SIZE",
    "FILE_KEY_SIZE",
    "AgeError",
    "ChunkAuthError",
    "DataAfterFinalChunkError",
    "DuplicateFinalChunkError",
    "EmptyFinalChunkError",
    "Header",
    "HeaderError",
    "HeaderMacError",
    "KeyFormatError",
    "LowOrderPointError",
    "MissingFinalChunkError",
    "NoMatchingIdentityError",
    "PayloadError",
    "SeekableReader",
    "Stanza",
    "TrailingDataError",
    "TruncatedError",
    "UnsupportedVersionError",
    "X25519Identity",
    "X25519Recipient",
    "decrypt",
    "decrypt_stream",
    "encrypt",
    "encrypt_stream",
    "parse_identity_file",
    "read_header",
    "unwrap_file_key",
    "verify_header_mac",
    "wrap_header",
]

VERSION_LINE = b"age-encryption.org/v1\n"
_VERSION_PREFIX = b"age-encryption.org/"
_STANZA_PREFIX = b"-> "
_MAC_PREFIX = b"---"
_COLUMNS = 64
_X25519_INFO = b"age-encryption.org/v1/X25519"
_SECRET_HRP = "AGE-SECRET-KEY-"
_PUBLIC_HRP = "age"
_B64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_VCHAR = frozenset(range(0x21, 0x7F))
# Every X25519 stanza costs a scalar multiplication per identity before the MAC can be
# checked, so an unauthenticated header must not be allowed to be arbitrarily long.
MAX_STANZAS = 1024
MAX_LINE = 4096


class KeyFormatError(AgeError):
    """An identity or recipient string is not a valid Bech32 age X25519 key."""


class HeaderError(AgeError):
    """The header is malformed: version line, stanza shape, base64 or line lengths."""


class UnsupportedVersionError(HeaderError):
    """The file is an age file of a version other than v1."""


class HeaderMacError(AgeError):
    """The header MAC does not match: the header was altered or the file key is wrong."""


class NoMatchingIdentityError(AgeError):
    """None of the given identities can unwrap any recipient stanza."""


class LowOrderPointError(AgeError):
    """An X25519 stanza's ephemeral share is a low-order point (all-zero shared secret)."""


def _b64encode(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _b64decode(text: bytes, what: str) -> bytes:
    """Decode unpadded base64, rejecting padding and non-canonical trailing bits."""
    if not _B64_ALPHABET.issuperset(text) or len(text) % 4 == 1:
        raise HeaderError(f"{what} is not valid unpadded base64")
    try:
        data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise HeaderError(f"{what} is not valid unpadded base64") from None
    if _b64encode(data) != text:
        raise HeaderError(f"{what} is non-canonical base64 (non-zero trailing bits)")
    return data


def _hkdf(ikm: bytes, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def _bech32_decode(text: str, hrp: str, what: str) -> bytes:
    # The reference decoder lowercases, so case is checked here: secret keys are written
    # upper case and recipients lower case, never mixed.
    expected_case = text.upper() if hrp.isupper() else text.lower()
    if text != expected_case:
        raise KeyFormatError(f"{what} must be all {'upper' if hrp.isupper() else 'lower'} case")
    found_hrp, words = bech32.bech32_decode(text)
    if found_hrp is None or words is None:
        raise KeyFormatError(f"{what} is not valid Bech32 (bad checksum or characters)")
    if found_hrp != hrp.lower():
        raise KeyFormatError(f"{what} has prefix {found_hrp!r}, expected {hrp.lower()!r}")
    data = bech32.convertbits(words, 5, 8, False)
    if data is None or len(data) != 32:
        raise KeyFormatError(f"{what} does not encode a 32-byte key")
    return bytes(data)


def _bech32_encode(hrp: str, data: bytes) -> str:
    words = bech32.convertbits(data, 8, 5, True)
    assert words is not None  # with padding allowed, 8-to-5 bit conversion cannot fail
    encoded: str = bech32.bech32_encode(hrp.lower(), words)
    return encoded.upper() if hrp.isupper() else encoded


@dataclass(frozen=True)
class X25519Recipient:
    """A public key files are encrypted to, written `age1...`."""

    public_bytes: bytes

    def __post_init__(self) -> None:
        if len(self.public_bytes) != 32:
            raise KeyFormatError("X25519 recipient must be 32 bytes")

    @classmethod
    def from_str(cls, text: str) -> X25519Recipient:
        return cls(_bech32_decode(text.strip(), _PUBLIC_HRP, "recipient"))

    def to_str(self) -> str:
        return _bech32_encode(_PUBLIC_HRP, self.public_bytes)

    def __str__(self) -> str:
        return self.to_str()

    def wrap(self, file_key: bytes) -> Stanza:
        """A fresh X25519 stanza carrying `file_key` to this recipient."""
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        secret = ephemeral.exchange(X25519PublicKey.from_public_bytes(self.public_bytes))
        wrap_key = _hkdf(secret, share + self.public_bytes, _X25519_INFO)
        body = ChaCha20Poly1305(wrap_key).encrypt(bytes(12), file_key, None)
        return Stanza((b"X25519", _b64encode(share)), body)


class X25519Identity:
    """A secret key that opens files, written `AGE-SECRET-KEY-1...`."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise KeyFormatError("X25519 identity must be 32 bytes")
        self._secret = secret
        self._key = X25519PrivateKey.from_private_bytes(secret)
        self.recipient = X25519Recipient(self._key.public_key().public_bytes_raw())

    @classmethod
    def generate(cls) -> X25519Identity:
        return cls(os.urandom(32))

    @classmethod
    def from_str(cls, text: str) -> X25519Identity:
        return cls(_bech32_decode(text.strip(), _SECRET_HRP, "identity"))

    def to_str(self) -> str:
        return _bech32_encode(_SECRET_HRP, self._secret)

    def __str__(self) -> str:
        return self.to_str()

    def __repr__(self) -> str:
        # Never put the secret in logs or tracebacks.
        return f"X25519Identity(recipient={self.recipient.to_str()!r})"

    def unwrap(self, stanza: Stanza) -> bytes | None:
        """The file key if `stanza` is addressed to this identity, else None."""
        share = _x25519_share(stanza)
        try:
            secret = self._key.exchange(X25519PublicKey.from_public_bytes(share))
        except ValueError:
            # cryptography refuses to return the all-zero secret of a low-order point.
            raise LowOrderPointError("X25519 stanza uses a low-order ephemeral share") from None
        if not any(secret):
            raise LowOrderPointError("X25519 stanza uses a low-order ephemeral share")
        wrap_key = _hkdf(secret, share + self.recipient.public_bytes, _X25519_INFO)
        try:
            return ChaCha20Poly1305(wrap_key).decrypt(bytes(12), stanza.body, None)
        except InvalidTag:
            return None


def _x25519_share(stanza: Stanza) -> bytes:
    if len(stanza.args) != 2:
        raise HeaderError(f"X25519 stanza has {len(stanza.args) - 1} arguments, expected 1")
    share = _b64decode(stanza.args[1], "X25519 ephemeral share")
    if len(share) != 32:
        raise HeaderError(f"X25519 ephemeral share is {len(share)} bytes, expected 32")
    # Checked before any decryption to avoid a partitioning oracle (spec requirement).
    if len(stanza.body) != FILE_KEY_SIZE + 16:
        raise HeaderError(f"X25519 stanza body is {len(stanza.body)} bytes, expected 32")
    return share


def parse_identity_file(text: str) -> list[X25519Identity]:
    """Identities from `age-keygen` output: one key a line, `#` comments, blank lines."""
    identities = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(X25519Identity.from_str(line))
        except KeyFormatError as exc:
            raise KeyFormatError(f"identity file line {number}: {exc}") from None
    if not identities:
        raise KeyFormatError("identity file holds no identities")
    return identities


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: its arguments (type first) and its decoded body."""

    args: tuple[bytes, ...]
    body: bytes

    @property
    def type(self) -> bytes:
        return self.args[0]

    def encode(self) -> bytes:
        text = _b64encode(self.body)
        # Full 64-column lines, then always a shorter (possibly empty) closing line.
        full = len(text) - len(text) % _COLUMNS
        lines = [text[i : i + _COLUMNS] for i in range(0, full, _COLUMNS)]
        lines.append(text[full:])
        return _STANZA_PREFIX + b" ".join(self.args) + b"\n" + b"\n".join(lines) + b"\n"


@dataclass(frozen=True)
class Header:
    """A parsed header: its stanzas, MAC, exact bytes, and where the payload starts."""

    stanzas: tuple[Stanza, ...]
    mac: bytes
    raw: bytes
    payload_offset: int

    @property
    def mac_input(self) -> bytes:
        """The bytes the MAC covers: the header up to and including `---`."""
        return self.raw[: self.raw.rindex(b"\n---") + 4]


def _read_line(f: BinaryIO) -> bytes:
    line = f.readline(MAX_LINE + 1)
    if not line.endswith(b"\n"):
        if len(line) > MAX_LINE:
            raise HeaderError(f"header line longer than {MAX_LINE} bytes")
        raise HeaderError("header is truncated (end of file before the MAC line)")
    return line


def _parse_args(line: bytes) -> tuple[bytes, ...]:
    args = tuple(line[len(_STANZA_PREFIX) : -1].split(b" "))
    for arg in args:
        if not arg:
            raise HeaderError("stanza has an empty argument (extra or missing space)")
        if not _VCHAR.issuperset(arg):
            raise HeaderError("stanza argument has a character outside printable ASCII")
    return args


def read_header(f: BinaryIO) -> Header:
    """Parse the header at the current position of `f`, leaving `f` at the payload."""
    try:
        start = f.tell()
    except OSError:
        # A pipe has no position; offsets are then relative to where reading began.
        start = 0
    lines = [_read_line(f)]
    if lines[0] != VERSION_LINE:
        if lines[0].startswith(_VERSION_PREFIX):
            raise UnsupportedVersionError(
                f"unsupported age version line {lines[0][:-1]!r}, expected v1"
            )
        raise HeaderError("not an age file: missing 'age-encryption.org/v1' version line")
    stanzas: list[Stanza] = []
    while True:
        line = _read_line(f)
        lines.append(line)
        if line.startswith(_MAC_PREFIX):
            break
        if not line.startswith(_STANZA_PREFIX):
            raise HeaderError(f"header line {len(lines)} starts with neither '-> ' nor '---'")
        if len(stanzas) >= MAX_STANZAS:
            raise HeaderError(f"header has more than {MAX_STANZAS} stanzas")
        args = _parse_args(line)
        body_lines = []
        while True:
            body_line = _read_line(f)
            lines.append(body_line)
            text = body_line[:-1]
            if len(text) > _COLUMNS:
                raise HeaderError(f"stanza body line is {len(text)} columns, maximum 64")
            body_lines.append(text)
            if len(text) < _COLUMNS:
                break
        stanzas.append(Stanza(args, _b64decode(b"".join(body_lines), "stanza body")))
    if not stanzas:
        raise HeaderError("header has no recipient stanzas")
    if not line.startswith(b"--- ") or len(line) != 4 + 43 + 1:
        raise HeaderError("MAC line must be '--- ' followed by 43 base64 characters")
    mac = _b64decode(line[4:-1], "header MAC")
    raw = b"".join(lines)
    return Header(tuple(stanzas), mac, raw, start + len(raw))


def _header_mac(file_key: bytes, mac_input: bytes) -> bytes:
    return hmac.digest(_hkdf(file_key, None, b"header"), mac_input, "sha256")


def verify_header_mac(header: Header, file_key: bytes) -> None:
    """Raise HeaderMacError unless the header MAC is valid under `file_key`."""
    if not hmac.compare_digest(_header_mac(file_key, header.mac_input), header.mac):
        raise HeaderMacError("header MAC does not match (header altered or wrong file key)")


def unwrap_file_key(header: Header, identities: Iterable[X25519Identity]) -> bytes:
    """The file key from the first stanza an identity opens, after checking the MAC.

    Stanzas of unknown types are ignored; malformed X25519 stanzas are errors.
    """
    identities = list(identities)
    if not identities:
        raise NoMatchingIdentityError("no identities given to decrypt with")
    x25519 = [s for s in header.stanzas if s.type == b"X25519"]
    for stanza in x25519:
        _x25519_share(stanza)
    for stanza in x25519:
        for identity in identities:
            file_key = identity.unwrap(stanza)
            if file_key is not None:
                verify_header_mac(header, file_key)
                return file_key
    raise NoMatchingIdentityError(
        f"none of {len(identities)} identities matches the file's {len(header.stanzas)} stanzas"
    )


def wrap_header(file_key: bytes, recipients: Sequence[X25519Recipient]) -> bytes:
    """A complete header (with MAC) giving `file_key` to `recipients`.

    Any payload encrypted under `file_key` may follow it: this is how one payload is
    re-addressed to another device without re-encrypting it.
    """
    if len(file_key) != FILE_KEY_SIZE:
        raise AgeError(f"file key must be {FILE_KEY_SIZE} bytes, got {len(file_key)}")
    if not recipients:
        raise AgeError("at least one recipient is required")
    head = VERSION_LINE + b"".join(r.wrap(file_key).encode() for r in recipients) + _MAC_PREFIX
    return head + b" " + _b64encode(_header_mac(file_key, head)) + b"\n"


def encrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    recipients: Sequence[X25519Recipient],
    *,
    file_key: bytes | None = None,
) -> bytes:
    """Encrypt `src` to `dst` for `recipients`; returns the file key.

    Pass `file_key` only to keep a key generated elsewhere (e.g. by the server's escrow);
    the spec forbids reusing one file key for two files.
    """
    key = os.urandom(FILE_KEY_SIZE) if file_key is None else file_key
    dst.write(wrap_header(key, recipients))
    encrypt_payload(src, dst, key)
    return key


def decrypt_stream(src: BinaryIO, dst: BinaryIO, identities: Iterable[X25519Identity]) -> None:
    """Decrypt `src` into `dst`, writing each chunk only once it is authenticated.

    A later chunk can still fail after earlier ones were written, so a caller writing a
    file must write to a temporary file and rename it only after this returns.
    """
    file_key = unwrap_file_key(read_header(src), identities)
    decrypt_payload(src, dst, file_key)


def encrypt(plaintext: bytes, recipients: Sequence[X25519Recipient]) -> bytes:
    """The age file encrypting `plaintext` for `recipients`."""
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(plaintext), out, recipients)
    return out.getvalue()


def decrypt(data: bytes, identities: Iterable[X25519Identity]) -> bytes:
    """The plaintext of the age file `data`."""
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(data), out, identities)
    return out.getvalue()


class SeekableReader(PayloadReader):
    """Random, read-only access to an age file's plaintext; see `PayloadReader`.

    Open with `identities=` to unwrap the file key from the header, or `file_key=` when
    it is already known (the header MAC is still checked against it).
    """

    def __init__(
        self,
        f: BinaryIO,
        identities: Iterable[X25519Identity] | None = None,
        *,
        file_key: bytes | None = None,
    ) -> None:
        header = read_header(f)
        if file_key is not None:
            verify_header_mac(header, file_key)
        elif identities is not None:
            file_key = unwrap_file_key(header, identities)
        else:
            raise TypeError("SeekableReader needs identities or file_key")
        super().__init__(f, file_key, header.payload_offset)
        self.header = header

    @classmethod
    def open_file_key(cls, f: BinaryIO, file_key: bytes) -> SeekableReader:
        """A reader for a file whose key is already known (e.g. held by a pack index)."""
        return cls(f, file_key=file_key)
