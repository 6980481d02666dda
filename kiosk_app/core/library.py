"""Installed content packs: open them with this device's identity and trusted publisher keys."""

from __future__ import annotations

from content_packs import age, signing
from content_packs.model import Programme
from content_packs.pack import Pack, PackError, PackSignatureError
from kiosk_app.store import repos
from kiosk_app.store.db import Store


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

    def close(self) -> None:
        for pack in self._open.values():
            pack.close()
        self._open.clear()
