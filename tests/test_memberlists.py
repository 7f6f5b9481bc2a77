"""Reading member lists as planners keep them, on files built in code: XLSX cells (text codes, date cells, numbers,
formulas), the zip checks, the source cell, and the template read back as the list it was made from."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from geo.errors import InputError
from geo.memberlists import MAX_XLSX_UNCOMPRESSED, changes, read_member_list
from geo.membertemplate import template_csv, template_xlsx
from geo.schemes import Member, MemberSource, Scheme

HEADER = ["code", "dispositif", "role", "debut", "fin", "source", "note"]


def xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_text_codes_date_cells_and_french_text_dates():
    data = xlsx([HEADER, ["09001", "s", "signataire", dt.datetime(2022, 3, 15), "31/12/2027", "Titre https://example.org/a", None],
                 ["2A004", "s", None, "2022-01-01", None, "https://example.org/b", "note"]])
    members = read_member_list(data, "liste.xlsx")
    assert not members.problems
    got = [(e.row, e.member.code, e.member.start, e.member.end, e.member.source) for e in members.entries]
    assert got == [(2, "09001", dt.date(2022, 3, 15), dt.date(2027, 12, 31), MemberSource("Titre", "https://example.org/a")),
                   (3, "2A004", dt.date(2022, 1, 1), None, MemberSource(None, "https://example.org/b"))]


@pytest.mark.parametrize("cell, message", [
    (9001, "le code 9001 est un nombre dans le tableur"),
    (243100518.0, "le code 243100518 est un nombre dans le tableur"),
    (True, "est un nombre dans le tableur"),
])
def test_xlsx_numeric_codes_are_errors_that_say_why(cell, message):
    members = read_member_list(xlsx([HEADER, [cell, "s", None, None, None, "x", None]]), "liste.xlsx")
    assert [(p.row, p.column) for p in members.problems] == [(2, "code")] and message in members.problems[0].message
    assert "format Texte" in members.problems[0].fix


def test_xlsx_date_as_a_number_and_formula_are_reported_where_they_stand():
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(["31555", "s", None, 44635, None, "x", None])
    book.active["G2"] = "=A2&B2"
    out = io.BytesIO()
    book.save(out)
    members = read_member_list(out.getvalue(), "liste.xlsx")
    assert [(p.column, p.message) for p in members.problems] == [
        ("debut", "la date est un nombre (44635) dans le tableur"), ("note", "la cellule G2 contient une formule : elle n'est pas calculée")]


def test_xlsx_zip_bomb_and_macros_are_refused_unread():
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (MAX_XLSX_UNCOMPRESSED + 1))
    with pytest.raises(InputError, match="le classeur décompressé dépasse 50 Mo"):
        read_member_list(bomb.getvalue(), "liste.xlsx")
    macro = io.BytesIO()
    with zipfile.ZipFile(macro, "w") as archive:
        archive.writestr("xl/vbaProject.bin", b"VBA")
    with pytest.raises(InputError, match="le classeur contient des macros"):
        read_member_list(macro.getvalue(), "liste.xlsx")


def test_chosen_scheme_fills_empty_cells_refuses_others_and_an_empty_file_empties_it():
    data = (b"code;dispositif;source\r\n31555;;x\r\n31069;autre;x\r\n")
    members = read_member_list(data, "l.csv", chosen="s")
    assert [e.scheme for e in members.entries] == ["s"]
    assert [(p.row, p.column) for p in members.problems] == [(3, "dispositif")]
    assert read_member_list(b"code;dispositif;source\r\n", "l.csv", chosen="s").by_scheme() == {"s": ()}


def test_the_template_reads_back_as_the_list_it_was_made_from():
    imported = (Member("243100518", role="signataire", start=dt.date(2022, 3, 15), end=dt.date(2027, 12, 31), note="=1+1", period_source="Titre",
                       source=MemberSource("Titre", "https://example.org/a")),
                Member("243400017", source=MemberSource(None, "https://example.org/b")))
    scheme = Scheme("contrat-test", "Contrat de test", "contract", "epci", (Member("200027183"),) + imported, "t.yaml")
    from_xlsx = read_member_list(template_xlsx(scheme), "modele.xlsx")
    assert not from_xlsx.problems and not changes({"contrat-test": imported}, from_xlsx.by_scheme())
    csv = template_csv(scheme)
    assert b"'=1+1" in csv  # formula-safe: a spreadsheet shows the text
    members = read_member_list(csv, "modele.csv").by_scheme()["contrat-test"]
    assert [m.code for m in members] == ["243100518", "243400017"] and members[0].note == "'=1+1"
