"""The officer console on the real kiosk window: opening, sign-in, registering, participant
tools, printing the slip, enrolment's refusals, keyboard and screen-reader use, exit.

Enrolling against a real server is in tests/sync/test_officer_enrol.py.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import tenacity
from pypdf import PdfReader
from PySide6.QtCore import QDate, QLocale, QPoint, Qt, QTimer
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDateEdit,
    QDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk_app.app import KioskServices, open_kiosk
from kiosk_app.core.auth import LoginOutcome
from kiosk_app.core.clock import ManualClock
from kiosk_app.core.officer_auth import MAX_ATTEMPTS
from kiosk_app.store import keys, repos
from kiosk_app.store.models import JournalEvent
from kiosk_app.sync.engine import SyncEngine
from kiosk_app.sync.transport import RetryPolicy
from kiosk_app.ui.i18n import Translations, qm_path
from kiosk_app.ui.officer.console import ConsoleScreen
from kiosk_app.ui.officer.participants import ParticipantScreen
from kiosk_app.ui.officer.printing import ask_for_printer
from kiosk_app.ui.officer.register import SlipScreen
from kiosk_app.ui.screens.welcome import WelcomeScreen
from tests.kiosk.ui.conftest import button_named
from tests.kiosk.ui.test_i18n import compile_ts
from tests.support.families import offer
from tests.support.kiosk import (
    FAST_HASHER,
    OFFICER_PASSWORD,
    TEMPORARY_PIN,
    SamplePack,
    Seeded,
    install_sample,
    register,
    seed_officer,
    work_until,
)
from tests.support.kiosk_ui import KioskUnderTest, Participant, make_kiosk
from tests.support.officer_ui import Console, OfficerAtKiosk, attach_console

ONE_TRY = RetryPolicy(attempts=1, wait=tenacity.wait_none(), connect_timeout=5, read_timeout=5)


class PdfPrinters:
    """Stands in for the print dialog: answers a printer writing a PDF, or None (cancelled)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cancel = False
        self.real_dialog = False  # ask through Qt's own print dialog first
        self.asked = 0

    def __call__(self, parent: QWidget) -> QPrinter | None:
        self.asked += 1
        if self.real_dialog and ask_for_printer(parent) is None:
            return None
        if self.cancel:
            return None
        printer = QPrinter()
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(self.path))
        return printer


@pytest.fixture
def services(tmp_path: Path, sample: SamplePack, clock: ManualClock) -> Iterator[KioskServices]:
    data = tmp_path / "kiosk"
    opened = open_kiosk(
        data, key_store=keys.FileKeyStore(data / "db.key"), clock=clock, hasher=FAST_HASHER
    )
    install_sample(opened.store, sample)
    with opened.store.unit() as s:
        repos.device(s).access_code_prefix = "K7Q"
    seed_officer(opened.store)
    yield opened
    opened.close()


@pytest.fixture
def kiosk(
    qtbot: QtBot,
    app: QApplication,
    services: KioskServices,
    clock: ManualClock,
    english: Translations,
) -> Iterator[KioskUnderTest]:
    made = make_kiosk(qtbot, app, services, clock, english)
    yield made
    made.close()


@pytest.fixture
def printers(tmp_path: Path) -> PdfPrinters:
    return PdfPrinters(tmp_path / "slip.pdf")


@pytest.fixture
def console(
    kiosk: KioskUnderTest, services: KioskServices, printers: PdfPrinters
) -> Iterator[Console]:
    attached = attach_console(
        kiosk.window,
        kiosk.presenter,
        store=services.store,
        clock=services.clock,
        engine=SyncEngine(store=services.store, clock=services.clock, retry=ONE_TRY),
        library=services.library,
        choose_printer=printers,
    )
    yield attached
    attached.runner.wait()


