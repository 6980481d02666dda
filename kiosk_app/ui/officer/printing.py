"""Printing the credentials slip: a short page with the access code and temporary PIN.

The page carries no name and no offence details, only what the participant needs to sign
in, so a slip left on a counter gives little away. On a kiosk the officer picks a printer in
Qt's print dialog; `PrinterChoice` lets a test print to a PDF file instead.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtGui import QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget

from kiosk_app.ui.officer.register import Slip

# Asked for a printer (the parent is the window a dialog belongs to); None if cancelled.
PrinterChoice = Callable[[QWidget], QPrinter | None]


def ask_for_printer(parent: QWidget) -> QPrinter | None:
    """Qt's print dialog, over the kiosk window (which stays on top)."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(QCoreApplication.translate("SlipPrinter", "Print the credentials slip"))
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return printer


class SlipPrinter(QObject):
    """Lays out a slip as a document and prints it."""

    def document(self, slip: Slip) -> QTextDocument:
        rows = (
            (self.tr("Access code"), slip.access_code),
            (self.tr("Temporary PIN"), slip.temporary_pin),
            (self.tr("Programme"), slip.programme),
            (self.tr("Deadline"), slip.deadline),
        )
        cells = "".join(
            f"<tr><th align='left'>{html.escape(label)}</th>"
            f"<td style='font-size: 18pt'>{html.escape(value)}</td></tr>"
            for label, value in rows
        )
        notes = (
            self.tr("Use these to sign in at the kiosk."),
            self.tr("The first time you sign in you will choose your own PIN."),
            self.tr("Keep this slip private. If you lose it, ask an officer for a new PIN."),
        )
        text = (
            f"<h1>{html.escape(self.tr('Your sign-in details'))}</h1>"
            f"<table cellpadding='8'>{cells}</table>"
            + "".join(f"<p>{html.escape(note)}</p>" for note in notes)
        )
        document = QTextDocument()
        document.setHtml(text)
        return document

    def print_slip(self, slip: Slip, printer: QPrinter) -> bool:
        """Print `slip` on `printer`; False if the printer refused it."""
        printer.setDocName(self.tr("Credentials slip"))
        self.document(slip).print_(printer)
        return printer.printerState() != QPrinter.PrinterState.Error
