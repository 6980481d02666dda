"""Pack releases: the escrow identity, publisher keys, publishing, and per-device age headers."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from content_packs import age, signing
from content_packs.pack import Pack, PackError
from sync_server.models import (
    CatalogueEntry,
    Change,
    ChangeKind,
    Device,
    Force,
    PackHeader,
    PackRelease,
)
from sync_server.services.admin import audit
from sync_server.settings import Settings

log = logging.getLogger(__name__)

_COPY_CHUNK = 1 << 20
_FILE_KEY_CACHE_SIZE = 256


class PackServiceError(Exception):
    """A pack, key or release operation was refused; the message says why, in one sentence."""


# --- files -------------------------------------------------------------------------------


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_new_file(directory: Path, data: bytes, *, mode: int) -> Path:
    """A fully written, fsynced temporary file in `directory` with permissions `mode`."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


# --- escrow identity ---------------------------------------------------------------------


def load_or_create_escrow_identity(settings: Settings) -> age.X25519Identity:
    """The server's age identity, made on first use (mode 0600, never half-written)."""
    path = settings.escrow_identity_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        identity = age.X25519Identity.generate()
        text = (
            "# Intervention Kiosk sync server escrow identity: packs are built for its\n"
            f"# recipient {identity.recipient}\n{identity.to_str()}\n"
        )
        tmp = _write_new_file(path.parent, text.encode("ascii"), mode=0o600)
        try:
            # link() refuses to replace a file, so two processes racing here agree on
            # whichever identity landed first.
            os.link(tmp, path)
            _fsync_dir(path.parent)
            log.info("created escrow identity %s", path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    try:
        identities = age.parse_identity_file(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, age.AgeError) as exc:
        raise PackServiceError(f"cannot read escrow identity {path}: {exc}") from exc
    return identities[0]


def escrow_recipient(settings: Settings) -> age.X25519Recipient:
    return load_or_create_escrow_identity(settings).recipient


# --- publisher keys ----------------------------------------------------------------------


def publisher_keys(settings: Settings) -> list[signing.PublicKey]:
    """The minisign public keys the server accepts packs from (`publisher_keys_dir/*.pub`)."""
    directory = settings.publisher_keys_dir
    if not directory.is_dir():
        return []
    keys = []
    for path in sorted(directory.glob("*.pub")):
        try:
            keys.append(signing.PublicKey.load(path))
        except signing.SignatureError as exc:
            raise PackServiceError(f"bad publisher key file {path}: {exc}") from exc
    return keys


def add_publisher_key(settings: Settings, pub_text: str) -> signing.PublicKey:
    """Trust a publisher key (minisign .pub text); adding a known key again changes nothing."""
    try:
        key = signing.PublicKey.from_str(pub_text)
    except signing.SignatureError as exc:
        raise PackServiceError(f"not a minisign public key: {exc}") from exc
    directory = settings.publisher_keys_dir
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{key.key_id_hex}.pub"
    if path.exists():
        existing = signing.PublicKey.load(path)
        if existing.raw != key.raw:
            raise PackServiceError(
                f"a different publisher key with id {key.key_id_hex} is already trusted"
            )
        return key
    tmp = _write_new_file(directory, key.to_str().encode("ascii"), mode=0o644)
    os.replace(tmp, path)
    _fsync_dir(directory)
    log.info("added publisher key %s", key.key_id_hex)
    return key


def _publisher_key_for(settings: Settings, signature_text: str) -> signing.PublicKey:
    try:
        key_id = signing.Signature.from_str(signature_text).key_id_hex
    except signing.SignatureError as exc:
        raise PackServiceError(f"not a minisign signature: {exc}") from exc
    for key in publisher_keys(settings):
        if key.key_id_hex == key_id:
            return key
    raise PackServiceError(
        f"the pack is signed by key {key_id}, which is not a trusted publisher key "
        "(add it with `sync-server add-publisher`)"
    )


# --- releases ----------------------------------------------------------------------------


def release_file(settings: Settings, release: PackRelease) -> Path:
    """Where the release's pack file lives (stored relative to the pack directory)."""
    return settings.pack_dir / release.path


def _payload_sha256(path: Path, offset: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        f.seek(offset)
        while chunk := f.read(_COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_to_temp(src: Path, directory: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".pack")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as out, src.open("rb") as f:
            shutil.copyfileobj(f, out, _COPY_CHUNK)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


def _target_forces(s: Session, forces: list[str] | None) -> list[str]:
    if forces is None:
        return list(s.scalars(select(Force.id).order_by(Force.id)))
    wanted = list(dict.fromkeys(forces))
    known = set(s.scalars(select(Force.id).where(Force.id.in_(wanted))))
    unknown = [f for f in wanted if f not in known]
    if unknown:
        raise PackServiceError(f"unknown force {unknown[0]!r}")
    return wanted


def publish(
    s: Session,
    settings: Settings,
    *,
    pack_path: Path,
    signature_text: str,
    forces: list[str] | None,
    now: datetime,
) -> PackRelease:
    """Verify a pack end to end, store it, and offer it to `forces` (default: every force).

    The copy in the pack directory is what gets verified, so the stored bytes are the
    checked bytes; the release row is flushed before the file is renamed into place, so a
    concurrent publish of the same version fails on the unique constraint, not on disk.
    """
    key = _publisher_key_for(settings, signature_text)
    escrow = load_or_create_escrow_identity(settings)
    targets = _target_forces(s, forces)
    settings.pack_dir.mkdir(parents=True, exist_ok=True)
    try:
        tmp = _copy_to_temp(Path(pack_path), settings.pack_dir)
    except OSError as exc:
        raise PackServiceError(f"cannot read pack {pack_path}: {exc.strerror or exc}") from exc
    try:
        with Pack.open(tmp, identities=[escrow], public_key=key, signature=signature_text) as pack:
            programme = pack.programme
            _refuse_old_version(s, programme.id, programme.version)
            pack.verify()
            manifest = pack.manifest.model_dump(mode="json")
            manifest_sha256 = pack.manifest_sha256
        with tmp.open("rb") as f:
            header = age.read_header(f)
        size = tmp.stat().st_size
        name = f"{programme.id}-{programme.version}.pack"
        release = PackRelease(
            pack_id=programme.id,
            version=programme.version,
            title=programme.title,
            language=programme.language,
            path=name,
            payload_offset=header.payload_offset,
            payload_size=size - header.payload_offset,
            payload_sha256=_payload_sha256(tmp, header.payload_offset),
            manifest=manifest,
            manifest_sha256=manifest_sha256,
            signature=signature_text,
            publisher_key_id=key.key_id_hex,
            published_at=now,
            retired_at=None,
        )
        s.add(release)
        try:
            with s.begin_nested():
                s.flush()
        except IntegrityError:
            raise PackServiceError(
                f"pack {programme.id} version {programme.version} is already published"
            ) from None
        os.replace(tmp, settings.pack_dir / name)
        _fsync_dir(settings.pack_dir)
    except PackError as exc:
        raise PackServiceError(f"pack refused: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    for force_id in targets:
        s.add(CatalogueEntry(force_id=force_id, pack=release.id, added_at=now))
        s.add(_change(ChangeKind.CATALOGUE, force_id, release, now))
    audit(
        s,
        action="pack.published",
        subject=_entity_id(release),
        force_id=None,
        now=now,
        details={"forces": targets, "publisher_key": key.key_id_hex},
    )
    s.flush()
    log.info("published pack %s for %d forces", _entity_id(release), len(targets))
    return release


def _refuse_old_version(s: Session, pack_id: str, version: int) -> None:
    newest = s.scalar(select(func.max(PackRelease.version)).where(PackRelease.pack_id == pack_id))
    if newest is not None and version <= newest:
        if version == newest:
            raise PackServiceError(f"pack {pack_id} version {version} is already published")
        raise PackServiceError(
            f"pack {pack_id} version {version} is older than the published version {newest}"
        )


def _entity_id(release: PackRelease) -> str:
    return f"{release.pack_id}:{release.version}"


def _change(kind: ChangeKind, force_id: str, release: PackRelease, now: datetime) -> Change:
    return Change(
        kind=kind,
        force_id=force_id,
        site_id=None,
        entity_id=_entity_id(release),
        op="upsert",
        at=now,
    )


def get_release(s: Session, *, pack_id: str, version: int) -> PackRelease:
    release = s.scalar(
        select(PackRelease).where(PackRelease.pack_id == pack_id, PackRelease.version == version)
    )
    if release is None:
        raise PackServiceError(f"no pack {pack_id} version {version} is published")
    return release


def retire(s: Session, *, pack_id: str, version: int, now: datetime) -> PackRelease:
    """Withdraw a release: devices stop being offered it and may no longer download it.

    Each force that had it gets a `revocation` change naming `pack_id:version`.
    """
    release = get_release(s, pack_id=pack_id, version=version)
    if release.retired_at is not None:
        raise PackServiceError(f"pack {pack_id} version {version} is already retired")
    release.retired_at = now
    for force_id in release_forces(s, release):
        s.add(_change(ChangeKind.REVOCATION, force_id, release, now))
    audit(s, action="pack.retired", subject=_entity_id(release), force_id=None, now=now)
    s.flush()
    return release


def release_forces(s: Session, release: PackRelease) -> list[str]:
    """The forces whose catalogue holds `release`."""
    return list(
        s.scalars(
            select(CatalogueEntry.force_id)
            .where(CatalogueEntry.pack == release.id)
            .order_by(CatalogueEntry.force_id)
        )
    )


def release_for_device(
    s: Session, *, device: Device, pack_id: str, version: int
) -> PackRelease | None:
    """The release if it is in the device's force catalogue and not retired, else None."""
    return s.scalar(
        select(PackRelease)
        .join(CatalogueEntry, CatalogueEntry.pack == PackRelease.id)
        .where(
            CatalogueEntry.force_id == device.force_id,
            PackRelease.pack_id == pack_id,
            PackRelease.version == version,
            PackRelease.retired_at.is_(None),
        )
    )


# --- per-device headers ------------------------------------------------------------------

_file_keys: OrderedDict[tuple[int, str, str], bytes] = OrderedDict()
_file_keys_lock = threading.Lock()


def _file_key(settings: Settings, release: PackRelease) -> bytes:
    # Keyed by more than the row id: one process may serve several databases (tests).
    cache_key = (release.id, release.payload_sha256, str(release_file(settings, release)))
    with _file_keys_lock:
        cached = _file_keys.get(cache_key)
        if cached is not None:
            _file_keys.move_to_end(cache_key)
            return cached
    escrow = load_or_create_escrow_identity(settings)
    path = release_file(settings, release)
    try:
        with path.open("rb") as f:
            file_key = age.unwrap_file_key(age.read_header(f), [escrow])
    except (OSError, age.AgeError) as exc:
        raise PackServiceError(f"cannot unwrap the file key of {path}: {exc}") from exc
    with _file_keys_lock:
        _file_keys[cache_key] = file_key
        while len(_file_keys) > _FILE_KEY_CACHE_SIZE:
            _file_keys.popitem(last=False)
    return file_key


def device_header(s: Session, settings: Settings, *, device: Device, release: PackRelease) -> bytes:
    """The age header giving this release's file key to this device alone.

    Made once and stored, so every request (and every resumed range) sees the same bytes.
    """
    stored = s.get(PackHeader, (device.id, release.id))
    if stored is not None:
        return stored.header
    recipient = age.X25519Recipient.from_str(device.x25519_recipient)
    header = age.wrap_header(_file_key(settings, release), [recipient])
    try:
        with s.begin_nested():
            s.add(
                PackHeader(
                    device_id=device.id,
                    pack=release.id,
                    header=header,
                    created_at=datetime.now(UTC),
                )
            )
    except IntegrityError:
        # Two first requests raced; the one that landed first wins for both.
        stored = s.get(PackHeader, (device.id, release.id), populate_existing=True)
        if stored is None:
            raise
        return stored.header
    return header