@pytest.fixture
def officer(qtbot: QtBot, kiosk: KioskUnderTest, console: Console) -> OfficerAtKiosk:
    return OfficerAtKiosk(qtbot, kiosk.window, console)


def test_ctrl_alt_o_asks_for_officer_credentials(officer: OfficerAtKiosk) -> None:
    officer.press_open_keys()
    assert officer.window.current_screen() == "officer-sign-in"


def test_a_long_press_on_the_welcome_title_opens_the_console(qtbot: QtBot) -> None:
    welcome = WelcomeScreen(hold_ms=50)
    qtbot.addWidget(welcome)
    welcome.show()
    title = next(label for label in welcome.findChildren(QLabel) if label.text() == "Welcome")
    with qtbot.waitSignal(welcome.officer_requested, timeout=2000):
        QTest.mousePress(title, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    QTest.mouseRelease(title, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))


def test_a_short_press_on_the_title_does_not(qtbot: QtBot) -> None:
    welcome = WelcomeScreen(hold_ms=60_000)
    qtbot.addWidget(welcome)
    welcome.show()
    title = next(label for label in welcome.findChildren(QLabel) if label.text() == "Welcome")
    with qtbot.assertNotEmitted(welcome.officer_requested, wait=20):
        QTest.mouseClick(title, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))


def test_the_right_password_opens_the_console_with_the_device_status(
    officer: OfficerAtKiosk,
) -> None:
    officer.press_open_keys()
    officer.sign_in("olive", OFFICER_PASSWORD)
    officer.settle()
    assert officer.window.current_screen() == "console"
    status = officer.console.screens.console.status()
    assert status["Packs cached"] == "alcohol-and-you v1"
    assert status["Last successful sync"] == "Never"
    assert status["Events waiting"] == "0"
    assert status["Last error"] == "None"
    assert status["App version"]
    assert status["Free disk"].endswith("MB")


def test_a_wrong_password_is_refused_and_repeated_ones_lock_the_console(
    officer: OfficerAtKiosk, clock: ManualClock
) -> None:
    officer.press_open_keys()
    officer.sign_in("olive", "not the password")
    sign_in = officer.console.screens.sign_in
    assert officer.window.current_screen() == "officer-sign-in"
    assert sign_in.error() == "That username and password do not match."
    for _ in range(MAX_ATTEMPTS - 1):
        clock.advance(60)
        officer.sign_in("", "not the password")
    assert sign_in.error() == "Too many wrong passwords. Please try again later."
    clock.advance(60)
    officer.sign_in("", OFFICER_PASSWORD)
    assert officer.window.current_screen() == "officer-sign-in"


def test_opening_the_console_signs_the_participant_out(
    qtbot: QtBot,
    kiosk: KioskUnderTest,
    officer: OfficerAtKiosk,
    services: KioskServices,
    sample: SamplePack,
) -> None:
    who = register(services.store, programme=sample.programme, access_code="ABC-00001")
    Participant(qtbot, kiosk).sign_in(who.access_code, TEMPORARY_PIN)
    signed_in_before = services.session.signed_in
    officer.press_open_keys()
    assert signed_in_before is not None
    assert services.session.signed_in is None
    assert officer.window.current_screen() == "officer-sign-in"


def test_registering_a_participant_shows_the_credentials_slip(officer: OfficerAtKiosk) -> None:
    officer.open_console()
    officer.register_participant("Sam", "NC/2026/0042")
    assert officer.window.current_screen() == "slip"
    slip = officer.console.screens.slip.slip()
    assert slip["Access code"] == "K7Q-00001"
    assert len(slip["Temporary PIN"]) == 6
    assert slip["Temporary PIN"].isdigit()
    assert slip["Programme"] == "alcohol-and-you"  # no catalogue title here: the pack id
    assert "2026" in slip["Deadline"]
    officer.tap("Done")
    officer.settle()
    assert officer.window.current_screen() == "console"
    assert officer.console.screens.slip.slip()["Temporary PIN"] == ""


