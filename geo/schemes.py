"""The scheme catalogue: contracts, programmes, clubs, networks and partnerships with sourced members.

A scheme file (boundaries/schemes/*.yaml) is parsed into a :class:`Scheme`; :func:`validate` checks
it against the official codes; :func:`read_member_csv` imports user-provided member lists.
"""
from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from geo.cog import Cog
from geo.errors import InputError, Problem
from geo.kinds import KINDS as KIND_TABLE
from geo.periods import Period, membership_period
from geo.yamlfiles import code, compose, date, fail, flag, is_null, kind_of, line, mapping, text

KINDS = tuple(KIND_TABLE)  # the ids of geo/kinds.py
MEMBER_SCALES = ("commune", "epci", "grouping", "quartier")
ALL_PARENT_MEMBERS = "all-parent-members"
CSV_COLUMNS = ("code", "scheme", "role", "start", "end")
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # goes into URLs, file names and download headers as it is
TERRITORY_CODE = re.compile(r"[0-9]+|2[ab][0-9]*", re.IGNORECASE)  # communes, EPCI, départements, régions: within=/focus= take these


@dataclass(frozen=True)
class Member:
    """One member of a scheme: an official code, with optional role and period."""

    code: str
    name: str | None = None
    role: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    note: str | None = None
    line: int | None = None  # where it is declared, for error messages
    period_source: str | None = None  # where the member's own start/end come from (None: the scheme's source)


@dataclass(frozen=True)
class Scheme:
    """A contract, programme, club, network or partnership and its members."""

    id: str
    name: str
    kind: str
    member_scale: str
    members: tuple[Member, ...]
    file: str
    start: dt.date | None = None
    end: dt.date | None = None
    owner: str | None = None
    scale: bool = False
    parent: str | None = None
    all_parent_members: bool = False
    source: dict = field(default_factory=dict)
    as_of: dt.date | None = None
    notes: str | None = None
    period_source: str | None = None  # where the scheme's period comes from (a text, an article, a decree)
    generation: str | None = None  # label of the generation this scheme is, e.g. "2018" or "2015-2020"
    succeeds: tuple[str, ...] = ()  # ids of the schemes (earlier generations) this one replaced
    partial: bool = False  # the declared members are known to be only part of the list (the notes say what is missing)

    def period_of(self, member: Member) -> Period:
        """The period of one membership, with the basis of each bound (see geo/periods.py)."""
        return membership_period(member.start, member.end, self.start, self.end)

    @property
    def codes(self) -> list[str]:
        return [m.code for m in self.members]


def _date(value: str, file: str, row: int, what: str) -> dt.date | None:
    """A CSV date cell: empty, or YYYY-MM-DD."""
    if not value:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError([Problem(file, row, f"{what} {value!r} is not a date", "write dates as YYYY-MM-DD")]) from None


def _utf8_row(exc: UnicodeDecodeError) -> int:
    """The line holding the first byte that is not UTF-8."""
    return exc.object[:exc.start].count(b"\n") + 1


def _identifier(node: yaml.Node, file: str, key: str) -> str | None:
    """A scheme id: a slug (ASCII lowercase letters, digits, hyphens) that cannot be taken for a territory code."""
    value = node.value if isinstance(node, yaml.ScalarNode) and node.tag.endswith((":str", ":int")) else text(node, file, key)
    if value and not SLUG.fullmatch(value):
        raise fail(file, node, f"id {value!r} is not a safe identifier",
                   "use lowercase ASCII letters, digits and hyphens only (e.g. contrat-albi): the id goes into URLs, file names and headers")
    if value and TERRITORY_CODE.fullmatch(value):
        raise fail(file, node, f"id {value!r} has the form of a territory code (commune, EPCI, département or région), so within= "
                               "and focus= could not tell them apart", f"give the scheme an id with letters (e.g. groupement-{value})")
    return value


def _node(node: yaml.Node, file: str, key: str) -> yaml.Node:
    """Kept as a node (members: read below, one member at a time with its line)."""
    return node


