"""Spreadsheet formula injection: CSV cells that a spreadsheet would run are made inert.

A cell beginning with `=`, `+`, `-`, `@`, tab or carriage return is read by Excel, LibreOffice
and Google Sheets as a formula (`=HYPERLINK(...)`, `=cmd|' /C calc'!A0`). As OWASP advises, such
a cell gets a leading single quote, which the spreadsheet shows as text. A carriage return inside a
cell becomes a newline: Python's csv writer (with pandas' `\n` line ending) leaves a lone CR
unquoted, and spreadsheets read it as the end of a row. Only text cells change: numbers (a
negative count) stay numbers. Parquet and JSON Lines are not opened as spreadsheets
and are written unchanged.
"""

from __future__ import annotations

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """`value` with a leading `'` when it is text a spreadsheet would take for a formula."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_PREFIXES) or value.lstrip(" \t\r\n").startswith(FORMULA_PREFIXES[:4]):
        value = "'" + value  # also when blank space comes first: some spreadsheets trim it
    return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells cannot start a spreadsheet formula."""
    text_columns = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    if not text_columns:
        return frame
    safe = frame.copy()
    for column in text_columns:
        safe[column] = safe[column].map(neutralise_cell)
    return safe