def test_the_officer_registers_a_participant_in_the_language_they_read(
    officer: OfficerAtKiosk, services: KioskServices, sample: SamplePack
) -> None:
    offer(services.store, sample)  # the catalogue entry a pull stores: English
    with services.store.unit() as s:  # and, as if it were one, a Polish version on the kiosk
        entry = repos.catalogue_entry(
            s, pack_id=sample.programme.id, version=sample.programme.version
        )
        assert entry is not None
        entry.language = "pl"
    officer.open_console()
    officer.tap("Register a participant")
    officer.settle()
    language = officer.field("Language")
    assert isinstance(language, QComboBox)
    offered = [language.itemText(i) for i in range(language.count())]
    assert offered == ["As the programme", "English", "Polski"]
    language.setFocus(Qt.FocusReason.TabFocusReason)
    QTest.keyClick(language, Qt.Key.Key_End)  # by keyboard: the last one, Polski
    assert language.currentText() == "Polski"
    officer.type_into("First name", "Sam")
    officer.type_into("Force reference", "NC/2026/0042")
    officer.tap("Register")
    officer.settle()
    assert officer.window.current_screen() == "slip"
    code = officer.console.screens.slip.slip()["Access code"]
    with services.store.unit() as s:
        person = repos.participant_by_code(s, code)
        assert person is not None
        assert person.language == "pl"


def test_the_deadline_shows_its_month_in_words(officer: OfficerAtKiosk) -> None:
    officer.open_console()
    officer.tap("Register a participant")
    officer.settle()
    due = officer.field("Due date")
    assert isinstance(due, QDateEdit)
    due.setDate(QDate(2026, 3, 2))
    assert due.text() == QLocale().toString(QDate(2026, 3, 2), "d MMMM yyyy")
    assert re.fullmatch(r"2 \w{3,} 2026", due.text())
    assert "03" not in due.text()


def test_a_registration_the_service_refuses_says_why(officer: OfficerAtKiosk) -> None:
    officer.open_console()
    officer.tap("Register a participant")
    officer.settle()
    officer.tap("Register")  # no name
    officer.settle()
    assert officer.window.current_screen() == "register"
    assert officer.console.screens.register.error() == "Please check the first name."


def test_lock_returns_to_welcome(officer: OfficerAtKiosk) -> None:
    officer.open_console()
    officer.tap("Lock")
    officer.settle()
    assert officer.window.current_screen() == "welcome"
    assert not officer.console.presenter.signed_in


def _idle_settings(services: KioskServices) -> tuple[int, int]:
    with services.store.unit() as s:
        settings = repos.settings(s)
    return settings.idle_timeout_seconds, settings.idle_warning_seconds


def test_a_console_left_alone_locks_itself_and_hides_the_new_pin(
    qtbot: QtBot, officer: OfficerAtKiosk, kiosk: KioskUnderTest, services: KioskServices
) -> None:
    # The officer registers someone and walks away with the slip (and its PIN) on screen.
    officer.open_console()
    officer.register_participant("Sam", "NC/2026/0042")
    assert officer.window.current_screen() == "slip"
    timeout, warning = _idle_settings(services)
    overlay = officer.window.idle_overlay
    kiosk.clock.advance(timeout - warning + 1)
    qtbot.waitUntil(overlay.isVisible)
    assert officer.window.current_screen() == "slip"  # a warning first, then the lock
    kiosk.clock.advance(warning)
    qtbot.waitUntil(lambda: officer.window.current_screen() == "welcome")
    assert not overlay.isVisible()
    assert not officer.console.presenter.signed_in
    assert officer.console.screens.slip.slip()["Temporary PIN"] == ""
    assert not officer.console.presenter.idle.running


