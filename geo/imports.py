"""Checking a member list against the deployment before it is published: the one path of `territoires members
import` and of the admin page. Reading problems, catalogue problems and the changes it would make, in one answer."""
from __future__ import annotations

from dataclasses import dataclass

from geo import memberstore
from geo.catalogue import declared_schemes
from geo.cog import Cog
from geo.config import Settings
from geo.errors import InputError
from geo.memberlists import Change, MemberList, RowProblem, changes, check_entries, kind_of, read_member_list
from geo.memberstore import Upload
from geo.programmes import programme_loaders


@dataclass(frozen=True)
class Checked:
    """A member list checked: its rows, every problem (none: it can be published) and what it would change."""

    upload: Upload | None
    members: MemberList
    problems: tuple[RowProblem, ...]
    changes: tuple[Change, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_file(settings: Settings, cog: Cog, data: bytes, filename: str, chosen: str | None = None) -> Checked:
    """Read and check a member list against the scheme files and the official codes; compare it with the list in service."""
    try:
        upload = Upload(filename, data, kind_of(filename, data))
        members = read_member_list(data, filename, chosen)
    except InputError as exc:
        problems = tuple(p if isinstance(p, RowProblem) else RowProblem(p.file, p.row, p.message, p.fix, p.code) for p in exc.problems)
        return Checked(None, MemberList(filename, ()), problems, ())
    declared = declared_schemes(settings)
    problems = list(members.problems) + check_entries(members, declared, {*declared, *programme_loaders()}, cog)
    problems.sort(key=lambda p: (p.row or 0))
    before = memberstore.content(settings, memberstore.in_service(settings))
    found = changes(before, members.by_scheme()) if not problems else []
    return Checked(upload, members, tuple(problems), tuple(found))
