"""The loaded scheme catalogue: declared scheme files, imported member lists and programme files, validated."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from geo.cog import Cog
from geo.config import Settings
from geo.errors import InputError, NotFound, Problem, SourceError
from geo.programmes import programme_loaders, unavailable
from geo.schemes import Member, Scheme, parse_scheme_file, validate, with_members


@dataclass(frozen=True)
class Catalogue:
    """Every valid scheme by id, with the problems and warnings met while loading, and the schemes not loaded (by id, the
    reason in one line: a programme file read from a mirror only, without a mirror)."""

    schemes: dict[str, Scheme]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    not_loaded: dict[str, str] = field(default_factory=dict)

    @property
    def groupings(self) -> list[Scheme]:
        """Schemes shown as a map scale: named groupings of EPCI."""
        return [s for s in self.schemes.values() if s.scale and s.member_scale == "epci"]

    def get(self, scheme_id: str) -> Scheme:
        """A scheme by id; :class:`UnknownScheme` (French, listing the ids) otherwise."""
        if scheme_id not in self.schemes:
            raise UnknownScheme(f"Dispositif inconnu : « {scheme_id} ». Dispositifs connus : {', '.join(sorted(self.schemes))}.")
        return self.schemes[scheme_id]

    def families(self, clubs_apart: bool = False) -> dict[str, str]:
        """Each scheme id → the scheme its family is counted as: the generations of one programme (linked by
        ``succeeds``, e.g. ACV 2018 → ACV 2023-2026) are one family, named by its latest generation; a network's
        clubs are in their network's family unless ``clubs_apart``. Coverage counts count families, not schemes."""
        parent = {i: i for i in self.schemes}

        def root(i: str) -> str:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        def join(newer: str, older: str) -> None:  # the newer (or the network) names the family
            parent[root(older)] = root(newer)

        for s in self.schemes.values():
            for earlier in s.succeeds:
                if earlier in self.schemes:
                    join(s.id, earlier)
        if not clubs_apart:
            for s in self.schemes.values():
                if s.kind == "club" and s.parent in self.schemes:
                    join(s.parent, s.id)
        return {i: root(i) for i in self.schemes}

    def member_source(self, scheme: Scheme) -> Scheme:
        """The scheme whose member list applies: the parent network for a club of 'all the network's members'."""
        return self.schemes[scheme.parent] if scheme.all_parent_members and scheme.parent in self.schemes else scheme

    def members(self, scheme: Scheme) -> tuple[str, list[tuple[str, str | None, dt.date | None, dt.date | None]]]:
        """(member scale, members as (code, role, start, end)); a club of all its network's members lists the network's,
        with the club's period and no role."""
        source = self.member_source(scheme)
        if source is not scheme:
            return source.member_scale, [(m.code, None, scheme.start, scheme.end) for m in source.members]
        return scheme.member_scale, [(m.code, m.role, m.start or scheme.start, m.end or scheme.end) for m in scheme.members]


class UnknownScheme(NotFound):
    """A scheme id that the catalogue does not have."""


def declared_schemes(settings: Settings) -> dict[str, Scheme]:
    """The schemes of the scheme files, as declared (no imported member); InputError listing every problem."""
    parsed, problems = _declared(settings)
    if problems:
        raise InputError(problems)
    return parsed


def _declared(settings: Settings) -> tuple[dict[str, Scheme], list[Problem]]:
    problems = _missing_paths(settings)
    parsed: dict[str, Scheme] = {}
    for path in sorted(settings.schemes.glob("*.yaml")) if not problems else ():
        try:
            scheme = parse_scheme_file(path)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        parsed[scheme.id] = scheme
    return parsed, problems


