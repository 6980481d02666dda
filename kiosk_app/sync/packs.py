"""The packs stage: download what the catalogue offers, verify it all, install atomically.

A download goes to a partial file and resumes with Range/If-Range after a cut. Nothing is
installed until the size, the payload hash, the manifest signature against the pinned
publisher keys and every chunk and member hash check out, and the manifest names the pack
and version the catalogue promised; then the file is renamed into place and recorded.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from content_packs import age, signing
from content_packs.pack import Pack, PackError, PackSignatureError
from kiosk_app.store import repos
from kiosk_app.store.db import Store
from kiosk_app.store.models import CatalogueEntry, Enrolment
from kiosk_app.sync.transport import Transport

log = logging.getLogger(__name__)

PACK_DIR = "packs"
PARTIAL_DIR = ".partial"
_HASH_CHUNK = 1 << 20

# (pack id, version, bytes so far, total bytes), for the officer console's progress bar.
Progress = Callable[[str, int, int, int], None]


class PackRefusedError(Exception):
    """A downloaded pack failed a check, or would replace a newer one; not installed."""


@dataclass(frozen=True, slots=True)
class Offer:
    """A catalogue entry as the stage needs it, read out of the store."""

    pack_id: str
    version: int
    size: int
    sha256: str
    signature: str
    url: str
    partial_etag: str | None

    @property
    def file_name(self) -> str:
        return f"{self.pack_id}-{self.version}.pack"


@dataclass(slots=True)
class PacksReport:
    installed: list[tuple[str, int]] = field(default_factory=list)
    refused: list[tuple[str, int, str]] = field(default_factory=list)


def _offer(row: CatalogueEntry) -> Offer:
    return Offer(
        row.pack_id, row.version, row.size, row.sha256, row.signature, row.url, row.partial_etag
    )


def offer_for(s: Session, *, pack_id: str, version: int) -> Offer | None:
    row = repos.catalogue_entry(s, pack_id=pack_id, version=version)
    return None if row is None else _offer(row)


def wanted(s: Session) -> list[Offer]:
    """Not yet installed: each pack's newest offered version, and any version an enrolment
    here is assigned (its rules decide completion), if offered and not withdrawn."""
    rows = [r for r in repos.catalogue(s) if not r.revoked]
    newest: dict[str, CatalogueEntry] = {}
    for row in rows:
        if row.pack_id not in newest or row.version > newest[row.pack_id].version:
            newest[row.pack_id] = row
    needed = {
        (pack_id, version)
        for pack_id, version in s.execute(
            select(Enrolment.programme_id, Enrolment.programme_version).where(
                Enrolment.status.in_(("assigned", "in_progress"))
            )
        )
    }
    chosen = [r for r in rows if newest[r.pack_id] is r or (r.pack_id, r.version) in needed]
    return [
        _offer(r)
        for r in chosen
        if repos.installed_pack(s, pack_id=r.pack_id, version=r.version) is None
        and refusal(s, pack_id=r.pack_id, version=r.version) is None
    ]


def refusal(s: Session, *, pack_id: str, version: int) -> str | None:
    """Why this version must not be installed, or None: never go back to a version older
    than one installed, unless an enrolment here is assigned that very version."""
    newest = repos.installed_pack(s, pack_id=pack_id, version=None)
    if newest is None or newest.version <= version:
        return None
    assigned = s.scalar(
        select(Enrolment.id).where(
            Enrolment.programme_id == pack_id, Enrolment.programme_version == version
        )
    )
    if assigned is not None:
        return None
    return f"version {version} is older than the installed version {newest.version}"


def packs_stage(
    *,
    store: Store,
    transport: Transport,
    identity: age.X25519Identity,
    publisher_keys: Sequence[signing.PublicKey],
    now: datetime,
    progress: Progress | None = None,
) -> PacksReport:
    """Install every wanted pack; a refused pack is recorded and the others go on.

    Network failures propagate (the partial file stays, so the next sync resumes).
    """
    report = PacksReport()
    with store.unit() as s:
        offers = wanted(s)
    for offer in offers:
        try:
            fetch_and_install(
                store=store,
                transport=transport,
                offer=offer,
                identity=identity,
                publisher_keys=publisher_keys,
                now=now,
                progress=progress,
            )
        except PackRefusedError as exc:
            log.warning("pack %s v%d refused: %s", offer.pack_id, offer.version, exc)
            with store.unit() as s:
                row = repos.catalogue_entry(s, pack_id=offer.pack_id, version=offer.version)
                if row is not None:
                    row.problem = str(exc)[:500]
                    row.partial_etag = None
            report.refused.append((offer.pack_id, offer.version, str(exc)))
            continue
        report.installed.append((offer.pack_id, offer.version))
    return report


def fetch_and_install(
    *,
    store: Store,
    transport: Transport,
    offer: Offer,
    identity: age.X25519Identity,
    publisher_keys: Sequence[signing.PublicKey],
    now: datetime,
    progress: Progress | None = None,
) -> Path:
    """Download (resuming), verify and install one pack; answers the installed file."""
    pack_dir = store.data_dir / PACK_DIR
    partial_dir = pack_dir / PARTIAL_DIR
    partial_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = partial_dir / f"{offer.file_name}.part"

    def keep_etag(tag: str | None) -> None:
        if tag == offer.partial_etag:
            return
        with store.unit() as s:
            row = repos.catalogue_entry(s, pack_id=offer.pack_id, version=offer.version)
            if row is not None:
                row.partial_etag = tag

    done = 0

    def count(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(offer.pack_id, offer.version, done, offer.size)

    with open(partial, "a+b") as out:
        done = out.seek(0, os.SEEK_END)
        transport.download(
            offer.url, out, etag=offer.partial_etag, on_etag=keep_etag, on_bytes=count
        )
        out.flush()
        os.fsync(out.fileno())
    try:
        verify(partial, offer, identity=identity, publisher_keys=publisher_keys)
    except PackRefusedError:
        partial.unlink(missing_ok=True)
        raise
    return install(store=store, offer=offer, verified=partial, now=now)


def verify(
    path: Path,
    offer: Offer,
    *,
    identity: age.X25519Identity,
    publisher_keys: Sequence[signing.PublicKey],
) -> None:
    """Every check before a pack may be installed; PackRefusedError names the first failure."""
    size = path.stat().st_size
    if size != offer.size:
        raise PackRefusedError(f"the file is {size} bytes, the catalogue says {offer.size}")
    with open(path, "rb") as f:
        try:
            age.read_header(f)
        except age.AgeError as exc:
            raise PackRefusedError(f"not an age file: {exc}") from exc
        digest = hashlib.sha256()
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != offer.sha256:
        raise PackRefusedError("the payload does not match the catalogue's SHA-256")
    if not publisher_keys:
        raise PackRefusedError("this kiosk trusts no publisher key")
    problem = "the manifest is not signed by a trusted publisher"
    for key in publisher_keys:
        try:
            pack = Pack.open(path, public_key=key, identities=[identity], signature=offer.signature)
        except PackSignatureError:
            continue
        except PackError as exc:
            raise PackRefusedError(str(exc)) from exc
        with pack:
            try:
                pack.verify()
            except PackError as exc:
                raise PackRefusedError(str(exc)) from exc
            programme = pack.programme
        if (programme.id, programme.version) != (offer.pack_id, offer.version):
            raise PackRefusedError(
                f"the signed manifest is {programme.id} v{programme.version},"
                f" not {offer.pack_id} v{offer.version}"
            )
        return
    raise PackRefusedError(problem)


def install(*, store: Store, offer: Offer, verified: Path, now: datetime) -> Path:
    """Rename a verified file into place and record it, refusing to go back a version."""
    with store.unit() as s:
        why = refusal(s, pack_id=offer.pack_id, version=offer.version)
    if why is not None:
        verified.unlink(missing_ok=True)
        raise PackRefusedError(why)
    final = store.data_dir / PACK_DIR / offer.file_name
    os.replace(verified, final)
    _fsync_dir(final.parent)
    with store.unit() as s:
        if repos.installed_pack(s, pack_id=offer.pack_id, version=offer.version) is None:
            repos.install_pack(
                s,
                pack_id=offer.pack_id,
                version=offer.version,
                path=f"{PACK_DIR}/{offer.file_name}",
                signature=offer.signature,
                sha256=offer.sha256,
                installed_at=now,
            )
        row = repos.catalogue_entry(s, pack_id=offer.pack_id, version=offer.version)
        if row is not None:
            row.partial_etag = None
            row.problem = None
    log.info("pack %s v%d installed", offer.pack_id, offer.version)
    return final


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
