"""A seeded kiosk for the window-level tests: sample pack, manual clock, open services, and
the kiosk window over them with a participant to drive it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kiosk_app.app import KioskServices, open_kiosk
from kiosk_app.core.clock import ManualClock
from kiosk_app.store import keys
from kiosk_app.ui.i18n import Translations
from tests.support.kiosk import FAST_HASHER, START, SamplePack, build_sample_pack, install_sample
from tests.support.kiosk_ui import KioskUnderTest, Participant, make_kiosk


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


@pytest.fixture
def kiosk(
    qtbot: QtBot,
    app: QApplication,
    services: KioskServices,
    clock: ManualClock,
    english: Translations,
) -> Iterator[KioskUnderTest]:
    under_test = make_kiosk(qtbot, app, services, clock, english)
    yield under_test
    under_test.close()


@pytest.fixture
def person(qtbot: QtBot, kiosk: KioskUnderTest) -> Participant:
    return Participant(qtbot, kiosk)
