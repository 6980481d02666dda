"""Welcome screen: a big Start button, language and accessibility choices, nothing personal."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk_app.ui.viewmodels import ENGLISH, AccessibilityOptions, LanguageOption, TextSize
from kiosk_app.ui.widgets.long_press import LONG_PRESS_MS, LongPress

_LANGUAGES_PER_ROW = 4


def _choice_button(parent: QWidget) -> QPushButton:
    button = QPushButton(parent)
    button.setCheckable(True)
    button.setAutoDefault(True)
    return button


class WelcomeScreen(QWidget):
    """The first screen; every choice is emitted at once so it applies immediately."""

    start_requested = Signal()
    language_chosen = Signal(str)
    accessibility_changed = Signal(AccessibilityOptions)
    # A long press on the title: an officer asks for the console.
    officer_requested = Signal()

    def __init__(self, parent: QWidget | None = None, *, hold_ms: int = LONG_PRESS_MS) -> None:
        super().__init__(parent)
        self._options = AccessibilityOptions()
        self._languages: list[LanguageOption] = [ENGLISH]
        self._language = ENGLISH.code

        # Controls are made inside the screen (not moved in later: see Keypad).
        self._title = QLabel(self)
        self._title.setProperty("role", "title")
        self._title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._title.setWordWrap(True)
        LongPress(self._title, hold_ms=hold_ms).held.connect(self.officer_requested)
        self._start = QPushButton(self)
        self._start.setProperty("role", "primary")
        self._start.setAutoDefault(True)
        self._start.clicked.connect(self.start_requested)

        self._language_label = QLabel(self)
        self._language_grid = QGridLayout()
        self._language_grid.setSpacing(12)
        for column in range(_LANGUAGES_PER_ROW):
            self._language_grid.setColumnStretch(column, 1)
        self._language_group = QButtonGroup(self)
        self._language_group.setExclusive(True)
        self._language_buttons: dict[str, QPushButton] = {}

        self._size_label = QLabel(self)
        self._size_group = QButtonGroup(self)
        self._size_buttons: dict[TextSize, QPushButton] = {}
        size_row = QHBoxLayout()
        size_row.setSpacing(12)
        for size in TextSize:
            button = _choice_button(self)
            button.clicked.connect(lambda _=False, s=size: self._choose_size(s))
            self._size_group.addButton(button)
            self._size_buttons[size] = button
            size_row.addWidget(button)
        self._contrast = _choice_button(self)
        self._contrast.toggled.connect(self._on_contrast)
        self._read_aloud = _choice_button(self)
        self._read_aloud.toggled.connect(self._on_read_aloud)
        toggles = QHBoxLayout()
        toggles.setSpacing(12)
        toggles.addWidget(self._contrast)
        toggles.addWidget(self._read_aloud)

        options = QVBoxLayout()
        options.setSpacing(12)
        options.addWidget(self._language_label)
        options.addLayout(self._language_grid)
        options.addSpacing(12)
        options.addWidget(self._size_label)
        options.addLayout(size_row)
        options.addSpacing(12)
        options.addLayout(toggles)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 40, 48, 40)
        layout.setSpacing(24)
        layout.addStretch(1)
        layout.addWidget(self._title)
        layout.addWidget(self._start, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        layout.addLayout(options)
        layout.addStretch(1)

        self.set_languages([ENGLISH])
        self._sync_controls()
        self._retranslate()
        self.setFocusProxy(self._start)

    # -- public API ---------------------------------------------------------------------------

    def set_languages(self, languages: Sequence[LanguageOption]) -> None:
        """The languages to offer, in order; keeps the current choice when still offered."""
        for button in self._language_buttons.values():
            self._language_group.removeButton(button)
            self._language_grid.removeWidget(button)
            button.setParent(None)
            button.deleteLater()
        self._language_buttons.clear()
        self._languages = list(languages) or [ENGLISH]
        for i, language in enumerate(self._languages):
            button = _choice_button(self)
            button.setText(language.native_name)
            button.setAccessibleName(language.native_name)
            button.clicked.connect(lambda _=False, code=language.code: self._choose_language(code))
            self._language_group.addButton(button)
            self._language_grid.addWidget(button, i // _LANGUAGES_PER_ROW, i % _LANGUAGES_PER_ROW)
            self._language_buttons[language.code] = button
        if self._language not in self._language_buttons:
            self._language = self._languages[0].code
        self._language_buttons[self._language].setChecked(True)

    def set_language(self, code: str) -> None:
        """Show `code` as chosen without emitting (the presenter already knows)."""
        if code in self._language_buttons:
            self._language = code
            self._language_buttons[code].setChecked(True)

    def language(self) -> str:
        """The language code chosen."""
        return self._language

    def set_accessibility(self, options: AccessibilityOptions) -> None:
        """Show these options as chosen without emitting."""
        self._options = options
        self._sync_controls()

    def accessibility(self) -> AccessibilityOptions:
        """The accessibility options chosen."""
        return self._options

    def reset(self) -> None:
        """Back to the defaults for the next person, announcing them so they apply at once."""
        self._options = AccessibilityOptions()
        self._sync_controls()
        self._language = self._languages[0].code
        self._language_buttons[self._language].setChecked(True)
        self.language_chosen.emit(self._language)
        self.accessibility_changed.emit(self._options)

    # -- internals ----------------------------------------------------------------------------

    def _choose_language(self, code: str) -> None:
        if code != self._language:
            self._language = code
            self.language_chosen.emit(code)

    def _choose_size(self, size: TextSize) -> None:
        self._change(
            AccessibilityOptions(size, self._options.high_contrast, self._options.read_aloud)
        )

    def _on_contrast(self, on: bool) -> None:
        self._change(AccessibilityOptions(self._options.text_size, on, self._options.read_aloud))

    def _on_read_aloud(self, on: bool) -> None:
        self._change(AccessibilityOptions(self._options.text_size, self._options.high_contrast, on))

    def _change(self, options: AccessibilityOptions) -> None:
        self._retranslate()
        if options != self._options:
            self._options = options
            self.accessibility_changed.emit(options)

    def _sync_controls(self) -> None:
        for widget in (self._contrast, self._read_aloud):
            widget.blockSignals(True)
        self._size_buttons[self._options.text_size].setChecked(True)
        self._contrast.setChecked(self._options.high_contrast)
        self._read_aloud.setChecked(self._options.read_aloud)
        for widget in (self._contrast, self._read_aloud):
            widget.blockSignals(False)
        self._retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self._title.setText(self.tr("Welcome"))
        self._start.setText(self.tr("Start"))
        self._start.setAccessibleName(self.tr("Start"))
        self._language_label.setText(self.tr("Language"))
        self._size_label.setText(self.tr("Text size"))
        names = {
            TextSize.STANDARD: self.tr("Standard"),
            TextSize.LARGE: self.tr("Large"),
            TextSize.EXTRA_LARGE: self.tr("Extra large"),
        }
        for size, button in self._size_buttons.items():
            button.setText(names[size])
            button.setAccessibleName(self.tr("text size %1").replace("%1", names[size]))
        self._contrast.setText(
            self.tr("High contrast: On")
            if self._contrast.isChecked()
            else self.tr("High contrast: Off")
        )
        self._contrast.setAccessibleName(self.tr("High contrast"))
        self._read_aloud.setText(
            self.tr("Read aloud: On")
            if self._read_aloud.isChecked()
            else self.tr("Read aloud: Off")
        )
        self._read_aloud.setAccessibleName(self.tr("Read aloud"))