def test_an_officer_still_at_the_console_stays_signed_in(
    qtbot: QtBot, officer: OfficerAtKiosk, kiosk: KioskUnderTest, services: KioskServices
) -> None:
    officer.open_console()
    timeout, warning = _idle_settings(services)
    overlay = officer.window.idle_overlay
    kiosk.clock.advance(timeout - warning + 1)
    qtbot.waitUntil(overlay.isVisible)
    QTest.mouseClick(button_named(overlay, "I am still here"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not overlay.isVisible())
    kiosk.clock.advance(timeout - warning - 1)
    officer.console.presenter.idle.tick()
    assert officer.window.current_screen() == "console"
    assert officer.console.presenter.signed_in
    officer.tap("Lock")  # and locking by hand stops the watch
    officer.settle()
    assert not officer.console.presenter.idle.running


def test_exit_kiosk_closes_the_window(qtbot: QtBot, officer: OfficerAtKiosk) -> None:
    officer.open_console()
    officer.tap("Exit kiosk")
    qtbot.waitUntil(lambda: not officer.window.isVisible())
    assert officer.console.quits == [True]


# -- participant tools ------------------------------------------------------------------------


def _journal_types(services: KioskServices) -> list[str]:
    with services.store.unit() as s:
        return list(s.scalars(select(JournalEvent.type).order_by(JournalEvent.seq)))


def _open_participant(officer: OfficerAtKiosk, query: str) -> None:
    """Find a participant and open the first one found."""
    officer.tap("Find a participant")
    assert officer.window.current_screen() == "participants"
    officer.type_into("Access code or first name", query)
    officer.tap("Search")
    officer.settle()
    officer.tap("Open")
    officer.settle()
    assert officer.window.current_screen() == "participant"


@pytest.fixture
def sam(services: KioskServices, sample: SamplePack, clock: ManualClock) -> Seeded:
    who = register(services.store, programme=sample.programme, access_code="K7Q-00007")
    work_until(services.store, who, sample.programme, step_id="what-is-a-unit", clock=clock)
    return who


def _lock_out(services: KioskServices, who: Seeded) -> None:
    """As five wrong PINs in a row leave a participant."""
    with services.store.unit() as s:
        person = repos.participant(s, who.participant_id)
        assert person is not None
        person.locked = True
        person.failed_pin_attempts = 5


def test_a_participant_is_found_by_first_name_or_access_code(
    officer: OfficerAtKiosk, services: KioskServices, sample: SamplePack, sam: Seeded
) -> None:
    register(services.store, programme=sample.programme, access_code="K7Q-00008", first_name="Jo")
    officer.open_console()
    officer.tap("Find a participant")
    find = officer.console.screens.find
    for query, expected in (("sa", ["Sam — K7Q-00007"]), ("00008", ["Jo — K7Q-00008"])):
        officer.field("Access code or first name").clear()  # type: ignore[attr-defined]
        officer.type_into("Access code or first name", query)
        officer.tap("Search")
        officer.settle()
        assert find.results() == expected
        assert find.summary() == "Participants found: 1"
    officer.field("Access code or first name").clear()  # type: ignore[attr-defined]
    officer.type_into("Access code or first name", "nobody")
    officer.tap("Search")
    officer.settle()
    assert (find.results(), find.summary()) == ([], "No participant on this kiosk matches.")


def test_the_record_shows_progress_per_module(officer: OfficerAtKiosk, sam: Seeded) -> None:
    officer.open_console()
    _open_participant(officer, "K7Q-00007")
    record = officer.console.screens.participant
    assert record.details() == {
        "Access code": "K7Q-00007",
        "Sign-in": "Has a temporary PIN: will choose their own at the next sign-in.",
    }
    ((programme, modules),) = record.progress()
    assert programme.startswith("Alcohol and you: ")
    assert "% done, due " in programme
    assert "14 March 2026" in programme
    assert modules == [
        "Getting started: complete",
        "Units and risk: 0 %",
        "Your drinking, your choice: 0 %",
        "Your plan: 0 %",
    ]
    officer.tap("Back")
    assert officer.window.current_screen() == "participants"
    officer.tap("Back")
    assert officer.window.current_screen() == "console"


def test_a_pin_reset_shows_a_new_pin_once_and_the_old_one_stops_working(
    officer: OfficerAtKiosk, services: KioskServices, sam: Seeded, clock: ManualClock
) -> None:
    officer.open_console()
    _open_participant(officer, "Sam")
    officer.tap("Reset PIN")
    officer.settle()
    assert officer.window.current_screen() == "slip"
    slip = officer.console.screens.slip.slip()
    new_pin = slip["Temporary PIN"]
    assert slip["Access code"] == "K7Q-00007"
    assert slip["Programme"] == "Alcohol and you"
    assert slip["Deadline"] == "Saturday, 14 March 2026"
    assert new_pin.isdigit()
    assert len(new_pin) == 6
    assert new_pin != TEMPORARY_PIN
    assert _journal_types(services)[-1] == "pin.reset"
    officer.tap("Done")
    officer.settle()
    assert officer.window.current_screen() == "participant"  # back where the officer was
    assert officer.console.screens.slip.slip()["Temporary PIN"] == ""
    assert officer.console.screens.participant.details()["Sign-in"].startswith("Has a temporary")

    old = services.login.attempt(access_code="K7Q-00007", pin=TEMPORARY_PIN)
    assert old.outcome is LoginOutcome.REFUSED
    clock.advance(60)
    fresh = services.login.attempt(access_code="K7Q-00007", pin=new_pin)
    assert fresh.ok
    assert fresh.must_choose_pin


def test_a_locked_out_participant_is_unlocked(
    officer: OfficerAtKiosk, services: KioskServices, sam: Seeded
) -> None:
    _lock_out(services, sam)
    assert services.login.attempt(access_code="K7Q-00007", pin=TEMPORARY_PIN).outcome is (
        LoginOutcome.LOCKED
    )
    officer.open_console()
    officer.tap("Find a participant")
    officer.type_into("Access code or first name", "sam")
    officer.tap("Search")
    officer.settle()
    assert officer.console.screens.find.results() == ["Sam — K7Q-00007 — locked"]
    officer.tap("Open")
    officer.settle()
    record = officer.console.screens.participant
    assert record.details()["Sign-in"].startswith("Locked after too many wrong PINs")
    officer.tap("Unlock")
    officer.settle()
    assert record.message() == "Unlocked. They can sign in with their own PIN again."
    assert record.details()["Sign-in"].startswith("Has a temporary PIN")
    unlock = [b for b in record.findChildren(QAbstractButton) if b.accessibleName() == "Unlock"]
    assert not unlock[0].isEnabled()  # nothing left to unlock
    assert _journal_types(services)[-1] == "participant.unlocked"
    assert services.login.attempt(access_code="K7Q-00007", pin=TEMPORARY_PIN).ok


def test_locking_the_console_leaves_nobody_on_the_participant_screens(
    officer: OfficerAtKiosk, sam: Seeded
) -> None:
    officer.open_console()
    _open_participant(officer, "Sam")
    officer.press_open_keys()  # already open: nothing happens
    assert officer.window.current_screen() == "participant"
    screens = officer.console.screens
    officer.console.presenter.lock()
    assert officer.window.current_screen() == "welcome"
    assert screens.participant.details() == {"Access code": "", "Sign-in": ""}
    assert screens.participant.progress() == []
    assert screens.find.results() == []


# -- printing the slip ------------------------------------------------------------------------


def _pdf_text(path: Path) -> str:
    """The words on the printed pages, one space apart (Qt's PDF puts tabs between words)."""
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)


