"""Strict reading of hand-edited YAML files: the parser's events are checked before anything is built, then
values are read from the node tree with a declared type each, so every error names the file, the line and
the fix.

Refused before any node is composed: anchors and aliases (``&a`` / ``*a``, so a nested-alias "billion laughs"
never expands), merge keys (``<<``) and explicit tags (``!!python/…``, ``!!str``). Refused while reading: a
key declared twice at any depth, an unknown key (with the closest valid one), and a value of the wrong type —
a list where a text is expected, ``"false"`` where a boolean is, a date and time where a date is, and a code
written without quotes that YAML reads as a number (``01001`` is the integer 513).
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping

import yaml
from yaml.constructor import SafeConstructor

from geo.errors import InputError, Problem

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_NAMES = {"int": "an integer", "float": "a decimal number", "bool": "a boolean (true/false)", "timestamp": "a date",
          "null": "empty", "seq": "a list", "map": "a mapping"}
_NUMBER_LIKE = re.compile(r"[0-9_.+\-eE]*[0-9][0-9_.+\-eE]*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2}[Tt ]")

Reader = Callable[[yaml.Node, str, str], object]  # (value node, file, key) -> value; raises InputError


def line(node: yaml.Node) -> int:
    """The 1-based line where a node starts."""
    return node.start_mark.line + 1


def fail(file: str, node: yaml.Node, message: str, fix: str) -> InputError:
    return InputError([Problem(file, line(node), message, fix)])


def compose(text: str, file: str) -> yaml.Node | None:
    """The node tree of a one-document YAML text; InputError on a syntax error, an anchor or alias, a merge key
    or an explicit tag, found in the parser's events before any node is built."""
    try:
        for event in yaml.parse(text, Loader=LOADER):
            row = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise InputError([Problem(file, row, "uses a YAML anchor or alias (&name / *name)",
                                          "write each value out in full: anchors and aliases are not allowed in these files")])
            if getattr(event, "tag", None) is not None:
                raise InputError([Problem(file, row, f"uses the YAML tag {event.tag}",
                                          "remove the tag (write text in quotes, dates as YYYY-MM-DD)")])
            if isinstance(event, yaml.ScalarEvent) and event.value == "<<" and event.implicit[0]:
                raise InputError([Problem(file, row, "uses a YAML merge key (<<)", "write the keys out in full: merge keys are not allowed")])
        return yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError([Problem(file, mark.line + 1 if mark else None, f"is not valid YAML ({getattr(exc, 'problem', exc)})",
                                  "fix the YAML syntax (indentation, quotes, colons)")]) from exc


def kind_of(node: yaml.Node) -> str:
    """What a node holds, in words: 'a list', 'an integer', 'a text'…"""
    if isinstance(node, yaml.SequenceNode):
        return _NAMES["seq"]
    if isinstance(node, yaml.MappingNode):
        return _NAMES["map"]
    return _NAMES.get(node.tag.removeprefix(_TAG), "a text")


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == f"{_TAG}null"


def text(node: yaml.Node, file: str, key: str) -> str | None:
    """A text (None when empty); a list, a mapping, or a scalar YAML reads as another type is an error."""
    if is_null(node):
        return None
    if isinstance(node, yaml.ScalarNode) and node.tag == f"{_TAG}str":
        return node.value
    if isinstance(node, yaml.ScalarNode):
        raise fail(file, node, f"{key} {node.value!r} is read by YAML as {kind_of(node)}, not a text",
                   f'write it in quotes: {key}: "{node.value}"')
    raise fail(file, node, f"{key} must be a text, not {kind_of(node)}", f"write one text after '{key}:' (in quotes if it holds ': ' or ' #')")


