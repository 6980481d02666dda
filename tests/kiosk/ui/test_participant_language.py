"""Signed in, the kiosk speaks the participant's registered language, and plays the version of
their programme in it; signed out, it is back to the kiosk's default for the next person."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from kiosk_app.app import KioskServices, open_kiosk
from kiosk_app.core.clock import ManualClock
from kiosk_app.store import keys
from kiosk_app.ui.i18n import TRANSLATIONS_DIR, Translations, qm_path
from tests.kiosk.ui.test_i18n import compile_ts
from tests.support.families import build_family, install_and_offer, set_language
from tests.support.kiosk import (
    FAST_HASHER,
    SamplePack,
    Seeded,
    register,
    settle_first_login,
)
from tests.support.kiosk_ui import KioskUnderTest, Participant, make_kiosk
from tests.support.walk import current

POLISH_TS = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="pl" sourcelanguage="en">
<context>
    <name>WelcomeScreen</name>
    <message><source>Welcome</source><translation>Witamy</translation></message>
</context>
<context>
    <name>HomeScreen</name>
    <message><source>Your programme</source><translation>Twój program</translation></message>
</context>
<context>
    <name>StepFrame</name>
    <message><source>Take a break</source><translation>Zrób przerwę</translation></message>
</context>
</TS>
"""


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> list[SamplePack]:
    return build_family(tmp_path_factory.mktemp("family"))


@pytest.fixture
def languages(qapp: QApplication, tmp_path: Path, english: Translations) -> Iterator[Translations]:
    """The kiosk's translations with a Polish one beside English."""
    folder = tmp_path / "translations"
    folder.mkdir()
    shutil.copy(qm_path(TRANSLATIONS_DIR, "en"), folder)
    compile_ts(POLISH_TS, qm_path(folder, "pl"))
    english.remove()
    translations = Translations(qapp, folder)
    assert translations.switch_to("en")
    yield translations
    translations.remove()


@pytest.fixture
def library_services(
    tmp_path: Path, family: list[SamplePack], clock: ManualClock
) -> Iterator[KioskServices]:
    data = tmp_path / "kiosk"
    with open_kiosk(
        data, key_store=keys.FileKeyStore(data / "db.key"), clock=clock, hasher=FAST_HASHER
    ) as opened:
        install_and_offer(opened.store, *family)
        yield opened


@pytest.fixture
def kiosk(
    qtbot: QtBot,
    app: QApplication,
    library_services: KioskServices,
    clock: ManualClock,
    languages: Translations,
) -> Iterator[KioskUnderTest]:
    under_test = make_kiosk(qtbot, app, library_services, clock, languages)
    yield under_test
    under_test.close()


@pytest.fixture
def person(qtbot: QtBot, kiosk: KioskUnderTest) -> Participant:
    return Participant(qtbot, kiosk)


def registered(
    services: KioskServices, family: list[SamplePack], clock: ManualClock, language: str, code: str
) -> Seeded:
    who = register(services.store, programme=family[0].programme, access_code=code, clock=clock)
    set_language(services.store, who.participant_id, language)
    return settle_first_login(services.store, who, own_pin="482916", clock=clock)


def shows(root: QWidget, text: str) -> bool:
    labels = [w.text() for w in root.findChildren(QLabel) if w.isVisible()]
    buttons = [w.text() for w in root.findChildren(QPushButton) if w.isVisible()]
    return text in labels + buttons


def test_a_polish_participant_sees_polish_until_they_sign_out(
    kiosk: KioskUnderTest,
    person: Participant,
    library_services: KioskServices,
    family: list[SamplePack],
    clock: ManualClock,
    languages: Translations,
) -> None:
    who = registered(library_services, family, clock, "pl", "ABC-00001")
    assert shows(kiosk.window.welcome, "Welcome")

    person.sign_in(who.access_code, who.pin)
    person.wait_for_screen("home")
    assert languages.current == "pl"
    person.qtbot.waitUntil(lambda: shows(kiosk.screens.home, "Twój program"))
    assert shows(kiosk.screens.home, "Alkohol i ty")  # the programme's Polish title
    assert shows(kiosk.screens.home, "Na początek")  # and its first module's

    person.tap("Continue")
    person.wait_for_screen("step")
    player = current(kiosk)
    assert player.programme.id == "alcohol-and-you-pl"
    person.qtbot.waitUntil(lambda: shows(kiosk.screens.step, "Zrób przerwę"))
    assert shows(kiosk.screens.step, "Na początek")  # the Polish module's title
    assert kiosk.speaker.language() == "pl"  # read aloud in Polish where a voice has it

    person.tap("take a break")
    person.wait_for_screen("welcome")
    assert languages.current == "en"
    assert kiosk.window.welcome.language() == "en"
    person.qtbot.waitUntil(lambda: shows(kiosk.window.welcome, "Welcome"))


def test_a_language_chosen_on_welcome_stands_over_the_registered_one(
    kiosk: KioskUnderTest,
    person: Participant,
    library_services: KioskServices,
    family: list[SamplePack],
    clock: ManualClock,
    languages: Translations,
) -> None:
    # Registration defaults to English; the person at the kiosk who picked Polski knows better.
    who = registered(library_services, family, clock, "en", "ABC-00002")
    person.tap("Polski")
    assert languages.current == "pl"
    person.qtbot.waitUntil(lambda: shows(kiosk.window.welcome, "Witamy"))
    person.sign_in(who.access_code, who.pin)
    person.wait_for_screen("home")
    assert languages.current == "pl"
    person.tap("Continue")
    person.wait_for_screen("step")
    # The programme itself follows the registration (the officer recorded it).
    assert current(kiosk).programme.id == "alcohol-and-you"


def test_a_language_the_kiosk_has_no_translation_for_keeps_the_welcome_choice(
    kiosk: KioskUnderTest,
    person: Participant,
    library_services: KioskServices,
    family: list[SamplePack],
    clock: ManualClock,
    languages: Translations,
) -> None:
    who = registered(library_services, family, clock, "ro", "ABC-00003")
    person.tap("Polski")
    person.sign_in(who.access_code, who.pin)
    person.wait_for_screen("home")
    assert languages.current == "pl"
    person.tap("take a break")
    person.wait_for_screen("welcome")
    assert languages.current == "en"
