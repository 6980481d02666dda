"""The signed pack manifest: programme, member sizes and hashes, and the pack errors."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from content_packs.agestream import CHUNK_SIZE
from content_packs.model import Programme, RelPath

FORMAT: Final = "intervention-kiosk-pack"
FORMAT_VERSION: Final = 1
MANIFEST_NAME = "manifest.json"
# Members are hashed in blocks as large as an age chunk, so a random read verifies
# at most a couple of blocks instead of the whole member.
BLOCK_SIZE = CHUNK_SIZE

MemberName = RelPath
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class PackError(Exception):
    """A pack could not be built, opened or verified; the message says what failed."""


class PackSignatureError(PackError):
    """The manifest signature is missing, malformed, from another key or does not verify."""


class PackDecryptionError(PackError):
    """The age layer refused the pack: wrong identity, tampered or truncated bytes."""


class PackFormatError(PackError):
    """The decrypted pack is not a well-formed pack (ZIP layout or manifest)."""


class MemberIntegrityError(PackError):
    """A member's bytes do not match the SHA-256 recorded in the signed manifest."""


class MemberEntry(BaseModel):
    """One file in the pack, as recorded (and signed) in the manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    size: int = Field(ge=0)
    sha256: Sha256Hex
    # Base64 of the concatenated SHA-256 digests of each BLOCK_SIZE block.
    block_hashes: str

    def blocks(self) -> list[bytes]:
        raw = base64.b64decode(self.block_hashes, validate=True)
        return [raw[i : i + 32] for i in range(0, len(raw), 32)]


class Manifest(BaseModel):
    """The signed description of a pack: programme, rules and every member's hashes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["intervention-kiosk-pack"]
    format_version: Literal[1]
    programme: Programme
    members: dict[MemberName, MemberEntry]
    built_at: datetime
    builder: str


def hash_member(path: Path) -> MemberEntry:
    whole = hashlib.sha256()
    blocks = bytearray()
    size = 0
    with path.open("rb") as f:
        while block := f.read(BLOCK_SIZE):
            whole.update(block)
            blocks += hashlib.sha256(block).digest()
            size += len(block)
    if size == 0:
        blocks += hashlib.sha256(b"").digest()
    return MemberEntry(
        size=size,
        sha256=whole.hexdigest(),
        block_hashes=base64.b64encode(bytes(blocks)).decode("ascii"),
    )


def manifest_bytes_for(
    programme: Programme, members: Mapping[str, Path], *, built_at: datetime | None = None
) -> bytes:
    """The canonical manifest JSON for a programme and its member files."""
    entries = {name: hash_member(path) for name, path in sorted(members.items())}
    manifest = Manifest(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        programme=programme,
        members=entries,
        built_at=built_at or datetime.now(UTC).replace(microsecond=0),
        builder="content-pack 1",
    )
    return json.dumps(
        manifest.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
