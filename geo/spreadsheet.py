"""CSV for spreadsheets: read `;` or `,` in UTF-8 with or without BOM; write the French convention (`;`, UTF-8 BOM,
decimal comma, CRLF), codes as text, every cell from data formula-safe.

Formula safety follows the OWASP rule for CSV injection: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return (and a NUL, as ASVS 1.2.10 adds) is prefixed with a single quote, so that a spreadsheet
shows it as text instead of running it. A plain number (``-0.046``, ``+33``, ``1,5e3``) is left as it is: it cannot
be a formula; numeric columns (a negative population, an area) are not text and are never touched. Column names are
cells too (a CSV's header row) and follow the same rule.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from geo.errors import Invalid

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
_NUMBER = r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?"
BOM = b"\xef\xbb\xbf"
UTF8_FIX = ("enregistrez le fichier en CSV UTF-8 (Excel : Enregistrer sous › CSV UTF-8 ; LibreOffice : jeu de caractères "
            "Unicode (UTF-8))")


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


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """The frame as Arrow columns a CSV writer takes as they are: text as text, a float with a decimal comma, a boolean as 0/1."""
    columns = {}
    for name, col in frame.items():
        if pd.api.types.is_bool_dtype(col):
            col = col.astype("Int8")
        elif pd.api.types.is_float_dtype(col):
            col = col.astype("string").str.replace(".", ",", regex=False)
        elif pd.api.types.is_object_dtype(col):
            col = col.astype("string")  # mixed cells (a JSON column of numbers and texts) become their text
        columns[str(name)] = col
    return pa.Table.from_pandas(pd.DataFrame(columns), preserve_index=False)


def write_csv(frame: pd.DataFrame, target: Path | BinaryIO) -> None:
    """``frame`` as a CSV that Excel opens: `;`, UTF-8 with BOM, decimal comma, CRLF, formula-safe cells, no index
    (written by Arrow's CSV writer: a million rows of thirty columns in about two seconds)."""
    table = _arrow(formula_safe(frame))
    options = pacsv.WriteOptions(delimiter=";", quoting_style="needed", eol="\r\n")
    if isinstance(target, Path):
        with target.open("wb") as fh:
            fh.write(BOM)
            pacsv.write_csv(table, fh, options)
    else:
        target.write(BOM)
        pacsv.write_csv(table, target, options)


def _separator(first_line: str) -> str:
    """`;` when the header holds one (the French convention, where `,` is the decimal mark), else `,`."""
    return ";" if ";" in first_line else ","


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


class CsvError(Invalid):
    """A CSV that cannot be read; the message, in French (it describes a planner's own file), names the file, the row
    and the fix."""

    def __init__(self, label: str, row: int | None, message: str, fix: str):
        where = label + (f", ligne {row}" if row is not None else "")
        super().__init__(f"{where} : {message}. Correction : {fix}.")
        self.row = row


def read_csv(source: Path | bytes, name: str | None = None) -> pd.DataFrame:
    """Every column as text, empty cells as "" (a code keeps its leading zero; "NA" stays a text).

    ``source`` is a path or the file's bytes (``name`` then names it in errors). Errors (not UTF-8, a row with
    more fields than the header, an unclosed quote) raise CsvError naming the file, the row and the fix.
    """
    data = source.read_bytes() if isinstance(source, Path) else source
    label = name or (str(source) if isinstance(source, Path) else "CSV")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvError(label, _line_of(data, exc.start), f"pas en UTF-8 (octet 0x{data[exc.start]:02x})", UTF8_FIX) from None
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise CsvError(label, 1, "pas de ligne d'en-tête", "mettez les noms des colonnes (par exemple lon;lat, ou code) sur la première ligne")
    sep = _separator(first)
    try:  # the header read as a row: a row longer than it is then an error, never a silent index column
        rows = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=True, header=None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        found = re.search(r"line (\d+)", str(exc))
        seen = re.search(r"saw (\d+)", str(exc))
        detail = f", {seen.group(1)} champs" if seen else ""
        raise CsvError(label, int(found.group(1)) if found else None, f"illisible en CSV séparé par « {sep} »{detail}",
                       "donnez à chaque ligne autant de champs que l'en-tête, et fermez chaque guillemet") from None
    names = [str(v).strip() or f"colonne_{i + 1}" for i, v in enumerate(rows.iloc[0])]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CsvError(label, 1, f"colonnes en double dans l'en-tête : {', '.join(twice)}", "donnez à chaque colonne un nom à elle")
    return rows.iloc[1:].set_axis(names, axis=1).reset_index(drop=True)
