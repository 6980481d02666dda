"""Login screen: access code, then PIN, on the big keypad; shows errors and a cooldown."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk_app.ui.viewmodels import KeypadMode
from kiosk_app.ui.widgets.keypad import Keypad

PIN_LENGTH = 6


class LoginScreen(QWidget):
    """Asks for the access code, then the PIN; the presenter checks them.

    `tick_ms` is the length of one countdown second, so tests can run a cooldown fast.
    """

    login_requested = Signal(str, str)
    back_requested = Signal()
    cooldown_finished = Signal()

    def __init__(self, parent: QWidget | None = None, *, tick_ms: int = 1000) -> None:
        super().__init__(parent)
        self._code = ""
        self._seconds_left = 0
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self._tick)

        # Controls are made inside the screen (not moved in later: see Keypad).
        self._back = QPushButton(self)
        self._back.setAutoDefault(True)
        self._back.clicked.connect(self._go_back)
        self._step = QLabel(self)
        self._step.setProperty("role", "hint")
        self._keypad = Keypad(self)
        self._keypad.setMaximumWidth(640)
        self._keypad.submitted.connect(self._on_submitted)
        self._countdown = QLabel(self)
        self._countdown.setProperty("role", "countdown")
        self._countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._countdown.hide()

        top = QHBoxLayout()
        top.addWidget(self._back)
        top.addStretch(1)
        top.addWidget(self._step)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 28, 40, 28)
        layout.setSpacing(16)
        layout.addLayout(top)
        layout.addWidget(self._keypad, 1, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self._countdown)
        self.setFocusProxy(self._keypad)
        self._retranslate()

    # -- public API ---------------------------------------------------------------------------

    @property
    def keypad(self) -> Keypad:
        """The keypad, for tests and presenters that type on it."""
        return self._keypad

    def asking_for_pin(self) -> bool:
        """True once the access code is in and the PIN is being asked for."""
        return self._keypad.mode() is KeypadMode.PIN

    def show_error(self, text: str) -> None:
        """A plain, already translated message, e.g. "That PIN is not right."."""
        self._keypad.set_message(text)

    def start_cooldown(self, seconds: int) -> None:
        """Lock the keypad and count down visibly; `cooldown_finished` when it ends."""
        self._seconds_left = max(0, seconds)
        if self._seconds_left == 0:
            self._end_cooldown()
            return
        self._keypad.set_locked(True)
        self._back.setEnabled(False)
        self._countdown.show()
        self._show_countdown()
        self._timer.start()

    def cooldown_active(self) -> bool:
        """Whether the keypad is waiting for a cooldown to end."""
        return self._timer.isActive()

    def clear(self) -> None:
        """Forget the code, PIN, messages and any cooldown; back to the access code step."""
        self._timer.stop()
        self._seconds_left = 0
        self._countdown.hide()
        self._back.setEnabled(True)
        self._keypad.set_locked(False)
        self._code = ""
        self._keypad.set_mode(KeypadMode.ACCESS_CODE)
        self._retranslate()

    # -- internals ----------------------------------------------------------------------------

    def _on_submitted(self, value: str) -> None:
        if self._keypad.mode() is KeypadMode.ACCESS_CODE:
            self._code = value
            self._keypad.set_mode(KeypadMode.PIN, max_length=PIN_LENGTH)
            self._retranslate()
            self._keypad.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            pin = value
            self._keypad.clear()
            self.login_requested.emit(self._code, pin)

    def _go_back(self) -> None:
        if self.asking_for_pin():
            code = self._code
            self._keypad.set_mode(KeypadMode.ACCESS_CODE)
            for char in code:
                self._keypad.press(char)
            self._retranslate()
            self._keypad.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.back_requested.emit()

    def _tick(self) -> None:
        self._seconds_left -= 1
        if self._seconds_left <= 0:
            self._end_cooldown()
        else:
            self._show_countdown()

    def _end_cooldown(self) -> None:
        self._timer.stop()
        self._countdown.hide()
        self._back.setEnabled(True)
        self._keypad.set_locked(False)
        self.cooldown_finished.emit()

    def _show_countdown(self) -> None:
        self._countdown.setText(self.tr("You can try again in %n seconds.", "", self._seconds_left))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        pin = self.asking_for_pin()
        self._back.setText(self.tr("← Back"))
        self._back.setAccessibleName(self.tr("back"))
        self._step.setText(self.tr("Step 2 of 2") if pin else self.tr("Step 1 of 2"))
        self._keypad.set_prompt(
            self.tr("Type your PIN") if pin else self.tr("Type your access code")
        )
        if self.cooldown_active():
            self._show_countdown()
