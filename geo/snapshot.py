"""The published catalogue snapshot: JSON that reads back into the same Catalogue, and that cannot run code.

Encoding and decoding follow the dataclasses' fields and type hints (text, numbers, booleans, dates, tuples,
lists, dicts, nested dataclasses, ``X | None``), so a field added to Scheme or Member travels without a
change here; a value of the wrong type is a SnapshotError, never an object built from it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import types
import typing
from functools import cache

from geo.catalogue import Catalogue
from geo.schemes import Member

FORMAT = 1  # bump when the snapshot's layout changes
Decoder = typing.Callable[[object], object]


class SnapshotError(ValueError):
    """A snapshot that is not JSON of this format, or holds a value of the wrong type."""


def encode_catalogue(catalogue: Catalogue) -> bytes:
    """The catalogue as UTF-8 JSON."""
    return json.dumps({"format": FORMAT, "catalogue": _encode(catalogue)}, ensure_ascii=False, separators=(",", ":")).encode()


def decode_catalogue(data: bytes) -> Catalogue:
    """The catalogue a snapshot holds; SnapshotError if it is not one of this format."""
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise SnapshotError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError(f"not a catalogue snapshot of format {FORMAT}")
    return _decode(Catalogue, document.get("catalogue"), "catalogue")


def _encode(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        raise SnapshotError(f"a datetime ({value}) where the catalogue holds dates only")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise SnapshotError(f"cannot store a {type(value).__name__} in a snapshot")



def _fail(expected: str, value: object) -> typing.NoReturn:
    raise SnapshotError(f"expected {expected}, not {type(value).__name__} {str(value)[:40]!r}")


def _decode(hint: object, value: object, where: str) -> object:
    try:
        return _decoder(hint)(value)
    except SnapshotError as exc:
        raise SnapshotError(f"{where}{_joined(exc)}") from None


@cache
def _decoder(hint: object) -> Decoder:
    """A function reading a JSON value into ``hint``'s type, built once per type (a snapshot holds thousands of members)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in args if a is not type(None)]  # the catalogue's unions are all X | None
        read = _decoder(inner)
        return lambda v: None if v is None else read(v)
    if dataclasses.is_dataclass(hint):
        return _dataclass_decoder(hint)
    if origin in (tuple, list):
        item = _decoder(args[0] if args else typing.Any)
        kind = tuple if origin is tuple else list

        def sequence(v: object) -> object:
            if not isinstance(v, list):
                _fail("a list", v)
            out = []
            for i, x in enumerate(v):
                try:
                    out.append(item(x))
                except SnapshotError as exc:
                    raise SnapshotError(f"[{i}]{_joined(exc)}") from None
            return kind(out)
        return sequence
    if origin is dict or hint is dict:
        value_of = _decoder(args[1]) if args else (lambda v: v)

        def mapping(v: object) -> object:
            if not isinstance(v, dict):
                _fail("an object", v)
            out = {}
            for k, x in v.items():
                try:
                    out[k] = value_of(x)
                except SnapshotError as exc:
                    raise SnapshotError(f".{k}{_joined(exc)}") from None
            return out
        return mapping
    if hint is dt.date:
        def date(v: object) -> dt.date:
            try:
                return dt.date.fromisoformat(v)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                _fail("a date", v)
        return date
    if hint in (str, int, float, bool):
        allowed = (int, float) if hint is float else (hint,)

        def scalar(v: object) -> object:
            if type(v) not in allowed:
                _fail(hint.__name__, v)  # type: ignore[union-attr]
            return v
        return scalar
    if hint is typing.Any or hint is object:
        return lambda v: v
    raise SnapshotError(f"no rule to read a {hint}")


def _dataclass_decoder(cls: type) -> Decoder:
    hints = typing.get_type_hints(cls)
    fields = {f.name: _decoder(hints[f.name]) for f in dataclasses.fields(cls) if f.init}

    def read(v: object) -> object:
        if not isinstance(v, dict):
            _fail(f"an object for {cls.__name__}", v)
        if not v.keys() <= fields.keys():
            raise SnapshotError(f": unknown field(s) of {cls.__name__}: {', '.join(sorted(v.keys() - fields.keys()))}")
        kwargs = {}
        for k, x in v.items():
            try:
                kwargs[k] = fields[k](x)
            except SnapshotError as exc:
                raise SnapshotError(f".{k}{_joined(exc)}") from None
        return cls(**kwargs)
    return read


def _joined(exc: SnapshotError) -> str:
    """The rest of an error's path: nested parts ('.name', '[3]') as they are, a message after ': '."""
    text = exc.args[0]
    return text if text.startswith((".", "[", ":")) else f": {text}"


def encode_members(members: dict[str, tuple[Member, ...]]) -> bytes:
    """An imported member list (members by scheme id) as UTF-8 JSON, as the data directory keeps it."""
    return json.dumps({"format": FORMAT, "members": _encode(members)}, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def decode_members(data: bytes) -> dict[str, tuple[Member, ...]]:
    """The member list :func:`encode_members` wrote; SnapshotError if it is not one."""
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise SnapshotError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError(f"not a member list of format {FORMAT}")
    return _decode(dict[str, tuple[Member, ...]], document.get("members"), "members")
