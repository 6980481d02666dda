"""What the officer console's screens share: the page, its rows of buttons and fields, and
being worded again when the language changes.

Nothing here calls `tr`: each screen words its own strings in its `_retranslate`, so every
string keeps that screen's class as its translation context (as pyside6-lupdate records it)
and these helpers only put the translated words in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QVBoxLayout,
    QWidget,
)

PAGE_MARGINS = (60, 32, 60, 32)  # left, top, right, bottom

# A row of a page: a widget or a layout, or a widget with the share of free height it takes.
Row = QWidget | QLayout | tuple[QWidget, int]


class RetranslatingWidget(QWidget):
    """A widget of the console that words itself in `_retranslate`, and again whenever the
    language changes. A subclass calls `_retranslate()` once its widgets are built."""

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        raise NotImplementedError


def heading() -> QLabel:
    """A screen's title, styled by the theme."""
    widget = QLabel()
    widget.setProperty("role", "title")
    return widget


def page(
    screen: QWidget,
    *rows: Row,
    spacing: int | None = None,
    margins: tuple[int, int, int, int] = PAGE_MARGINS,
    space_below: bool = False,
) -> QVBoxLayout:
    """Lay `rows` down `screen` in order, which is also their Tab order. With `space_below`,
    the free height goes below the last row rather than to a row that stretches."""
    layout = QVBoxLayout(screen)
    layout.setContentsMargins(*margins)
    if spacing is not None:
        layout.setSpacing(spacing)
    for row in rows:
        if isinstance(row, QLayout):
            layout.addLayout(row)
        elif isinstance(row, QWidget):
            layout.addWidget(row)
        else:
            widget, stretch = row
            layout.addWidget(widget, stretch)
    if space_below:
        layout.addStretch(1)
    return layout


def button_row(left: Sequence[QWidget], right: Sequence[QWidget]) -> QHBoxLayout:
    """Buttons along the bottom: `left` at the left edge (going back), `right` at the right
    (going on, the primary action last)."""
    row = QHBoxLayout()
    for widget in left:
        row.addWidget(widget)
    row.addStretch(1)
    for widget in right:
        row.addWidget(widget)
    return row


def field_form(*rows: tuple[QLabel, QWidget]) -> QFormLayout:
    """Fields with their labels; each label is its field's buddy, so the label's &-mnemonic
    (Alt and the letter) moves the cursor there."""
    form = QFormLayout()
    for label, field in rows:
        label.setBuddy(field)
        form.addRow(label, field)
    return form


def value_form(*rows: tuple[QLabel, QLabel]) -> QFormLayout:
    """Values with their labels: read-only, but selectable from the keyboard."""
    form = QFormLayout()
    for label, value in rows:
        value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard)
        form.addRow(label, value)
    return form


def name_fields(labels: Iterable[QLabel], fields: Iterable[QWidget], names: Iterable[str]) -> None:
    """Each label shows its (translated) name, and its field is known by it to screen readers."""
    for label, field, name in zip(labels, fields, names, strict=True):
        label.setText(name)
        field.setAccessibleName(name)


def name_buttons(*buttons: tuple[QAbstractButton, str]) -> None:
    """Each button shows its (translated) text, and a screen reader says the same."""
    for button, text in buttons:
        button.setText(text)
        button.setAccessibleName(text)
