"""The choices a steward makes about a file, named in messages the way each place asks.

A loader message often ends by saying what to give: "no date column could be read;
choose it ...". On the command line that is an option (``--period COLUMN``); on the
Partner data page it is a field of the upload form ('Date column'). A message names
the choice by its key with :func:`ask`, and each place renders it its own way:
:func:`for_cli` (the command line, its JSON report and the ingest log) and
:func:`for_form` (the page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """One choice: how the command line asks for it, and how the upload form does."""

    cli: str  # as the command line's help shows it
    form: str  # a phrase naming the form's field


FIELDS = {
    "code": Field("(--code COLUMN)", "under 'Area codes or ward names'"),
    "period": Field("(--period 2024 or --period 2024-04:2026-04)",
                    "under 'Period of the whole file' (or choose its column under 'Period')"),
    "period_column": Field("(--period COLUMN)", "under 'Period'"),
    "indicator": Field("(--indicator ID)", "under 'Indicator id of the whole file' (or "
                       "choose its column under 'Indicator')"),
    "indicator_column": Field("(--indicator COLUMN)", "under 'Indicator'"),
    "value": Field("(--value COLUMN)", "under 'Value column(s)'"),
    "breakdown": Field("(--breakdown COLUMN)", "under 'Breakdown columns'"),
    "incident_indicator": Field("(--indicator fire_incidents)", "under 'Indicator id'"),
    "date": Field("(--period COLUMN)", "under 'Date column'"),
    "date_order": Field("(--date-order day-first or month-first)", "under 'Date order'"),
    "replace": Field("(--replace)", "(tick 'This is a corrected version of a file loaded "
                     "before')"),
    "partner": Field("(--partner)", "(under 'Partner')"),
}
_MARK = re.compile(r"⟦([a-z_]+)⟧")


def ask(key: str) -> str:
    """A marker in a message for the choice ``key``, rendered by each place its own way.

    Raises
    ------
    ValueError
        If ``key`` is not one of :data:`FIELDS`.
    """
    if key not in FIELDS:
        raise ValueError(f"unknown field {key!r}; known: {sorted(FIELDS)}")
    return f"⟦{key}⟧"


def _render(text: object, attr: str) -> str:
    return _MARK.sub(lambda m: getattr(FIELDS[m[1]], attr) if m[1] in FIELDS else m[0],
                     str(text))


def for_cli(text: object) -> str:
    """A message as the command line says it: ``choose it (--period COLUMN)``."""
    return _render(text, "cli")


def for_form(text: object) -> str:
    """A message as the upload form says it: ``choose it under 'Date column'``."""
    return _render(text, "form")
