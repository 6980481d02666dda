"""Installed content packs: open them with this device's identity and trusted publisher keys."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from content_packs import age, model, signing
from content_packs.model import Programme
from content_packs.pack import Pack, PackError, PackSignatureError
from kiosk_app.store import repos
from kiosk_app.store.db import Store

log = logging.getLogger(__name__)


class PackNotInstalledError(LookupError):
    """The enrolment's programme is not on this kiosk (yet): the next sync downloads it."""


class PackLibrary:
    """Opens installed packs once and keeps them open (media are read from them on demand)."""

    def __init__(self, *, store: Store) -> None:
        self._store = store
        self._open: dict[tuple[str, int], Pack] = {}

    def open(self, *, pack_id: str, version: int | None) -> Pack:
        """The installed pack (its newest version if `version` is None), signature checked."""
        with self._store.unit() as s:
            row = repos.installed_pack(s, pack_id=pack_id, version=version)
            if row is None:
                raise PackNotInstalledError(f"{pack_id} v{version or 'any'} is not installed")
            key = (row.pack_id, row.version)
            if key in self._open:
                return self._open[key]
            device = repos.device(s)
            identity_text, keys = device.x25519_identity, list(device.publisher_keys)
            path, signature = self._store.data_dir / row.path, row.signature
        if identity_text is None:
            raise PackError("this kiosk has no device identity yet; enrol it first")
        identity = age.X25519Identity.from_str(identity_text)
        failure: Exception = PackSignatureError("this kiosk trusts no publisher key")
        for text in keys:
            try:
                pack = Pack.open(
                    path,
                    public_key=signing.PublicKey.from_str(str(text)),
                    identities=[identity],
                    signature=signature,
                )
            except PackSignatureError as exc:
                failure = exc  # signed by another trusted publisher, perhaps
                continue
            self._open[key] = pack
            return pack
        raise failure

    def programme(self, *, pack_id: str, version: int | None) -> Programme:
        return self.open(pack_id=pack_id, version=version).programme

    def language_version(self, programme: Programme, *, language: str) -> Programme | None:
        """`programme` in `language`, when the catalogue offers such a version of it and it is
        installed here; None when `programme` is in that language already, or there is none.

        A version is another pack of the same `family` whose language is `language` (or, with
        none exactly so, the same primary language: "pl" for "pl-PL"); of several, the newest
        installed one that is `interchangeable` with `programme`.
        """
        wanted = _language_key(language)
        # A version must suit them better than the enrolled programme does ("en-GB" asked,
        # "en" enrolled: an "en-US" version is no better).
        enough = _language_rank(_language_key(programme.language), wanted)
        if enough == 0:
            return None
        with self._store.unit() as s:
            offered = [
                (e.pack_id, e.version, _language_key(e.language))
                for e in repos.catalogue(s)
                if e.family == programme.family and e.pack_id != programme.id and not e.revoked
            ]
            candidates = [
                (language_rank, version, pack_id)
                for pack_id, version, key in offered
                if (language_rank := _language_rank(key, wanted)) is not None
                and (enough is None or language_rank < enough)
                and repos.installed_pack(s, pack_id=pack_id, version=version) is not None
            ]
        # Exact language first, then the newest version.
        for _rank, version, pack_id in sorted(candidates, key=lambda c: (c[0], -c[1])):
            try:
                candidate = self.programme(pack_id=pack_id, version=version)
            except PackError:
                log.warning("language version %s v%d cannot be opened", pack_id, version)
                continue
            if interchangeable(programme, candidate):
                return candidate
            log.warning(
                "language version %s v%d does not match %s v%d step for step; not used",
                pack_id,
                version,
                programme.id,
                programme.version,
            )
        return None

    def close(self) -> None:
        for pack in self._open.values():
            pack.close()
        self._open.clear()


def interchangeable(enrolled: Programme, version: Programme) -> bool:
    """Whether `version` can be shown instead of `enrolled` with the events meaning the same.

    Progress belongs to the enrolment and is judged by the enrolled programme's rules (as on
    the server), whichever version the participant read. So the version must have the same
    modules and steps in the same order (ids, types, required), and every quiz the same
    questions with as many options, the right ones in the same places: an answer is an
    option's index. Texts, media, reading times and pass marks may differ.
    """
    if [(m.id, m.required) for m in enrolled.modules] != [
        (m.id, m.required) for m in version.modules
    ]:
        return False
    for module, other in zip(enrolled.modules, version.modules, strict=True):
        if [(s.id, s.type, s.required) for s in module.steps] != [
            (s.id, s.type, s.required) for s in other.steps
        ]:
            return False
        if not all(map(_same_answers, module.steps, other.steps)):
            return False
    return True


def _same_answers(step: model.Step, shown: model.Step) -> bool:
    """Whether what the participant can answer on `shown` is judged alike on `step`."""
    if isinstance(step, model.QuizStep) and isinstance(shown, model.QuizStep):
        return _answer_key(step) == _answer_key(shown)
    if isinstance(step, model.PledgeStep) and isinstance(shown, model.PledgeStep):
        return len(shown.items) >= step.min_items
    return True


def _answer_key(step: model.QuizStep) -> list[tuple[str, tuple[bool, ...]]]:
    return [(q.id, tuple(o.correct for o in q.options)) for q in step.questions]


def matching_language(wanted: str, offered: Iterable[str]) -> str | None:
    """Of the language codes `offered`, the one for `wanted`: the same code ("pl", "en-GB" =
    "en_gb"), else the first with the same primary language ("pl" for "pl-PL"); or None."""
    key = _language_key(wanted)
    ranked = [
        (rank, i, code)
        for i, code in enumerate(offered)
        if (rank := _language_rank(_language_key(code), key)) is not None
    ]
    return min(ranked)[2] if ranked else None


def _language_key(code: str) -> str:
    return code.strip().replace("_", "-").lower()


def _language_rank(offered: str, wanted: str) -> int | None:
    """0 for the very language asked for, 1 for the same primary language, else None."""
    if offered == wanted:
        return 0
    if offered.split("-")[0] == wanted.split("-")[0]:
        return 1
    return None
