"""The age v1 payload: STREAM chunk encryption, streaming decryption and a seekable reader."""

from __future__ import annotations

import io
import os
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "CHUNK_SIZE",
    "ENCRYPTED_CHUNK_SIZE",
    "FILE_KEY_SIZE",
    "NONCE_SIZE",
    "TAG_SIZE",
    "AgeError",
    "ChunkAuthError",
    "DataAfterFinalChunkError",
    "DuplicateFinalChunkError",
    "EmptyFinalChunkError",
    "MissingFinalChunkError",
    "PayloadError",
    "PayloadReader",
    "TrailingDataError",
    "TruncatedError",
    "decrypt_payload",
    "encrypt_payload",
    "payload_key",
]

FILE_KEY_SIZE = 16
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
NONCE_SIZE = 16

_LAST = b"\x01"
_NOT_LAST = b"\x00"


class AgeError(Exception):
    """An age file, key or header was malformed, tampered with, or not ours to open."""


class PayloadError(AgeError):
    """The encrypted payload after the header is damaged."""


class TruncatedError(PayloadError):
    """The payload ends before a complete, authenticated final chunk."""


class MissingFinalChunkError(TruncatedError):
    """The payload ends on a chunk boundary with no chunk marked final (cut at a boundary)."""


class EmptyFinalChunkError(PayloadError):
    """The final chunk is empty although earlier chunks exist, which the spec forbids."""


class DataAfterFinalChunkError(PayloadError):
    """A chunk marked final is followed by more data (e.g. two final chunks)."""


# The spec's wording for the commonest form of data after the final chunk.
DuplicateFinalChunkError = DataAfterFinalChunkError


class TrailingDataError(DataAfterFinalChunkError):
    """A few stray bytes, too short to be a chunk, follow the final chunk."""


class ChunkAuthError(PayloadError):
    """A chunk failed authentication: the file was tampered with, cut mid-chunk, or mis-keyed."""


