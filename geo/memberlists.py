"""Member lists as planners keep them: a CSV (';' or ',', UTF-8 or Windows-1252, with or without BOM) or an XLSX
sheet, one row per membership with its own source, columns ``code;dispositif;role;debut;fin;source;note``.

Reading is data only: an XLSX is opened by openpyxl (its XML parsed through defusedxml) after its zip directory has
been checked (no macros, bounded size), formulas are refused rather than evaluated, and every cell is kept as text.
Every problem of a file is collected in one report, in French, each naming the row, the column and the fix
(:class:`RowProblem`); :func:`check_entries` then checks the rows against the official codes and the scheme files.
"""
from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from geo.cog import Cog
from geo.errors import InputError, Problem
from geo.periods import parse_sheet_date
from geo.schemes import Member, MemberSource, Scheme

#: The columns of a member list, in the order of the template.
COLUMNS = ("code", "dispositif", "role", "debut", "fin", "source", "note")
#: Columns every file must have (the others may be left out).
REQUIRED = ("code", "dispositif", "source")
#: The header of the member CSVs of earlier versions, refused with a message naming the new columns.
LEGACY_COLUMNS = ("code", "scheme", "role", "start", "end")
#: What each column holds, for the template's help sheet and the error messages.
COLUMN_HELP = {
    "code": "code officiel du membre au COG 2026, écrit comme du texte : INSEE de la commune (09001, zéro initial compris), "
            "SIREN de l'EPCI (9 chiffres), code du quartier (QP031018) ou identifiant du groupement",
    "dispositif": "identifiant du dispositif (ex. contrats-territoriaux-occitanie)",
    "role": "rôle du membre (ex. signataire, pilote), facultatif",
    "debut": "date de début de l'adhésion (15/03/2022 ou 2022-03-15), facultative : à défaut, celle du dispositif",
    "fin": "date de fin, facultative : à défaut, celle du dispositif",
    "source": "d'où vient l'adhésion : titre et/ou adresse web (https://…), obligatoire",
    "note": "remarque libre, facultative",
}
MAX_TEXT = 500  # characters of a text cell (role, source, note): a longer one is refused
MAX_ROWS = 20_000  # rows of one file: a member list of every commune of France has 34,868 and is not one list
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024  # bytes inside an XLSX (a zip): beyond, a "zip bomb" is refused unread
CSV_EXTENSIONS, XLSX_EXTENSIONS = (".csv", ".txt"), (".xlsx",)
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # tab and line feed are checked per column
_SAVE_AS = "enregistrez le tableau au format .xlsx (Excel) ou CSV (LibreOffice : Enregistrer sous… › Texte CSV)"


@dataclass(frozen=True)
class RowProblem(Problem):
    """A problem of an imported member list: its row and column, in French."""

    column: str | None = None

    def __str__(self) -> str:
        where = self.file + (f", ligne {self.row}" if self.row is not None else "") + (f", colonne « {self.column} »" if self.column else "")
        return f"{where} : {self.message}" + (f" — correction : {self.fix}" if self.fix else "")


@dataclass(frozen=True)
class Entry:
    """One row of a member list, read: the scheme it names and the membership."""

    row: int
    scheme: str
    member: Member


@dataclass(frozen=True)
class MemberList:
    """A member list read from a file: its rows by scheme (in file order) and every problem met."""

    file: str
    entries: tuple[Entry, ...]
    problems: tuple[RowProblem, ...] = ()
    schemes: tuple[str, ...] = field(default=())  # the schemes the file replaces the imported members of

    def by_scheme(self) -> dict[str, tuple[Member, ...]]:
        """The members of each scheme the file names (a scheme named with no row: an empty list)."""
        out: dict[str, list[Member]] = {s: [] for s in self.schemes}
        for e in self.entries:
            out.setdefault(e.scheme, []).append(e.member)
        return {k: tuple(v) for k, v in out.items()}


def _problem(file: str, row: int | None, column: str | None, message: str, fix: str = "", code: str | None = None) -> RowProblem:
    return RowProblem(file, row, message, fix, code, column)


def _thousands(n: int) -> str:
    """20 000, the French way (a narrow no-break space between thousands)."""
    return f"{n:,}".replace(",", "\u202f")