def test_the_slip_prints_with_the_access_code_and_pin_but_no_name(
    officer: OfficerAtKiosk, printers: PdfPrinters
) -> None:
    officer.open_console()
    officer.register_participant("Samwise", "NC/2026/0042")
    slip = officer.console.screens.slip
    officer.tap("Print")
    assert printers.asked == 1
    assert slip.message() == "Sent to the printer."
    text = _pdf_text(printers.path)
    assert "K7Q-00001" in text
    assert slip.slip()["Temporary PIN"] in text
    assert "Your sign-in details" in text
    assert "Samwise" not in text
    assert "NC/2026/0042" not in text


def test_a_cancelled_print_dialog_prints_nothing(
    officer: OfficerAtKiosk, printers: PdfPrinters, sam: Seeded
) -> None:
    printers.cancel = True
    officer.open_console()
    _open_participant(officer, "Sam")
    officer.tap("Reset PIN")
    officer.settle()
    officer.tap("Print")
    assert officer.console.screens.slip.message() == "Not printed."
    assert not printers.path.exists()


def test_an_idle_lock_closes_the_print_dialog_and_prints_nothing(
    qtbot: QtBot,
    officer: OfficerAtKiosk,
    kiosk: KioskUnderTest,
    services: KioskServices,
    printers: PdfPrinters,
) -> None:
    """The officer opens Qt's print dialog for a new slip and walks away from it."""
    printers.real_dialog = True
    officer.open_console()
    officer.register_participant("Sam", "NC/2026/0042")
    timeout, warning = _idle_settings(services)
    overlay = officer.window.idle_overlay
    seen: list[str] = []  # the modal dialog open at each tick
    forced: list[QDialog] = []

    def walk_away() -> None:  # runs in the print dialog's own event loop
        dialog = QApplication.activeModalWidget()
        seen.append(type(dialog).__name__ if dialog is not None else "")
        if len(seen) == 3:
            kiosk.clock.advance(timeout - warning + 1)
        elif overlay.isVisible():
            kiosk.clock.advance(warning)
        if len(seen) > 200 and isinstance(dialog, QDialog):  # never closed by the lock
            forced.append(dialog)
            dialog.accept()

    ticker = QTimer()
    ticker.setInterval(25)
    ticker.timeout.connect(walk_away)
    ticker.start()
    try:
        officer.tap("Print")  # returns once the dialog has closed
    finally:
        ticker.stop()
    assert "QPrintDialog" in seen
    assert not forced
    assert QApplication.activeModalWidget() is None
    assert officer.window.current_screen() == "welcome"
    assert not officer.console.presenter.signed_in
    assert printers.asked == 1
    assert not printers.path.exists()
    assert officer.console.screens.slip.message() == ""


