"""Registering a participant: the form, then the credentials slip to hand over."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QDate, QLocale, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from kiosk_app.ui.officer.common import (
    RetranslatingWidget,
    button_row,
    field_form,
    heading,
    name_buttons,
    name_fields,
    page,
    value_form,
)
from kiosk_app.ui.steps.common import button, label

DISPOSAL_TYPES = ("community_resolution", "conditional_caution")


@dataclass(frozen=True, slots=True)
class RegistrationForm:
    first_name: str
    force_reference: str
    programme_id: str
    disposal_type: str
    conditions: str
    due_date: date
    language: str | None = None  # None: the programme's own


@dataclass(frozen=True, slots=True)
class Slip:
    access_code: str
    temporary_pin: str
    programme: str
    deadline: str


class RegisterScreen(RetranslatingWidget):
    submitted = Signal(RegistrationForm)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heading = heading()
        self._first_name = QLineEdit()
        self._first_name.setMaxLength(60)
        self._reference = QLineEdit()
        self._reference.setMaxLength(100)
        self._programme = QComboBox(self)
        # The language they read best: the kiosk's screens where it has them, and the
        # programme's version in that language where there is one.
        self._language = QComboBox(self)
        self._disposal = QComboBox(self)
        for value in DISPOSAL_TYPES:
            self._disposal.addItem("", value)
        self._conditions = QPlainTextEdit(self)
        self._conditions.setTabChangesFocus(True)
        self._due = QDateEdit(self)
        # The month in words: never 02/03 read the other way round, and not the C locale's
        # "2 03 2026" on a kiosk whose session sets no locale. Qt words it in the locale's
        # language.
        self._due.setDisplayFormat("d MMMM yyyy")
        self._due.setCalendarPopup(True)
        self._error = label("error")
        self._register = button("primary")
        self._cancel = button()
        self._register.clicked.connect(self._submit)
        self._cancel.clicked.connect(self.cancelled)

        self._labels = [QLabel() for _ in range(7)]
        page(
            self,
            self._heading,
            field_form(*zip(self._labels, self._fields(), strict=True)),
            self._error,
            button_row([self._cancel], [self._register]),
        )
        self.setFocusProxy(self._first_name)
        self._retranslate()

    def start(
        self,
        *,
        programmes: Sequence[tuple[str, str]],
        due: date,
        languages: Sequence[tuple[str, str]] = (),
    ) -> None:
        """An empty form offering `programmes` (id, title) and `languages` (code, name in
        that language), due by default on `due`."""
        self._first_name.clear()
        self._reference.clear()
        self._conditions.clear()
        self._programme.clear()
        for programme_id, title in programmes:
            self._programme.addItem(title, programme_id)
        self._language.clear()
        self._language.addItem(self.tr("As the programme"), None)
        for code, name in languages:
            self._language.addItem(name, code)
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
                language=self._language.currentData(),
            )
        )

    def _fields(self) -> tuple[QWidget, ...]:
        return (
            self._first_name,
            self._reference,
            self._programme,
            self._language,
            self._disposal,
            self._conditions,
            self._due,
        )

    def _retranslate(self) -> None:
        self._heading.setText(self.tr("Register a participant"))
        names = (
            self.tr("First name"),
            self.tr("Force reference"),
            self.tr("Programme"),
            self.tr("Language"),
            self.tr("Disposal type"),
            self.tr("Conditions"),
            self.tr("Due date"),
        )
        name_fields(self._labels, self._fields(), names)
        if self._language.count():
            self._language.setItemText(0, self.tr("As the programme"))
        self._disposal.setItemText(0, self.tr("Community resolution"))
        self._disposal.setItemText(1, self.tr("Conditional caution"))
        self._error.setAccessibleName(self.tr("Registration problem"))
        name_buttons((self._register, self.tr("Register")), (self._cancel, self.tr("Cancel")))


class SlipScreen(RetranslatingWidget):
    """The participant's credentials, shown once: the PIN is kept only as a hash."""

    done = Signal()
    print_requested = Signal(object)  # the Slip shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heading = heading()
        self._hint = label()
        self._labels = [QLabel() for _ in range(4)]
        self._values = [QLabel() for _ in range(4)]
        self._message = label()
        self._print = button()
        self._done = button("primary")
        self._print.clicked.connect(self._ask_to_print)
        self._done.clicked.connect(self.done)
        page(
            self,
            self._heading,
            self._hint,
            value_form(*zip(self._labels, self._values, strict=True)),
            self._message,
            button_row([self._print], [self._done]),
            space_below=True,
        )
        self.setFocusProxy(self._print)
        self._shown: Slip | None = None
        self._retranslate()

    def show_slip(self, slip: Slip) -> None:
        self._shown = slip
        values = (slip.access_code, slip.temporary_pin, slip.programme, slip.deadline)
        for value, text in zip(self._values, values, strict=True):
            value.setText(text)
        self._message.clear()

    def clear(self) -> None:
        self._shown = None
        for value in self._values:
            value.clear()
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
        name_fields(self._labels, self._values, names)
        self._message.setAccessibleName(self.tr("Print result"))
        name_buttons((self._print, self.tr("Print")), (self._done, self.tr("Done")))


def long_date(day: date) -> str:
    return QLocale().toString(QDate(day.year, day.month, day.day), QLocale.FormatType.LongFormat)
