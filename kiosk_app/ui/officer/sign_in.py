"""The officer's sign-in screen: username and password, checked by the presenter."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class OfficerSignInScreen(QWidget):
    sign_in_requested = Signal(str, str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heading = QLabel()
        self._heading.setProperty("role", "title")
        self._username_label = QLabel()
        self._username = QLineEdit()
        self._username.setMaxLength(80)
        self._password_label = QLabel()
        self._password = QLineEdit()
        self._password.setEchoMode(QLineEdit.EchoMode.Password)
        self._password.setMaxLength(1024)
        self._username_label.setBuddy(self._username)
        self._password_label.setBuddy(self._password)
        self._error = QLabel()
        self._error.setProperty("role", "error")
        self._error.setWordWrap(True)
        self._sign_in = QPushButton()
        self._sign_in.setProperty("role", "primary")
        self._sign_in.setAutoDefault(True)
        self._cancel = QPushButton()
        self._cancel.setAutoDefault(True)
        self._sign_in.clicked.connect(self._submit)
        self._username.returnPressed.connect(self._password.setFocus)
        self._password.returnPressed.connect(self._submit)
        self._cancel.clicked.connect(self.cancelled)

        form = QFormLayout()
        form.addRow(self._username_label, self._username)
        form.addRow(self._password_label, self._password)
        buttons = QHBoxLayout()
        buttons.addWidget(self._cancel)
        buttons.addStretch(1)
        buttons.addWidget(self._sign_in)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(80, 40, 80, 40)
        layout.addWidget(self._heading)
        layout.addLayout(form)
        layout.addWidget(self._error)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.setFocusProxy(self._username)
        self._retranslate()

    def clear(self) -> None:
        """Nothing typed, no message, ready to type."""
        self._username.clear()
        self._password.clear()
        self._error.clear()
        self.set_busy(False)

    def set_busy(self, busy: bool) -> None:
        for widget in (self._username, self._password, self._sign_in):
            widget.setEnabled(not busy)

    def show_error(self, message: str) -> None:
        """Refused: say why, and clear the password for the next try."""
        self._error.setText(message)
        self._password.clear()
        self._password.setFocus(Qt.FocusReason.OtherFocusReason)

    def error(self) -> str:
        return self._error.text()

    def _submit(self) -> None:
        if self._sign_in.isEnabled():
            self.sign_in_requested.emit(self._username.text(), self._password.text())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self._heading.setText(self.tr("Officer sign-in"))
        self._username_label.setText(self.tr("&Username"))
        self._password_label.setText(self.tr("&Password"))
        self._username.setAccessibleName(self.tr("Username"))
        self._password.setAccessibleName(self.tr("Password"))
        self._error.setAccessibleName(self.tr("Sign-in problem"))
        self._sign_in.setText(self.tr("Sign in"))
        self._sign_in.setAccessibleName(self.tr("Sign in"))
        self._cancel.setText(self.tr("Cancel"))
        self._cancel.setAccessibleName(self.tr("Cancel"))