def _fold(text: str) -> str:
    """A header cell as compared: trimmed, lower case, without accents ("Début" is "debut")."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return plain.strip().lower()


# --- reading the cells ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Formula:
    """An XLSX cell holding a formula: never computed, reported where it stands (``ref``: A1-style)."""

    ref: str


Cell = object  # str for CSV; str, int, float, bool, datetime, Formula or None for XLSX
Rows = list[tuple[int, list[Cell]]]  # (row number in the file or sheet, cells)


def kind_of(filename: str, data: bytes) -> str:
    """'csv' or 'xlsx', from the file's name and first bytes; InputError (French) for anything else."""
    name = filename.lower()
    if name.endswith((".xlsm", ".xltm", ".xlam")) or (data[:4] == b"PK\x03\x04" and b"vbaProject.bin" in data):
        raise InputError([_problem(filename, None, None, "le classeur contient des macros (VBA) : il n'est pas lu",
                                   "enregistrez-le sans macros, au format .xlsx (Classeur Excel), ou en CSV")])
    if data[:4] == b"PK\x03\x04" and name.endswith(XLSX_EXTENSIONS):
        return "xlsx"
    if name.endswith((".xls", ".ods")) or data[:4] in (b"\xd0\xcf\x11\xe0", b"PK\x03\x04"):
        raise InputError([_problem(filename, None, None, "ce n'est ni un fichier CSV ni un classeur .xlsx", _SAVE_AS)])
    if name.endswith(CSV_EXTENSIONS):
        return "csv"
    raise InputError([_problem(filename, None, None, "le nom du fichier ne finit ni par .csv ni par .xlsx : il n'est pas lu", _SAVE_AS)])


def _csv_text(data: bytes, file: str) -> str:
    """The CSV's text: UTF-8 (with or without BOM), else Windows-1252 (what Excel writes on French Windows)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data:
        row = data[:data.index(b"\x00")].count(b"\n") + 1 if b"\x00" in data else 1
        raise InputError([_problem(file, row, None, "le fichier contient des octets nuls : ce n'est pas un texte CSV (UTF-16 ou format binaire)",
                                   "enregistrez le tableau en « CSV UTF-8 » (ou CSV Windows-1252), pas en UTF-16 ni .xls")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InputError([_problem(file, data[:exc.start].count(b"\n") + 1, None,
                                   f"l'octet {exc.start} n'est ni de l'UTF-8 ni du Windows-1252",
                                   "enregistrez le tableau en « CSV UTF-8 »")]) from None


def _csv_rows(data: bytes, file: str) -> Rows:
    text = _csv_text(data, file)
    lines = text.split("\n")
    header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        raise InputError([_problem(file, None, None, "le fichier est vide", f"écrivez l'en-tête {';'.join(COLUMNS)} puis une ligne par membre")])
    head = lines[header_at]
    delimiter = ";" if head.count(";") >= head.count(",") and ";" in head else "," if "," in head else None
    if delimiter is None:
        raise InputError([_problem(file, header_at + 1, None, "l'en-tête n'est séparé ni par des « ; » ni par des « , »",
                                   f"l'en-tête doit être {';'.join(COLUMNS)}")])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: Rows = []
    while True:
        start = reader.line_num + 1  # the file line the record starts on (csv.reader returns blank lines as [])
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # nothing after this row can be read reliably
            raise InputError([_problem(file, start, None, f"le CSV ne peut plus être lu à partir de cette ligne ({exc})",
                                       "fermez le guillemet ouvert sur cette ligne (\"…\") ou retirez-le ; un guillemet dans un "
                                       "champ entre guillemets s'écrit deux fois (\"\")")]) from None
        if any(c.strip() for c in cells):
            rows.append((start, cells))
        if len(rows) > MAX_ROWS + 1:
            raise InputError([_problem(file, start, None, f"le fichier a plus de {_thousands(MAX_ROWS)} lignes",
                                       "déposez une liste par dispositif")])
    return rows


def _xlsx_rows(data: bytes, file: str) -> Rows:
    """The first sheet's rows as values (dates as datetimes, numbers as numbers); a formula is a problem, never run."""
    import openpyxl  # imported here: only uploads of spreadsheets need it
    from openpyxl.utils import get_column_letter

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile:
        raise InputError([_problem(file, None, None, "le classeur .xlsx est endommagé (ce n'est pas une archive lisible)", _SAVE_AS)]) from None
    if any(e.filename.lower().endswith("vbaproject.bin") for e in entries):
        raise InputError([_problem(file, None, None, "le classeur contient des macros (VBA) : il n'est pas lu",
                                   "enregistrez-le sans macros, au format .xlsx (Classeur Excel), ou en CSV")])
    if sum(e.file_size for e in entries) > MAX_XLSX_UNCOMPRESSED:
        raise InputError([_problem(file, None, None, f"le classeur décompressé dépasse {MAX_XLSX_UNCOMPRESSED // 2**20} Mo : il n'est pas lu",
                                   "déposez la liste des membres seule, sans autres feuilles ni images")])
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file: each is the same answer
        raise InputError([_problem(file, None, None, f"le classeur .xlsx ne peut pas être lu ({type(exc).__name__})", _SAVE_AS)]) from None
    rows: Rows = []
    try:
        sheet = book.worksheets[0]
        for cells in sheet.iter_rows():
            values: list[Cell] = []
            row_number = None
            for cell in cells:
                row_number = getattr(cell, "row", row_number)
                if getattr(cell, "data_type", None) == "f":
                    values.append(Formula(f"{get_column_letter(cell.column)}{cell.row}"))
                else:
                    values.append(cell.value)
            if row_number is not None and any(v not in (None, "") for v in values):
                rows.append((row_number, values))
            if len(rows) > MAX_ROWS + 1:
                raise InputError([_problem(file, row_number, None, f"la feuille a plus de {_thousands(MAX_ROWS)} lignes",
                                           "déposez une liste par dispositif")])
    finally:
        book.close()
    if not rows:
        raise InputError([_problem(file, None, None, "la première feuille du classeur est vide",
                                   f"écrivez l'en-tête {' | '.join(COLUMNS)} puis une ligne par membre")])
    return rows


