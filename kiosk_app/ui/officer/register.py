"""Registering a participant: the form, then the credentials slip to hand over."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QDate, QEvent, QLocale, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

DISPOSAL_TYPES = ("community_resolution", "conditional_caution")


@dataclass(frozen=True, slots=True)
class RegistrationForm:
    first_name: str
    force_reference: str
    programme_id: str
    disposal_type: str
    conditions: str
    due_date: date


@dataclass(frozen=True, slots=True)
class Slip:
    access_code: str
    temporary_pin: str
    programme: str
    deadline: str


def _button(primary: bool = False) -> QPushButton:
    button = QPushButton()
    button.setAutoDefault(True)
    if primary:
        button.setProperty("role", "primary")
    return button


class RegisterScreen(QWidget):
    submitted = Signal(RegistrationForm)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heading = QLabel()
        self._heading.setProperty("role", "title")
        self._first_name = QLineEdit()
        self._first_name.setMaxLength(60)
        self._reference = QLineEdit()
        self._reference.setMaxLength(100)
        self._programme = QComboBox()
        self._disposal = QComboBox()
        for value in DISPOSAL_TYPES:
            self._disposal.addItem("", value)
        self._conditions = QPlainTextEdit()
        self._conditions.setTabChangesFocus(True)
        self._due = QDateEdit()
        self._due.setCalendarPopup(True)
        self._error = QLabel()
        self._error.setProperty("role", "error")
        self._error.setWordWrap(True)
        self._register = _button(primary=True)
        self._cancel = _button()
        self._register.clicked.connect(self._submit)
        self._cancel.clicked.connect(self.cancelled)

        self._form = QFormLayout()
        self._labels = [QLabel() for _ in range(6)]
        fields = (
            self._first_name,
            self._reference,
            self._programme,
            self._disposal,
            self._conditions,
            self._due,
        )
        for label, widget in zip(self._labels, fields, strict=True):
            label.setBuddy(widget)
            self._form.addRow(label, widget)
        buttons = QHBoxLayout()
        buttons.addWidget(self._cancel)
        buttons.addStretch(1)
        buttons.addWidget(self._register)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 32, 60, 32)
        layout.addWidget(self._heading)
        layout.addLayout(self._form)
        layout.addWidget(self._error)
        layout.addLayout(buttons)
        self.setFocusProxy(self._first_name)
        self._retranslate()

    def start(self, *, programmes: Sequence[tuple[str, str]], due: date) -> None:
        """An empty form offering `programmes` (id, title), due by default on `due`."""
        self._first_name.clear()
        self._reference.clear()
        self._conditions.clear()
        self._programme.clear()
        for programme_id, title in programmes:
            self._programme.addItem(title, programme_id)
        self._disposal.setCurrentIndex(0)
        self._due.setDate(QDate(due.year, due.month, due.day))
        self._error.clear()
        self.set_busy(False)

    def set_busy(self, busy: bool) -> None:
        self._register.setEnabled(not busy)

    def show_error(self, message: str) -> None:
        self._error.setText(message)

    def error(self) -> str:
        return self._error.text()

    def _submit(self) -> None:
        programme = self._programme.currentData()
        if programme is None:
            self.show_error(self.tr("No programme is on this kiosk yet. Sync first."))
            return
        chosen = self._due.date()
        self.submitted.emit(
            RegistrationForm(
                first_name=self._first_name.text(),
                force_reference=self._reference.text(),
                programme_id=str(programme),
                disposal_type=str(self._disposal.currentData()),
                conditions=self._conditions.toPlainText(),
                due_date=date(chosen.year(), chosen.month(), chosen.day()),
            )
        )

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self._heading.setText(self.tr("Register a participant"))
        names = (
            self.tr("First name"),
            self.tr("Force reference"),
            self.tr("Programme"),
            self.tr("Disposal type"),
            self.tr("Conditions"),
            self.tr("Due date"),
        )
        fields = (
            self._first_name,
            self._reference,
            self._programme,
            self._disposal,
            self._conditions,
            self._due,
        )
        for label, widget, name in zip(self._labels, fields, names, strict=True):
            label.setText(name)
            widget.setAccessibleName(name)
        self._disposal.setItemText(0, self.tr("Community resolution"))
        self._disposal.setItemText(1, self.tr("Conditional caution"))
        self._error.setAccessibleName(self.tr("Registration problem"))
        self._register.setText(self.tr("Register"))
        self._register.setAccessibleName(self.tr("Register"))
        self._cancel.setText(self.tr("Cancel"))
        self._cancel.setAccessibleName(self.tr("Cancel"))


class SlipScreen(QWidget):
    """The participant's credentials, shown once: the PIN is kept only as a hash."""

    done = Signal()
    print_requested = Signal(object)  # the Slip shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heading = QLabel()
        self._heading.setProperty("role", "title")
        self._hint = QLabel()
        self._hint.setWordWrap(True)
        self._form = QFormLayout()
        self._labels = [QLabel() for _ in range(4)]
        self._values = [QLabel() for _ in range(4)]
        for label, value in zip(self._labels, self._values, strict=True):
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard)
            self._form.addRow(label, value)
        self._message = QLabel()
        self._message.setWordWrap(True)
        self._print = _button()
        self._done = _button(primary=True)
        self._print.clicked.connect(self._ask_to_print)
        self._done.clicked.connect(self.done)
        buttons = QHBoxLayout()
        buttons.addWidget(self._print)
        buttons.addStretch(1)
        buttons.addWidget(self._done)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 32, 60, 32)
        layout.addWidget(self._heading)
        layout.addWidget(self._hint)
        layout.addLayout(self._form)
        layout.addWidget(self._message)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.setFocusProxy(self._print)
        self._shown: Slip | None = None
        self._retranslate()

    def show_slip(self, slip: Slip) -> None:
        self._shown = slip
        values = (slip.access_code, slip.temporary_pin, slip.programme, slip.deadline)
        for label, text in zip(self._values, values, strict=True):
            label.setText(text)
        self._message.clear()

    def clear(self) -> None:
        self._shown = None
        for label in self._values:
            label.clear()
        self._message.clear()

    def slip(self) -> dict[str, str]:
        """What the slip shows, by field name (as a screen reader reads it)."""
        return {value.accessibleName(): value.text() for value in self._values}

    def show_message(self, message: str) -> None:
        self._message.setText(message)

    def message(self) -> str:
        return self._message.text()

    def _ask_to_print(self) -> None:
        if self._shown is not None:
            self.print_requested.emit(self._shown)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self._heading.setText(self.tr("Credentials slip"))
        self._hint.setText(
            self.tr(
                "Give these to the participant, printed or written down. The PIN is shown only now."
            )
        )
        names = (
            self.tr("Access code"),
            self.tr("Temporary PIN"),
            self.tr("Programme"),
            self.tr("Deadline"),
        )
        for label, value, name in zip(self._labels, self._values, names, strict=True):
            label.setText(name)
            value.setAccessibleName(name)
        self._message.setAccessibleName(self.tr("Print result"))
        self._print.setText(self.tr("Print"))
        self._print.setAccessibleName(self.tr("Print"))
        self._done.setText(self.tr("Done"))
        self._done.setAccessibleName(self.tr("Done"))


def long_date(day: date) -> str:
    return QLocale().toString(QDate(day.year, day.month, day.day), QLocale.FormatType.LongFormat)
