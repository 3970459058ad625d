"""WCAG 2.2 contrast between colours: the check every chart's text is held to, and the
choice of black or white text on a coloured cell."""

from __future__ import annotations

AA_TEXT = 4.5  # WCAG 2.2 AA, success criterion 1.4.3: normal-size text
NON_TEXT = 3.0  # WCAG 2.2 AA, success criterion 1.4.11: graphical objects such as map fills


def luminance(colour: str) -> float:
    """The relative luminance of a ``#rrggbb`` (or ``#rgb``) colour, as WCAG defines it.

    Raises
    ------
    ValueError
        If the colour is not a hex colour.
    """
    text = colour.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if len(text) != 6 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise ValueError(f"colour was {colour!r} but is expected to be '#rrggbb'")
    channels = [int(text[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(foreground: str, background: str) -> float:
    """The WCAG contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    a, b = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def text_on(background: str) -> str:
    """Black or white, whichever reads better on the background."""
    return "#000000" if ratio("#000000", background) >= ratio("#ffffff", background) \
        else "#ffffff"
