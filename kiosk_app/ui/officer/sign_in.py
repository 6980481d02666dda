"""The officer's sign-in screen: username and password, checked by the presenter."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from kiosk_app.ui.officer.common import (
    RetranslatingWidget,
    button_row,
    field_form,
    heading,
    name_buttons,
    page,
)
from kiosk_app.ui.steps.common import button, label


class OfficerSignInScreen(RetranslatingWidget):
    sign_in_requested = Signal(str, str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heading = heading()
        self._username_label = QLabel()
        self._username = QLineEdit()
        self._username.setMaxLength(80)
        self._password_label = QLabel()
        self._password = QLineEdit()
        self._password.setEchoMode(QLineEdit.EchoMode.Password)
        self._password.setMaxLength(1024)
        self._error = label("error")
        self._sign_in = button("primary")
        self._cancel = button()
        self._sign_in.clicked.connect(self._submit)
        self._username.returnPressed.connect(self._password.setFocus)
        self._password.returnPressed.connect(self._submit)
        self._cancel.clicked.connect(self.cancelled)

        page(
            self,
            self._heading,
            field_form(
                (self._username_label, self._username), (self._password_label, self._password)
            ),
            self._error,
            button_row([self._cancel], [self._sign_in]),
            margins=(80, 40, 80, 40),
            space_below=True,
        )
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

    def _retranslate(self) -> None:
        self._heading.setText(self.tr("Officer sign-in"))
        self._username_label.setText(self.tr("&Username"))
        self._password_label.setText(self.tr("&Password"))
        self._username.setAccessibleName(self.tr("Username"))
        self._password.setAccessibleName(self.tr("Password"))
        self._error.setAccessibleName(self.tr("Sign-in problem"))
        name_buttons((self._sign_in, self.tr("Sign in")), (self._cancel, self.tr("Cancel")))