# -- enrolment, where no server is needed -----------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("server", "code", "message", "field"),
    [
        ("sync.example.org", "ABCD-EFGH-JKMN", "That is not a server address.", "Server address"),
        ("http://sync.example.org", "ABCD-EFGH-JKMN", "must start with https://", "Server address"),
        ("http://127.0.0.1:{port}", "AB!", "That is not an enrolment code.", "Enrolment code"),
        ("http://127.0.0.1:{port}", "", "Type the enrolment code.", "Enrolment code"),
        ("http://127.0.0.1:{port}", "ABCD-EFGH-JKMN", "cannot be reached", "Server address"),
    ],
)
def test_enrolment_problems_are_said_in_plain_words(
    officer: OfficerAtKiosk, server: str, code: str, message: str, field: str
) -> None:
    officer.open_console()
    assert officer.console.screens.console.status()["This kiosk"] == "Not enrolled yet"
    officer.tap("Enrol this device")
    assert officer.window.current_screen() == "enrol"
    officer.type_into("Server address", server.replace("{port}", str(_closed_port())))
    officer.type_into("Enrolment code", code)
    QTest.keyClick(officer.field("Enrolment code"), Qt.Key.Key_Return)
    officer.settle()
    enrol = officer.console.screens.enrol
    assert message in enrol.error()
    assert officer.window.focusWidget() is officer.field(field)  # where the fix is typed
    officer.tap("Cancel")
    assert officer.window.current_screen() == "console"


