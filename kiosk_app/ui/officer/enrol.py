"""Enrolling this kiosk: the server's address and the one-time code, then the first sync."""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from kiosk_app.core.download_meter import TransferProgress
from kiosk_app.ui.officer.common import (
    RetranslatingWidget,
    button_row,
    field_form,
    heading,
    name_buttons,
    page,
)
from kiosk_app.ui.officer.progress import DownloadView
from kiosk_app.ui.steps.common import button, label


class EnrolField(StrEnum):
    """The field a problem is about, so the screen can put the cursor there."""

    SERVER = "server"
    CODE = "code"


class EnrolScreen(RetranslatingWidget):
    enrol_requested = Signal(str, str)  # server address, enrolment code
    cancelled = Signal()
    finished = Signal()  # enrolled; the officer carries on

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heading = heading()
        self._hint = label()
        self._server_label = QLabel()
        self._server = QLineEdit()
        self._server.setMaxLength(2048)
        self._server.setPlaceholderText("https://")
        self._code_label = QLabel()
        self._code = QLineEdit()
        self._code.setMaxLength(40)
        self._downloads = DownloadView(self)
        self._status = label()
        self._error = label("error")
        self._cancel = button()
        self._enrol = button("primary")
        self._continue = button("primary")
        self._continue.setVisible(False)
        self._server.returnPressed.connect(self._code.setFocus)
        self._code.returnPressed.connect(self._submit)
        self._enrol.clicked.connect(self._submit)
        self._cancel.clicked.connect(self.cancelled)
        self._continue.clicked.connect(self.finished)

        page(
            self,
            self._heading,
            self._hint,
            field_form((self._server_label, self._server), (self._code_label, self._code)),
            self._downloads,
            self._status,
            self._error,
            button_row([self._cancel], [self._enrol, self._continue]),
            spacing=16,
            space_below=True,
        )
        self.setFocusProxy(self._server)
        self._retranslate()

    def start(self, *, server_url: str = "") -> None:
        """Empty and ready to type (the address kept from a try that failed, if given)."""
        self._server.setText(server_url)
        self._code.clear()
        self._status.clear()
        self._error.clear()
        self._downloads.clear()
        self._enrol.setVisible(True)
        self._continue.setVisible(False)
        self.set_busy(False)
        self.setFocusProxy(self._code if server_url else self._server)

    def set_busy(self, busy: bool) -> None:
        for widget in (self._server, self._code, self._enrol, self._cancel):
            widget.setEnabled(not busy)

    def show_status(self, message: str) -> None:
        self._status.setText(message)

    def show_progress(self, progress: TransferProgress) -> None:
        self._downloads.show_progress(progress)

    def show_error(self, message: str, field: EnrolField | None = None) -> None:
        """Refused: say why, and put the cursor where the fix is."""
        self.set_busy(False)
        self._status.clear()
        self._error.setText(message)
        target = {EnrolField.SERVER: self._server, EnrolField.CODE: self._code}.get(
            field or EnrolField.CODE, self._code
        )
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        target.selectAll()

    def show_enrolled(self, message: str) -> None:
        """Done: the fields stay locked; Continue takes the officer on."""
        self.set_busy(True)
        self._error.clear()
        self._status.setText(message)
        self._enrol.setVisible(False)
        self._continue.setVisible(True)
        self.setFocusProxy(self._continue)
        self._continue.setFocus(Qt.FocusReason.OtherFocusReason)

    def error(self) -> str:
        return self._error.text()

    def status(self) -> str:
        return self._status.text()

    def download_details(self) -> str:
        return self._downloads.details()

    def download_percent(self) -> int:
        return self._downloads.percent()

    def _submit(self) -> None:
        if self._enrol.isEnabled() and self._enrol.isVisible():
            self.enrol_requested.emit(self._server.text(), self._code.text())

    def _retranslate(self) -> None:
        self._heading.setText(self.tr("Enrol this device"))
        self._hint.setText(
            self.tr(
                "Type the sync server's address and the one-time enrolment code from the "
                "staff dashboard (Devices page). The kiosk then downloads its programmes."
            )
        )
        self._server_label.setText(self.tr("&Server address"))
        self._code_label.setText(self.tr("Enrolment &code"))
        self._server.setAccessibleName(self.tr("Server address"))
        self._code.setAccessibleName(self.tr("Enrolment code"))
        self._code.setPlaceholderText(self.tr("for example ABCD-EFGH-JKMN"))
        self._status.setAccessibleName(self.tr("Enrolment progress"))
        self._error.setAccessibleName(self.tr("Enrolment problem"))
        name_buttons(
            (self._cancel, self.tr("Cancel")),
            (self._enrol, self.tr("Enrol")),
            (self._continue, self.tr("Continue")),
        )