def code(node: yaml.Node, file: str, key: str) -> str | None:
    """An official code as text; written without quotes, a code YAML may read as a number is an error."""
    if isinstance(node, yaml.ScalarNode) and not node.style and _NUMBER_LIKE.fullmatch(node.value):
        raise fail(file, node, f"{key} {node.value} is written without quotes, so YAML reads it as a number "
                               "(01001 becomes 513, 31_555 becomes 31555)", f'write the code in quotes: {key}: "{node.value.replace("_", "")}"')
    value = text(node, file, key)
    return None if value is None else value.strip()


def date(node: yaml.Node, file: str, key: str) -> dt.date | None:
    """A date written YYYY-MM-DD (None when empty); a date and time, or a date that does not exist, is an error."""
    if is_null(node) or (isinstance(node, yaml.ScalarNode) and node.value == ""):
        return None
    if isinstance(node, yaml.ScalarNode) and node.tag == f"{_TAG}timestamp":
        try:
            value = SafeConstructor().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise fail(file, node, f"holds a date that does not exist ({node.value}: {exc})",
                       "write dates as YYYY-MM-DD with a real month and day") from None
        if isinstance(value, dt.datetime):
            raise fail(file, node, f"{key} {node.value} is a date and time where a date is expected", f"write the date alone: {key}: {value.date()}")
        return value
    if isinstance(node, yaml.ScalarNode) and node.tag == f"{_TAG}str":
        if _DATE_TIME.match(node.value):
            raise fail(file, node, f"{key} {node.value!r} is a date and time where a date is expected", f"write the date alone: {key}: YYYY-MM-DD")
        if _DATE.fullmatch(node.value.strip()):
            try:
                return dt.date.fromisoformat(node.value.strip())
            except ValueError as exc:
                raise fail(file, node, f"holds a date that does not exist ({node.value}: {exc})",
                           "write dates as YYYY-MM-DD with a real month and day") from None
    shown = repr(node.value) if isinstance(node, yaml.ScalarNode) else kind_of(node)
    raise fail(file, node, f"{key} {shown} is not a date", f"write dates as YYYY-MM-DD: {key}: 2024-01-01")


def flag(node: yaml.Node, file: str, key: str) -> bool:
    """true or false, without quotes ("false" in quotes is a text, and would read as true)."""
    if isinstance(node, yaml.ScalarNode) and node.tag == f"{_TAG}bool" and node.value.lower() in ("true", "false"):
        return node.value.lower() == "true"
    shown = repr(node.value) if isinstance(node, yaml.ScalarNode) else kind_of(node)
    raise fail(file, node, f"{key} {shown} is not true or false", f"write {key}: true or {key}: false, without quotes")


def mapping(node: yaml.Node, file: str, fields: Mapping[str, Reader], what: str) -> tuple[dict[str, object], dict[str, yaml.Node], list[Problem]]:
    """Read a mapping whose keys are ``fields``: (values, value nodes, problems). Every key declared twice,
    unknown key (with the closest valid one) and value of the wrong type is one problem at its line."""
    if not isinstance(node, yaml.MappingNode):
        raise fail(file, node, f"{what} must be a mapping, not {kind_of(node)}", f"write {what} as 'key: value' lines")
    values: dict[str, object] = {}
    nodes: dict[str, yaml.Node] = {}
    keys: dict[str, yaml.Node] = {}
    problems: list[Problem] = []
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key in keys:  # YAML keeps the last one silently: a second 'members:' would hide the first
            problems.append(Problem(file, line(key_node), f"key {key!r} is declared twice (first at row {line(keys[key])})",
                                    "keep one of them (merge the two lists if both hold members)"))
            continue
        if key is not None:
            keys[key] = key_node
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.6)
            shown = repr(key) if key is not None else kind_of(key_node)
            problems.append(Problem(file, line(key_node), f"unknown key {shown} in {what}",
                                    (f"did you mean '{close[0]}'? " if close else "remove it; ") + f"the keys are: {', '.join(fields)}"))
            continue
        nodes[key] = value_node
        try:
            values[key] = fields[key](value_node, file, key)
        except InputError as exc:
            problems.extend(exc.problems)
    return values, nodes, problems