@pytest.fixture
def blank_services(tmp_path: Path, clock: ManualClock) -> Iterator[KioskServices]:
    data = tmp_path / "blank"
    opened = open_kiosk(
        data, key_store=keys.FileKeyStore(data / "db.key"), clock=clock, hasher=FAST_HASHER
    )
    yield opened
    opened.close()


@pytest.fixture
def blank_officer(
    qtbot: QtBot,
    app: QApplication,
    blank_services: KioskServices,
    clock: ManualClock,
    english: Translations,
) -> Iterator[OfficerAtKiosk]:
    made = make_kiosk(qtbot, app, blank_services, clock, english)
    attached = attach_console(
        made.window,
        made.presenter,
        store=blank_services.store,
        clock=clock,
        library=blank_services.library,
    )
    yield OfficerAtKiosk(qtbot, made.window, attached)
    attached.runner.wait()
    made.close()


def test_a_blank_kiosk_starts_on_enrolment(blank_officer: OfficerAtKiosk) -> None:
    assert blank_officer.window.current_screen() == "welcome"
    blank_officer.console.presenter.start()
    blank_officer.settle()
    assert blank_officer.window.current_screen() == "enrol"
    blank_officer.tap("Cancel")  # nobody signed in: back to welcome, not to the console
    assert blank_officer.window.current_screen() == "welcome"
    assert not blank_officer.console.presenter.signed_in


def test_where_nobody_could_sign_in_the_console_opens_on_enrolment(
    blank_officer: OfficerAtKiosk, blank_services: KioskServices, sample: SamplePack
) -> None:
    install_sample(blank_services.store, sample)
    register(blank_services.store, programme=sample.programme, access_code="ABC-00001")
    blank_officer.console.presenter.start()
    blank_officer.settle()
    assert blank_officer.window.current_screen() == "welcome"  # people are here: not blank
    blank_officer.press_open_keys()
    blank_officer.settle()
    assert blank_officer.window.current_screen() == "enrol"


def test_an_enrolled_kiosk_does_not_offer_enrolment(
    officer: OfficerAtKiosk, services: KioskServices
) -> None:
    with services.store.unit() as s:
        device = repos.device(s)
        device.device_id = "7d1c0f3a-0000-4000-8000-000000000007"
        device.force_name, device.site_name = "North Constabulary", "North-Custody"
    officer.open_console()
    status = officer.console.screens.console.status()
    assert status["This kiosk"] == "North Constabulary, North-Custody"
    offered = [
        b
        for b in officer.screen().findChildren(QAbstractButton)
        if b.accessibleName() == "Enrol this device"
    ]
    assert [b.isVisible() for b in offered] == [False]
    # The other actions close up, two to a row: no hole where enrolment would be.
    rows: dict[int, list[str]] = {}
    for name in ("Sync now", "Register a participant", "Find a participant", "Lock", "Exit kiosk"):
        (button,) = [b for b in officer.screen().findChildren(QAbstractButton) if b.text() == name]
        rows.setdefault(button.geometry().center().y(), []).append(name)
    assert sorted(rows.values(), key=len, reverse=True) == [
        ["Sync now", "Register a participant"],
        ["Find a participant", "Lock"],
        ["Exit kiosk"],
    ]


# -- keyboard and screen readers --------------------------------------------------------------


def _tab_to(officer: OfficerAtKiosk, name: str) -> None:
    for _ in range(20):
        focused = officer.window.focusWidget()
        if focused is not None and focused.accessibleName() == name:
            return
        QTest.keyClick(focused or officer.window, Qt.Key.Key_Tab)
    pytest.fail(f"Tab never reached {name!r}")


