"""Build, open and verify content packs: a signed manifest and members in a ZIP inside age."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, BinaryIO

from pydantic import ValidationError

from content_packs import age, narration, signing
from content_packs.authoring import LoadedSource
from content_packs.manifest import (
    BLOCK_SIZE,
    MANIFEST_NAME,
    Manifest,
    MemberEntry,
    MemberIntegrityError,
    PackDecryptionError,
    PackError,
    PackFormatError,
    PackSignatureError,
    manifest_bytes_for,
)
from content_packs.model import Programme

SIGNATURE_SUFFIX = ".minisig"
# ZIP entries carry a fixed timestamp so that the same source builds the same plaintext.
_ZIP_EPOCH = (2020, 1, 1, 0, 0, 0)
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_MAGIC = b"PK\x03\x04"
_MAX_MANIFEST_BYTES = 64 * 1024 * 1024

__all__ = [
    "BLOCK_SIZE",
    "MANIFEST_NAME",
    "BuildResult",
    "Manifest",
    "MemberEntry",
    "MemberIntegrityError",
    "MemberReader",
    "Pack",
    "PackDecryptionError",
    "PackError",
    "PackFormatError",
    "PackSignatureError",
    "build",
    "rewrap",
    "signature_path_for",
]


@dataclass(frozen=True, slots=True)
class BuildResult:
    """Where a build wrote its pack and detached signature, and what it signed."""

    pack_path: Path
    signature_path: Path
    manifest_sha256: str
    members: int
    size: int


def signature_path_for(pack_path: Path) -> Path:
    return pack_path.with_name(pack_path.name + SIGNATURE_SUFFIX)


def _zip_info(name: str, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = size
    info.external_attr = 0o644 << 16
    return info


def build(
    source: LoadedSource,
    out_path: Path,
    *,
    sign_key: signing.SecretKey,
    recipients: Sequence[age.X25519Recipient],
    narrate: bool = False,
) -> BuildResult:
    """Write `out_path` (age-encrypted ZIP) and its detached `.minisig`, atomically.

    With `narrate`, every reading step without a narration file gets one, spoken by
    espeak-ng (see content_packs.narration); off by default because it is slow and
    needs espeak-ng and ffmpeg. The `content-pack build` command narrates by default.
    """
    if not recipients:
        raise PackError("a pack needs at least one recipient")
    if narrate:
        with tempfile.TemporaryDirectory(prefix="narration-") as workdir:
            narrated = narration.add_narration(source, Path(workdir))
            return build(narrated, out_path, sign_key=sign_key, recipients=recipients)
    programme = source.programme
    manifest = manifest_bytes_for(programme, source.members)
    trusted = (
        f"timestamp:{int(datetime.now(UTC).timestamp())}\tfile:{MANIFEST_NAME}"
        f"\tpack:{programme.id}\tversion:{programme.version}"
    )
    signature = sign_key.sign(manifest, trusted_comment=trusted)
    out_path = Path(out_path)
    out_dir = out_path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    sig_path = signature_path_for(out_path)
    # The plaintext ZIP needs a seekable file; it lives only until encrypted.
    with tempfile.TemporaryFile(dir=out_dir) as plain:
        with zipfile.ZipFile(plain, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            with zf.open(_zip_info(MANIFEST_NAME, len(manifest)), "w") as dst:
                dst.write(manifest)
            for name, path in sorted(source.members.items()):
                with (
                    path.open("rb") as src,
                    zf.open(_zip_info(name, path.stat().st_size), "w") as d,
                ):
                    while chunk := src.read(1 << 20):
                        d.write(chunk)
        plain.seek(0)
        _atomic_write(out_path, lambda f: age.encrypt_stream(plain, f, recipients))
    _atomic_write(sig_path, lambda f: f.write(signature.encode("utf-8")))
    return BuildResult(
        pack_path=out_path,
        signature_path=sig_path,
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
        members=len(source.members),
        size=out_path.stat().st_size,
    )


def _atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write through a temporary file in the same folder and rename it into place."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


@dataclass(frozen=True, slots=True)
class _Member:
    name: str
    entry: MemberEntry
    data_offset: int


class Pack:
    """An opened pack: verified manifest, random access to members through the age layer."""

    def __init__(
        self,
        *,
        file: BinaryIO,
        reader: age.SeekableReader,
        manifest: Manifest,
        manifest_sha256: str,
        trusted_comment: str,
        members: dict[str, _Member],
    ) -> None:
        self._file = file
        self._reader = reader
        # Every member reads through the one decrypting reader (a seek, then a read): a media
        # thread and the GUI thread reading two members at once must take turns.
        self._lock = threading.Lock()
        self.manifest = manifest
        self.manifest_sha256 = manifest_sha256
        self.trusted_comment = trusted_comment
        self._members = members

    @property
    def programme(self) -> Programme:
        return self.manifest.programme

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        public_key: signing.PublicKey,
        identities: Sequence[age.X25519Identity] = (),
        file_key: bytes | None = None,
        signature: str | None = None,
    ) -> Pack:
        """Open a pack, checking the manifest signature before anything is parsed.

        `signature` is the `.minisig` text; by default it is read from beside the pack.
        """
        path = Path(path)
        if signature is None:
            sig_path = signature_path_for(path)
            try:
                signature = sig_path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise PackSignatureError(f"cannot read signature {sig_path}: {exc}") from exc
        try:
            f = path.open("rb")
        except OSError as exc:
            raise PackError(f"cannot open pack {path}: {exc}") from exc
        try:
            return cls.from_file(
                f,
                public_key=public_key,
                identities=identities,
                file_key=file_key,
                signature=signature,
            )
        except BaseException:
            f.close()
            raise

    @classmethod
    def from_file(
        cls,
        f: BinaryIO,
        *,
        public_key: signing.PublicKey,
        signature: str,
        identities: Sequence[age.X25519Identity] = (),
        file_key: bytes | None = None,
    ) -> Pack:
        """Open a pack from a seekable binary file; the pack closes `f` when closed."""
        try:
            if file_key is not None:
                reader = age.SeekableReader(f, file_key=file_key)
            else:
                reader = age.SeekableReader(f, identities=identities)
            manifest_raw = _read_manifest_member(reader)
        except age.AgeError as exc:
            raise PackDecryptionError(f"pack decryption failed: {exc}") from exc
        try:
            trusted = public_key.verify(manifest_raw, signature)
        except signing.SignatureError as exc:
            raise PackSignatureError(f"manifest signature check failed: {exc}") from exc
        try:
            manifest = Manifest.model_validate_json(manifest_raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise PackFormatError(f"signed manifest is invalid at {where}: {first['msg']}") from exc
        try:
            members = _index_members(reader, manifest)
        except age.AgeError as exc:
            raise PackDecryptionError(f"pack decryption failed: {exc}") from exc
        return cls(
            file=f,
            reader=reader,
            manifest=manifest,
            manifest_sha256=hashlib.sha256(manifest_raw).hexdigest(),
            trusted_comment=trusted,
            members=members,
        )

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Pack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def names(self) -> list[str]:
        return sorted(self._members)

    def member(self, name: str) -> MemberEntry:
        try:
            return self._members[name].entry
        except KeyError:
            raise PackError(f"pack has no member {name!r}") from None

    def open_member(self, name: str) -> MemberReader:
        """A seekable reader of one member that verifies every block it hands out."""
        if name not in self._members:
            raise PackError(f"pack has no member {name!r}")
        return MemberReader(self._reader, self._members[name], lock=self._lock)

    def read_member(self, name: str) -> bytes:
        with self.open_member(name) as r:
            data = r.read()
        if hashlib.sha256(data).hexdigest() != self._members[name].entry.sha256:
            raise MemberIntegrityError(f"member {name!r} does not match its signed SHA-256")
        return data

    def verify(self) -> None:
        """Authenticate every chunk of the payload and every member against the manifest."""
        try:
            # Reading the payload end to end authenticates every chunk, including the
            # ZIP headers and central directory that no member read touches.
            with self._lock:
                self._reader.seek(0)
                while self._reader.read(1 << 20):
                    pass
        except age.AgeError as exc:
            raise PackDecryptionError(f"pack decryption failed: {exc}") from exc
        for name in self._members:
            self.read_member(name)


def _read_manifest_member(reader: age.SeekableReader) -> bytes:
    """Read the first ZIP entry, which must be the stored manifest, with minimal parsing."""
    reader.seek(0)
    head = reader.read(_LOCAL_HEADER.size)
    if len(head) != _LOCAL_HEADER.size:
        raise PackFormatError("pack payload is too short to hold a manifest")
    magic, _ver, flags, method, _t, _d, _crc, csize, usize, nlen, xlen = _LOCAL_HEADER.unpack(head)
    name = reader.read(nlen)
    if magic != _LOCAL_MAGIC or name != MANIFEST_NAME.encode() or method != 0 or flags & 0x08:
        raise PackFormatError("pack payload does not start with a stored manifest.json")
    if csize != usize or csize > _MAX_MANIFEST_BYTES:
        raise PackFormatError("manifest.json has an impossible size")
    reader.seek(_LOCAL_HEADER.size + nlen + xlen)
    data = reader.read(csize)
    if len(data) != csize:
        raise PackFormatError("manifest.json is cut short")
    return data


def _index_members(reader: age.SeekableReader, manifest: Manifest) -> dict[str, _Member]:
    """Locate each manifest member's bytes through the ZIP central directory."""
    try:
        reader.seek(0)
        with zipfile.ZipFile(reader, "r") as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, struct.error) as e:
        raise PackFormatError(f"pack payload is not a valid ZIP: {e}") from e
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise PackFormatError("pack ZIP lists a member twice")
    expected = set(manifest.members) | {MANIFEST_NAME}
    if set(names) != expected:
        extra = sorted(set(names) - expected)
        missing = sorted(expected - set(names))
        raise PackFormatError(
            f"pack ZIP does not match its manifest (extra {extra}, missing {missing})"
        )
    members: dict[str, _Member] = {}
    for info in infos:
        if info.filename == MANIFEST_NAME:
            continue
        entry = manifest.members[info.filename]
        if info.compress_type != zipfile.ZIP_STORED or info.file_size != entry.size:
            raise PackFormatError(f"member {info.filename!r} is not stored as the manifest says")
        reader.seek(info.header_offset)
        head = reader.read(_LOCAL_HEADER.size)
        if len(head) != _LOCAL_HEADER.size:
            raise PackFormatError(f"member {info.filename!r} header is cut short")
        fields = _LOCAL_HEADER.unpack(head)
        if fields[0] != _LOCAL_MAGIC or reader.read(fields[9]) != info.filename.encode():
            raise PackFormatError(f"member {info.filename!r} has a bad local header")
        offset = info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10]
        if offset + entry.size > reader.size:
            raise PackFormatError(f"member {info.filename!r} runs past the end of the pack")
        if len(entry.blocks()) != max(1, -(-entry.size // BLOCK_SIZE)):
            raise PackFormatError(f"member {info.filename!r} has the wrong number of block hashes")
        members[info.filename] = _Member(info.filename, entry, offset)
    return members


class MemberReader(io.RawIOBase):
    """Random access to one member; each block is checked against the signed manifest."""

    def __init__(
        self, source: age.SeekableReader, member: _Member, *, lock: threading.Lock | None = None
    ) -> None:
        super().__init__()
        self._source = source
        self._lock = lock or threading.Lock()
        self._member = member
        self._blocks = member.entry.blocks()
        self._pos = 0
        self._cached_index = -1
        self._cached = b""

    @property
    def size(self) -> int:
        return self._member.entry.size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        target = base + offset
        if target < 0:
            raise ValueError("negative seek position")
        self._pos = target
        return target

    def _block(self, index: int) -> bytes:
        if index != self._cached_index:
            start = index * BLOCK_SIZE
            length = min(BLOCK_SIZE, self.size - start)
            try:
                with self._lock:
                    self._source.seek(self._member.data_offset + start)
                    data = self._source.read(length)
            except age.AgeError as exc:
                raise PackDecryptionError(f"pack decryption failed: {exc}") from exc
            if len(data) != length or hashlib.sha256(data).digest() != self._blocks[index]:
                raise MemberIntegrityError(
                    f"member {self._member.name!r} block {index} does not match the signed manifest"
                )
            self._cached_index, self._cached = index, data
        return self._cached

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self.size - self._pos)
        if want <= 0:
            return 0
        done = 0
        while done < want:
            index, within = divmod(self._pos + done, BLOCK_SIZE)
            block = self._block(index)
            take = min(want - done, len(block) - within)
            buffer[done : done + take] = block[within : within + take]
            done += take
        self._pos += done
        return done

    def read(self, size: int = -1) -> bytes:
        remaining = max(0, self.size - self._pos)
        n = remaining if size is None or size < 0 else min(size, remaining)
        buf = bytearray(n)
        got = self.readinto(memoryview(buf))
        return bytes(buf[:got])

    def readall(self) -> bytes:
        return self.read(-1)

    def iter_blocks(self) -> Iterator[bytes]:
        while chunk := self.read(BLOCK_SIZE):
            yield chunk


def rewrap(
    src: Path,
    dst: IO[bytes],
    *,
    identities: Sequence[age.X25519Identity],
    recipients: Sequence[age.X25519Recipient],
) -> None:
    """Copy a pack to `dst` with a new age header for `recipients`; payload bytes unchanged."""
    try:
        with Path(src).open("rb") as f:
            header = age.read_header(f)
            file_key = age.unwrap_file_key(header, identities)
            dst.write(age.wrap_header(file_key, recipients))
            f.seek(header.payload_offset)
            while chunk := f.read(1 << 20):
                dst.write(chunk)
    except age.AgeError as exc:
        raise PackDecryptionError(f"cannot re-wrap pack: {exc}") from exc
