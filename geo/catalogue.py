"""The loaded scheme catalogue: declared scheme files, user member lists and programme files, validated."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

from geo.cog import Cog
from geo.config import Settings
from geo.errors import InputError, NotFound, Problem, SourceError
from geo.programmes import programme_loaders
from geo.schemes import Scheme, parse_scheme_file, read_member_csv, validate, with_members


@dataclass(frozen=True)
class Catalogue:
    """Every valid scheme by id, with the problems and warnings met while loading."""

    schemes: dict[str, Scheme]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

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


def load_catalogue(cog: Cog, settings: Settings, keep_going: bool = False, programmes: bool = True) -> Catalogue:
    """Parse and validate every scheme; all problems are collected in one pass.

    With problems and ``keep_going`` False, raises InputError listing them all (nothing is returned,
    so whatever the caller had loaded before stays as it was). With ``keep_going``, schemes with a
    problem are left out and the others are returned with the problems listed.
    """
    problems: list[Problem] = _missing_paths(settings)
    warnings: list[str] = []
    parsed: dict[str, Scheme] = {}
    for path in sorted(settings.schemes.glob("*.yaml")) if not problems else ():
        try:
            scheme = parse_scheme_file(path)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        parsed[scheme.id] = scheme
    for csv_path in settings.members if not problems else ():
        try:
            imported = read_member_csv(csv_path, parsed)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        for scheme_id, members in imported.items():
            parsed[scheme_id] = with_members(parsed[scheme_id], members, str(csv_path))
    if programmes:
        for scheme_id, loader in programme_loaders().items():
            try:
                scheme, notes = loader(cog, settings)
            except SourceError as exc:
                if settings.mirror is not None:  # the mirror must hold every programme file: a broken one is an error
                    problems.append(Problem(str(settings.mirror), None, f"programme {scheme_id} not loaded: {exc}",
                                            "restore the file in the mirror"))
                else:  # programme files are mirror-only: without a mirror they are skipped, and said so
                    warnings.append(f"programme {scheme_id} not loaded: {exc}")
                continue
            if scheme_id in parsed:  # a scheme file must not silently replace (or be replaced by) a programme
                problems.append(Problem(parsed[scheme_id].file, None, f"scheme id {scheme_id!r} is also the id of the programme "
                                        f"loaded from {scheme.file}", "give the scheme file another id (and file name)"))
                continue
            parsed[scheme_id] = scheme
            warnings.extend(notes)

    if not cog.quartier_codes:  # the quartier scale is mirror-only: without it, its schemes are left out, and said so
        for scheme_id in [i for i, s in parsed.items() if s.member_scale == "quartier"]:
            warnings.append(f"scheme {scheme_id} not loaded: its members are quartiers and the quartier scale is not "
                            "available (it is read from a mirror only)")
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
    return Catalogue({k: v for k, v in parsed.items() if k not in bad}, problems, warnings)


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
    for path in settings.members:
        if not path.is_file():
            what = "is a directory, not a CSV file" if path.is_dir() else "does not exist"
            problems.append(Problem(str(path), None, f"the member list (TERRITOIRES_MEMBERS) {what}",
                                    f"name existing CSV files in TERRITOIRES_MEMBERS, separated by '{os.pathsep}'"))
    return problems
