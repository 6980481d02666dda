"""A seeded kiosk for the window-level tests: sample pack, manual clock, open services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk_app.app import KioskServices, open_kiosk
from kiosk_app.core.clock import ManualClock
from kiosk_app.store import keys
from tests.support.kiosk import FAST_HASHER, START, SamplePack, build_sample_pack, install_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SamplePack:
    return build_sample_pack(tmp_path_factory.mktemp("pack"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def services(tmp_path: Path, sample: SamplePack, clock: ManualClock) -> Iterator[KioskServices]:
    data = tmp_path / "kiosk"
    opened = open_kiosk(
        data, key_store=keys.FileKeyStore(data / "db.key"), clock=clock, hasher=FAST_HASHER
    )
    with opened:
        install_sample(opened.store, sample)
        yield opened
