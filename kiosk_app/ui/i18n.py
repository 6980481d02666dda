"""Loads the kiosk's Qt translations and switches language for every widget at once."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, Qt, QTranslator
from PySide6.QtGui import QGuiApplication

from kiosk_app.ui.viewmodels import ENGLISH, LanguageOption

TRANSLATIONS_DIR = Path(__file__).with_name("translations")
SOURCE_LANGUAGE = ENGLISH.code
_PREFIX = "kiosk_"


def qm_path(directory: Path, code: str) -> Path:
    """Where the compiled translation for `code` lives."""
    return directory / f"{_PREFIX}{code}.qm"


class Translations:
    """Owns the app's translators; switching replaces them and Qt retranslates every widget.

    English is the source language, so it is complete without any file; `kiosk_en.qm`,
    when present, only supplies English plural forms ("1 second" / "2 seconds").
    """

    def __init__(self, app: QCoreApplication, directory: Path = TRANSLATIONS_DIR) -> None:
        self._app = app
        self._directory = directory
        self._installed: list[QTranslator] = []
        self._current = SOURCE_LANGUAGE

    @property
    def current(self) -> str:
        """The language code now shown."""
        return self._current

    def available_codes(self) -> list[str]:
        """English first, then every language with a compiled translation, sorted."""
        found = {
            p.stem.removeprefix(_PREFIX)
            for p in self._directory.glob(f"{_PREFIX}*.qm")
            if p.stem != f"{_PREFIX}{SOURCE_LANGUAGE}"
        }
        return [SOURCE_LANGUAGE, *sorted(found)]

    def language_options(self) -> list[LanguageOption]:
        """The languages to offer, each named in its own language."""
        options = []
        for code in self.available_codes():
            if code == SOURCE_LANGUAGE:
                options.append(ENGLISH)
                continue
            options.append(LanguageOption(code=code, native_name=native_language_name(code)))
        return options

    def remove(self) -> None:
        """Uninstall every translator this object installed."""
        for translator in self._installed:
            self._app.removeTranslator(translator)
            translator.deleteLater()
        self._installed.clear()

    def switch_to(self, code: str) -> bool:
        """Show the kiosk in `code`; False (and English) when no translation is available."""
        self.remove()
        ok = code == SOURCE_LANGUAGE or qm_path(self._directory, code).is_file()
        language = code if ok else SOURCE_LANGUAGE
        # English plural forms load first; the chosen language's file wins where both translate.
        self._load(qm_path(self._directory, SOURCE_LANGUAGE))
        if language != SOURCE_LANGUAGE:
            ok = self._load(qm_path(self._directory, language))
            qt_dir = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))
            self._load(qt_dir / f"qtbase_{language}.qm")
        self._current = language if ok else SOURCE_LANGUAGE
        if isinstance(self._app, QGuiApplication):
            rtl = QLocale(self._current).textDirection() == Qt.LayoutDirection.RightToLeft
            self._app.setLayoutDirection(
                Qt.LayoutDirection.RightToLeft if rtl else Qt.LayoutDirection.LeftToRight
            )
        return ok

    def _load(self, path: Path) -> bool:
        if not path.is_file():
            return False
        translator = QTranslator(self._app)
        if not translator.load(str(path)):
            return False
        self._app.installTranslator(translator)
        self._installed.append(translator)
        return True


def native_language_name(code: str) -> str:
    """The language of `code` named in itself, capitalised ("Polski" for "pl"); the code
    itself when Qt does not know it. English is plain "English" (Qt says "American")."""
    if code == SOURCE_LANGUAGE:
        return ENGLISH.native_name
    name = QLocale(code).nativeLanguageName() or code
    return name[:1].upper() + name[1:]
