"""CSV for spreadsheets: the French convention (`;`, UTF-8 BOM, decimal comma, CRLF), codes as text, every cell
from data formula-safe.

Formula safety follows the OWASP rule for CSV injection: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is prefixed with a single quote, so that a spreadsheet shows it as text instead of
running it. A plain number (``-0.046``, ``+33``, ``1,5e3``) is left as it is: it cannot be a formula.
"""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?"
BOM = b"\xef\xbb\xbf"


def neutralise(values: pd.Series) -> pd.Series:
    """Text cells that a spreadsheet would run as a formula, prefixed with a single quote; others unchanged.

    Tested once per distinct value (a column of commune names holds a few thousand among a million rows)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(uniques, dtype=object).astype("string")
    risky = (text.str.startswith(FORMULA_START) & ~text.str.fullmatch(_NUMBER)).fillna(False).to_numpy(dtype=bool)
    if not risky.any():
        return values
    fixed = np.where(risky, ("'" + text).to_numpy(dtype=object), text.to_numpy(dtype=object))
    out = values.astype(object).copy()
    hit = (codes >= 0) & risky[np.maximum(codes, 0)]
    out[hit] = fixed[codes[hit]]
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
    text = formula_safe(frame).to_csv(sep=";", decimal=",", index=False, lineterminator="\r\n")
    data = BOM + text.encode("utf-8")
    if isinstance(target, Path):
        target.write_bytes(data)
    else:
        target.write(data)