# --- from cells to members -----------------------------------------------------------------------------------------

def _header(cells: list[Cell], row: int, file: str) -> dict[str, int]:
    """The column of each known name; InputError naming every unknown, missing or repeated column."""
    names = [_fold(c) if c is not None else "" for c in cells]
    if "scheme" in names and "dispositif" not in names:
        raise InputError([_problem(file, row, None, f"l'en-tête est celui de l'ancien format ({';'.join(LEGACY_COLUMNS)}), qui n'est plus lu",
                                   f"renommez les colonnes en {';'.join(COLUMNS)} (scheme → dispositif, start → debut, end → fin) "
                                   "et indiquez la source de chaque ligne dans la colonne source")])
    problems, columns = [], {}
    for i, name in enumerate(names):
        if not name:
            continue
        if name not in COLUMNS:
            close = difflib.get_close_matches(name, COLUMNS, n=1, cutoff=0.6)
            problems.append(_problem(file, row, str(cells[i])[:40], f"colonne inconnue « {str(cells[i])[:40]} »",
                                     (f"vouliez-vous dire « {close[0]} » ? " if close else "") + f"les colonnes sont {';'.join(COLUMNS)}"))
        elif name in columns:
            problems.append(_problem(file, row, name, f"la colonne « {name} » apparaît deux fois", "gardez-en une seule"))
        else:
            columns[name] = i
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        problems.append(_problem(file, row, None, f"colonne(s) manquante(s) : {', '.join(missing)}",
                                 f"l'en-tête doit être {';'.join(COLUMNS)} (role, debut, fin et note sont facultatives)"))
    if problems:
        raise InputError(problems)
    return columns


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _source(text: str) -> MemberSource:
    """A source cell: a title, an http(s) address, or both ("Délibération du 3 mai 2022 https://…")."""
    found = _URL.search(text)
    if not found:
        return MemberSource(title=text)
    url = found.group(0).rstrip(".,;)»")
    rest = " ".join((text[:found.start()] + " " + text[found.start() + len(url):]).split())
    title = re.sub(r"\(\s*\)|«\s*»", "", rest).strip(" -–—:;,.\t")
    return MemberSource(title=" ".join(title.split()) or None, url=url)


