"""Controls every map shares: the layer tree (base maps and layers), fullscreen, and the page scripts (layers, place
names, search box, selection, permalink, downloads, share/embed panel, link back to the full map when embedded, the side
panel of the selected territory) from
service/maps/static/."""
from __future__ import annotations

from pathlib import Path

import folium
from branca.element import MacroElement
from fastapi import FastAPI
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen, TreeLayerControl
from folium.template import Template

from service.staticfiles import CompressedStaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/maps/static"


class Territoires(JSCSSMixin, MacroElement):
    """Loads the page script and starts it on the map with a JSON configuration (already script-safe); with
    ``archive``, the PMTiles reader too."""

    default_js = [("leaflet.vectorgrid", "https://unpkg.com/leaflet.vectorgrid@1.3.0/dist/Leaflet.VectorGrid.bundled.min.js"),
                  ("territoires_layers", f"{STATIC_URL}/layers.js"), ("territoires_labels", f"{STATIC_URL}/labels.js"),
                  ("territoires_controls", f"{STATIC_URL}/controls.js"), ("territoires_dates", f"{STATIC_URL}/dates.js"),
                  ("territoires_panel", f"{STATIC_URL}/panel.js")]
    default_css = [("territoires_css", f"{STATIC_URL}/territoires.css"), ("territoires_panel_css", f"{STATIC_URL}/panel.css")]
    _template = Template("""
        {% macro script(this, kwargs) %}
            territoires.init({{ this._parent.get_name() }}, {{ this.config }});
        {% endmacro %}
    """)

    def __init__(self, config: str, archive: bool = False):
        super().__init__()
        self._name = "Territoires"
        self.config = config
        if archive:  # layers read tiles from a PMTiles archive: its reader, before the page script
            self.default_js = [("pmtiles", "https://unpkg.com/pmtiles@4.5.0/dist/pmtiles.js"), *self.default_js]


def add_controls(m: folium.Map, tree: dict | None, basemaps: dict, embed: bool) -> None:
    """Layer tree with the base maps (collapsed when embedded) and, outside iframes, the fullscreen button."""
    if not embed:
        Fullscreen(position="topleft", title="Plein écran", title_cancel="Quitter le plein écran").add_to(m)
    TreeLayerControl(base_tree=basemaps, overlay_tree=tree, collapsed=embed, position="topright").add_to(m)


def mount_map_static(app: FastAPI) -> None:
    """Serve the map pages' own script and style sheet."""
    app.mount(STATIC_URL, CompressedStaticFiles(directory=STATIC_DIR), name="maps-static")
