"""The scheme kinds table (geo/kinds.py): every kind labelled in French and grouped; scheme files accept exactly its ids."""
from __future__ import annotations

from pathlib import Path

import pytest

from geo.errors import InputError
from geo.kinds import GROUPS, KINDS, by_group, kind_label
from geo.schemes import parse_scheme_file


def test_every_kind_has_french_labels_and_a_known_group() -> None:
    for kind in KINDS.values():
        assert kind.label and kind.plural and kind.group in GROUPS, kind
    assert kind_label("network") == "réseau" and kind_label("partnership") == "partenariat"
    assert {k.id for k in KINDS.values() if k.links} == {"network", "partnership"}


def test_kinds_listed_under_their_groups_in_table_order() -> None:
    groups = by_group()
    assert [g.label for g in groups] == ["Intercommunalités et groupements", "Réseaux et clubs", "Partenariats", "Contrats",
                                         "Programmes nationaux"]
    assert [k.id for k in groups[GROUPS["reseaux"]]] == ["network", "club"]
    assert [g.id for g in by_group(["contract", "club"])] == ["reseaux", "contrats"]  # empty groups left out


def test_a_scheme_file_accepts_exactly_the_table_of_kinds(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    body = "id: x\nname: X\nkind: {kind}\nmember_scale: commune\nmembers: []\nsource: {{title: t}}\n"
    for kind in KINDS:
        path.write_text(body.format(kind=kind), encoding="utf-8")
        assert parse_scheme_file(path).kind == kind
    path.write_text(body.format(kind="reseau"), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        parse_scheme_file(path)
    assert f"use one of {', '.join(KINDS)}" in str(caught.value)
