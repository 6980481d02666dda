"""The kiosk's locked-down main window: a stack of screens, full screen, no way out."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtCore import QEvent, QKeyCombination, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QInputEvent, QKeyEvent, QShowEvent, QWindow
from PySide6.QtWidgets import QApplication, QLayout, QMainWindow, QStackedWidget, QWidget

from kiosk_app.ui.screens.login import LoginScreen
from kiosk_app.ui.screens.welcome import WelcomeScreen
from kiosk_app.ui.widgets.idle_overlay import IdleOverlay

# The screens after sign-in load with `add_participant_screens`, once the first screen is
# painted (DESIGN.md §7 cold start): only welcome and login are needed before that.
if TYPE_CHECKING:
    from kiosk_app.ui.screens.choose_pin import ChoosePinScreen
    from kiosk_app.ui.screens.completion import CompletionScreen
    from kiosk_app.ui.screens.home import HomeScreen
    from kiosk_app.ui.screens.privacy import PrivacyScreen
    from kiosk_app.ui.steps.frame import StepFrame


class ScreenName(enum.StrEnum):
    """Names of the screens in the stack."""

    WELCOME = "welcome"
    LOGIN = "login"
    PRIVACY = "privacy"
    CHOOSE_PIN = "choose-pin"
    HOME = "home"
    STEP = "step"
    COMPLETION = "completion"
    OFFICER_SIGN_IN = "officer-sign-in"
    CONSOLE = "console"
    REGISTER = "register"
    SLIP = "slip"
    ENROL = "enrol"
    PARTICIPANTS = "participants"
    PARTICIPANT = "participant"


_BLOCKED_KEYS = {
    QKeyCombination(Qt.KeyboardModifier.AltModifier, Qt.Key.Key_F4),
    QKeyCombination(Qt.KeyboardModifier.ControlModifier, Qt.Key.Key_W),
    QKeyCombination(Qt.KeyboardModifier.ControlModifier, Qt.Key.Key_Q),
}
_INPUT_EVENTS = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.TouchBegin,
    QEvent.Type.Wheel,
    QEvent.Type.TabletPress,
}


class KioskKeyFilter(QObject):
    """Filter on the kiosk's native windows: swallows window-closing shortcuts, reports input.

    Input from the window system (keys, shortcut overrides, mouse, touch, wheel, tablet) comes
    to a native window (`QWindow`) before Qt hands it on to the widget under it, so the filter
    sits there. An application-wide filter also saw every event of every widget (a step change
    brings some 250: polish, layout, paint...), and PySide wrapped each one for a call into
    Python: about 3 ms of every step change. The kiosk installs it only once someone can sign
    in (`KioskWindow.watch_input`), never while the first screens paint and the store opens.
    """

    user_activity = Signal()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Expose and update requests come here too: PySide gives each event its own class,
        # so one isinstance test lets them go (tests/kiosk/ui/test_kiosk_window.py checks).
        if not isinstance(event, QInputEvent):
            return False
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) and isinstance(
            event, QKeyEvent
        ):
            combo = event.keyCombination()
            if combo in _BLOCKED_KEYS:
                event.accept()
                return True
        if kind in _INPUT_EVENTS:
            # May fire twice for one touch (Qt adds a mouse press); listeners only reset a timer.
            self.user_activity.emit()
        return False


class KioskWindow(QMainWindow):
    """Full-screen, frameless, always on top; only `allow_exit()` lets it close.

    `painted` fires once, when the window's first frame has been drawn. With `watch_input`
    False the input filter waits for `watch_input()` (the presenter's, once
    the store is open); until then `user_activity` is silent.
    """

    user_activity = Signal()
    painted = Signal()

    def __init__(
        self,
        app: QApplication,
        *,
        welcome: WelcomeScreen | None = None,
        login: LoginScreen | None = None,
        watch_input: bool = True,
    ) -> None:
        # Flags given to the constructor: setWindowFlags() afterwards re-parents the widget.
        super().__init__(
            None,
            Qt.WindowType.Window
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint,
        )
        self._app = app
        self._exit_allowed = False
        self._watching = False
        self._painted = False
        self._expose_watch: _FirstExpose | None = None
        self._stack = QStackedWidget(self)
        self.setCentralWidget(self._stack)
        # Always full screen: no minimum size to hand the window system (offscreen warns on it).
        layout = self.layout()
        if layout is not None:
            layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self._screens: dict[str, QWidget] = {}
        # Made inside the stack, not moved in: see add_screen.
        self._welcome = welcome or WelcomeScreen(self._stack)
        self._login = login or LoginScreen(self._stack)
        self.add_screen(ScreenName.WELCOME, self._welcome)
        self.add_screen(ScreenName.LOGIN, self._login)
        self._idle_overlay: IdleOverlay | None = None
        self._filter = KioskKeyFilter(self)
        self._filter.user_activity.connect(self.user_activity)
        if watch_input:
            self.watch_input()
        self._retranslate()

    @property
    def welcome(self) -> WelcomeScreen:
        """The welcome screen."""
        return self._welcome

    @property
    def login(self) -> LoginScreen:
        """The login screen."""
        return self._login

    @property
    def idle_overlay(self) -> IdleOverlay:
        """The inactivity warning that covers the window.

        Built the first time it is asked for (the presenters ask as they take over): nobody is
        idle before signing in, and until then it would only add to the cold start and watch
        every event of the window."""
        if self._idle_overlay is None:
            self._idle_overlay = IdleOverlay(self)
        return self._idle_overlay

    def add_screen(self, name: str, screen: QWidget) -> None:
        """Put a screen in the stack under `name` (later issues add home, player...).

        A screen made with `screen_parent()` as its parent is added without being moved: a
        finished tree of widgets moved into the styled window has its stylesheet style worked
        out again, widget by widget.
        """
        if name in self._screens:
            raise ValueError(f"a screen called {name!r} is already there")
        self._screens[name] = screen
        self._stack.addWidget(screen)

    def screen_parent(self) -> QWidget:
        """The parent to make a screen with before `add_screen`."""
        return self._stack

    def screen_names(self) -> list[str]:
        """Every screen in the stack, in the order added."""
        return list(self._screens)

    def screen_widget(self, name: str) -> QWidget:
        """The screen called `name`."""
        return self._screens[name]

    def show_screen(self, name: str) -> None:
        """Bring the screen forward and put keyboard focus on its first control."""
        screen = self._screens[name]
        self._stack.setCurrentWidget(screen)
        screen.setFocus(Qt.FocusReason.OtherFocusReason)

    def current_screen(self) -> str:
        """The name of the screen shown."""
        current = self._stack.currentWidget()
        return next(name for name, widget in self._screens.items() if widget is current)

    def enter_kiosk_mode(self) -> None:
        """Take the whole screen."""
        # Without a window manager (a bare kiosk X session) the full-screen hint alone does nothing.
        screen = self.screen()
        if screen is not None:
            self.setGeometry(screen.geometry())
        self.showFullScreen()
        self.activateWindow()
        self.raise_()

    def watch_input(self) -> None:
        """Swallow window-closing shortcuts and report user input from now on (idempotent).

        The filter goes on this window's native window (now, or when it is first shown) and on
        any other window of the app that takes the focus (an officer's print dialog).
        """
        if not self._watching and not self._exit_allowed:
            self._watching = True
            self._app.focusWindowChanged.connect(self._watch_window)
            self._watch_window(self.windowHandle())

    def _watch_window(self, window: QWindow | None) -> None:
        if window is not None and self._watching:
            window.installEventFilter(self._filter)  # once per window, however often asked

    def has_painted(self) -> bool:
        """Whether the first frame has been drawn (`painted` has fired)."""
        return self._painted

    def allow_exit(self) -> None:
        """Let the window close (only the officer console calls this)."""
        self._exit_allowed = True
        if self._watching:
            self._watching = False
            self._app.focusWindowChanged.disconnect(self._watch_window)
            for window in QApplication.topLevelWindows():
                window.removeEventFilter(self._filter)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        handle = self.windowHandle()
        self._watch_window(handle)
        if not self._painted and self._expose_watch is None and handle is not None:
            # Watches only the native window's own few events, and only until it is exposed.
            self._expose_watch = _FirstExpose(self._first_paint)
            handle.installEventFilter(self._expose_watch)

    def _first_paint(self) -> None:
        watch, self._expose_watch = self._expose_watch, None
        handle = self.windowHandle()
        if watch is not None and handle is not None:
            handle.removeEventFilter(watch)
        if watch is not None:
            watch.deleteLater()
        if not self._painted:
            self._painted = True
            self.painted.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._exit_allowed:
            event.accept()
        else:
            event.ignore()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self.setWindowTitle(self.tr("Kiosk"))
        self._stack.setAccessibleName(self.tr("screens"))


class ParticipantScreens(NamedTuple):
    """The screens of a signed-in participant, added to a window by `add_participant_screens`.

    A named tuple: this module is imported on the way to the first screen (see
    kiosk_app.ui.viewmodels).
    """

    privacy: PrivacyScreen
    choose_pin: ChoosePinScreen
    home: HomeScreen
    step: StepFrame
    completion: CompletionScreen


class _FirstExpose(QObject):
    """On a native window: calls `done` once its first expose has been painted.

    Qt widgets paint and flush an expose synchronously while handling it, so a zero timer
    started when the expose arrives runs after that first frame is on screen.
    """

    def __init__(self, done: Callable[[], None]) -> None:
        super().__init__()
        self._done = done
        self._seen = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self._seen and event.type() == QEvent.Type.Expose:
            window = watched if isinstance(watched, QWindow) else None
            if window is None or window.isExposed():
                self._seen = True
                QTimer.singleShot(0, self, self._done)
        return False


def add_participant_screens(window: KioskWindow) -> ParticipantScreens:
    """Put privacy, PIN choice, Home, the step frame and completion into the window's stack."""
    from kiosk_app.ui.screens.choose_pin import ChoosePinScreen
    from kiosk_app.ui.screens.completion import CompletionScreen
    from kiosk_app.ui.screens.home import HomeScreen
    from kiosk_app.ui.screens.privacy import PrivacyScreen
    from kiosk_app.ui.steps.frame import StepFrame

    parent = window.screen_parent()
    screens = ParticipantScreens(
        privacy=PrivacyScreen(parent),
        choose_pin=ChoosePinScreen(parent),
        home=HomeScreen(parent),
        step=StepFrame(parent),
        completion=CompletionScreen(parent),
    )
    window.add_screen(ScreenName.PRIVACY, screens.privacy)
    window.add_screen(ScreenName.CHOOSE_PIN, screens.choose_pin)
    window.add_screen(ScreenName.HOME, screens.home)
    window.add_screen(ScreenName.STEP, screens.step)
    window.add_screen(ScreenName.COMPLETION, screens.completion)
    return screens
