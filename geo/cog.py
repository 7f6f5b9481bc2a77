"""Official codes (the codes vintage of sources.yaml): communes, merged-commune links, EPCI with members, départements, régions."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from geo.config import Settings
from geo.sources import code_dataset, fetch

CODE_TABLES = ("communes", "epci", "departements", "regions")  # one declared dataset each (`table:` in sources.yaml)


@dataclass(frozen=True, eq=False)
class Cog:
    """The code tables, as DataFrames with string codes.

    communes: code, nom, departement, region, population, zone (communes-actuelles: metro, drom, com), siren.
    links: old code → 2026 commune: code, nom, parent, rule ("chefLieu-deleguee", "chefLieu-associee",
        "anciensCodes"); one row per code that is not a commune-actuelle.
    epci: code, nom, type, population (municipale).
    epci_members: epci, commune.
    departements: code, nom, region, cheflieu.  regions: code, nom, cheflieu (the INSEE code of the chef-lieu).
    quartier_communes: quartier (QPV code of the 2015 generation), commune, share (of the quartier's area):
        the communes each quartier lies in (geo/quartiers.py), computed on the build's polygons.
    zone_shares: zone (dataset id), commune, share (of the commune's area inside the zone), for zonings
        published as one dissolved polygon (geo/zonings.py).
    """

    communes: pd.DataFrame
    links: pd.DataFrame
    epci: pd.DataFrame
    epci_members: pd.DataFrame
    departements: pd.DataFrame
    regions: pd.DataFrame
    quartier_communes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["quartier", "commune", "share"]))
    zone_shares: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["zone", "commune", "share"]))

    @cached_property
    def commune_codes(self) -> frozenset[str]:
        return frozenset(self.communes["code"])

    @cached_property
    def epci_codes(self) -> frozenset[str]:
        return frozenset(self.epci["code"])

    @cached_property
    def quartier_codes(self) -> frozenset[str]:
        return frozenset(self.quartier_communes["quartier"])

    @cached_property
    def commune_of_siren(self) -> dict[str, str]:
        """INSEE code of each commune-actuelle by its SIREN (programme files sometimes list communes by SIREN)."""
        return dict(zip(self.communes["siren"], self.communes["code"]))

    def successor(self, code: str) -> str | None:
        """The 2026 commune a former commune code now belongs to, or None."""
        hit = self.links.loc[self.links["code"] == code, "parent"]
        return None if hit.empty else str(hit.iloc[0])

    def describe_unknown_commune(self, code: str) -> str:
        """Why a commune code is not a 2026 commune, naming the commune it merged into if any."""
        parent = self.successor(code)
        if parent is None:
            return f"{code} is not a 2026 commune code"
        nom = self.communes.set_index("code")["nom"].get(parent, "?")
        return f"{code} is no longer a commune: it merged into {parent} ({nom})"


def _read(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def load_cog(settings: Settings, progress: bool = False) -> Cog:
    """Read the four code tables (from the mirror or the checked download cache)."""
    raw = {name: _read(fetch(code_dataset(name), settings, progress)) for name in CODE_TABLES}

    com = pd.DataFrame(raw["communes"])
    actuelles = com[com["type"] == "commune-actuelle"].drop_duplicates("code")
    communes = actuelles[["code", "nom", "departement", "region", "population", "zone", "siren"]].reset_index(drop=True)
    communes["population"] = communes["population"].fillna(0).astype("int64")

    actual_codes = set(communes["code"])
    rules = {"commune-deleguee": "chefLieu-deleguee", "commune-associee": "chefLieu-associee"}
    dele = com[com["type"].isin(list(rules)) & ~com["code"].isin(actual_codes)]
    dele = dele.drop_duplicates("code")
    links = pd.DataFrame({"code": dele["code"], "nom": dele["nom"], "parent": dele["chefLieu"], "rule": dele["type"].map(rules)})
    anciens = actuelles[["code", "anciensCodes"]].dropna().explode("anciensCodes").dropna()
    anciens = anciens[~anciens["anciensCodes"].isin(actual_codes) & ~anciens["anciensCodes"].isin(set(links["code"]))]
    links = pd.concat(
        [links, pd.DataFrame({"code": anciens["anciensCodes"], "nom": None, "parent": anciens["code"], "rule": "anciensCodes"})],
        ignore_index=True,
    ).drop_duplicates("code")

    epci_raw = pd.DataFrame(raw["epci"])
    epci = pd.DataFrame(
        {"code": epci_raw["code"], "nom": epci_raw["nom"], "type": epci_raw["type"], "population": epci_raw["populationMunicipale"].astype("int64")}
    )
    members = epci_raw[["code", "membres"]].explode("membres")
    epci_members = pd.DataFrame({"epci": members["code"].to_numpy(), "commune": [m["code"] for m in members["membres"]]})

    dep = pd.DataFrame(raw["departements"])[["code", "nom", "region", "chefLieu"]].rename(columns={"chefLieu": "cheflieu"})
    reg = pd.DataFrame(raw["regions"])[["code", "nom", "chefLieu"]].rename(columns={"chefLieu": "cheflieu"})
    return Cog(communes, links.reset_index(drop=True), epci, epci_members, dep, reg)
