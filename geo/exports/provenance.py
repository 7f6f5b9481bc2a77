"""Where an export's content comes from: source datasets, vintages, as-of dates, model version."""
from __future__ import annotations

import datetime as dt

from geo.mapspec import fr_date
from geo.model import Model
from geo.periods import french_date
from geo.schemes import Scheme
from geo.sources import Group, codes_source, geometry_source, perimeters

PRODUCER = "territoires"


def _group(group: Group) -> dict:
    return {"role": group.role, "title": group.title, "vintage": group.vintage, "licence": group.licence, "url": group.provenance}


def base_sources() -> list[dict]:
    """The geometry and code vintages every layer is built from, as declared in boundaries/sources.yaml."""
    return [_group(geometry_source()), _group(codes_source())]


def scheme_source(scheme: Scheme) -> dict:
    """One scheme's source, as-of date and period."""
    return {"role": "scheme", "scheme": scheme.id, "name": scheme.name, "kind": scheme.kind,
            "title": scheme.source.get("title"), "publisher": scheme.source.get("publisher"), "url": scheme.source.get("url"),
            "as_of": scheme.as_of.isoformat() if scheme.as_of else None,
            "period": [d.isoformat() if d else None for d in (scheme.start, scheme.end)]}


def provenance(model: Model, layer: str, title: str, schemes: list[Scheme], features: int,
               within: str | None = None, crs: str = "EPSG:4326", notes: list[str] | None = None, at: dt.date | None = None) -> dict:
    """The provenance record of one layer, as built from the model (kept with it: no export time, see :func:`stamped`);
    a layer at a date names the date and the boundaries shown at it (``perimeters``)."""
    return {
        "layer": layer, "title": title, "producer": PRODUCER,
        "model_version": model.version, "scope": model.territories.scope, "within": within, "crs": crs,
        "features": features, "sources": base_sources() + [scheme_source(s) for s in schemes], "notes": notes or [],
        **({"date": at.isoformat(), "perimeters": perimeters()} if at else {}),
    }


def now() -> str:
    """The current UTC time, to the second, in ISO 8601."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def stamped(record: dict, at: str | None = None) -> dict:
    """The record of one export: ``exported_at`` is when it is written (now unless ``at``), never when the layer was built."""
    return {**record, "exported_at": at or now()}


def summary(record: dict) -> str:
    """One line naming the sources and their vintages (map footers, file descriptions); the export date is the record's
    (today for a record not stamped yet)."""
    parts = [f"{s['title']} ({s['vintage']})" for s in record["sources"] if s["role"] != "scheme"]
    schemes = [f"{s['name']} (au {fr_date(dt.date.fromisoformat(s['as_of']))})" if s["as_of"] else s["name"]
               for s in record["sources"] if s["role"] == "scheme"]
    if schemes:
        parts.append("dispositifs : " + ", ".join(schemes) if len(schemes) <= 3 else f"{len(schemes)} dispositifs (voir métadonnées)")
    exported = dt.date.fromisoformat((record.get("exported_at") or now())[:10])
    situation = f"Situation au {french_date(dt.date.fromisoformat(record['date']))}, {record['perimeters']}. " if record.get("date") else ""
    return situation + "Sources : " + " ; ".join(parts) + f". territoires {record['model_version']}, export du {french_date(exported)}."