def read_member_list(data: bytes, filename: str, chosen: str | None = None) -> MemberList:
    """Read a member list (CSV or XLSX, by its name and first bytes); every problem of its cells is in ``problems``.

    ``chosen``: the scheme the file is given for (the admin page's choice): a row with no dispositif takes it, a row
    naming another is a problem, and a file of no row empties that scheme's imported list.
    InputError when the file cannot be read at all (not CSV/XLSX, macros, encoding, header).
    """
    kind = kind_of(filename, data)
    rows = _csv_rows(data, filename) if kind == "csv" else _xlsx_rows(data, filename)
    problems: list[RowProblem] = []
    if not rows:
        raise InputError([_problem(filename, None, None, "le fichier est vide", f"écrivez l'en-tête {';'.join(COLUMNS)} puis une ligne par membre")])
    header_row, header_cells = rows[0]
    columns = _header(header_cells, header_row, filename)
    entries: list[Entry] = []
    for row, cells in rows[1:]:
        entry = _entry(row, cells, columns, filename, chosen, kind, problems)
        if entry is not None:
            entries.append(entry)
    if not entries and not problems and chosen is None:
        problems.append(_problem(filename, None, None, "le fichier ne contient aucune ligne de membre",
                                 "ajoutez une ligne par membre, ou choisissez le dispositif pour vider sa liste importée"))
    schemes = tuple(dict.fromkeys(([chosen] if chosen else []) + [e.scheme for e in entries]))
    return MemberList(filename, tuple(entries), tuple(problems), schemes)


def _entry(row: int, cells: list[Cell], columns: dict[str, int], file: str, chosen: str | None, kind: str,
           problems: list[RowProblem]) -> Entry | None:
    """One row as an Entry, or None with its problems added."""
    found: list[RowProblem] = []

    def cell(name: str) -> Cell:
        i = columns.get(name)
        return cells[i] if i is not None and i < len(cells) else None

    extra = [c for i, c in enumerate(cells) if i not in columns.values() and _text(c)]
    if extra:
        found.append(_problem(file, row, None, f"la ligne a plus de cellules remplies que l'en-tête n'a de colonnes ({_text(extra[0])[:40]!r})",
                              "mettez entre guillemets un texte qui contient le séparateur, ou retirez les cellules en trop"))
    texts: dict[str, str] = {}
    unread: set[str] = set()  # cells already reported (a formula, too long): not reported again as empty
    for name in COLUMNS:
        value = cell(name)
        if isinstance(value, Formula):
            found.append(_problem(file, row, name, f"la cellule {value.ref} contient une formule : elle n'est pas calculée",
                                  "remplacez les formules par leurs valeurs (Copier, puis Collage spécial › Valeurs)"))
            texts[name] = ""
            unread.add(name)
            continue
        if isinstance(value, (dt.datetime, dt.date)) and name not in ("debut", "fin"):
            value = value.strftime("%d/%m/%Y")
        text = _text(value) if not isinstance(value, (dt.datetime, dt.date)) else ""
        if len(text) > MAX_TEXT:
            found.append(_problem(file, row, name, f"la cellule contient {_thousands(len(text))} caractères, au plus {MAX_TEXT}",
                                  "raccourcissez-la (une source peut être une adresse web)"))
            text = ""
            unread.add(name)
        elif _CONTROL.search(text) or ("\n" in text and name != "note") or ("\t" in text and name != "note"):
            found.append(_problem(file, row, name, "la cellule contient un retour à la ligne ou un caractère de contrôle (dans un CSV : "
                                  "un guillemet ouvert et jamais fermé ?)", "écrivez la valeur sur une seule ligne, sans caractères "
                                  "spéciaux ; fermez le guillemet ouvert (\"…\")"))
            text = ""
            unread.add(name)
        texts[name] = text

    code = _code(cell("code"), texts["code"], row, file, kind, found) if "code" not in unread else ""
    scheme = texts["dispositif"] or chosen or ""
    if not scheme and "dispositif" not in unread:
        found.append(_problem(file, row, "dispositif", "le dispositif n'est pas indiqué",
                              "écrivez l'identifiant du dispositif (voir le modèle)", code))
    elif chosen and scheme != chosen:
        found.append(_problem(file, row, "dispositif", f"la ligne est pour le dispositif « {scheme} », le fichier est déposé pour « {chosen} »",
                              f"écrivez {chosen}, laissez la cellule vide, ou déposez le fichier pour tous les dispositifs qu'il nomme", code))
    start = _date(cell("debut"), texts["debut"], row, "debut", file, found)
    end = _date(cell("fin"), texts["fin"], row, "fin", file, found)
    if start and end and end < start:
        found.append(_problem(file, row, "fin", f"l'adhésion finit ({end:%d/%m/%Y}) avant de commencer ({start:%d/%m/%Y})",
                              "inversez ou corrigez les dates", code))
    if not texts["source"] and "source" not in unread:
        found.append(_problem(file, row, "source", "la source de l'adhésion n'est pas indiquée",
                              "écrivez d'où vient l'adhésion : le titre d'un document et/ou son adresse web (https://…)", code))
    if found:
        problems.extend(sorted(found, key=lambda p: COLUMNS.index(p.column) if p.column in COLUMNS else -1))
        return None
    source = _source(texts["source"])
    member = Member(code=code, role=texts["role"] or None, start=start, end=end, note=texts["note"] or None, line=row,
                    period_source=source.label if (start or end) else None, source=source)
    return Entry(row, scheme, member)


