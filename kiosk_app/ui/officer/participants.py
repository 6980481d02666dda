"""Participant tools: find a participant on this kiosk, see their progress, reset or unlock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from kiosk_app.ui.officer.common import (
    RetranslatingWidget,
    button_row,
    heading,
    name_buttons,
    name_fields,
    page,
    value_form,
)
from kiosk_app.ui.steps.common import button, label

_ID = Qt.ItemDataRole.UserRole


@dataclass(frozen=True, slots=True)
class FoundRow:
    """One search result as the presenter words it."""

    participant_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ProgressRow:
    """A programme (with its modules beneath it) as the presenter words it."""

    text: str
    modules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ParticipantView:
    participant_id: str
    heading: str
    access_code: str
    sign_in: str
    locked: bool
    programmes: tuple[ProgressRow, ...]


class FindParticipantScreen(RetranslatingWidget):
    search_requested = Signal(str)
    open_requested = Signal(str)  # participant id
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heading = heading()
        self._query_label = QLabel()
        self._query = QLineEdit()
        self._query.setMaxLength(60)
        self._query_label.setBuddy(self._query)
        self._search = button()
        self._results = QListWidget(self)
        self._results.setAlternatingRowColors(True)
        self._summary = label()
        self._back = button()
        self._open = button("primary")
        self._query.returnPressed.connect(self._ask)
        self._search.clicked.connect(self._ask)
        self._results.itemActivated.connect(self._open_item)
        self._results.currentItemChanged.connect(lambda *_: self._update_open())
        self._open.clicked.connect(lambda: self._open_item(self._results.currentItem()))
        self._back.clicked.connect(self.back_requested)

        search = QHBoxLayout()
        search.addWidget(self._query_label)
        search.addWidget(self._query, 1)
        search.addWidget(self._search)
        page(
            self,
            self._heading,
            search,
            self._summary,
            (self._results, 1),
            button_row([self._back], [self._open]),
            spacing=16,
        )
        self.setFocusProxy(self._query)
        self._update_open()
        self._retranslate()

    def start(self) -> None:
        """Nothing typed, nothing found: a new officer sees no one the last one looked up."""
        self._query.clear()
        self._results.clear()
        self._summary.clear()
        self.set_busy(False)

    def set_busy(self, busy: bool) -> None:
        self._search.setEnabled(not busy)
        self._update_open(busy)

    def show_results(self, rows: Sequence[FoundRow], summary: str) -> None:
        self._results.clear()
        for row in rows:
            item = QListWidgetItem(row.text)
            item.setData(_ID, row.participant_id)
            self._results.addItem(item)
        self._summary.setText(summary)
        self.set_busy(False)
        if rows:
            self._results.setCurrentRow(0)
            self._results.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self._query.setFocus(Qt.FocusReason.OtherFocusReason)
            self._query.selectAll()

    def results(self) -> list[str]:
        return [self._results.item(i).text() for i in range(self._results.count())]

    def summary(self) -> str:
        return self._summary.text()

    def _ask(self) -> None:
        if self._search.isEnabled():
            self.search_requested.emit(self._query.text())

    def _open_item(self, item: QListWidgetItem | None) -> None:
        if item is not None and self._search.isEnabled():
            self.open_requested.emit(str(item.data(_ID)))

    def _update_open(self, busy: bool = False) -> None:
        self._open.setEnabled(not busy and self._results.currentItem() is not None)

    def _retranslate(self) -> None:
        self._heading.setText(self.tr("Find a participant"))
        self._query_label.setText(self.tr("&Access code or first name"))
        self._query.setAccessibleName(self.tr("Access code or first name"))
        self._results.setAccessibleName(self.tr("Participants found"))
        self._summary.setAccessibleName(self.tr("Search result"))
        name_buttons(
            (self._search, self.tr("Search")),
            (self._back, self.tr("Back")),
            (self._open, self.tr("Open")),
        )


class ParticipantScreen(RetranslatingWidget):
    reset_requested = Signal(str)  # participant id
    unlock_requested = Signal(str)
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heading = heading()
        self._labels = [QLabel(), QLabel()]
        self._code = QLabel()
        self._sign_in = label()
        self._progress_label = QLabel()
        self._progress = QTreeWidget(self)
        self._progress.setHeaderHidden(True)
        self._progress_label.setBuddy(self._progress)
        self._message = label()
        self._back = button()
        self._unlock = button()
        self._reset = button("primary")
        self._back.clicked.connect(self.back_requested)
        self._unlock.clicked.connect(lambda: self._ask(self.unlock_requested))
        self._reset.clicked.connect(lambda: self._ask(self.reset_requested))

        page(
            self,
            self._heading,
            value_form(*zip(self._labels, self._values(), strict=True)),
            self._progress_label,
            (self._progress, 1),
            self._message,
            button_row([self._back], [self._unlock, self._reset]),
            spacing=12,
        )
        self.setFocusProxy(self._progress)
        self._shown: ParticipantView | None = None
        self._retranslate()

    def show_participant(self, view: ParticipantView) -> None:
        self._shown = view
        self._heading.setText(view.heading)
        self._code.setText(view.access_code)
        self._sign_in.setText(view.sign_in)
        self._progress.clear()
        for programme in view.programmes:
            item = QTreeWidgetItem([programme.text])
            for module in programme.modules:
                item.addChild(QTreeWidgetItem([module]))
            self._progress.addTopLevelItem(item)
        self._progress.expandAll()
        first = self._progress.topLevelItem(0)
        if first is not None:
            self._progress.setCurrentItem(first)
        self._unlock.setEnabled(view.locked)
        self._reset.setEnabled(True)

    def clear(self) -> None:
        self._shown = None
        self._heading.clear()
        self._code.clear()
        self._sign_in.clear()
        self._progress.clear()
        self._message.clear()

    def set_busy(self, busy: bool) -> None:
        self._reset.setEnabled(not busy)
        self._unlock.setEnabled(not busy and self._shown is not None and self._shown.locked)

    def show_message(self, message: str) -> None:
        self._message.setText(message)

    def message(self) -> str:
        return self._message.text()

    def details(self) -> dict[str, str]:
        """What the record shows, by field name (as a screen reader reads it)."""
        return {value.accessibleName(): value.text() for value in self._values()}

    def progress(self) -> list[tuple[str, list[str]]]:
        """Each programme line with its module lines."""
        found = []
        for i in range(self._progress.topLevelItemCount()):
            item = self._progress.topLevelItem(i)
            assert item is not None
            children = (item.child(j) for j in range(item.childCount()))
            found.append((item.text(0), [c.text(0) for c in children if c is not None]))
        return found

    def _ask(self, signal: SignalInstance) -> None:
        if self._shown is not None:
            signal.emit(self._shown.participant_id)

    def _values(self) -> tuple[QLabel, QLabel]:
        return self._code, self._sign_in

    def _retranslate(self) -> None:
        name_fields(self._labels, self._values(), (self.tr("Access code"), self.tr("Sign-in")))
        self._progress_label.setText(self.tr("&Progress"))
        self._progress.setAccessibleName(self.tr("Progress"))
        self._message.setAccessibleName(self.tr("Result"))
        name_buttons(
            (self._back, self.tr("Back")),
            (self._unlock, self.tr("Unlock")),
            (self._reset, self.tr("Reset PIN")),
        )
