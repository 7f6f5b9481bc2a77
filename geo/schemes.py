"""The scheme catalogue: contracts, programmes, clubs, networks and partnerships with sourced members.

A scheme file (boundaries/schemes/*.yaml) is parsed into a :class:`Scheme`; :func:`validate` checks
it against the official codes. Member lists kept in spreadsheets are read by geo/memberlists.py.
"""
from __future__ import annotations

import datetime as dt
import difflib
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
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # goes into URLs, file names and download headers as it is
TERRITORY_CODE = re.compile(r"[0-9]+|2[ab][0-9]*", re.IGNORECASE)  # communes, EPCI, départements, régions: within=/focus= take these


@dataclass(frozen=True)
class MemberSource:
    """Where one membership comes from (a row of an imported member list): a title, an address, or both."""

    title: str | None = None
    url: str | None = None

    @property
    def label(self) -> str:
        """What a person reads: the title, else the address."""
        return self.title or self.url or ""


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
    source: MemberSource | None = None  # the membership's own source (an imported row's); None: the scheme's source


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


def with_members(scheme: Scheme, extra: tuple[Member, ...], file: str) -> Scheme:
    """The scheme with imported members appended (their lines refer to the imported file)."""
    return replace(scheme, members=scheme.members + tuple(extra), file=f"{scheme.file} + {file}")


def member_sources(scheme: Scheme) -> list[tuple[str, str | None, int]]:
    """The members' own sources (imported rows), each once with how many members it is the source of: (label, url, n)."""
    counts: dict[tuple[str, str | None], int] = {}
    for m in scheme.members:
        if m.source:
            key = (m.source.label, m.source.url)
            counts[key] = counts.get(key, 0) + 1
    return [(label, url, n) for (label, url), n in counts.items()]


def _span(period: Period) -> str:
    return f"{period.start or 'open'} – {period.end or 'open'}"


def _overlap(a: Period, b: Period) -> bool:
    """Whether two periods share a day (open bounds are open); the same period twice always does."""
    if (a.start, a.end) == (b.start, b.end):
        return True
    return (a.start is None or b.end is None or a.start <= b.end) and (b.start is None or a.end is None or b.start <= a.end)


def _outside(scheme: Scheme, m: Member) -> str | None:
    """Why a member's own dates fall outside its scheme's period, or None when they do not."""
    for day, what in ((m.start, "starts"), (m.end, "ends")):
        if day is None:
            continue
        if scheme.start and day < scheme.start:
            return f"member {m.code} {what} on {day}, before its scheme's period ({_span(scheme.period_of(Member(code='')))})"
        if scheme.end and day > scheme.end:
            return f"member {m.code} {what} on {day}, after its scheme's period ({_span(scheme.period_of(Member(code='')))})"
    return None


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
    seen: dict[tuple[str, str | None], list[Member]] = {}
    for m in scheme.members:
        if m.start and m.end and m.end < m.start:
            problems.append(Problem(f, m.line, f"member {m.code} ends ({m.end}) before it starts ({m.start})", "swap or correct the dates", m.code))
        elif outside := _outside(scheme, m):
            problems.append(Problem(f, m.line, outside, "correct the member's dates, or the scheme's period", m.code))
        period = scheme.period_of(m)
        earlier = next((e for e in seen.get((m.code, m.role), []) if _overlap(scheme.period_of(e), period)), None)
        seen.setdefault((m.code, m.role), []).append(m)
        if earlier is not None:
            role = f" with role {m.role!r}" if m.role else " without a role"
            problems.append(Problem(f, m.line, f"duplicate member {m.code}{role} over overlapping periods (first at row {earlier.line}: "
                                    f"{_span(scheme.period_of(earlier))}; here: {_span(period)})",
                                    "keep one row per member and role, or give the rows periods that do not overlap", m.code))
            continue
        if len(seen[(m.code, m.role)]) > 1:
            continue  # the same member again over another period: its code is checked once
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
