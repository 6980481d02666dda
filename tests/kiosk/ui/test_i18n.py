"""Translations: a compiled .qm changes what the participant sees; English needs no file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kiosk_app.ui.i18n import TRANSLATIONS_DIR, Translations, qm_path
from kiosk_app.ui.screens.welcome import WelcomeScreen
from kiosk_app.ui.viewmodels import LanguageOption
from tests.kiosk.ui.conftest import button_named

POLISH_TS = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="pl" sourcelanguage="en">
<context>
    <name>WelcomeScreen</name>
    <message><source>Start</source><translation>Zacznij</translation></message>
</context>
</TS>
"""


def lrelease() -> Path:
    found = Path(sys.executable).with_name("pyside6-lrelease")
    if not found.exists():
        pytest.fail("pyside6-lrelease missing: PySide6-Essentials ships it", pytrace=False)
    return found


def compile_ts(ts_text: str, qm: Path) -> Path:
    ts = qm.with_suffix(".ts")
    ts.write_text(ts_text, encoding="utf-8")
    subprocess.run([lrelease(), ts, "-qm", qm], check=True, capture_output=True)
    return qm


@pytest.fixture
def translations_dir(tmp_path: Path) -> Path:
    shutil.copy(qm_path(TRANSLATIONS_DIR, "en"), tmp_path)
    compile_ts(POLISH_TS, qm_path(tmp_path, "pl"))
    return tmp_path


@pytest.fixture
def translations(qapp: QApplication, translations_dir: Path) -> Translations:
    return Translations(qapp, translations_dir)


def test_installing_a_translation_changes_visible_text(
    qtbot: QtBot, translations: Translations
) -> None:
    welcome = WelcomeScreen()
    qtbot.addWidget(welcome)
    start = button_named(welcome, "Start")
    assert start.text() == "Start"
    try:
        assert translations.switch_to("pl")
        qtbot.waitUntil(lambda: start.text() == "Zacznij")
        assert translations.current == "pl"
        assert translations.switch_to("en")
        qtbot.waitUntil(lambda: start.text() == "Start")
    finally:
        translations.remove()


def test_languages_offered_are_english_then_each_translation(
    translations: Translations,
) -> None:
    assert translations.available_codes() == ["en", "pl"]
    assert translations.language_options() == [
        LanguageOption("en", "English"),
        LanguageOption("pl", "Polski"),
    ]


def test_missing_language_falls_back_to_english(translations: Translations) -> None:
    try:
        assert not translations.switch_to("xx")
        assert translations.current == "en"
    finally:
        translations.remove()


def test_shipped_english_plurals_are_compiled_from_their_source(tmp_path: Path) -> None:
    source = (TRANSLATIONS_DIR / "kiosk_en.ts").read_text(encoding="utf-8")
    fresh = compile_ts(source, tmp_path / "kiosk_en.qm")
    assert fresh.read_bytes() == qm_path(TRANSLATIONS_DIR, "en").read_bytes(), (
        "run pyside6-lrelease kiosk_app/ui/translations/kiosk_en.ts"
    )
