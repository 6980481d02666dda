"""First-login privacy notice in plain English, and what happens if the deadline is missed."""

from __future__ import annotations

import html
from datetime import date

from PySide6.QtCore import QDate, QEvent, QLocale, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk_app.ui.steps.common import PackTextBrowser, button, label, name_scroll_bars


class PrivacyScreen(QWidget):
    """Shown once, before choosing a PIN; emits `confirmed` when the participant agrees."""

    confirmed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._due: date | None = None
        self._title = label("title")
        self._text = PackTextBrowser(parent=self)
        self._confirm = button("primary")
        self._confirm.clicked.connect(self.confirmed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 32, 48, 32)
        layout.setSpacing(20)
        layout.addWidget(self._title)
        layout.addWidget(self._text, 1)
        layout.addWidget(self._confirm)
        self.setFocusProxy(self._confirm)
        self._retranslate()

    def set_due_date(self, due: date | None) -> None:
        """Name the participant's due date in the notice (None: say "your due date")."""
        self._due = due
        self._retranslate()

    def plain_text(self) -> str:
        """The notice as plain text, for read-aloud."""
        return "\n".join([self._title.text(), self._text.plain_text()])

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _deadline(self) -> str:
        if self._due is None:
            return self.tr(
                "You agreed to finish this programme by your due date. If you do not "
                "finish it in time, the police can take your case to court."
            )
        day = QLocale().toString(
            QDate(self._due.year, self._due.month, self._due.day), QLocale.FormatType.LongFormat
        )
        return self.tr(
            "You agreed to finish this programme by %1. If you do not finish it in time, "
            "the police can take your case to court."
        ).replace("%1", day)

    def _retranslate(self) -> None:
        self._title.setText(self.tr("Before you start"))
        sections = [
            (
                self.tr("What we record"),
                self.tr(
                    "When you log in and out, which parts you finish, your quiz answers, "
                    "and what you write."
                ),
            ),
            (
                self.tr("Who sees it"),
                self.tr(
                    "The police officers who deal with your case, and the staff who run "
                    "this programme for the police. Nobody else. Other people using this "
                    "kiosk cannot see your work."
                ),
            ),
            (
                self.tr("How long we keep it"),
                self.tr("Only as long as the law allows. Then it is deleted."),
            ),
            (self.tr("If you do not finish in time"), self._deadline()),
        ]
        self._text.setHtml(
            "".join(f"<h2>{html.escape(h)}</h2><p>{html.escape(b)}</p>" for h, b in sections)
        )
        self._text.setAccessibleName(self.tr("privacy notice"))
        name_scroll_bars(self._text, self.tr("scroll the notice"))
        self._confirm.setText(self.tr("I understand"))
        self._confirm.setAccessibleName(self.tr("I understand"))