def _code(value: Cell, text: str, row: int, file: str, kind: str, found: list[RowProblem]) -> str:
    """The code of a row as text; a number (an XLSX numeric cell, '31555.0', '2.43E+08') is a problem saying why."""
    if isinstance(value, bool) or (isinstance(value, (int, float)) and kind == "xlsx"):
        shown = _text(value)
        found.append(_problem(file, row, "code", f"le code {shown} est un nombre dans le tableur : un code INSEE ou SIREN perd ainsi ses zéros "
                              "initiaux (09001 devient 9001)", "mettez la colonne code au format Texte et saisissez le code tel qu'au "
                              "COG (ex. 09001)", shown))
        return shown
    if not text:
        found.append(_problem(file, row, "code", "le code du membre n'est pas indiqué", "écrivez son code INSEE, SIREN ou QP"))
    elif re.fullmatch(r"\d+[.,]\d+|\d+(?:[.,]\d+)?[eE][+-]?\d+", text):
        found.append(_problem(file, row, "code", f"le code « {text} » est écrit comme un nombre décimal",
                              "mettez la colonne code au format Texte et saisissez le code tel qu'au COG (ex. 09001, 243100518)", text))
    return text.upper() if re.fullmatch(r"2[abAB]\d{3}|qp\d+", text, re.IGNORECASE) else text


def _date(value: Cell, text: str, row: int, column: str, file: str, found: list[RowProblem]) -> dt.date | None:
    """A date cell: a spreadsheet date, or text read by geo/periods.py (15/03/2022 or 2022-03-15); empty is None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        found.append(_problem(file, row, column, f"la date est un nombre ({_text(value)}) dans le tableur",
                              "mettez la cellule au format Date, ou écrivez-la 15/03/2022"))
        return None
    if not text:
        return None
    try:
        return parse_sheet_date(text)
    except ValueError as exc:
        found.append(_problem(file, row, column, str(exc), "écrivez la date JJ/MM/AAAA (15/03/2022) ou AAAA-MM-JJ (2022-03-15)"))
        return None


# --- against the official codes and the scheme files ---------------------------------------------------------------

def check_entries(members: MemberList, declared: dict[str, Scheme], known: Iterable[str], cog: Cog) -> list[RowProblem]:
    """Every problem of a member list's rows against the catalogue: unknown or programme schemes, codes unknown at the
    scheme's member scale (a commune merged since: its 2026 commune; a code that lost its leading zero: said so),
    duplicate rows, members already declared in the scheme's file."""
    file = members.file
    problems: list[RowProblem] = []
    known = set(known)
    groupings = {s.id for s in declared.values() if s.scale}
    seen: dict[tuple[str, str], int] = {}
    for scheme_id in members.schemes:
        if (reason := _not_importable(scheme_id, declared, known)) is not None:
            rows = [e.row for e in members.entries if e.scheme == scheme_id]
            problems.append(_problem(file, rows[0] if rows else None, "dispositif", reason[0], reason[1]))
    for e in members.entries:
        scheme = declared.get(e.scheme)
        if scheme is None or scheme.all_parent_members:
            continue
        code = e.member.code
        if (e.scheme, code) in seen:
            problems.append(_problem(file, e.row, "code", f"{code} est déjà sur la ligne {seen[(e.scheme, code)]} pour ce dispositif",
                                     "gardez une ligne par membre", code))
            continue
        seen[(e.scheme, code)] = e.row
        declared_at = next((m.line for m in scheme.members if m.code == code), None)
        if any(m.code == code for m in scheme.members):
            problems.append(_problem(file, e.row, "code", f"{code} est déjà membre, déclaré dans le fichier du dispositif "
                                     f"({scheme.file}{f', ligne {declared_at}' if declared_at else ''})", "retirez cette ligne", code))
            continue
        if (problem := _code_problem(code, scheme.member_scale, cog, groupings)) is not None:
            problems.append(_problem(file, e.row, "code", *problem, code=code))
    return problems


