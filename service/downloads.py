"""What a page or a map offers to download, written once for both: a layer in every export format
(geo/exports/formats.py), the static map in PNG and PDF (geo/render.py), with French labels and the URL of each."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from geo.exports.formats import FORMATS
from geo.schemes import Scheme
from geo.territory import Territory

#: The static map formats offered to people (SVG stays an API format), with their labels.
MAP_FORMATS = {"png": "Carte PNG (image)", "pdf": "Carte PDF (vectorielle, A4)"}


@dataclass(frozen=True)
class Download:
    """One link: its label and address."""

    label: str
    href: str

    def as_dict(self) -> dict:
        return {"label": self.label, "href": self.href}


def _query(params: dict) -> str:
    return f"?{urlencode(params)}" if params else ""


def layer(layer_id: str, what: str, params: dict | None = None) -> list[Download]:
    """A layer in every export format: 'Membres, GeoPackage (styles QGIS)'."""
    return [Download(f"{what}, {f.label}", f"/export/{layer_id}.{f.extension}{_query(params or {})}") for f in FORMATS.values()]


def static_map(name: str, params: dict | None = None) -> list[Download]:
    """The static map ``name`` (scales, coverage, scheme-<id>) in the formats offered."""
    return [Download(label, f"/static/{name}.{ext}{_query(params or {})}") for ext, label in MAP_FORMATS.items()]


def scales(focus: Territory | None) -> list[Download]:
    """The scales map: its layers in one GeoPackage, the communes in the other formats, the static map."""
    params = {"within": focus.param} if focus else {}
    layers = {**params, "layers": "communes,epci,groupings,departements,regions"}
    bundle = [Download("Toutes les échelles, GeoPackage (styles QGIS)", f"/export/bundle.gpkg{_query(layers)}")]
    return bundle + layer("communes", "Communes", params)[1:] + static_map("scales", params)


def scheme(s: Scheme) -> list[Download]:
    """A scheme's members in every format and its static map."""
    return layer(f"scheme-{s.id}", "Membres") + static_map(f"scheme-{s.id}")


def coverage(ids: list[str], within: Territory | None) -> list[Download]:
    """The commune × scheme table of exactly these schemes, its gaps, and the static coverage map."""
    params = {"schemes": ",".join(ids), **({"within": within.param} if within else {})}
    return ([Download("Communes × dispositifs cochés, CSV (tableur)", f"/export/coverage.csv{_query(params)}"),
             Download("Lacunes (communes couvertes par aucun), CSV (tableur)", f"/export/coverage.csv{_query({**params, 'gaps': '1'})}"),
             Download("Communes × dispositifs cochés, GeoPackage (styles QGIS)", f"/export/coverage.gpkg{_query(params)}")]
            + static_map("coverage", params))
