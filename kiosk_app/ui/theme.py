"""Calm default and high-contrast themes, with big touch targets, applied to the whole app."""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from kiosk_app.ui.viewmodels import AccessibilityOptions, TextSize

# Hyperlegible faces first; Qt falls back along the list to whatever the kiosk has.
FONT_FAMILIES = ["Atkinson Hyperlegible", "Verdana", "DejaVu Sans", "Noto Sans", "Arial"]
MIN_TOUCH_TARGET_PX = 64


class ThemeColours(NamedTuple):
    """Every colour a screen uses; text/background pairs are checked against WCAG in tests.

    A named tuple: it is made on the way to the first screen (see kiosk_app.ui.viewmodels).
    """

    window: str
    text: str
    muted_text: str
    surface: str
    button: str
    button_text: str
    border: str
    primary: str
    primary_text: str
    checked: str
    checked_text: str
    focus: str
    error_text: str
    disabled_text: str


CALM = ThemeColours(
    window="#F4F6F4",
    text="#1E2A2E",
    muted_text="#46565B",
    surface="#FFFFFF",
    button="#FFFFFF",
    button_text="#1E2A2E",
    border="#5D6D72",
    primary="#21594A",
    primary_text="#FFFFFF",
    checked="#21594A",
    checked_text="#FFFFFF",
    focus="#1747B8",
    error_text="#A1261B",
    disabled_text="#5F6B6E",
)

HIGH_CONTRAST = ThemeColours(
    window="#000000",
    text="#FFFFFF",
    muted_text="#FFFFFF",
    surface="#000000",
    button="#000000",
    button_text="#FFFFFF",
    border="#FFFFFF",
    primary="#FFFF00",
    primary_text="#000000",
    checked="#FFFF00",
    checked_text="#000000",
    focus="#00FFFF",
    error_text="#FFB3B3",
    disabled_text="#C8C8C8",
)


def colours_for(options: AccessibilityOptions) -> ThemeColours:
    """The colour set the options ask for."""
    return HIGH_CONTRAST if options.high_contrast else CALM


def _relative_luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    q = QColor(colour)
    return 0.2126 * channel(q.red()) + 0.7152 * channel(q.green()) + 0.0722 * channel(q.blue())


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio between two colours (1.0 to 21.0)."""
    a, b = sorted((_relative_luminance(foreground), _relative_luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def build_palette(options: AccessibilityOptions) -> QPalette:
    """A palette matching the stylesheet, for the parts stylesheets do not reach."""
    c = colours_for(options)
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: c.window,
        QPalette.ColorRole.WindowText: c.text,
        QPalette.ColorRole.Base: c.surface,
        QPalette.ColorRole.AlternateBase: c.window,
        QPalette.ColorRole.Text: c.text,
        QPalette.ColorRole.Button: c.button,
        QPalette.ColorRole.ButtonText: c.button_text,
        QPalette.ColorRole.Highlight: c.primary,
        QPalette.ColorRole.HighlightedText: c.primary_text,
        QPalette.ColorRole.ToolTipBase: c.surface,
        QPalette.ColorRole.ToolTipText: c.text,
        QPalette.ColorRole.PlaceholderText: c.muted_text,
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(c.disabled_text))
    palette.setColor(
        QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(c.disabled_text)
    )
    return palette


def build_font(options: AccessibilityOptions) -> QFont:
    """The application font at the chosen text size."""
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setPointSize(options.text_size.value)
    return font


def build_stylesheet(options: AccessibilityOptions) -> str:
    """Stylesheet for the whole app: large type, 64 px+ targets, a thick focus ring."""
    c = colours_for(options)
    pt = options.text_size.value
    title_pt = round(pt * 1.6)
    big_pt = round(pt * 1.3)
    ring = 6 if options.high_contrast else 5
    gap = max(12, pt)
    return f"""