def _key(officer: OfficerAtKiosk, key: Qt.Key, text: str = "") -> None:
    target = officer.window.focusWidget() or officer.window
    if text:
        QTest.keyClicks(target, text)
    else:
        QTest.keyClick(target, key)


def test_the_participant_tools_work_with_the_keyboard_alone(
    officer: OfficerAtKiosk, services: KioskServices, sam: Seeded
) -> None:
    _lock_out(services, sam)
    officer.open_console()
    _tab_to(officer, "Find a participant")
    _key(officer, Qt.Key.Key_Space)
    assert officer.window.current_screen() == "participants"
    assert officer.window.focusWidget() is officer.field("Access code or first name")
    _key(officer, Qt.Key.Key_unknown, "sam")
    _key(officer, Qt.Key.Key_Return)
    officer.settle()
    assert officer.window.focusWidget() is officer.field("Participants found")
    _key(officer, Qt.Key.Key_Return)
    officer.settle()
    assert officer.window.current_screen() == "participant"
    _tab_to(officer, "Unlock")
    _key(officer, Qt.Key.Key_Space)
    officer.settle()
    assert officer.console.screens.participant.message().startswith("Unlocked.")
    _tab_to(officer, "Back")
    _key(officer, Qt.Key.Key_Space)
    _tab_to(officer, "Back")
    _key(officer, Qt.Key.Key_Space)
    assert officer.window.current_screen() == "console"


_CONTROLS = (
    QAbstractButton,
    QLineEdit,
    QComboBox,
    QDateEdit,
    QPlainTextEdit,
    QAbstractItemView,
    QProgressBar,
)


@pytest.mark.parametrize(
    "screen",
    ["officer-sign-in", "console", "register", "slip", "enrol", "participants", "participant"],
)
def test_every_officer_control_has_an_accessible_name(officer: OfficerAtKiosk, screen: str) -> None:
    root = officer.window.screen_widget(screen)

    def part_of_a_control(widget: QWidget) -> bool:  # a combo's list, a date edit's line edit
        parent = widget.parentWidget()
        while parent is not None and parent is not root:
            if isinstance(parent, _CONTROLS) or parent.isWindow():
                return True
            parent = parent.parentWidget()
        return False

    unnamed = [
        type(w).__name__
        for w in root.findChildren(QWidget)
        if isinstance(w, _CONTROLS) and not w.accessibleName() and not part_of_a_control(w)
    ]
    assert unnamed == []


# Each screen words its strings in its own translation context (its class name).
POLISH_TS = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="pl" sourcelanguage="en">
<context>
    <name>ConsoleScreen</name>
    <message><source>Sync now</source><translation>Synchronizuj teraz</translation></message>
</context>
<context>
    <name>DownloadView</name>
    <message>
        <source>Download progress</source><translation>Postęp pobierania</translation>
    </message>
</context>
<context>
    <name>ParticipantScreen</name>
    <message><source>Access code</source><translation>Kod dostępu</translation></message>
</context>
</TS>
"""


def test_officer_screens_are_worded_again_when_the_language_changes(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path
) -> None:
    compile_ts(POLISH_TS, qm_path(tmp_path, "pl"))
    console, record, slip = ConsoleScreen(), ParticipantScreen(), SlipScreen()
    for screen in (console, record, slip):
        qtbot.addWidget(screen)
    translations = Translations(qapp, tmp_path)
    try:
        assert translations.switch_to("pl")
        qtbot.waitUntil(lambda: "Kod dostępu" in record.details())
        assert button_named(console, "Synchronizuj teraz").text() == "Synchronizuj teraz"
        (bar,) = console.findChildren(QProgressBar)
        assert bar.accessibleName() == "Postęp pobierania"
        assert "Access code" in slip.slip()  # translated for the record only, not the slip
        assert translations.switch_to("en")
        qtbot.waitUntil(lambda: "Access code" in record.details())
        assert button_named(console, "Sync now").text() == "Sync now"
    finally:
        translations.remove()
