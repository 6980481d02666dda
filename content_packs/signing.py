"""Minisign-compatible Ed25519 keys and signatures, written on `cryptography`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

__all__ = [
    "SCRYPT_INTERACTIVE",
    "SCRYPT_SENSITIVE",
    "BadSignatureError",
    "BadTrustedCommentError",
    "KeyFormatError",
    "KeyIdMismatchError",
    "PasswordError",
    "PublicKey",
    "ScryptLimits",
    "SecretKey",
    "Signature",
    "SignatureError",
    "SignatureFormatError",
    "write_secret_key",
]

# Layout constants from minisign's minisign.h (structs are packed byte arrays).
_SIG_ALG_PURE = b"Ed"
_SIG_ALG_HASHED = b"ED"
_KDF_SCRYPT = b"Sc"
_KDF_NONE = b"\x00\x00"
_CHK_BLAKE2B = b"B2"
_KEY_ID_LEN = 8
_PK_LEN = 32
_SK_LEN = 64  # libsodium layout: 32-byte seed followed by the public key
_SIG_LEN = 64
_SALT_LEN = 32
_CHK_LEN = 32
_PUBLIC_KEY_LEN = 2 + _KEY_ID_LEN + _PK_LEN
_SIGNATURE_LEN = 2 + _KEY_ID_LEN + _SIG_LEN
_KEYNUM_SK_LEN = _KEY_ID_LEN + _SK_LEN + _CHK_LEN
_SECRET_KEY_LEN = 2 + 2 + 2 + _SALT_LEN + 8 + 8 + _KEYNUM_SK_LEN

_COMMENT_PREFIX = "untrusted comment: "
_TRUSTED_PREFIX = "trusted comment: "
_DEFAULT_SIG_COMMENT = "signature from minisign secret key"
# minisign reads comment lines with fgets into fixed buffers (COMMENTMAXBYTES,
# TRUSTEDCOMMENTMAXBYTES); a longer line would be split and break its parser.
_MAX_UNTRUSTED_COMMENT = 1024 - len(_COMMENT_PREFIX) - 1
_MAX_TRUSTED_COMMENT = 8192 - len(_TRUSTED_PREFIX) - 1
_PASSWORD_MAX_BYTES = 1023

# scrypt memory the loader agrees to spend on a key file it did not write; a
# hostile file could otherwise ask for terabytes.
_MAX_SCRYPT_MEMORY = 2 << 30
_MAX_SCRYPT_WORK = 4 << 30  # memory x p: four times minisign's own setting
_STREAM_CHUNK = 1 << 20


class SignatureError(Exception):
    """A key or signature could not be read, or a signature did not verify."""


class KeyFormatError(SignatureError):
    """A key file or string is malformed, unsupported or cannot be decrypted."""


class PasswordError(KeyFormatError):
    """An encrypted secret key needs a password, or the password is wrong."""


class KeyIdMismatchError(SignatureError):
    """The signature was made by a different key than the one given."""


class BadSignatureError(SignatureError):
    """The signature does not verify over the data."""


class BadTrustedCommentError(SignatureError):
    """The global signature over the trusted comment does not verify."""


class SignatureFormatError(SignatureError):
    """The .minisig text is malformed."""


@dataclass(frozen=True)
class ScryptLimits:
    """libsodium scryptsalsa208sha256 opslimit/memlimit, as stored in minisign key files."""

    opslimit: int
    memlimit: int


# libsodium's crypto_pwhash_scryptsalsa208sha256_{OPS,MEM}LIMIT_* constants.
SCRYPT_SENSITIVE = ScryptLimits(opslimit=33554432, memlimit=1073741824)
SCRYPT_INTERACTIVE = ScryptLimits(opslimit=524288, memlimit=16777216)


def _scrypt_params(limits: ScryptLimits) -> tuple[int, int, int]:
    """Turn opslimit/memlimit into (N, r, p) the way libsodium's pickparams does."""
    opslimit = max(limits.opslimit, 32768)
    r = 8
    memory_bound = opslimit >= limits.memlimit // 32
    max_n = limits.memlimit // (r * 128) if memory_bound else opslimit // (r * 4)
    n_log2 = 1
    while n_log2 < 63 and (1 << n_log2) <= max_n // 2:
        n_log2 += 1
    p = 1
    if memory_bound:
        p = min((opslimit // 4) // (1 << n_log2), 0x3FFFFFFF) // r
    return 1 << n_log2, r, p


def _scrypt_stream(password: str, salt: bytes, limits: ScryptLimits) -> bytes:
    n, r, p = _scrypt_params(limits)
    if p < 1 or 128 * r * n > _MAX_SCRYPT_MEMORY or 128 * r * n * p > _MAX_SCRYPT_WORK:
        raise KeyFormatError(f"unsupported scrypt parameters in secret key (N={n}, r={r}, p={p})")
    kdf = Scrypt(salt=salt, length=_KEYNUM_SK_LEN, n=n, r=r, p=p)
    try:
        return kdf.derive(_password_bytes(password))
    except MemoryError as exc:
        raise KeyFormatError("not enough memory to derive the secret key's password key") from exc


def _password_bytes(password: str) -> bytes:
    encoded = password.encode("utf-8")
    # minisign reads the password as one NUL-terminated line: anything else
    # could never be typed into it.
    if any(c in password for c in "\0\r\n") or len(encoded) > _PASSWORD_MAX_BYTES:
        raise PasswordError("password must be one line of at most 1023 bytes without NUL")
    return encoded


def _b64decode(text: str, expected_len: int, what: str, error: type[SignatureError]) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error(f"{what} is not valid base64") from exc
    # libsodium rejects non-zero padding bits; Python ignores them. Requiring the
    # canonical encoding keeps exactly one text per value, like the CLI.
    if base64.b64encode(raw).decode("ascii") != text:
        raise error(f"{what} is not canonical base64")
    if len(raw) != expected_len:
        raise error(f"{what} is {len(raw)} bytes, expected {expected_len}")
    return raw


def _check_comment(comment: str, limit: int, what: str) -> str:
    if "\n" in comment or "\r" in comment:
        raise ValueError(f"{what} must be a single line")
    if len(comment.encode("utf-8")) > limit:
        raise ValueError(f"{what} is longer than {limit} bytes")
    return comment


def _key_lines(text: str, what: str) -> tuple[str | None, str]:
    """Split a key file into (untrusted comment, base64 line); a bare base64 line is allowed."""
    lines = [line.rstrip("\r") for line in text.strip("\r\n").split("\n")]
    if len(lines) == 1:
        return None, lines[0].strip()
    if len(lines) != 2:
        raise KeyFormatError(f"{what} must be one comment line and one base64 line")
    if not lines[0].startswith(_COMMENT_PREFIX):
        raise KeyFormatError(f"{what} must start with {_COMMENT_PREFIX.strip()!r}")
    return lines[0][len(_COMMENT_PREFIX) :], lines[1]


def _key_id_hex(key_id: bytes) -> str:
    # minisign prints the key number as a little-endian 64-bit integer, in upper-case hex
    # without leading zeros (printf's %PRIX64), so one key in sixteen shows 15 digits.
    return f"{int.from_bytes(key_id, 'little'):X}"


def _read_file_text(path: str | os.PathLike[str], error: type[SignatureError], what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {os.fspath(path)} is not UTF-8 text") from exc


def _blake2b_512(chunks: Iterable[bytes]) -> bytes:
    digest = hashlib.blake2b(digest_size=64)
    for chunk in chunks:
        digest.update(chunk)
    return digest.digest()


def _read_chunks(source: BinaryIO) -> Iterable[bytes]:
    while chunk := source.read(_STREAM_CHUNK):
        yield chunk


def _hash_source(source: str | os.PathLike[str] | BinaryIO) -> bytes:
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            return _blake2b_512(_read_chunks(handle))
    return _blake2b_512(_read_chunks(source))


@dataclass(frozen=True)
class Signature:
    """A parsed .minisig file: the data signature plus the signed trusted comment."""

    algorithm: bytes
    key_id: bytes
    signature: bytes
    trusted_comment: str
    global_signature: bytes
    untrusted_comment: str

    @property
    def prehashed(self) -> bool:
        return self.algorithm == _SIG_ALG_HASHED

    @property
    def key_id_hex(self) -> str:
        return _key_id_hex(self.key_id)

    @classmethod
    def from_str(cls, text: str | bytes) -> Signature:
        """Parse .minisig text (four lines); raise SignatureFormatError on anything else."""
        try:
            # Round-trip through UTF-8 so the trusted comment always has exact bytes.
            text = text.decode("utf-8") if isinstance(text, bytes) else text.encode().decode()
        except UnicodeError as exc:
            raise SignatureFormatError("signature is not UTF-8 text") from exc
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        # Tolerate CRLF line ends from files that went through a Windows editor.
        lines = [line.removesuffix("\r") for line in lines]
        if len(lines) != 4:
            raise SignatureFormatError(f"signature must have 4 lines, found {len(lines)}")
        untrusted, sig_b64, trusted, global_b64 = lines
        if not untrusted.startswith(_COMMENT_PREFIX):
            raise SignatureFormatError(f"signature line 1 must start with {_COMMENT_PREFIX!r}")
        if not trusted.startswith(_TRUSTED_PREFIX):
            raise SignatureFormatError(f"signature line 3 must start with {_TRUSTED_PREFIX!r}")
        trusted_comment = trusted[len(_TRUSTED_PREFIX) :]
        if "\r" in trusted_comment:
            raise SignatureFormatError("trusted comment contains a carriage return")
        sig = _b64decode(sig_b64, _SIGNATURE_LEN, "signature", SignatureFormatError)
        algorithm = sig[:2]
        if algorithm not in (_SIG_ALG_PURE, _SIG_ALG_HASHED):
            raise SignatureFormatError(f"unsupported signature algorithm {algorithm!r}")
        global_sig = _b64decode(global_b64, _SIG_LEN, "global signature", SignatureFormatError)
        return cls(
            algorithm=algorithm,
            key_id=sig[2 : 2 + _KEY_ID_LEN],
            signature=sig[2 + _KEY_ID_LEN :],
            trusted_comment=trusted_comment,
            global_signature=global_sig,
            untrusted_comment=untrusted[len(_COMMENT_PREFIX) :],
        )

    def to_str(self) -> str:
        sig = base64.b64encode(self.algorithm + self.key_id + self.signature).decode("ascii")
        global_sig = base64.b64encode(self.global_signature).decode("ascii")
        return (
            f"{_COMMENT_PREFIX}{self.untrusted_comment}\n{sig}\n"
            f"{_TRUSTED_PREFIX}{self.trusted_comment}\n{global_sig}\n"
        )


@dataclass(frozen=True)
class PublicKey:
    """A minisign public key: an 8-byte key id and a 32-byte Ed25519 public key."""

    key_id: bytes
    raw: bytes
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.key_id) != _KEY_ID_LEN or len(self.raw) != _PK_LEN:
            raise KeyFormatError("public key needs an 8-byte key id and 32 key bytes")
        try:
            key = Ed25519PublicKey.from_public_bytes(self.raw)
        except ValueError as exc:
            raise KeyFormatError("public key bytes are not an Ed25519 key") from exc
        object.__setattr__(self, "_key", key)

    @property
    def key_id_hex(self) -> str:
        """The key id as minisign prints it (upper-case hex of a little-endian integer)."""
        return _key_id_hex(self.key_id)

    @classmethod
    def from_str(cls, text: str) -> PublicKey:
        """Read the two-line .pub file contents or the bare base64 line `minisign -P` takes."""
        _, b64 = _key_lines(text, "public key")
        raw = _b64decode(b64, _PUBLIC_KEY_LEN, "public key", KeyFormatError)
        if raw[:2] != _SIG_ALG_PURE:
            raise KeyFormatError(f"unsupported public key algorithm {raw[:2]!r}")
        return cls(key_id=raw[2 : 2 + _KEY_ID_LEN], raw=raw[2 + _KEY_ID_LEN :])

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PublicKey:
        return cls.from_str(_read_file_text(path, KeyFormatError, "public key file"))

    def to_base64(self) -> str:
        return base64.b64encode(_SIG_ALG_PURE + self.key_id + self.raw).decode("ascii")

    def to_str(self, untrusted_comment: str | None = None) -> str:
        """The two-line .pub file, as `minisign -G` writes it."""
        comment = untrusted_comment or f"minisign public key {self.key_id_hex}"
        _check_comment(comment, _MAX_UNTRUSTED_COMMENT, "untrusted comment")
        return f"{_COMMENT_PREFIX}{comment}\n{self.to_base64()}\n"

    def verify(self, data: bytes, signature_text: str | bytes) -> str:
        """Check .minisig text over `data` (`Ed` or prehashed `ED`); return the trusted comment."""
        sig = Signature.from_str(signature_text)
        self._check_key_id(sig)
        message = _blake2b_512([data]) if sig.prehashed else data
        return self._verify_parsed(sig, message)

    def verify_file(
        self, source: str | os.PathLike[str] | BinaryIO, signature_text: str | bytes
    ) -> str:
        """Like `verify`, streaming the data from a path or binary file (prehashed `ED` only)."""
        sig = Signature.from_str(signature_text)
        if not sig.prehashed:
            raise SignatureFormatError(
                "legacy (non-prehashed) signature cannot be checked by streaming; use verify()"
            )
        self._check_key_id(sig)
        return self._verify_parsed(sig, _hash_source(source))

    def _check_key_id(self, sig: Signature) -> None:
        if sig.key_id != self.key_id:
            raise KeyIdMismatchError(
                f"signature was made by key {sig.key_id_hex}, not by key {self.key_id_hex}"
            )

    def _verify_parsed(self, sig: Signature, message: bytes) -> str:
        try:
            self._key.verify(sig.signature, message)
        except InvalidSignature:
            raise BadSignatureError("signature does not match the data") from None
        try:
            self._key.verify(
                sig.global_signature, sig.signature + sig.trusted_comment.encode("utf-8")
            )
        except InvalidSignature:
            raise BadTrustedCommentError("trusted comment signature does not verify") from None
        return sig.trusted_comment


class SecretKey:
    """A minisign secret key (Ed25519); its repr and errors never show key material."""

    __slots__ = ("_private", "_public")

    def __init__(self, key_id: bytes, private: Ed25519PrivateKey) -> None:
        if len(key_id) != _KEY_ID_LEN:
            raise KeyFormatError("secret key id must be 8 bytes")
        self._private = private
        raw_public = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._public = PublicKey(key_id=key_id, raw=raw_public)

    def __repr__(self) -> str:
        return f"SecretKey(key_id={self.key_id_hex})"

    @classmethod
    def generate(cls) -> SecretKey:
        return cls(secrets.token_bytes(_KEY_ID_LEN), Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> PublicKey:
        return self._public

    @property
    def key_id(self) -> bytes:
        return self._public.key_id

    @property
    def key_id_hex(self) -> str:
        return self._public.key_id_hex

    @classmethod
    def from_str(cls, text: str, password: str | None = None) -> SecretKey:
        """Read a minisign secret key file; `password` is needed only for encrypted keys."""
        _, b64 = _key_lines(text, "secret key")
        raw = _b64decode(b64, _SECRET_KEY_LEN, "secret key", KeyFormatError)
        sig_alg, kdf_alg, chk_alg = raw[0:2], raw[2:4], raw[4:6]
        salt = raw[6:38]
        limits = ScryptLimits(
            opslimit=int.from_bytes(raw[38:46], "little"),
            memlimit=int.from_bytes(raw[46:54], "little"),
        )
        keynum_sk = raw[54:]
        if sig_alg != _SIG_ALG_PURE:
            raise KeyFormatError(f"unsupported secret key algorithm {sig_alg!r}")
        if chk_alg != _CHK_BLAKE2B:
            raise KeyFormatError(f"unsupported secret key checksum {chk_alg!r}")
        if kdf_alg == _KDF_SCRYPT:
            if password is None:
                raise PasswordError("secret key is encrypted; a password is needed")
            stream = _scrypt_stream(password, salt, limits)
            keynum_sk = bytes(a ^ b for a, b in zip(keynum_sk, stream, strict=True))
        elif kdf_alg != _KDF_NONE:
            raise KeyFormatError(f"unsupported secret key derivation {kdf_alg!r}")
        key_id = keynum_sk[:_KEY_ID_LEN]
        sk = keynum_sk[_KEY_ID_LEN : _KEY_ID_LEN + _SK_LEN]
        stored_chk = keynum_sk[_KEY_ID_LEN + _SK_LEN :]
        chk_ok = hmac.compare_digest(stored_chk, _checksum(key_id, sk))
        if kdf_alg == _KDF_SCRYPT and not chk_ok:
            raise PasswordError("wrong password for this secret key")
        # `minisign -G -W` leaves the checksum zeroed; `-C -W` keeps a real one.
        if kdf_alg == _KDF_NONE and not chk_ok and any(stored_chk):
            raise KeyFormatError("secret key checksum does not match")
        private = Ed25519PrivateKey.from_private_bytes(sk[:32])
        key = cls(key_id, private)
        # The public half is stored too; a mismatch means a corrupted file.
        if not hmac.compare_digest(key.public_key.raw, sk[32:]):
            raise KeyFormatError("secret key is corrupted (public half does not match)")
        return key

    @classmethod
    def load(cls, path: str | os.PathLike[str], password: str | None = None) -> SecretKey:
        return cls.from_str(_read_file_text(path, KeyFormatError, "secret key file"), password)

    def _sk_bytes(self) -> bytes:
        seed = self._private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return seed + self._public.raw

    def to_str(
        self,
        password: str | None = None,
        *,
        untrusted_comment: str | None = None,
        limits: ScryptLimits = SCRYPT_SENSITIVE,
    ) -> str:
        """The secret key file: plain like `minisign -G -W`, or scrypt-encrypted like `-G`."""
        sk = self._sk_bytes()
        keynum_sk = self.key_id + sk + _checksum(self.key_id, sk)
        if password is None:
            # A real checksum (not minisign -W's zeros) still lets loaders spot corruption.
            header = _KDF_NONE + _CHK_BLAKE2B + bytes(_SALT_LEN + 16)
            comment = untrusted_comment or "minisign secret key"
        else:
            salt = secrets.token_bytes(_SALT_LEN)
            stream = _scrypt_stream(password, salt, limits)
            keynum_sk = bytes(a ^ b for a, b in zip(keynum_sk, stream, strict=True))
            header = (
                _KDF_SCRYPT
                + _CHK_BLAKE2B
                + salt
                + limits.opslimit.to_bytes(8, "little")
                + limits.memlimit.to_bytes(8, "little")
            )
            comment = untrusted_comment or "minisign encrypted secret key"
        _check_comment(comment, _MAX_UNTRUSTED_COMMENT, "untrusted comment")
        b64 = base64.b64encode(_SIG_ALG_PURE + header + keynum_sk).decode("ascii")
        return f"{_COMMENT_PREFIX}{comment}\n{b64}\n"

    def sign(
        self,
        data: bytes,
        *,
        trusted_comment: str | None = None,
        untrusted_comment: str | None = None,
        file_name: str | None = None,
    ) -> str:
        """A prehashed (`ED`) .minisig over `data`; the default trusted comment is minisign's."""
        return self._sign_digest(
            _blake2b_512([data]),
            trusted_comment=trusted_comment,
            untrusted_comment=untrusted_comment,
            file_name=file_name,
        )

    def sign_file(
        self,
        source: str | os.PathLike[str] | BinaryIO,
        *,
        trusted_comment: str | None = None,
        untrusted_comment: str | None = None,
        file_name: str | None = None,
    ) -> str:
        """Like `sign`, streaming from a path or binary file; a path names the default comment."""
        if file_name is None and isinstance(source, str | os.PathLike):
            file_name = Path(source).name
        return self._sign_digest(
            _hash_source(source),
            trusted_comment=trusted_comment,
            untrusted_comment=untrusted_comment,
            file_name=file_name,
        )

    def _sign_digest(
        self,
        digest: bytes,
        *,
        trusted_comment: str | None,
        untrusted_comment: str | None,
        file_name: str | None,
    ) -> str:
        if trusted_comment is None:
            trusted_comment = _default_trusted_comment(file_name)
        _check_comment(trusted_comment, _MAX_TRUSTED_COMMENT, "trusted comment")
        comment = _DEFAULT_SIG_COMMENT if untrusted_comment is None else untrusted_comment
        _check_comment(comment, _MAX_UNTRUSTED_COMMENT, "untrusted comment")
        sig = self._private.sign(digest)
        global_sig = self._private.sign(sig + trusted_comment.encode("utf-8"))
        return Signature(
            algorithm=_SIG_ALG_HASHED,
            key_id=self.key_id,
            signature=sig,
            trusted_comment=trusted_comment,
            global_signature=global_sig,
            untrusted_comment=comment,
        ).to_str()


def _checksum(key_id: bytes, sk: bytes) -> bytes:
    return hashlib.blake2b(_SIG_ALG_PURE + key_id + sk, digest_size=_CHK_LEN).digest()


def _default_trusted_comment(file_name: str | None) -> str:
    # Same shape as minisign 0.11+ for prehashed signatures.
    parts = [f"timestamp:{int(time.time())}"]
    if file_name is not None:
        parts.append(f"file:{os.path.basename(file_name)}")
    parts.append("hashed")
    return "\t".join(parts)


def write_secret_key(
    path: str | os.PathLike[str],
    key: SecretKey,
    password: str | None = None,
    *,
    limits: ScryptLimits = SCRYPT_SENSITIVE,
) -> None:
    """Write `key` to `path` with mode 0600, atomically (temporary file, then rename)."""
    target = Path(path)
    text = key.to_str(password, limits=limits)
    # mkstemp creates the file 0600, so the secret is never readable by others,
    # not even for the moment before the rename.
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