def _submapping(fields: dict, example: str):
    """A reader of a nested mapping (period, source) with its own keys; empty is an empty mapping."""
    def read(node: yaml.Node, file: str, key: str) -> dict:
        if is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            shown = node.value if isinstance(node, yaml.ScalarNode) else kind_of(node)
            raise fail(file, node, f"{key} must be a mapping, not {shown}", f"write {key}: {example}")
        values, _, problems = mapping(node, file, fields, key)
        if problems:
            raise InputError(problems)
        return values
    return read


def _ids(node: yaml.Node, file: str, key: str) -> tuple[str, ...]:
    """One scheme id, or a list of them (succeeds: the earlier generations a scheme replaced)."""
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    if is_null(node) or not all(isinstance(n, yaml.ScalarNode) and n.tag.endswith(":str") for n in items):
        shown = node.value if isinstance(node, yaml.ScalarNode) else kind_of(node)
        raise fail(file, node, f"{key} must be a scheme id or a list of ids, not {shown}", f"write {key}: <scheme id> or {key}: [<id>, <id>]")
    return tuple(n.value for n in items)


MEMBER_FIELDS = {"code": code, "name": text, "role": text, "start": date, "end": date, "note": text}
SCHEME_FIELDS = {
    "id": _identifier, "name": text, "kind": text, "owner": code,
    "period": _submapping({"start": date, "end": date, "source": text}, "{start: YYYY-MM-DD, end: YYYY-MM-DD, source: ...}"),
    "generation": text, "succeeds": _ids,
    "member_scale": text, "scale": flag, "parent": text, "members": _node,
    "source": _submapping({"title": text, "url": text, "publisher": text}, "{title: ..., url: ..., publisher: ...}"),
    "as_of": date, "notes": text, "partial": flag,
}


def _choice(value: str, options: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return (f"did you mean '{close[0]}'? " if close else "") + f"use one of {', '.join(options)}"


def parse_scheme_file(path: Path) -> Scheme:
    """Parse one YAML scheme file; raise InputError naming the file, the line and the fix on a malformed one."""
    name = str(path)
    try:
        source_text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(name, _utf8_row(exc), f"is not UTF-8 text ({exc.reason} at byte {exc.start})",
                                  "save the file as UTF-8")]) from exc
    except IsADirectoryError as exc:
        raise InputError([Problem(name, None, "is a directory, not a scheme file", "move it out of the schemes directory")]) from exc
    except OSError as exc:
        raise InputError([Problem(name, None, f"cannot be read ({exc.strerror})", "make the file readable by this user")]) from exc
    root = compose(source_text, name)  # anchors, aliases, merge keys and tags are refused before anything is built
    if not isinstance(root, yaml.MappingNode):
        raise InputError([Problem(name, None, "does not hold a scheme mapping", "see boundaries/schemes/ for the expected keys")])
    data, nodes, problems = mapping(root, name, SCHEME_FIELDS, "the scheme")

    def line_of(key: str) -> int | None:
        return line(nodes[key]) if key in nodes else None

    for key in ("id", "name", "kind", "member_scale", "members", "source"):
        if key not in nodes:
            problems.append(Problem(name, None, f"missing key {key!r}", f"add '{key}:' (see README, Scheme files)"))
        elif key in data and data[key] in (None, "") and key in ("id", "name", "kind", "member_scale"):
            problems.append(Problem(name, line_of(key), f"key {key!r} has no value", f"write a value after '{key}:'"))
    if problems:
        raise InputError(problems)
    if data["kind"] not in KINDS:
        problems.append(Problem(name, line_of("kind"), f"unknown kind {data['kind']!r}", _choice(data["kind"], KINDS)))
    if data["member_scale"] not in MEMBER_SCALES:
        problems.append(Problem(name, line_of("member_scale"), f"unknown member_scale {data['member_scale']!r}",
                                _choice(data["member_scale"], MEMBER_SCALES)))
    if data["id"] != path.stem:
        taken = path.parent / f"{data['id']}{path.suffix}"
        if os.path.isfile(taken):  # renaming the file as the usual fix says would clash with the other scheme
            problems.append(Problem(name, line_of("id"), f"id {data['id']!r} is already the id of {taken}",
                                    f"give each scheme its own id: set id: {path.stem}"))
        else:
            problems.append(Problem(name, line_of("id"), f"id {data['id']!r} differs from the file name",
                                    f"name the file {data['id']}.yaml or set id: {path.stem}"))
    period = data.get("period") or {}

    members_node = nodes["members"]
    members: list[Member] = []
    all_parent = isinstance(members_node, yaml.ScalarNode) and members_node.value == ALL_PARENT_MEMBERS
    if all_parent and not data.get("parent"):
        problems.append(Problem(name, line_of("members"), f"members is {ALL_PARENT_MEMBERS!r} but no parent is named",
                                "add 'parent: <scheme id>'"))
    elif not all_parent:
        if not isinstance(members_node, yaml.SequenceNode):
            raise InputError(problems + [Problem(name, line_of("members"), "members must be a list",
                                                 f"list members as '- {{code: ...}}' or write {ALL_PARENT_MEMBERS!r}")])
        for node in members_node.value:
            if not isinstance(node, yaml.MappingNode):
                problems.append(Problem(name, line(node), "member without a code", "write each member as {code: \"...\"}"))
                continue
            values, _, found = mapping(node, name, MEMBER_FIELDS, "a member")
            if found:
                problems.extend(found)
            elif not values.get("code"):
                problems.append(Problem(name, line(node), "member without a code", "write each member as {code: \"...\"}"))
            else:
                members.append(Member(**values, line=line(node)))
    if problems:
        raise InputError(problems)
    return Scheme(
        id=data["id"], name=data["name"], kind=data["kind"], member_scale=data["member_scale"],
        members=tuple(members), file=name, start=period.get("start"), end=period.get("end"),
        owner=data.get("owner"), scale=data.get("scale", False), parent=data.get("parent"), all_parent_members=all_parent,
        source=data.get("source") or {}, as_of=data.get("as_of"), notes=data.get("notes"),
        period_source=period.get("source"), generation=data.get("generation"), succeeds=data.get("succeeds", ()),
        partial=data.get("partial", False),
    )


