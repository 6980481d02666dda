"""Choose a new PIN, then type it again, on the big keypad; shows the core's refusal."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from kiosk_app.core.pin import PIN_LENGTH
from kiosk_app.ui.steps.common import button, label
from kiosk_app.ui.viewmodels import KeypadMode
from kiosk_app.ui.widgets.keypad import Keypad


class ChoosePinScreen(QWidget):
    """Emits `pin_chosen(new_pin, confirm)`; the core checks both, `show_problem` says why not."""

    pin_chosen = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._first = ""
        self._restart = button()
        self._restart.clicked.connect(self.clear)
        self._step = label("hint", wrap=False)
        self._advice = label("hint")
        self._advice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._keypad = Keypad(self)
        self._keypad.setMaximumWidth(640)
        self._keypad.submitted.connect(self._on_submitted)
        top = QHBoxLayout()
        top.addWidget(self._restart)
        top.addStretch(1)
        top.addWidget(self._step)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 28, 40, 28)
        layout.setSpacing(16)
        layout.addLayout(top)
        layout.addWidget(self._advice)
        layout.addWidget(self._keypad, 1, Qt.AlignmentFlag.AlignHCenter)
        self.setFocusProxy(self._keypad)
        self.clear()

    @property
    def keypad(self) -> Keypad:
        """The keypad, for presenters and tests that type on it."""
        return self._keypad

    def confirming(self) -> bool:
        """True while asking for the PIN a second time."""
        return bool(self._first)

    def show_problem(self, text: str) -> None:
        """The core refused the PIN: start again and say why (already translated)."""
        self.clear()
        self._keypad.set_message(text)

    def clear(self) -> None:
        """Forget both entries and any message; back to the first entry."""
        self._first = ""
        self._keypad.set_mode(KeypadMode.PIN, max_length=PIN_LENGTH)
        self._retranslate()
        if self.isVisible():
            self._keypad.setFocus(Qt.FocusReason.OtherFocusReason)

    def plain_text(self) -> str:
        """What the screen asks, for read-aloud."""
        return "\n".join([self._prompt(), self._advice.text()])

    def _on_submitted(self, value: str) -> None:
        if not self._first:
            self._first = value
            self._keypad.clear()
            self._retranslate()
        else:
            first, self._first = self._first, ""
            self._keypad.clear()
            self._retranslate()
            self.pin_chosen.emit(first, value)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _prompt(self) -> str:
        if self.confirming():
            return self.tr("Type the same PIN again")
        return self.tr("Choose your own PIN of %1 numbers").replace("%1", str(PIN_LENGTH))

    def _retranslate(self) -> None:
        again = self.confirming()
        self._step.setText(self.tr("Step 2 of 2") if again else self.tr("Step 1 of 2"))
        self._keypad.set_prompt(self._prompt())
        self._advice.setText(
            self.tr(
                "Pick numbers you will remember. Not the same number six times, and not "
                "numbers in order like 123456. Keep it secret."
            )
        )
        self._restart.setText(self.tr("⟲ Start again"))
        self._restart.setAccessibleName(self.tr("start again"))
        self._restart.setVisible(again)