def _not_importable(scheme_id: str, declared: dict[str, Scheme], known: set[str]) -> tuple[str, str] | None:
    if scheme_id in declared:
        scheme = declared[scheme_id]
        if scheme.all_parent_members:
            return (f"les membres du dispositif « {scheme_id} » sont ceux du réseau {scheme.parent} : ils ne s'importent pas",
                    f"déposez la liste pour {scheme.parent}")
        return None
    if scheme_id in known:
        return (f"« {scheme_id} » est un programme chargé depuis les fichiers de données nationaux : ses membres ne s'importent pas",
                "déposez des listes pour les dispositifs déclarés dans boundaries/schemes/")
    close = difflib.get_close_matches(scheme_id, sorted(declared), n=1, cutoff=0.6)
    return (f"dispositif inconnu « {scheme_id} »", (f"vouliez-vous dire « {close[0]} » ? " if close else "")
            + "écrivez l'identifiant d'un dispositif déclaré (il figure dans le modèle téléchargé depuis sa page)")


_SCALE_NAMES = {"commune": "des communes (code INSEE)", "epci": "des EPCI (SIREN)", "grouping": "des groupements", "quartier": "des quartiers (QP…)"}


def _code_problem(code: str, scale: str, cog: Cog, groupings: set[str]) -> tuple[str, str] | None:
    """Why a code is not a member of a scheme of this member scale (message, fix), or None."""
    wanted = {"commune": cog.commune_codes, "epci": cog.epci_codes, "grouping": groupings, "quartier": cog.quartier_codes}[scale]
    if code in wanted:
        return None
    if code.isdigit() and ("0" + code) in wanted:
        return (f"le code {code} a perdu son zéro initial (c'est {'0' + code})",
                f"écrivez 0{code} et mettez la colonne code au format Texte dans le tableur")
    actual = ("une commune" if code in cog.commune_codes else "un EPCI" if code in cog.epci_codes else "un groupement" if code in groupings
              else "un quartier" if code in cog.quartier_codes else None)
    if actual:
        return (f"{code} est {actual}, mais les membres de ce dispositif sont {_SCALE_NAMES[scale]}",
                f"écrivez les codes {_SCALE_NAMES[scale]}")
    if scale == "commune":
        parent = cog.successor(code)
        if parent:
            nom = cog.communes.set_index("code")["nom"].get(parent, "?")
            return (f"{code} n'est plus une commune : elle a fusionné dans la commune {parent} ({nom}) au COG 2026", f"écrivez {parent}")
        return (f"{code} n'est pas un code de commune du COG 2026", "écrivez le code INSEE 2026 de la commune (5 caractères, ex. 31555)")
    fixes = {"epci": "écrivez le SIREN 2026 de l'EPCI (9 chiffres, ex. 243100518)", "quartier": "écrivez un code de quartier QPV 2015 (QP0ddnnn)",
             "grouping": "écrivez l'identifiant d'un groupement déclaré"}
    what = {"epci": "un SIREN d'EPCI au 1er janvier 2026", "quartier": "un code de quartier connu", "grouping": "un groupement déclaré"}[scale]
    return (f"{code} n'est pas {what}", fixes[scale])


# --- what a new list changes ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """A membership added, removed or changed (before and after) by a new member list."""

    scheme: str
    code: str
    status: str  # "ajouté", "retiré" or "modifié"
    before: Member | None
    after: Member | None


def _same(a: Member, b: Member) -> bool:
    return replace(a, line=None) == replace(b, line=None)


def changes(before: dict[str, tuple[Member, ...]], after: dict[str, tuple[Member, ...]]) -> list[Change]:
    """The memberships each scheme of ``after`` gains, loses or changes against ``before`` (schemes in ``after`` order)."""
    out: list[Change] = []
    for scheme in after:
        old = {m.code: m for m in before.get(scheme, ())}
        new = {m.code: m for m in after[scheme]}
        for code, m in new.items():
            if code not in old:
                out.append(Change(scheme, code, "ajouté", None, m))
            elif not _same(old[code], m):
                out.append(Change(scheme, code, "modifié", old[code], m))
        out.extend(Change(scheme, code, "retiré", m, None) for code, m in old.items() if code not in new)
    return out


def summary(found: list[Change]) -> dict[str, dict[str, list[str]]]:
    """Codes added, removed and changed, by scheme (what a version's record keeps)."""
    out: dict[str, dict[str, list[str]]] = {}
    for c in found:
        key = {"ajouté": "added", "retiré": "removed", "modifié": "changed"}[c.status]
        out.setdefault(c.scheme, {"added": [], "removed": [], "changed": []})[key].append(c.code)
    return out
