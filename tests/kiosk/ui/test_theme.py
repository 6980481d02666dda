"""Themes: WCAG contrast of every colour pair, three text sizes, big touch targets."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from kiosk_app.ui.theme import (
    CALM,
    HIGH_CONTRAST,
    MIN_TOUCH_TARGET_PX,
    ThemeColours,
    apply_theme,
    build_stylesheet,
    contrast_ratio,
    text_size_steps,
)
from kiosk_app.ui.viewmodels import AccessibilityOptions, TextSize
from kiosk_app.ui.widgets.choice import ChoiceButton

TEXT_PAIRS = [
    ("text", "window"),
    ("muted_text", "window"),
    ("text", "surface"),
    ("button_text", "button"),
    ("primary_text", "primary"),
    ("checked_text", "checked"),
    ("error_text", "window"),
]


@pytest.mark.parametrize(("theme", "minimum"), [(CALM, 4.5), (HIGH_CONTRAST, 7.0)])
@pytest.mark.parametrize(("foreground", "background"), TEXT_PAIRS)
def test_text_meets_wcag_contrast(
    theme: ThemeColours, minimum: float, foreground: str, background: str
) -> None:
    ratio = contrast_ratio(getattr(theme, foreground), getattr(theme, background))
    assert ratio >= minimum, f"{foreground} on {background}: {ratio:.2f}"


@pytest.mark.parametrize("theme", [CALM, HIGH_CONTRAST])
@pytest.mark.parametrize("background", ["window", "button", "surface"])
def test_focus_ring_and_borders_stand_out(theme: ThemeColours, background: str) -> None:
    assert contrast_ratio(theme.focus, getattr(theme, background)) >= 3.0
    assert contrast_ratio(theme.border, theme.window) >= 3.0


@pytest.mark.parametrize(
    ("foreground", "background", "expected"),
    [("#000000", "#FFFFFF", 21.0), ("#FFFFFF", "#FFFFFF", 1.0), ("#777777", "#FFFFFF", 4.48)],
)
def test_contrast_ratio_matches_wcag_examples(
    foreground: str, background: str, expected: float
) -> None:
    assert contrast_ratio(foreground, background) == pytest.approx(expected, abs=0.01)


def test_three_text_sizes_grow() -> None:
    sizes = [size.value for size in text_size_steps()]
    assert len(sizes) >= 3
    assert sizes == sorted(set(sizes))


@pytest.mark.parametrize("size", list(TextSize))
@pytest.mark.parametrize("high_contrast", [False, True])
def test_buttons_are_big_touch_targets(
    qtbot: QtBot, app: QApplication, size: TextSize, high_contrast: bool
) -> None:
    apply_theme(app, AccessibilityOptions(text_size=size, high_contrast=high_contrast))
    button = QPushButton("OK")
    qtbot.addWidget(button)
    button.ensurePolished()
    assert button.sizeHint().height() >= MIN_TOUCH_TARGET_PX
    assert button.sizeHint().width() >= MIN_TOUCH_TARGET_PX
    assert app.font().pointSize() == size.value


def test_high_contrast_paints_the_window_black(app: QApplication) -> None:
    apply_theme(app, AccessibilityOptions(high_contrast=True))
    assert app.palette().window().color() == QColor(HIGH_CONTRAST.window)
    apply_theme(app, AccessibilityOptions())
    assert app.palette().window().color() == QColor(CALM.window)


@pytest.mark.parametrize("high_contrast", [False, True])
def test_stylesheet_has_a_focus_ring(high_contrast: bool) -> None:
    options = AccessibilityOptions(high_contrast=high_contrast)
    sheet = build_stylesheet(options)
    focus = (HIGH_CONTRAST if high_contrast else CALM).focus
    assert f"solid {focus}" in sheet
    assert ":focus" in sheet


@pytest.mark.parametrize("theme", [CALM, HIGH_CONTRAST])
def test_a_chosen_option_shows_its_words_in_the_checked_colours(
    qtbot: QtBot, app: QApplication, theme: ThemeColours
) -> None:
    apply_theme(app, AccessibilityOptions(high_contrast=theme is HIGH_CONTRAST))
    option = ChoiceButton("The owner")
    qtbot.addWidget(option)
    option.resize(400, 120)
    option.show()
    qtbot.waitExposed(option)

    def colours() -> set[str]:
        image = option.grab().toImage()
        return {
            image.pixelColor(x, y).name().upper()
            for x in range(image.width())
            for y in range(image.height())
        }

    assert theme.text.upper() in colours() or theme.button_text.upper() in colours()
    option.setChecked(True)
    assert option.palette().color(QPalette.ColorRole.HighlightedText) == QColor(theme.checked_text)
    chosen = colours()
    assert theme.checked.upper() in chosen  # the stylesheet's checked background
    assert theme.checked_text.upper() in chosen
    option.setEnabled(False)  # a marked quiz: the chosen answer stays in the checked colours
    assert theme.checked_text.upper() in colours()


class _Restyled(QObject):
    """Counts the style, palette and font changes a widget is sent."""

    KINDS = (QEvent.Type.StyleChange, QEvent.Type.PaletteChange, QEvent.Type.FontChange)

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in self.KINDS:
            self.count += 1
        return False


def test_the_same_options_again_restyle_nothing(qtbot: QtBot, app: QApplication) -> None:
    """The presenter applies the options when it takes over and at every sign-out: with
    nothing to change, no widget of any screen is restyled."""
    apply_theme(app, AccessibilityOptions())
    button = QPushButton("OK")
    qtbot.addWidget(button)
    button.show()
    restyled = _Restyled()
    button.installEventFilter(restyled)
    apply_theme(app, AccessibilityOptions())
    assert restyled.count == 0
    apply_theme(app, AccessibilityOptions(high_contrast=True))
    assert restyled.count > 0
    assert app.palette().window().color() == QColor(HIGH_CONTRAST.window)
    restyled.count = 0
    apply_theme(app, AccessibilityOptions(high_contrast=True, text_size=TextSize.LARGE))
    assert restyled.count > 0
    assert app.font().pointSize() == TextSize.LARGE.value
