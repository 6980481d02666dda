"""The kiosk's locked-down main window: a stack of screens, full screen, no way out."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QKeyCombination, QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import QApplication, QLayout, QMainWindow, QStackedWidget, QWidget

from kiosk_app.ui.screens.choose_pin import ChoosePinScreen
from kiosk_app.ui.screens.completion import CompletionScreen
from kiosk_app.ui.screens.home import HomeScreen
from kiosk_app.ui.screens.login import LoginScreen
from kiosk_app.ui.screens.privacy import PrivacyScreen
from kiosk_app.ui.screens.welcome import WelcomeScreen
from kiosk_app.ui.steps.frame import StepFrame
from kiosk_app.ui.widgets.idle_overlay import IdleOverlay


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
    """Application-wide filter: swallows window-closing shortcuts, reports any user input."""

    user_activity = Signal()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) and isinstance(
            event, QKeyEvent
        ):
            combo = event.keyCombination()
            if combo in _BLOCKED_KEYS:
                event.accept()
                return True
        if kind in _INPUT_EVENTS and isinstance(watched, QWidget):
            # May fire more than once per input as events propagate; listeners only reset a timer.
            self.user_activity.emit()
        return False


class KioskWindow(QMainWindow):
    """Full-screen, frameless, always on top; only `allow_exit()` lets it close."""

    user_activity = Signal()

    def __init__(
        self,
        app: QApplication,
        *,
        welcome: WelcomeScreen | None = None,
        login: LoginScreen | None = None,
    ) -> None:
        super().__init__()
        self._app = app
        self._exit_allowed = False
        self.setWindowFlags(
            Qt.WindowType.Window
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
        )
        self._stack = QStackedWidget()
        self.setCentralWidget(self._stack)
        # Always full screen: no minimum size to hand the window system (offscreen warns on it).
        layout = self.layout()
        if layout is not None:
            layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self._screens: dict[str, QWidget] = {}
        self._welcome = welcome or WelcomeScreen()
        self._login = login or LoginScreen()
        self.add_screen(ScreenName.WELCOME, self._welcome)
        self.add_screen(ScreenName.LOGIN, self._login)
        self._idle_overlay = IdleOverlay(self)
        self._filter = KioskKeyFilter(self)
        self._filter.user_activity.connect(self.user_activity)
        app.installEventFilter(self._filter)
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
        """The inactivity warning that covers the window."""
        return self._idle_overlay

    def add_screen(self, name: str, screen: QWidget) -> None:
        """Put a screen in the stack under `name` (later issues add home, player...)."""
        if name in self._screens:
            raise ValueError(f"a screen called {name!r} is already there")
        self._screens[name] = screen
        self._stack.addWidget(screen)

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

    def allow_exit(self) -> None:
        """Let the window close (only the officer console calls this)."""
        self._exit_allowed = True
        self._app.removeEventFilter(self._filter)

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


@dataclass(frozen=True, slots=True)
class ParticipantScreens:
    """The screens of a signed-in participant, added to a window by `add_participant_screens`."""

    privacy: PrivacyScreen
    choose_pin: ChoosePinScreen
    home: HomeScreen
    step: StepFrame
    completion: CompletionScreen


def add_participant_screens(window: KioskWindow) -> ParticipantScreens:
    """Put privacy, PIN choice, Home, the step frame and completion into the window's stack."""
    screens = ParticipantScreens(
        privacy=PrivacyScreen(),
        choose_pin=ChoosePinScreen(),
        home=HomeScreen(),
        step=StepFrame(),
        completion=CompletionScreen(),
    )
    window.add_screen(ScreenName.PRIVACY, screens.privacy)
    window.add_screen(ScreenName.CHOOSE_PIN, screens.choose_pin)
    window.add_screen(ScreenName.HOME, screens.home)
    window.add_screen(ScreenName.STEP, screens.step)
    window.add_screen(ScreenName.COMPLETION, screens.completion)
    return screens
