"""Links between the members of a network or partnership: a line from its pilot to each other member."""
from __future__ import annotations

from geo.kinds import KINDS
from geo.model import Model
from geo.schemes import Scheme


def member_links(model: Model, scheme: Scheme) -> dict:
    """A GeoJSON FeatureCollection of lines (properties from, to, from_nom, to_nom) from the hub — the member whose role
    names it pilot, else the owner, else the first member in scope — to every other member in scope; empty for a kind
    whose members are not linked (geo/kinds.py)."""
    if scheme.kind not in KINDS or not KINDS[scheme.kind].links:
        return {"type": "FeatureCollection", "features": []}
    scale, members = model.catalogue.members(scheme)
    table = model.scales[scale].set_index("code")
    placed = [(c, r) for c, r, _, _ in members if c in table.index]
    hub = next((c for c, r in placed if r and "pilot" in r.lower()), scheme.owner if scheme.owner in table.index else None)
    hub = hub or (placed[0][0] if placed else None)
    points = table.geometry.representative_point()
    features = [{"type": "Feature", "properties": {"from": hub, "to": c, "from_nom": table.at[hub, "nom"], "to_nom": table.at[c, "nom"]},
                 "geometry": {"type": "LineString", "coordinates": [[round(p.x, 5), round(p.y, 5)] for p in (points[hub], points[c])]}}
                for c, _ in placed if c != hub]
    return {"type": "FeatureCollection", "features": features}
