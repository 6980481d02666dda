"""Kiosk window: locked down, screens by name, accessible names, keyboard-only login."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import (
    QInputEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPointingDevice,
    QShortcut,
    QTabletEvent,
    QWheelEvent,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from kiosk_app.ui.kiosk_window import KioskWindow, ScreenName
from kiosk_app.ui.widgets.idle_overlay import IdleOverlay
from tests.support.kiosk_ui import TreesMovedIn, tap_at

INTERACTIVE = (
    QAbstractButton,
    QLineEdit,
    QComboBox,
    QAbstractSlider,
    QAbstractSpinBox,
    QTextEdit,
    QPlainTextEdit,
    QAbstractItemView,
)


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has keyboard focus"
    return widget


def press(
    qtbot: QtBot, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    """Press a key on whatever has focus, as a keyboard-only user would: through the focus
    widget's native window, as the window system delivers it (shortcuts are tried first)."""
    handle = focused().window().windowHandle()
    assert handle is not None
    QTest.keyClick(handle, key, modifier)


def test_the_idle_warning_is_built_the_first_time_it_is_asked_for(window: KioskWindow) -> None:
    # Not at start-up: nobody is idle before signing in, and the cold start has no time for it.
    assert window.findChildren(IdleOverlay) == []
    overlay = window.idle_overlay
    assert window.idle_overlay is overlay
    assert window.findChildren(IdleOverlay) == [overlay]


def test_window_is_frameless_full_screen_and_on_top(qtbot: QtBot, window: KioskWindow) -> None:
    flags = window.windowFlags()
    assert flags & Qt.WindowType.FramelessWindowHint
    assert flags & Qt.WindowType.WindowStaysOnTopHint
    window.enter_kiosk_mode()
    qtbot.waitUntil(window.isFullScreen)


def test_close_is_refused_until_the_officer_allows_exit(
    qtbot: QtBot, shown_window: KioskWindow
) -> None:
    assert not shown_window.close()
    assert shown_window.isVisible()
    shown_window.allow_exit()
    assert shown_window.close()


@pytest.mark.parametrize(
    ("key", "modifier"),
    [
        (Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier),
        (Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier),
    ],
)
def test_closing_shortcuts_are_swallowed(
    qtbot: QtBot, shown_window: KioskWindow, key: Qt.Key, modifier: Qt.KeyboardModifier
) -> None:
    fired: list[str] = []
    blocked = QShortcut(QKeySequence(modifier.value | key.value), shown_window)
    blocked.activated.connect(lambda: fired.append("blocked"))
    control = QShortcut(QKeySequence("Ctrl+E"), shown_window)
    control.activated.connect(lambda: fired.append("control"))
    press(qtbot, key, modifier)
    press(qtbot, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert fired == ["control"]
    assert shown_window.isVisible()


def test_show_screen_switches_and_focuses(qtbot: QtBot, shown_window: KioskWindow) -> None:
    assert shown_window.current_screen() == ScreenName.WELCOME
    shown_window.show_screen(ScreenName.LOGIN)
    assert shown_window.current_screen() == ScreenName.LOGIN
    qtbot.waitUntil(lambda: isinstance(QApplication.focusWidget(), QLineEdit))


def test_screen_names_are_unique(window: KioskWindow) -> None:
    with pytest.raises(ValueError, match="already there"):
        window.add_screen(ScreenName.LOGIN, QWidget())


def test_every_control_on_every_screen_has_an_accessible_name(window: KioskWindow) -> None:
    window.idle_overlay.show_countdown(20)
    roots = [window.screen_widget(name) for name in window.screen_names()]
    roots.append(window.idle_overlay)
    nameless = [
        f"{type(root).__name__}: {type(widget).__name__} {getattr(widget, 'text', str)()!r}"
        for root in roots
        for widget in root.findChildren(QWidget)
        if isinstance(widget, INTERACTIVE) and not widget.accessibleName()
    ]
    assert window.screen_names() == [ScreenName.WELCOME, ScreenName.LOGIN]
    assert nameless == []


def test_every_screen_is_made_inside_the_window(qtbot: QtBot, app: QApplication) -> None:
    """Welcome and login, the participant's screens and the officer's are each made inside
    the window's stack, and their own controls inside them: none is built apart and moved in
    (each such move had the tree's stylesheet style worked out again, on the way to the
    first screen and as the presenter took over)."""
    from kiosk_app.ui.kiosk_window import add_participant_screens
    from kiosk_app.ui.officer.presenter import add_officer_screens

    watch = TreesMovedIn()
    app.installEventFilter(watch)
    try:
        window = KioskWindow(app)
        qtbot.addWidget(window, before_close_func=lambda w: window.allow_exit())
        add_participant_screens(window)
        add_officer_screens(window)
    finally:
        app.removeEventFilter(watch)
    assert len(window.screen_names()) == 14
    parents = {window.screen_widget(name).parentWidget() for name in window.screen_names()}
    assert parents == {window.screen_parent()}
    assert watch.moved_in == []


def test_any_input_counts_as_activity(qtbot: QtBot, shown_window: KioskWindow) -> None:
    with qtbot.waitSignal(shown_window.user_activity):
        press(qtbot, Qt.Key.Key_Shift)


def _tablet_press() -> QTabletEvent:
    return QTabletEvent(
        QEvent.Type.TabletPress,
        QPointingDevice.primaryPointingDevice(),
        QPointF(40, 40),
        QPointF(40, 40),
        0.5,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        Qt.KeyboardModifier.NoModifier,
        Qt.MouseButton.LeftButton,
        Qt.MouseButton.LeftButton,
    )


def _wheel() -> QWheelEvent:
    return QWheelEvent(
        QPointF(40, 40),
        QPointF(40, 40),
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )


@pytest.mark.parametrize("kind", ["key", "mouse", "touch", "wheel", "tablet"])
def test_every_kind_of_input_counts_as_activity(
    qtbot: QtBot, shown_window: KioskWindow, kind: str
) -> None:
    """Each kind of input the idle timer must see reaches the filter on the native window.
    Keys and touch come through Qt's window-system layer, as a device's do (Qt makes each
    event and PySide picks its class); the others are sent to the native window."""
    buttons = shown_window.welcome.findChildren(QAbstractButton)
    start = next(b for b in buttons if b.accessibleName() == "Start")
    handle = shown_window.windowHandle()
    assert handle is not None
    with qtbot.waitSignal(shown_window.user_activity, timeout=1000):
        if kind == "key":
            press(qtbot, Qt.Key.Key_Shift)
        elif kind == "mouse":
            tap_at(start)
        elif kind == "touch":
            device = QTest.createTouchDevice()
            QTest.touchEvent(handle, device).press(0, QPoint(40, 40)).commit()
        elif kind == "wheel":
            QApplication.sendEvent(handle, _wheel())
        else:
            QApplication.sendEvent(handle, _tablet_press())
    if kind == "touch":
        QTest.touchEvent(handle, device).release(0, QPoint(40, 40)).commit()


def test_input_in_another_window_of_the_app_counts_too(
    qtbot: QtBot, shown_window: KioskWindow
) -> None:
    """An officer's dialog (printing a slip) is a native window of its own: once it has the
    focus, its input is watched as well, and closing shortcuts are swallowed there too."""
    dialog = QDialog(shown_window)
    qtbot.addWidget(dialog)
    closer = QShortcut(QKeySequence("Alt+F4"), dialog)
    closer.activated.connect(dialog.close)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWindow() is dialog.windowHandle())
    handle = dialog.windowHandle()
    assert handle is not None
    with qtbot.waitSignal(shown_window.user_activity, timeout=1000):
        QTest.keyClick(handle, Qt.Key.Key_Shift)
    QTest.keyClick(handle, Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier)
    assert dialog.isVisible()


