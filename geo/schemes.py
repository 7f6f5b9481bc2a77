"""The scheme catalogue: contracts, programmes, clubs, networks and partnerships with sourced members.

A scheme file (boundaries/schemes/*.yaml) is parsed into a :class:`Scheme`; :func:`validate` checks
it against the official codes; :func:`read_member_csv` imports user-provided member lists.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from yaml.constructor import SafeConstructor

from geo.cog import Cog
from geo.errors import InputError, Problem
from geo.kinds import KINDS as KIND_TABLE
from geo.periods import Period, membership_period

KINDS = tuple(KIND_TABLE)  # the ids of geo/kinds.py
MEMBER_SCALES = ("commune", "epci", "grouping", "quartier")
ALL_PARENT_MEMBERS = "all-parent-members"
CSV_COLUMNS = ("code", "scheme", "role", "start", "end")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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

    def period_of(self, member: Member) -> Period:
        """The period of one membership, with the basis of each bound (see geo/periods.py)."""
        return membership_period(member.start, member.end, self.start, self.end)

    @property
    def codes(self) -> list[str]:
        return [m.code for m in self.members]


def _date(value: object, file: str, line: int | None, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError([Problem(file, line, f"{what} {value!r} is not a date", "write dates as YYYY-MM-DD")]) from None


def _code(value: object) -> str:
    """An official code as text (YAML may have read an unquoted code as a number)."""
    return str(value).strip()


def _line_of_bad_date(node: yaml.Node | None) -> int | None:
    """Line of the first YAML timestamp that is not a real date (e.g. 2022-13-01), or None."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:timestamp":
            try:
                SafeConstructor().construct_yaml_timestamp(node)
            except ValueError:
                return node.start_mark.line + 1
        return None
    children = node.value if isinstance(node, yaml.SequenceNode) else \
        [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else []
    return next((line for child in children if (line := _line_of_bad_date(child)) is not None), None)


def _utf8_row(exc: UnicodeDecodeError) -> int:
    """The line holding the first byte that is not UTF-8."""
    return exc.object[:exc.start].count(b"\n") + 1


def parse_scheme_file(path: Path) -> Scheme:
    """Parse one YAML scheme file; raise InputError naming the file and line on a malformed one."""
    name = str(path)
    root = None
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=_LOADER)
        data = yaml.load(text, Loader=_LOADER)
    except UnicodeDecodeError as exc:
        raise InputError([Problem(name, _utf8_row(exc), f"is not UTF-8 text ({exc.reason} at byte {exc.start})",
                                  "save the file as UTF-8")]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError([Problem(name, mark.line + 1 if mark else None, f"is not valid YAML ({getattr(exc, 'problem', exc)})",
                                  "fix the YAML syntax (indentation, quotes, colons)")]) from exc
    except ValueError as exc:  # a well-formed but impossible date such as 2022-13-01 fails in the YAML constructor
        raise InputError([Problem(name, _line_of_bad_date(root), f"holds a date that does not exist ({exc})",
                                  "write dates as YYYY-MM-DD with a real month and day")]) from exc
    if not isinstance(data, dict):
        raise InputError([Problem(name, None, "does not hold a scheme mapping", "see boundaries/schemes/ for the expected keys")])
    lines: dict = {}
    keys: dict = {}
    problems: list[Problem] = []
    for key_node, value_node in root.value:
        if key_node.value in keys:  # YAML keeps the last one silently: a second 'members:' would hide the first
            problems.append(Problem(name, key_node.start_mark.line + 1,
                                    f"key {key_node.value!r} is declared twice (first at row {keys[key_node.value].start_mark.line + 1})",
                                    "keep one of them (merge the two lists if both hold members)"))
        keys[key_node.value], lines[key_node.value] = key_node, value_node

    def line_of(key: str) -> int | None:
        node = lines.get(key)
        return node.start_mark.line + 1 if node is not None else None

    for key in ("id", "name", "kind", "member_scale", "members", "source"):
        if key not in data:
            problems.append(Problem(name, None, f"missing key {key!r}", f"add '{key}:' (see README, Scheme files)"))
        elif data[key] in (None, "") and key in ("id", "name", "kind", "member_scale"):
            problems.append(Problem(name, line_of(key), f"key {key!r} has no value", f"write a value after '{key}:'"))
    for key in ("period", "source"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            problems.append(Problem(name, line_of(key), f"{key} must be a mapping, not {data[key]!r}",
                                    "write period: {start: YYYY-MM-DD, end: YYYY-MM-DD}" if key == "period"
                                    else "write source: {title: ..., url: ..., publisher: ...}"))
    if problems:
        raise InputError(problems)
    if data["kind"] not in KINDS:
        problems.append(Problem(name, line_of("kind"), f"unknown kind {data['kind']!r}", f"use one of {', '.join(KINDS)}"))
    if data["member_scale"] not in MEMBER_SCALES:
        problems.append(Problem(name, line_of("member_scale"), f"unknown member_scale {data['member_scale']!r}",
                                f"use one of {', '.join(MEMBER_SCALES)}"))
    if str(data["id"]) != path.stem:
        taken = path.parent / f"{data['id']}{path.suffix}"
        if os.path.isfile(taken):  # renaming the file as the usual fix says would clash with the other scheme
            problems.append(Problem(name, line_of("id"), f"id {data['id']!r} is already the id of {taken}",
                                    f"give each scheme its own id: set id: {path.stem}"))
        else:
            problems.append(Problem(name, line_of("id"), f"id {data['id']!r} differs from the file name",
                                    f"name the file {data['id']}.yaml or set id: {path.stem}"))
    period = data.get("period") or {}
    succeeds = data.get("succeeds") or ()
    if isinstance(succeeds, str):
        succeeds = (succeeds,)
    if not isinstance(succeeds, (list, tuple)) or not all(isinstance(i, str) for i in succeeds):
        problems.append(Problem(name, line_of("succeeds"), f"succeeds must be a scheme id or a list of ids, not {succeeds!r}",
                                "write succeeds: <scheme id> or succeeds: [<id>, <id>]"))
        succeeds = ()
    start = _date(period.get("start"), name, line_of("period"), "period start")
    end = _date(period.get("end"), name, line_of("period"), "period end")

    raw_members = data["members"]
    members: list[Member] = []
    all_parent = raw_members == ALL_PARENT_MEMBERS
    if all_parent and not data.get("parent"):
        problems.append(Problem(name, line_of("members"), f"members is {ALL_PARENT_MEMBERS!r} but no parent is named",
                                "add 'parent: <scheme id>'"))
    elif not all_parent:
        if not isinstance(raw_members, list):
            raise InputError(problems + [Problem(name, line_of("members"), "members must be a list",
                                                 f"list members as '- {{code: ...}}' or write {ALL_PARENT_MEMBERS!r}")])
        nodes = lines["members"].value
        for item, node in zip(raw_members, nodes):
            line = node.start_mark.line + 1
            if not isinstance(item, dict) or item.get("code") in (None, ""):
                problems.append(Problem(name, line, "member without a code", "write each member as {code: \"...\"}"))
                continue
            members.append(Member(
                code=_code(item["code"]), name=item.get("name"), role=item.get("role"),
                start=_date(item.get("start"), name, line, "member start"), end=_date(item.get("end"), name, line, "member end"),
                note=item.get("note"), line=line,
            ))
    if problems:
        raise InputError(problems)
    return Scheme(
        id=str(data["id"]), name=str(data["name"]), kind=data["kind"], member_scale=data["member_scale"],
        members=tuple(members), file=name, start=start, end=end,
        owner=_code(data["owner"]) if data.get("owner") else None, scale=bool(data.get("scale", False)),
        parent=_code(data["parent"]) if data.get("parent") else None, all_parent_members=all_parent, source=dict(data["source"] or {}),
        as_of=_date(data.get("as_of"), name, line_of("as_of"), "as_of"), notes=data.get("notes"),
        period_source=period.get("source"), generation=str(data["generation"]) if data.get("generation") else None,
        succeeds=tuple(succeeds),
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
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=";,")
    except csv.Error as exc:  # a header with neither ';' nor ',' (tab-separated, one column, not a CSV)
        raise InputError([Problem(name, 1, "the header is not separated by ';' or ','",
                                  f"the header must be {';'.join(CSV_COLUMNS)} (';' or ',' separated)")]) from exc
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise InputError([Problem(name, 1, f"missing column(s) {', '.join(missing)}", f"the header must be {';'.join(CSV_COLUMNS)}")])
    out: dict[str, list[Member]] = {}
    problems: list[Problem] = []
    for row in reader:
        i = reader.line_num  # the file's line, so blank lines skipped by the reader do not shift rows
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
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