def load_catalogue(cog: Cog, settings: Settings, keep_going: bool = False, programmes: bool = True,
                   imported: tuple[int, dict[str, tuple[Member, ...]]] | None = None) -> Catalogue:
    """Parse and validate every scheme; all problems are collected in one pass.

    ``imported``: the member-list version (number, members by scheme) to add to the scheme files' members; by default
    the one in service in the data directory (geo/memberstore.py).

    With problems and ``keep_going`` False, raises InputError listing them all (nothing is returned,
    so whatever the caller had loaded before stays as it was). With ``keep_going``, schemes with a
    problem are left out and the others are returned with the problems listed.
    """
    warnings: list[str] = []
    not_loaded = unavailable(settings) if programmes else {}
    parsed, problems = _declared(settings)
    if not _missing_paths(settings):
        from geo import memberstore  # geo/memberstore.py reads snapshots, which read this module's types

        number, members = imported if imported is not None else (n := memberstore.in_service(settings), memberstore.content(settings, n))
        for scheme_id, extra in members.items():
            if scheme_id not in parsed and not problems:  # (with problems, its scheme file may be the one in error)
                problems.append(Problem(str(memberstore.root(settings)), None, f"member-list version {number} lists members of "
                                        f"{scheme_id!r}, which no scheme file declares any more",
                                        "declare the scheme again, or publish a list without it (`territoires members import`)"))
            elif scheme_id in parsed and extra:
                parsed[scheme_id] = with_members(parsed[scheme_id], extra, f"liste de membres importée (version {number})")
    if programmes:
        for scheme_id, loader in programme_loaders().items():
            if scheme_id in not_loaded:
                continue
            try:
                scheme, notes = loader(cog, settings)
            except SourceError as exc:
                if settings.mirror is not None:  # the mirror must hold every programme file: a broken one is an error
                    problems.append(Problem(str(settings.mirror), None, f"programme {scheme_id} not loaded: {exc}",
                                            "restore the file in the mirror"))
                else:  # without a mirror, a programme that cannot be downloaded is left out, and said so
                    not_loaded[scheme_id] = f"programme {scheme_id} not loaded: {exc}"
                continue
            if scheme_id in parsed:  # a scheme file must not silently replace (or be replaced by) a programme
                problems.append(Problem(parsed[scheme_id].file, None, f"scheme id {scheme_id!r} is also the id of the programme "
                                        f"loaded from {scheme.file}", "give the scheme file another id (and file name)"))
                continue
            parsed[scheme_id] = scheme
            warnings.extend(notes)

    if not cog.quartier_codes:  # the quartier scale is mirror-only: without it, its schemes are left out, and said so
        for scheme_id in [i for i, s in parsed.items() if s.member_scale == "quartier"]:
            not_loaded[scheme_id] = (f"scheme {scheme_id} not loaded: its members are quartiers and the quartier scale is not "
                                     "available (it is read from a mirror only). Fix: set TERRITOIRES_MIRROR to a mirror holding it.")
            del parsed[scheme_id]
    groupings = {s.id for s in parsed.values() if s.scale}
    bad: set[str] = set()
    for scheme in parsed.values():
        found = validate(scheme, cog, groupings, set(parsed))
        if found:
            bad.add(scheme.id)
            problems.extend(found)
    if problems and not keep_going:
        raise InputError(problems)
    return Catalogue({k: v for k, v in parsed.items() if k not in bad}, problems, warnings, not_loaded)


def _missing_paths(settings: Settings) -> list[Problem]:
    """The schemes directory and the member lists named in the settings must exist, and be what they are named as:
    a missing one would silently serve fewer schemes or members."""
    problems = []
    schemes = settings.schemes
    if not schemes.is_dir():
        what = "is a file, not a directory" if schemes.exists() else "does not exist"
        problems.append(Problem(str(schemes), None, f"the schemes directory (TERRITOIRES_SCHEMES) {what}",
                                "point TERRITOIRES_SCHEMES at the directory of scheme files (by default boundaries/schemes)"))
    elif not any(schemes.glob("*.yaml")):
        problems.append(Problem(str(schemes), None, "the schemes directory (TERRITOIRES_SCHEMES) holds no scheme file (*.yaml)",
                                "point TERRITOIRES_SCHEMES at the directory of scheme files (by default boundaries/schemes)"))
    return problems + legacy_members(settings)


def legacy_members(settings: Settings) -> list[Problem]:
    """TERRITOIRES_MEMBERS, still set: each file it names is a problem saying where member lists live now."""
    return [Problem(path, None, "TERRITOIRES_MEMBERS is no longer read: member lists live in the data directory "
                    f"({settings.data_dir}), where every process of the deployment reads the same one",
                    "import the file once with `territoires members import FILE` (columns code;dispositif;role;debut;fin;"
                    "source;note), then unset TERRITOIRES_MEMBERS") for path in settings.legacy_members]