def test_events_for_widgets_alone_are_not_watched(qtbot: QtBot, shown_window: KioskWindow) -> None:
    """Only what comes through the native window counts: the filter is not on every widget
    (that cost each step change about 3 ms)."""
    with qtbot.assertNotEmitted(shown_window.user_activity, wait=50):
        QTest.keyClick(focused(), Qt.Key.Key_Shift)


def test_pyside_gives_events_made_by_qt_their_input_class(app: QApplication) -> None:
    """Wheel and tablet events cannot be made through QtTest's window-system path; this shows
    that an event Qt itself made (here by `clone`, a C++ copy behind a `QEvent` pointer)
    comes to Python as its input class, which the input filter relies on."""
    made = [
        _wheel(),
        _tablet_press(),
        QKeyEvent(QEvent.Type.ShortcutOverride, Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier),
        QMouseEvent(
            QEvent.Type.MouseButtonPress,
            QPointF(1, 1),
            QPointF(1, 1),
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        ),
    ]
    for event in made:
        copy = QEvent.clone(event)
        assert type(copy) is type(event)
        assert isinstance(copy, QInputEvent)
    assert not isinstance(QEvent.clone(QEvent(QEvent.Type.Polish)), QInputEvent)


def test_welcome_to_login_with_the_keyboard_only(qtbot: QtBot, shown_window: KioskWindow) -> None:
    window = shown_window
    window.welcome.start_requested.connect(lambda: window.show_screen(ScreenName.LOGIN))
    window.show_screen(ScreenName.WELCOME)
    qtbot.waitUntil(lambda: focused().accessibleName() == "Start")

    # Tab reaches the accessibility choices; Space switches high contrast on.
    with qtbot.waitSignal(window.welcome.accessibility_changed) as changed:
        for _ in range(10):
            if focused().accessibleName() == "High contrast":
                break
            press(qtbot, Qt.Key.Key_Tab)
        press(qtbot, Qt.Key.Key_Space)
    assert changed.args[0].high_contrast

    # Back to Start with Shift+Tab, then Enter.
    for _ in range(10):
        if focused().accessibleName() == "Start":
            break
        press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    press(qtbot, Qt.Key.Key_Return)
    assert window.current_screen() == ScreenName.LOGIN

    qtbot.waitUntil(lambda: focused().accessibleName() == "access code")
    QTest.keyClicks(focused(), "abc-12345")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: focused().accessibleName() == "PIN")
    QTest.keyClicks(focused(), "123456")
    with qtbot.waitSignal(window.login.login_requested) as login:
        press(qtbot, Qt.Key.Key_Enter)
    assert login.args == ["ABC-12345", "123456"]


def test_painted_fires_once_the_first_frame_is_drawn(qtbot: QtBot, window: KioskWindow) -> None:
    assert not window.has_painted()
    with qtbot.waitSignal(window.painted):
        window.show()
    assert window.has_painted()
    with qtbot.assertNotEmitted(window.painted, wait=50):
        window.hide()
        window.show()


def test_input_is_watched_from_when_asked(qtbot: QtBot, app: QApplication) -> None:
    """The boot screens leave the application-wide filter out until someone can sign in."""
    window = KioskWindow(app, watch_input=False)
    qtbot.addWidget(window, before_close_func=lambda w: window.allow_exit())
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    with qtbot.assertNotEmitted(window.user_activity, wait=50):
        press(qtbot, Qt.Key.Key_Shift)
    window.watch_input()
    window.watch_input()  # once is enough; twice changes nothing
    with qtbot.waitSignal(window.user_activity):
        press(qtbot, Qt.Key.Key_Shift)