QWidget {{ background-color: {c.window}; color: {c.text}; font-size: {pt}pt; }}
QLabel {{ background: transparent; }}
QLabel[role="title"] {{ font-size: {title_pt}pt; font-weight: bold; }}
QLabel[role="hint"] {{ color: {c.muted_text}; }}
QLabel[role="message"] {{ font-size: {big_pt}pt; font-weight: bold; color: {c.error_text}; }}
QLabel[role="countdown"] {{ font-size: {big_pt}pt; font-weight: bold; }}
QLabel[role="big-number"] {{ font-size: {title_pt * 2}pt; font-weight: bold; }}
QPushButton, QToolButton {{
    min-height: {MIN_TOUCH_TARGET_PX}px; min-width: {MIN_TOUCH_TARGET_PX}px;
    padding: 6px {gap}px; border-radius: 12px;
    border: 3px solid {c.border}; background-color: {c.button}; color: {c.button_text};
}}
QPushButton:checked {{
    background-color: {c.checked}; color: {c.checked_text}; border-color: {c.checked};
    font-weight: bold;
}}
QPushButton[role="primary"], QPushButton[role="key-primary"] {{
    background-color: {c.primary}; color: {c.primary_text}; border-color: {c.primary};
    font-size: {big_pt}pt; font-weight: bold;
}}
QPushButton[role="primary"] {{
    min-height: {MIN_TOUCH_TARGET_PX + 32}px; min-width: 320px; padding: 6px 48px;
}}
QPushButton[role="key"] {{ font-size: {big_pt}pt; font-weight: bold; }}
QPushButton:focus, QToolButton:focus, QLineEdit:focus {{
    border: {ring}px solid {c.focus};
}}
QPushButton:disabled {{ color: {c.disabled_text}; border-style: dashed; }}
QLineEdit {{
    min-height: {MIN_TOUCH_TARGET_PX}px; padding: 4px {gap}px; border-radius: 10px;
    border: 3px solid {c.border}; background-color: {c.surface}; color: {c.text};
    font-size: {big_pt}pt; letter-spacing: 2px;
}}
QLineEdit:disabled {{ color: {c.disabled_text}; border-style: dashed; }}
QPlainTextEdit[role="writing"] {{
    background-color: {c.surface}; color: {c.text}; border: 3px solid {c.text};
    border-radius: 10px; padding: 8px;
}}
QPlainTextEdit[role="writing"]:focus {{ border-color: {c.primary}; }}
QWidget#IdleOverlay {{ background-color: {c.window}; }}
"""


# QApplication arguments that start the app in Fusion (see `apply_theme`).
FUSION_ARGS = ("-style", "fusion")
_IN_FUSION = "kioskInFusion"


def started_in_fusion(app: QApplication) -> None:
    """Tell `apply_theme` that `app`'s style is Fusion (it was made with `FUSION_ARGS`, or
    `apply_theme` set it)."""
    app.setProperty(_IN_FUSION, True)


def apply_theme(app: QApplication, options: AccessibilityOptions) -> None:
    """Apply the options to every window at once: style, palette, font, stylesheet."""
    # Fusion honours palettes and stylesheets the same way on every platform. Asking the app
    # for its style the first time costs PySide ~10 ms (it builds QStyle's enums), on the way
    # to the kiosk's first screen: an app started in Fusion is never asked.
    if not app.property(_IN_FUSION):  # once a stylesheet is set, style() names no style
        if app.style().name().lower() != "fusion":
            app.setStyle("Fusion")
        started_in_fusion(app)
    palette, font, sheet = build_palette(options), build_font(options), build_stylesheet(options)
    # Each of these restyles every widget of every screen, even when set to what it already
    # is: the presenter applies the options when it takes over and at every sign-out, which
    # had the GUI thread busy for a long moment while the next person reached for the screen.
    if app.palette() != palette:
        app.setPalette(palette)
    if app.font() != font:
        app.setFont(font)
    if app.styleSheet() != sheet:
        app.setStyleSheet(sheet)


def text_size_steps() -> list[TextSize]:
    """Text sizes in the order they are offered."""
    return [TextSize.STANDARD, TextSize.LARGE, TextSize.EXTRA_LARGE]