def payload_key(file_key: bytes, nonce: bytes) -> bytes:
    """The STREAM key: HKDF-SHA-256(ikm=file key, salt=payload nonce, info="payload")."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce, info=b"payload").derive(file_key)


def _nonce(index: int, last: bytes) -> bytes:
    return index.to_bytes(11, "big") + last


def _read_full(src: BinaryIO, size: int) -> bytes:
    """Read `size` bytes, or fewer only at end of file (pipes may return short reads)."""
    data = src.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    have = len(data)
    while have < size:
        more = src.read(size - have)
        if not more:
            break
        parts.append(more)
        have += len(more)
    return b"".join(parts)


def encrypt_payload(src: BinaryIO, dst: BinaryIO, file_key: bytes) -> None:
    """Write the nonce and the STREAM-encrypted chunks of everything readable from `src`."""
    nonce = os.urandom(NONCE_SIZE)
    aead = ChaCha20Poly1305(payload_key(file_key, nonce))
    dst.write(nonce)
    # One chunk of look-ahead tells whether the current chunk is the final one.
    chunk = _read_full(src, CHUNK_SIZE)
    index = 0
    while True:
        following = _read_full(src, CHUNK_SIZE) if len(chunk) == CHUNK_SIZE else b""
        if not following:
            dst.write(aead.encrypt(_nonce(index, _LAST), chunk, None))
            return
        dst.write(aead.encrypt(_nonce(index, _NOT_LAST), chunk, None))
        chunk = following
        index += 1


def _open_final(aead: ChaCha20Poly1305, index: int, sealed: bytes) -> bytes:
    """Authenticate and decrypt the chunk that ends the file; it must carry the final flag."""
    if not sealed:
        raise MissingFinalChunkError(
            "payload has no chunks"
            if index == 0
            else f"payload ends after chunk {index - 1}, "
            "which is not marked final (truncated at a chunk boundary)"
        )
    if len(sealed) < TAG_SIZE:
        raise TruncatedError(f"chunk {index} is {len(sealed)} bytes, shorter than its tag")
    try:
        plain = aead.decrypt(_nonce(index, _LAST), sealed, None)
    except InvalidTag:
        if len(sealed) == ENCRYPTED_CHUNK_SIZE and _opens(aead, index, _NOT_LAST, sealed):
            raise MissingFinalChunkError(
                f"payload ends after chunk {index}, which is not marked final "
                "(truncated at a chunk boundary)"
            ) from None
        raise ChunkAuthError(
            f"final chunk {index} failed authentication (tampered, truncated or trailing data)"
        ) from None
    if not plain and index > 0:
        raise EmptyFinalChunkError(f"final chunk {index} is empty but is not the only chunk")
    return plain


def _open_middle(aead: ChaCha20Poly1305, index: int, sealed: bytes, following: int) -> bytes:
    """Authenticate and decrypt a full chunk that `following` more bytes come after."""
    try:
        return aead.decrypt(_nonce(index, _NOT_LAST), sealed, None)
    except InvalidTag:
        # Only on the failure path: say *why*, since a final chunk here means extra data.
        if _opens(aead, index, _LAST, sealed):
            if following <= TAG_SIZE:
                raise TrailingDataError(
                    f"{following} stray bytes follow final chunk {index}"
                ) from None
            raise DataAfterFinalChunkError(
                f"data follows chunk {index}, which is marked final"
            ) from None
        raise ChunkAuthError(f"chunk {index} failed authentication (tampered)") from None


def _opens(aead: ChaCha20Poly1305, index: int, flag: bytes, sealed: bytes) -> bool:
    try:
        aead.decrypt(_nonce(index, flag), sealed, None)
    except InvalidTag:
        return False
    return True


def decrypt_payload(src: BinaryIO, dst: BinaryIO, file_key: bytes) -> None:
    """Decrypt the payload read from `src` (positioned at its nonce) into `dst`.

    A chunk is written only after it has been authenticated, and the last chunk is held
    back until end of file is seen, so a single-chunk file that fails writes nothing.
    Longer files can still fail after earlier chunks were written: callers that write to
    a path must write to a temporary file and rename it only when this returns.
    """
    nonce = _read_full(src, NONCE_SIZE)
    if len(nonce) < NONCE_SIZE:
        raise TruncatedError(f"payload nonce is {len(nonce)} bytes, expected {NONCE_SIZE}")
    aead = ChaCha20Poly1305(payload_key(file_key, nonce))
    sealed = _read_full(src, ENCRYPTED_CHUNK_SIZE)
    index = 0
    while len(sealed) == ENCRYPTED_CHUNK_SIZE:
        following = _read_full(src, ENCRYPTED_CHUNK_SIZE)
        if not following:
            break
        dst.write(_open_middle(aead, index, sealed, len(following)))
        sealed = following
        index += 1
    dst.write(_open_final(aead, index, sealed))


class PayloadReader(io.RawIOBase):
    """Random access to the plaintext of a payload that starts at `payload_offset` in `f`.

    The final chunk is authenticated when the reader is created, so a truncated file or
    a missing final chunk fails up front and `size` is exact. Each read decrypts only
    the chunks it touches; the last chunk decrypted is kept for the next small read.
    The underlying file stays owned by the caller and is not closed with the reader.
    """

    def __init__(self, f: BinaryIO, file_key: bytes, payload_offset: int) -> None:
        super().__init__()
        self._f = f
        f.seek(payload_offset)
        nonce = _read_full(f, NONCE_SIZE)
        if len(nonce) < NONCE_SIZE:
            raise TruncatedError(f"payload nonce is {len(nonce)} bytes, expected {NONCE_SIZE}")
        self._aead = ChaCha20Poly1305(payload_key(file_key, nonce))
        self._start = payload_offset + NONCE_SIZE
        sealed_size = f.seek(0, io.SEEK_END) - self._start
        if sealed_size == 0:
            raise MissingFinalChunkError("payload has no chunks")
        self._last_index = (sealed_size - 1) // ENCRYPTED_CHUNK_SIZE
        f.seek(self._start + self._last_index * ENCRYPTED_CHUNK_SIZE)
        self._last = _open_final(self._aead, self._last_index, _read_full(f, ENCRYPTED_CHUNK_SIZE))
        self._size = self._last_index * CHUNK_SIZE + len(self._last)
        self._pos = 0
        self._cached_index = self._last_index
        self._cached = self._last

    @property
    def size(self) -> int:
        """Plaintext length in bytes."""
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            target = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        self._pos = target
        return target

    def _chunk(self, index: int) -> bytes:
        if index == self._cached_index:
            return self._cached
        if index == self._last_index:
            plain = self._last
        else:
            self._f.seek(self._start + index * ENCRYPTED_CHUNK_SIZE)
            sealed = _read_full(self._f, ENCRYPTED_CHUNK_SIZE)
            if len(sealed) != ENCRYPTED_CHUNK_SIZE:
                raise TruncatedError(f"chunk {index} is short; the file shrank while open")
            # Everything up to the verified final chunk follows this one.
            following = (self._last_index - index) * ENCRYPTED_CHUNK_SIZE
            plain = _open_middle(self._aead, index, sealed, following)
        self._cached_index, self._cached = index, plain
        return plain

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("I/O operation on closed reader")
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        out = memoryview(buffer).cast("B")
        done = 0
        while done < want:
            index, within = divmod(self._pos + done, CHUNK_SIZE)
            plain = self._chunk(index)
            take = min(want - done, len(plain) - within)
            out[done : done + take] = plain[within : within + take]
            done += take
        self._pos += done
        return done

    def read(self, size: int | None = -1) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed reader")
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        if end <= self._pos:
            return b""
        first, last = self._pos // CHUNK_SIZE, (end - 1) // CHUNK_SIZE
        # Slicing whole chunks and joining once avoids a bytearray round trip per read.
        parts = []
        for index in range(first, last + 1):
            base = index * CHUNK_SIZE
            plain = self._chunk(index)
            parts.append(plain[max(self._pos - base, 0) : end - base])
        self._pos = end
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readall(self) -> bytes:
        return self.read(-1)
