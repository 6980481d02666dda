"""The officer console on the real kiosk window: opening, sign-in, registering, exit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from kiosk_app.app import KioskServices, open_kiosk
from kiosk_app.core.clock import ManualClock
from kiosk_app.core.officer_auth import MAX_ATTEMPTS
from kiosk_app.store import keys, repos
from kiosk_app.ui.i18n import Translations
from kiosk_app.ui.screens.welcome import WelcomeScreen
from tests.support.kiosk import (
    FAST_HASHER,
    OFFICER_PASSWORD,
    TEMPORARY_PIN,
    SamplePack,
    install_sample,
    register,
    seed_officer,
)
from tests.support.kiosk_ui import KioskUnderTest, Participant, make_kiosk
from tests.support.officer_ui import Console, OfficerAtKiosk, attach_console


@pytest.fixture
def services(tmp_path: Path, sample: SamplePack, clock: ManualClock) -> Iterator[KioskServices]:
    data = tmp_path / "kiosk"
    opened = open_kiosk(
        data, key_store=keys.FileKeyStore(data / "db.key"), clock=clock, hasher=FAST_HASHER
    )
    install_sample(opened.store, sample)
    with opened.store.unit() as s:
        repos.device(s).access_code_prefix = "K7Q"
    seed_officer(opened.store)
    yield opened
    opened.close()


@pytest.fixture
def kiosk(
    qtbot: QtBot,
    app: QApplication,
    services: KioskServices,
    clock: ManualClock,
    english: Translations,
) -> Iterator[KioskUnderTest]:
    made = make_kiosk(qtbot, app, services, clock, english)
    yield made
    made.close()


@pytest.fixture
def console(kiosk: KioskUnderTest, services: KioskServices) -> Iterator[Console]:
    attached = attach_console(
        kiosk.window, kiosk.presenter, store=services.store, clock=services.clock
    )
    yield attached
    attached.runner.wait()


@pytest.fixture
def officer(qtbot: QtBot, kiosk: KioskUnderTest, console: Console) -> OfficerAtKiosk:
    return OfficerAtKiosk(qtbot, kiosk.window, console)


def test_ctrl_alt_o_asks_for_officer_credentials(officer: OfficerAtKiosk) -> None:
    officer.press_open_keys()
    assert officer.window.current_screen() == "officer-sign-in"


def test_a_long_press_on_the_welcome_title_opens_the_console(qtbot: QtBot) -> None:
    welcome = WelcomeScreen(hold_ms=50)
    qtbot.addWidget(welcome)
    welcome.show()
    title = next(label for label in welcome.findChildren(QLabel) if label.text() == "Welcome")
    with qtbot.waitSignal(welcome.officer_requested, timeout=2000):
        QTest.mousePress(title, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    QTest.mouseRelease(title, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))


def test_a_short_press_on_the_title_does_not(qtbot: QtBot) -> None:
    welcome = WelcomeScreen(hold_ms=60_000)
    qtbot.addWidget(welcome)
    welcome.show()
    title = next(label for label in welcome.findChildren(QLabel) if label.text() == "Welcome")
    with qtbot.assertNotEmitted(welcome.officer_requested, wait=20):
        QTest.mouseClick(title, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))


def test_the_right_password_opens_the_console_with_the_device_status(
    officer: OfficerAtKiosk,
) -> None:
    officer.press_open_keys()
    officer.sign_in("olive", OFFICER_PASSWORD)
    officer.settle()
    assert officer.window.current_screen() == "console"
    status = officer.console.screens.console.status()
    assert status["Packs cached"] == "alcohol-and-you v1"
    assert status["Last successful sync"] == "Never"
    assert status["Events waiting"] == "0"
    assert status["Last error"] == "None"
    assert status["App version"]
    assert status["Free disk"].endswith("MB")


def test_a_wrong_password_is_refused_and_repeated_ones_lock_the_console(
    officer: OfficerAtKiosk, clock: ManualClock
) -> None:
    officer.press_open_keys()
    officer.sign_in("olive", "not the password")
    sign_in = officer.console.screens.sign_in
    assert officer.window.current_screen() == "officer-sign-in"
    assert sign_in.error() == "That username and password do not match."
    for _ in range(MAX_ATTEMPTS - 1):
        clock.advance(60)
        officer.sign_in("", "not the password")
    assert sign_in.error() == "Too many wrong passwords. Please try again later."
    clock.advance(60)
    officer.sign_in("", OFFICER_PASSWORD)
    assert officer.window.current_screen() == "officer-sign-in"


def test_opening_the_console_signs_the_participant_out(
    qtbot: QtBot,
    kiosk: KioskUnderTest,
    officer: OfficerAtKiosk,
    services: KioskServices,
    sample: SamplePack,
) -> None:
    who = register(services.store, programme=sample.programme, access_code="ABC-00001")
    Participant(qtbot, kiosk).sign_in(who.access_code, TEMPORARY_PIN)
    signed_in_before = services.session.signed_in
    officer.press_open_keys()
    assert signed_in_before is not None
    assert services.session.signed_in is None
    assert officer.window.current_screen() == "officer-sign-in"


def test_registering_a_participant_shows_the_credentials_slip(officer: OfficerAtKiosk) -> None:
    officer.press_open_keys()
    officer.sign_in("olive", OFFICER_PASSWORD)
    officer.tap("Register a participant")
    officer.settle()
    assert officer.window.current_screen() == "register"
    officer.type_into("First name", "Sam")
    officer.type_into("Force reference", "NC/2026/0042")
    officer.tap("Register")
    officer.settle()
    assert officer.window.current_screen() == "slip"
    slip = officer.console.screens.slip.slip()
    assert slip["Access code"] == "K7Q-00001"
    assert len(slip["Temporary PIN"]) == 6
    assert slip["Temporary PIN"].isdigit()
    assert slip["Programme"] == "alcohol-and-you"  # no catalogue title here: the pack id
    assert "2026" in slip["Deadline"]
    officer.tap("Done")
    officer.settle()
    assert officer.window.current_screen() == "console"
    assert officer.console.screens.slip.slip()["Temporary PIN"] == ""


def test_a_registration_the_service_refuses_says_why(officer: OfficerAtKiosk) -> None:
    officer.press_open_keys()
    officer.sign_in("olive", OFFICER_PASSWORD)
    officer.tap("Register a participant")
    officer.settle()
    officer.tap("Register")  # no name
    officer.settle()
    assert officer.window.current_screen() == "register"
    assert officer.console.screens.register.error().startswith("Please check first name")


def test_lock_returns_to_welcome(officer: OfficerAtKiosk) -> None:
    officer.press_open_keys()
    officer.sign_in("olive", OFFICER_PASSWORD)
    officer.settle()
    officer.tap("Lock")
    officer.settle()
    assert officer.window.current_screen() == "welcome"
    assert not officer.console.presenter.signed_in


def test_exit_kiosk_closes_the_window(qtbot: QtBot, officer: OfficerAtKiosk) -> None:
    officer.press_open_keys()
    officer.sign_in("olive", OFFICER_PASSWORD)
    officer.settle()
    officer.tap("Exit kiosk")
    qtbot.waitUntil(lambda: not officer.window.isVisible())
    assert officer.console.quits == [True]
