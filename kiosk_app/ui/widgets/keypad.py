"""Large on-screen keypad for access codes and PINs; works by touch, mouse and keyboard."""

from __future__ import annotations

import string

from PySide6.QtCore import QEvent, QRegularExpression, Qt, Signal
from PySide6.QtGui import QKeyEvent, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk_app.ui.viewmodels import KeypadMode

_CODE_CHARS = string.ascii_uppercase + string.digits + "-"
_LETTER_ROWS = ["ABCDEFG", "HIJKLMN", "OPQRSTU", "VWXYZ-"]


def _key_button(text: str, parent: QWidget) -> QPushButton:
    button = QPushButton(text, parent)
    button.setProperty("role", "key")
    # Touch must not pull focus away from the entry, but Tab still reaches every key.
    button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    button.setAutoDefault(True)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    button.setMinimumSize(84, 72)
    return button


class Keypad(QWidget):
    """Entry box, message line and big keys; emits `submitted` with the typed value."""

    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mode = KeypadMode.ACCESS_CODE
        # Every control is made inside the keypad: a finished widget moved into its parent
        # later has its stylesheet style worked out again, with all its children.
        self._prompt = QLabel(self)
        self._prompt.setProperty("role", "title")
        self._prompt.setWordWrap(True)
        self._prompt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._entry = QLineEdit(self)
        self._entry.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._entry.returnPressed.connect(self._submit)
        self._entry.textChanged.connect(self._on_text_changed)
        self._show_pin = QPushButton(self)
        self._show_pin.setCheckable(True)
        self._show_pin.toggled.connect(self._on_show_pin)
        self._message = QLabel(self)
        self._message.setProperty("role", "message")
        self._message.setWordWrap(True)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self._digit_keys: dict[str, QPushButton] = {}
        self._letter_keys: dict[str, QPushButton] = {}
        self._pages = QStackedWidget(self)
        self._pages.addWidget(self._build_digits())
        # The letters page is built the first time someone asks for letters: 27 keys fewer
        # before the first screen paints (DESIGN.md §7 cold start); typing needs no key.
        self._letters_built = False
        self._switch = _key_button("", self)
        self._switch.clicked.connect(self._toggle_page)
        self._delete = _key_button("", self)
        self._delete.clicked.connect(self._entry.backspace)
        self._ok = _key_button("", self)
        self._ok.setProperty("role", "key-primary")
        self._ok.clicked.connect(self._submit)

        entry_row = QHBoxLayout()
        entry_row.addWidget(self._entry, 1)
        entry_row.addWidget(self._show_pin)
        actions = QHBoxLayout()
        actions.setSpacing(14)
        for button in (self._switch, self._delete, self._ok):
            actions.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setSpacing(16)
        layout.addWidget(self._prompt)
        layout.addLayout(entry_row)
        layout.addWidget(self._message)
        layout.addWidget(self._pages, 1)
        layout.addLayout(actions)
        self.setFocusProxy(self._entry)
        self.set_mode(KeypadMode.ACCESS_CODE)

    # -- public API ---------------------------------------------------------------------------

    def set_mode(self, mode: KeypadMode, *, max_length: int | None = None) -> None:
        """Collect an access code (letters, digits, dash) or a masked PIN (digits); clears."""
        self._mode = mode
        pin = mode is KeypadMode.PIN
        length = max_length or (8 if pin else 16)
        pattern = f"[0-9]{{0,{length}}}" if pin else f"[A-Za-z0-9-]{{0,{length}}}"
        self._entry.setValidator(QRegularExpressionValidator(QRegularExpression(pattern), self))
        self._entry.setMaxLength(length)
        self._show_pin.setChecked(False)
        self._show_pin.setVisible(pin)
        self._entry.setEchoMode(QLineEdit.EchoMode.Password if pin else QLineEdit.EchoMode.Normal)
        self._switch.setVisible(not pin)
        self._pages.setCurrentIndex(0)
        self.clear()
        self._retranslate()

    def mode(self) -> KeypadMode:
        """What the keypad is collecting now."""
        return self._mode

    def set_prompt(self, text: str) -> None:
        """The instruction above the entry box, already translated."""
        self._prompt.setText(text)

    def set_message(self, text: str) -> None:
        """A plain message under the entry box (empty hides it), already translated."""
        self._message.setText(text)
        self._message.setVisible(bool(text))

    def message(self) -> str:
        """The message now shown."""
        return self._message.text()

    def set_locked(self, locked: bool) -> None:
        """Disable typing and keys (during a cooldown); unlocking puts focus back in the box."""
        for widget in (self._entry, self._pages, self._switch, self._delete, self._show_pin):
            widget.setEnabled(not locked)
        self._update_ok()
        if not locked and self.isVisible():
            self._entry.setFocus(Qt.FocusReason.OtherFocusReason)

    def is_locked(self) -> bool:
        """Whether typing is disabled."""
        return not self._entry.isEnabled()

    def text(self) -> str:
        """What has been typed so far."""
        return self._entry.text()

    def clear(self) -> None:
        """Empty the entry box and the message."""
        self._entry.clear()
        self.set_message("")
        self._update_ok()

    def press(self, char: str) -> None:
        """Type one character as if its key were touched (ignored if not allowed)."""
        if self.is_locked():
            return
        self._entry.insert(char)

    # -- internals ----------------------------------------------------------------------------

    def _build_digits(self) -> QWidget:
        page = QWidget(self._pages)
        grid = QGridLayout(page)
        grid.setSpacing(14)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, digit in enumerate("123456789"):
            grid.addWidget(self._make_char_key(digit, self._digit_keys, page), i // 3, i % 3)
        grid.addWidget(self._make_char_key("0", self._digit_keys, page), 3, 1)
        return page

    def _build_letters(self) -> QWidget:
        page = QWidget(self._pages)
        grid = QGridLayout(page)
        grid.setSpacing(10)
        grid.setContentsMargins(0, 0, 0, 0)
        for row, letters in enumerate(_LETTER_ROWS):
            for col, letter in enumerate(letters):
                key = self._make_char_key(letter, self._letter_keys, page)
                grid.addWidget(key, row, col)
        return page

    def _make_char_key(self, char: str, into: dict[str, QPushButton], page: QWidget) -> QPushButton:
        button = _key_button(char, page)
        if char.isalpha():
            button.setMinimumSize(64, 64)
        button.clicked.connect(lambda: self.press(char))
        into[char] = button
        return button

    def _toggle_page(self) -> None:
        if not self._letters_built:
            self._letters_built = True
            self._pages.addWidget(self._build_letters())
        self._pages.setCurrentIndex(1 - self._pages.currentIndex())
        self._retranslate()

    def _on_text_changed(self, text: str) -> None:
        if text != text.upper():
            cursor = self._entry.cursorPosition()
            self._entry.setText(text.upper())
            self._entry.setCursorPosition(cursor)
        self._update_ok()

    def _on_show_pin(self, shown: bool) -> None:
        if self._mode is KeypadMode.PIN:
            mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
            self._entry.setEchoMode(mode)
        self._retranslate()

    def _update_ok(self) -> None:
        self._ok.setEnabled(bool(self._entry.text()) and not self.is_locked())

    def _submit(self) -> None:
        value = self._entry.text()
        if value and not self.is_locked():
            self.submitted.emit(value)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Keys reach here when a keypad button, not the entry box, has focus.
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._submit()
        elif key == Qt.Key.Key_Backspace:
            if not self.is_locked():
                self._entry.backspace()
        elif event.text() and event.text().upper() in _CODE_CHARS:
            self.press(event.text().upper())
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        pin = self._mode is KeypadMode.PIN
        self._entry.setAccessibleName(self.tr("PIN") if pin else self.tr("access code"))
        for digit, button in self._digit_keys.items():
            button.setAccessibleName(self.tr("digit %1").replace("%1", digit))
        for letter, button in self._letter_keys.items():
            name = self.tr("dash") if letter == "-" else self.tr("letter %1").replace("%1", letter)
            button.setAccessibleName(name)
        self._delete.setText(self.tr("⌫ Delete"))
        self._delete.setAccessibleName(self.tr("delete"))
        self._ok.setText(self.tr("OK"))
        self._ok.setAccessibleName(self.tr("OK"))
        letters_shown = self._pages.currentIndex() == 1
        self._switch.setText(self.tr("123 Numbers") if letters_shown else self.tr("ABC Letters"))
        self._switch.setAccessibleName(
            self.tr("show numbers") if letters_shown else self.tr("show letters")
        )
        shown = self._show_pin.isChecked()
        self._show_pin.setText(self.tr("Hide") if shown else self.tr("Show"))
        self._show_pin.setAccessibleName(self.tr("hide PIN") if shown else self.tr("show PIN"))
