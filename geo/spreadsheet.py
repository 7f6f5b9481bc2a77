"""CSV for spreadsheets: every cell from data formula-safe, in every CSV the project writes.

Formula safety follows the OWASP rule for CSV injection: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return (and a NUL, as ASVS 1.2.10 adds) is prefixed with a single quote, so that a spreadsheet
shows it as text instead of running it. A plain number (``-0.046``, ``+33``, ``1,5e3``) is left as it is: it cannot
be a formula; numeric columns (a negative population, an area) are not text and are never touched. Column names are
cells too (a CSV's header row) and follow the same rule.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
_NUMBER = r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?"


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
    """The frame with its column names and every text column neutralised (numbers, booleans and dates are not text
    and stay as they are). Every CSV writer calls this on what it writes."""
    out = frame.copy(deep=False)
    out.columns = neutralise(pd.Series([str(c) for c in out.columns], dtype=object)).tolist()
    for i in range(out.shape[1]):
        series = out.iloc[:, i]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out.isetitem(i, neutralise(series))
    return out
