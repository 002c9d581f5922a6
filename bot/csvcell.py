"""The one guard for text written into CSV files that people open in spreadsheets.

A cell that starts like a formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
is written with a leading ``'`` so a spreadsheet shows it as text instead of running it
(CSV injection). A plain number such as ``-5`` or ``+3.5`` is data, not a formula, and is
written as it is. :func:`unguard_cell` undoes the guard when such a file is imported back.
"""
from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity")


def guard_cell(value: Any) -> Any:
    """``value`` as safe to write into a CSV cell (non-text values are returned unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def unguard_cell(text: str) -> str:
    """Inverse of :func:`guard_cell` for a cell read back from a file we wrote."""
    if text.startswith("'") and text[1:].startswith(FORMULA_START) and not _is_number(text[1:]):
        return text[1:]
    return text
