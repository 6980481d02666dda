"""Pack releases as content staff see them: the list, a release's outline, which forces hold
it, and what a staff member may do with it (publish to their forces, retire)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from content_packs import model
from sync_server.dashboard.auth import Staff
from sync_server.dashboard.scope import may_see_force
from sync_server.models import CatalogueEntry, ChangeKind, Force, PackRelease
from sync_server.services import packs
from sync_server.services.changes import record_change
from sync_server.services.effects import Programmes


@dataclass(frozen=True)
class ReleaseRow:
    pack_id: str
    version: int
    title: str
    language: str
    published_at: datetime
    retired_at: datetime | None
    # Only the forces the staff member may see.
    forces: list[str]


@dataclass(frozen=True)
class Release:
    release: PackRelease
    programme: model.Programme
    forces: list[str]
    # Forces the staff member may still publish this release to.
    can_add: list[tuple[str, str]]
    may_retire: bool
    size: int


def releases(s: Session, *, staff: Staff) -> list[ReleaseRow]:
    """Every release, newest first; content is the scheme's, but which forces hold it is
    shown only for the forces the staff member may see."""
    held: dict[int, list[str]] = {}
    for pack, force_id in s.execute(
        select(CatalogueEntry.pack, CatalogueEntry.force_id).order_by(CatalogueEntry.force_id)
    ):
        if may_see_force(staff, force_id):
            held.setdefault(pack, []).append(force_id)
    return [
        ReleaseRow(
            pack_id=r.pack_id,
            version=r.version,
            title=r.title,
            language=r.language,
            published_at=r.published_at,
            retired_at=r.retired_at,
            forces=held.get(r.id, []),
        )
        for r in s.scalars(
            select(PackRelease).order_by(PackRelease.pack_id, PackRelease.version.desc())
        )
    ]


def target_forces(s: Session, *, staff: Staff) -> list[tuple[str, str]]:
    """The forces the staff member may publish to: their own, or every force."""
    query = select(Force.id, Force.name).order_by(Force.name, Force.id)
    if staff.force_id is not None:
        query = query.where(Force.id == staff.force_id)
    return [(force_id, name) for force_id, name in s.execute(query)]


def chosen_forces(s: Session, *, staff: Staff, wanted: list[str]) -> list[str] | None:
    """`wanted`, if every one is a force the staff member may publish to; None otherwise."""
    allowed = {force_id for force_id, _ in target_forces(s, staff=staff)}
    chosen = list(dict.fromkeys(wanted))
    return chosen if all(f in allowed for f in chosen) else None


def release(
    s: Session, *, staff: Staff, pack_id: str, version: int, programmes: Programmes
) -> Release | None:
    found = s.scalar(
        select(PackRelease).where(PackRelease.pack_id == pack_id, PackRelease.version == version)
    )
    if found is None:
        return None
    every = packs.release_forces(s, found)
    programme = programmes.of(s, [(found.pack_id, found.version)])[(found.pack_id, found.version)]
    can_add = (
        []
        if found.retired_at is not None
        else [(f, name) for f, name in target_forces(s, staff=staff) if f not in every]
    )
    return Release(
        release=found,
        programme=programme,
        forces=[f for f in every if may_see_force(staff, f)],
        can_add=can_add,
        may_retire=found.retired_at is None and may_retire(staff, every),
        size=found.payload_offset + found.payload_size,
    )


def may_retire(staff: Staff, holders: list[str]) -> bool:
    """Retiring withdraws a release from every force: a force's staff may do it only when no
    other force holds it."""
    return staff.force_id is None or all(f == staff.force_id for f in holders)


def offer(s: Session, *, release: PackRelease, forces: list[str], now: datetime) -> list[str]:
    """Add the release to these forces' catalogues (those that lack it); answers the added."""
    have = set(packs.release_forces(s, release))
    added = [f for f in forces if f not in have]
    for force_id in added:
        s.add(CatalogueEntry(force_id=force_id, pack=release.id, added_at=now))
        record_change(
            s,
            kind=ChangeKind.CATALOGUE,
            entity_id=f"{release.pack_id}:{release.version}",
            force_id=force_id,
            site_id=None,
            at=now,
        )
    return added
