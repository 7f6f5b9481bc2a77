"""The member-list template of a scheme, as CSV and XLSX: the columns of geo/memberlists.py, prefilled with the members
already imported for it (so that editing the list in service starts from it), and a help sheet.

Every cell is written as text (an XLSX cell starting with '=' stays text, never a formula), codes in a text column so
a spreadsheet keeps their leading zeros, dates as French dates.
"""
from __future__ import annotations

import csv
import io

from geo.memberlists import COLUMN_HELP, COLUMNS
from geo.schemes import Member, Scheme

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may read as a formula at the start of a CSV cell


def imported(scheme: Scheme) -> list[Member]:
    """The members of a scheme that came from an imported list (each has its own source)."""
    return [m for m in scheme.members if m.source is not None]


def rows(scheme: Scheme) -> list[list[str]]:
    """The header, then one row per imported member of the scheme."""
    out = [list(COLUMNS)]
    for m in imported(scheme):
        source = " ".join(x for x in (m.source.title, m.source.url) if x) if m.source else ""
        out.append([m.code, scheme.id, m.role or "", f"{m.start:%d/%m/%Y}" if m.start else "", f"{m.end:%d/%m/%Y}" if m.end else "",
                    source, m.note or ""])
    return out


def _csv_cell(value: str) -> str:
    """A text cell that no spreadsheet runs as a formula (a leading apostrophe, as spreadsheets write it)."""
    return "'" + value if value.startswith(FORMULA_START) else value


def template_csv(scheme: Scheme) -> bytes:
    """The template as a French spreadsheet CSV: ';', UTF-8 with BOM (Excel reads accents right), CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows(scheme):
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(scheme: Scheme) -> bytes:
    """The template as an XLSX workbook: a 'Membres' sheet (codes as text) and an 'Aide' sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Membres"
    for r, row in enumerate(rows(scheme), start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            cell.data_type = "s"  # text, even '=…': never a formula
            cell.number_format = "@"
            if r == 1:
                cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFG", (14, 34, 14, 12, 12, 60, 40)):
        sheet.column_dimensions[letter].width = width
        sheet.column_dimensions[letter].number_format = "@"  # new cells typed in are text too: 09001 keeps its zero
    sheet.freeze_panes = "A2"
    help_sheet = book.create_sheet("Aide")
    help_sheet.append([f"Liste des membres de « {scheme.name} » ({scheme.id}) : une ligne par membre, sur la feuille Membres."])
    help_sheet.append(["Colonne", "Contenu"])
    for name in COLUMNS:
        help_sheet.append([name, COLUMN_HELP[name]])
    help_sheet.column_dimensions["A"].width = 14
    help_sheet.column_dimensions["B"].width = 120
    for row in help_sheet.iter_rows():
        for cell in row:
            cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