def read_member_csv(path: Path, schemes: dict[str, Scheme]) -> dict[str, list[Member]]:
    """Read a user-provided member list (columns code, scheme, role, start, end; ';' or ',' separated).

    Returns members by scheme id. Every row problem is collected; any problem raises InputError.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(name, _utf8_row(exc), f"is not UTF-8 text (byte {exc.start})",
                                  "save the CSV as UTF-8 (LibreOffice: Save as… > Character set: Unicode (UTF-8))")]) from exc
    if not text.strip():
        raise InputError([Problem(name, None, "is empty", f"write a header line {';'.join(CSV_COLUMNS)} and one row per member")])
    if "\x00" in text:  # a spreadsheet's binary format, or a UTF-16 file, renamed .csv
        raise InputError([Problem(name, text[:text.index("\x00")].count("\n") + 1, "holds a NUL byte: it is not a text CSV",
                                  "save the list from the spreadsheet as CSV UTF-8 (not .xls/.xlsx/.ods or UTF-16)")])
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=";,")
    except csv.Error as exc:  # a header with neither ';' nor ',' (tab-separated, one column, not a CSV)
        raise InputError([Problem(name, 1, "the header is not separated by ';' or ','",
                                  f"the header must be {';'.join(CSV_COLUMNS)} (';' or ',' separated)")]) from exc
    # the sniffed delimiter, with the spreadsheet quoting rules (a quote in a quoted field written twice)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=dialect.delimiter, strict=True)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise InputError([Problem(name, 1, f"missing column(s) {', '.join(missing)}", f"the header must be {';'.join(CSV_COLUMNS)}")])
    out: dict[str, list[Member]] = {}
    problems: list[Problem] = []
    lines = text.split("\n")
    while True:
        start = reader.line_num + 1
        while start <= len(lines) and not lines[start - 1].strip():  # the reader skips blank lines
            start += 1
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # nothing after this row can be read reliably: report it and stop
            raise InputError(problems + [Problem(name, start, f"cannot be read as CSV from this row on ({exc})",
                                                 "close the quote opened on this row (\"…\") or remove it; a quote inside a "
                                                 "quoted field is written twice (\"\")")]) from exc
        i = reader.line_num  # the file's line, so blank lines skipped by the reader do not shift rows
        values = [v for k, v in raw.items() if k is not None and v]
        if any("\n" in v or "\r" in v for v in values):
            problems.append(Problem(name, start, f"a quoted field runs on over several lines, up to row {i}: a quote is not closed",
                                    "close the quote on this row (\"…\") or remove it"))
            continue
        if any(v.strip() for v in raw.get(None) or []):
            problems.append(Problem(name, i, f"has more fields than the header's {len(header)}",
                                    "put a text holding the separator in quotes, or remove the extra separators"))
            continue
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        if row["scheme"] not in schemes:
            problems.append(Problem(name, i, f"unknown scheme {row['scheme']!r}",
                                    "declare the scheme in boundaries/schemes/ first, or fix the id", row["code"]))
            continue
        try:
            member = Member(code=row["code"], role=row["role"] or None, start=_date(row["start"], name, i, "start"),
                            end=_date(row["end"], name, i, "end"), line=i)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        out.setdefault(row["scheme"], []).append(member)
    if problems:
        raise InputError(problems)
    return out


def with_members(scheme: Scheme, extra: list[Member], file: str) -> Scheme:
    """The scheme with imported members appended (their lines refer to the CSV file)."""
    return replace(scheme, members=scheme.members + tuple(extra), file=f"{scheme.file} + {file}")


def validate(scheme: Scheme, cog: Cog, groupings: set[str], known: set[str]) -> list[Problem]:
    """Every problem with a scheme's members: unknown or merged codes, duplicates, wrong scale, bad periods."""
    problems: list[Problem] = []
    f = scheme.file
    if scheme.start and scheme.end and scheme.end < scheme.start:
        problems.append(Problem(f, None, f"period ends ({scheme.end}) before it starts ({scheme.start})", "swap or correct the dates"))
    if scheme.parent and scheme.parent not in known:
        problems.append(Problem(f, None, f"parent scheme {scheme.parent!r} is not declared", "declare it or fix the id"))
    for earlier in scheme.succeeds:
        if earlier not in known:
            problems.append(Problem(f, None, f"succeeds {earlier!r}, which is not a declared scheme", "declare it or fix the id"))
    communes, epci, quartiers = cog.commune_codes, cog.epci_codes, cog.quartier_codes
    seen: dict[str, int | None] = {}
    for m in scheme.members:
        if m.code in seen:
            problems.append(Problem(f, m.line, f"duplicate member {m.code} (first at row {seen[m.code]})", "keep one row per member", m.code))
            continue
        seen[m.code] = m.line
        if m.start and m.end and m.end < m.start:
            problems.append(Problem(f, m.line, f"member {m.code} ends ({m.end}) before it starts ({m.start})", "swap or correct the dates", m.code))
        wanted = {"commune": communes, "epci": epci, "grouping": groupings, "quartier": quartiers}[scheme.member_scale]
        if m.code in wanted:
            continue
        actual = "commune" if m.code in communes else "EPCI" if m.code in epci else "grouping" if m.code in groupings \
            else "quartier" if m.code in quartiers else None
        if actual:
            problems.append(Problem(f, m.line, f"{m.code} is a {actual} but this scheme's members are {scheme.member_scale} codes",
                                    f"use {scheme.member_scale} codes, or change member_scale", m.code))
        elif scheme.member_scale == "commune":
            reason = cog.describe_unknown_commune(m.code)
            parent = cog.successor(m.code)
            problems.append(Problem(f, m.line, reason, f"use the 2026 code {parent}" if parent else "use a 2026 INSEE commune code", m.code))
        else:
            fix = {"epci": "use a 2026 EPCI SIREN (9 digits)", "quartier": "use a QPV code of the 2015 generation (QP0ddnnn)"}
            problems.append(Problem(f, m.line, f"unknown {scheme.member_scale} code {m.code}",
                                    fix.get(scheme.member_scale, "use a declared grouping id"), m.code))
    return problems
