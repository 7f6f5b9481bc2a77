"""CSV for spreadsheets: read `;` or `,` in UTF-8 with or without BOM; write the French convention (`;`, UTF-8 BOM,
decimal comma, CRLF), codes as text, every cell from data formula-safe.

Formula safety follows the OWASP rule for CSV injection: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is prefixed with a single quote, so that a spreadsheet shows it as text instead of
running it. A plain number (``-0.046``, ``+33``, ``1,5e3``) is left as it is: it cannot be a formula.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from geo.errors import InputError, Problem

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?"
SEPARATORS = (";", ",")
UTF8_FIX = "save the file as CSV UTF-8 (in Excel: Save as › CSV UTF-8; in LibreOffice: character set Unicode (UTF-8))"


def neutralise(values: pd.Series) -> pd.Series:
    """Text cells that a spreadsheet would run as a formula, prefixed with a single quote; others unchanged."""
    text = values.astype("string")
    risky = text.str.startswith(FORMULA_START).fillna(False) & ~text.str.fullmatch(_NUMBER).fillna(False)
    if not risky.any():
        return values
    out = values.astype(object).copy()
    out[risky.to_numpy()] = "'" + text[risky]
    return out


def formula_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text column neutralised (numbers, booleans and dates are not text and stay as they are)."""
    out = frame.copy(deep=False)
    for col in out.columns:
        if pd.api.types.is_object_dtype(out[col]) or pd.api.types.is_string_dtype(out[col]):
            out[col] = neutralise(out[col])
    return out


def write_csv(frame: pd.DataFrame, target: Path | BinaryIO) -> None:
    """``frame`` as a CSV that Excel opens: `;`, UTF-8 with BOM, decimal comma, CRLF, formula-safe cells, no index."""
    safe = formula_safe(frame)
    if isinstance(target, Path):
        safe.to_csv(target, sep=";", decimal=",", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    else:
        text = safe.to_csv(sep=";", decimal=",", index=False, lineterminator="\r\n")
        target.write(b"\xef\xbb\xbf" + text.encode("utf-8"))


def _separator(first_line: str) -> str:
    """`;` when the header holds one (the French convention, where `,` is the decimal mark), else `,`."""
    return ";" if ";" in first_line else ","


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_csv(source: Path | bytes, name: str | None = None) -> pd.DataFrame:
    """Every column as text, empty cells as "" (a code keeps its leading zero; "NA" stays a text).

    ``source`` is a path or the file's bytes (``name`` then names it in errors). Errors (not UTF-8, a row with
    more fields than the header, an unclosed quote) raise InputError naming the file, the row and the fix.
    """
    data = source.read_bytes() if isinstance(source, Path) else source
    label = name or (str(source) if isinstance(source, Path) else "CSV")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(label, _line_of(data, exc.start), f"not UTF-8 (byte 0x{data[exc.start]:02x})", UTF8_FIX)]) from None
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise InputError([Problem(label, 1, "no header row", "put the column names (e.g. lon;lat or code) on the first row")])
    sep = _separator(first)
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=True)
    except (pd.errors.ParserError, csv.Error) as exc:
        message = str(exc).strip()
        row = re.search(r"line (\d+)", message)
        raise InputError([Problem(label, int(row.group(1)) if row else None, f"cannot be read as CSV separated by '{sep}': {message}",
                                  "give every row as many fields as the header, and close every quote")]) from None
