"""Typology grids as commune attributes (density, centrality, rurality, montagne), and coverage broken down by class.

Each grid is a dataset of boundaries/sources.yaml (its ``columns`` name the code and the class columns) read from
the mirror; its classes come in the grid's own order where it has one (density: from the large urban centres to the
very scattered rural; centrality: from the major centres down), else alphabetically. A commune the grid does not
classify is in the grid's "outside" class (the montagne grid lists the zone's communes only), never dropped.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geo.config import Settings
from geo.sources import catalogue, fetch


@dataclass(frozen=True)
class Grid:
    """One typology: its dataset, French title, the order of its classes and the class of communes it does not list."""

    id: str
    dataset: str
    title: str
    order: tuple[str, ...] = ()
    outside: str = "Non classée"
    labels: tuple[tuple[str, str], ...] = ()  # a class as the file writes it → as a person reads it


GRIDS: tuple[Grid, ...] = (
    Grid("densite", "grille-densite", "Densité (grille communale de l'INSEE)",
         ("Grands centres urbains", "Centres urbains intermédiaires", "Ceintures urbaines", "Petites villes", "Bourgs ruraux",
          "Rural à habitat dispersé", "Rural à habitat très dispersé")),
    Grid("centralite", "grille-centralite", "Centralités (équipements et services, Inrae / CESAER)",
         ("Centre majeur d'équipements et de services", "Centre structurant d'équipements et de services",
          "Centre intermédiaire d'équipements et de services", "Centre local d'équipements et de services", "Communes non centre"),
         labels=(("- undefined", "Non classée"),)),
    Grid("ruralite", "grille-ruralite", "Typologie des ruralités (Acadie / M. Talandier)"),
    Grid("montagne", "grille-montagne", "Zone de montagne (massif)", outside="Hors zone de montagne"),
)


def read_grids(settings: Settings, codes: pd.Index) -> pd.DataFrame:
    """The class of each commune of ``codes`` in every grid (one column per grid id), read from the declared datasets;
    :class:`geo.errors.SourceError` when a grid cannot be read (without a mirror, for instance)."""
    datasets = catalogue()
    out = pd.DataFrame(index=pd.Index(codes, name="code"))
    for grid in GRIDS:
        dataset = datasets[grid.dataset]
        path = fetch(dataset, settings)
        column, klass = dataset.columns["code"], dataset.columns["classe"]
        table = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=[column, klass])
        classes = table.set_index(column)[klass].str.strip().replace(dict(grid.labels))
        out[grid.id] = classes.reindex(out.index).fillna(grid.outside).replace("", grid.outside).to_numpy()
    return out


def class_order(grid: Grid, present: list[str]) -> list[str]:
    """The classes present, in the grid's order (then the others alphabetically, the outside class last)."""
    ordered = [c for c in grid.order if c in present]
    rest = sorted(c for c in present if c not in ordered and c != grid.outside)
    return ordered + rest + ([grid.outside] if grid.outside in present else [])


def breakdown(classes: pd.Series, population: pd.Series, counts: pd.Series, grid: Grid) -> list[dict]:
    """Per class of one grid: its communes and population, those covered (a count above 0) and the shares covered.

    ``classes``, ``population`` and ``counts`` are indexed by the communes considered."""
    frame = pd.DataFrame({"classe": classes, "population": population, "covered": counts > 0})
    frame["covered_population"] = frame["population"].where(frame["covered"], 0)
    groups = frame.groupby("classe").agg(communes=("covered", "size"), covered=("covered", "sum"),
                                         population=("population", "sum"), covered_population=("covered_population", "sum"))
    out = []
    for name in class_order(grid, list(groups.index)):
        g = groups.loc[name]
        communes, covered = int(g["communes"]), int(g["covered"])
        out.append({"class": name, "communes": communes, "covered": covered, "share": round(100 * covered / communes, 1) if communes else 0.0,
                    "population": int(g["population"]), "covered_population": int(g["covered_population"])})
    return out
