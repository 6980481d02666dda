"""The console's main screen: the device's status and the officer's actions."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QGridLayout, QLabel, QWidget

from kiosk_app.core.download_meter import TransferProgress
from kiosk_app.ui.officer.common import RetranslatingWidget, heading, name_buttons, page
from kiosk_app.ui.officer.progress import DownloadView
from kiosk_app.ui.steps.common import button, label


class ConsoleScreen(RetranslatingWidget):
    sync_requested = Signal()
    register_requested = Signal()
    find_requested = Signal()
    enrol_requested = Signal()
    lock_requested = Signal()
    exit_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heading = heading()
        self._status_heading = QLabel()
        self._status = QFormLayout()
        self._message = label()
        self._sync = button("primary")
        self._register = button()
        self._find = button()
        self._enrol = button()
        self._offer_enrolment = False  # until the status says this kiosk is not enrolled
        self._lock = button()
        self._exit = button()
        self._downloads = DownloadView(self)
        self._sync.clicked.connect(self.sync_requested)
        self._register.clicked.connect(self.register_requested)
        self._find.clicked.connect(self.find_requested)
        self._enrol.clicked.connect(self.enrol_requested)
        self._lock.clicked.connect(self.lock_requested)
        self._exit.clicked.connect(self.exit_requested)

        self._actions = QGridLayout()
        self._lay_out_actions()
        page(
            self,
            self._heading,
            self._status_heading,
            self._status,
            self._downloads,
            self._message,
            self._actions,
            spacing=16,
            space_below=True,
        )
        self.setFocusProxy(self._sync)
        self._officer_name = ""
        self._retranslate()

    def set_officer(self, display_name: str) -> None:
        self._officer_name = display_name
        self._retranslate()

    def set_status(self, rows: Sequence[tuple[str, str]]) -> None:
        """Label and value pairs, in plain words (made by the presenter)."""
        while self._status.rowCount():
            self._status.removeRow(0)
        for name, value in rows:
            shown = QLabel(value)
            shown.setWordWrap(True)
            shown.setAccessibleName(name)
            self._status.addRow(QLabel(name), shown)

    def status(self) -> dict[str, str]:
        """What the status shows, by label (as a screen reader reads it)."""
        return {value.accessibleName(): value.text() for value in self._status_values()}

    def set_syncing(self, syncing: bool) -> None:
        self._sync.setEnabled(not syncing)
        if syncing:
            self._downloads.clear()

    def set_enrolled(self, enrolled: bool) -> None:
        """Enrolling is offered only to a kiosk that is not enrolled."""
        self._offer_enrolment = not enrolled
        self._lay_out_actions()

    def _lay_out_actions(self) -> None:
        # Two to a row in order, enrolment last when not offered: no hole where it would be.
        self._enrol.setVisible(self._offer_enrolment)
        buttons = (self._sync, self._register, self._find, self._enrol, self._lock, self._exit)
        ordered = sorted(buttons, key=lambda b: b is self._enrol and not self._offer_enrolment)
        for action in buttons:
            self._actions.removeWidget(action)
        for index, action in enumerate(ordered):
            self._actions.addWidget(action, index // 2, index % 2)

    def show_progress(self, progress: TransferProgress) -> None:
        self._downloads.show_progress(progress)

    def download_details(self) -> str:
        return self._downloads.details()

    def show_message(self, message: str) -> None:
        self._message.setText(message)

    def message(self) -> str:
        return self._message.text()

    def _status_values(self) -> list[QLabel]:
        found = []
        for row in range(self._status.rowCount()):
            item = self._status.itemAt(row, QFormLayout.ItemRole.FieldRole)
            widget = item.widget() if item is not None else None
            if isinstance(widget, QLabel):
                found.append(widget)
        return found

    def _retranslate(self) -> None:
        if self._officer_name:
            self._heading.setText(self.tr("Officer console: %1").replace("%1", self._officer_name))
        else:
            self._heading.setText(self.tr("Officer console"))
        self._status_heading.setText(self.tr("Device status"))
        self._message.setAccessibleName(self.tr("Result"))
        name_buttons(
            (self._sync, self.tr("Sync now")),
            (self._register, self.tr("Register a participant")),
            (self._find, self.tr("Find a participant")),
            (self._enrol, self.tr("Enrol this device")),
            (self._lock, self.tr("Lock")),
            (self._exit, self.tr("Exit kiosk")),
        )
