"""Open a QGIS project headless and render it: run by QGIS's own Python (Debian's /usr/bin/python3 with python3-qgis).

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_render.py PROJECT.qgz OUT.png

Prints one JSON object: the project CRS, the layer tree groups in order, and for every layer its validity, feature
count, CRS, renderer, whether it labels on ``nom``, and how many styles QGIS sees in its GeoPackage's layer_styles;
then the rendered image's size and share of non-white pixels. Exits 1 when the project cannot be read.
"""
from __future__ import annotations

import json
import sys

from qgis.core import QgsApplication, QgsCoordinateTransform, QgsMapRendererSequentialJob, QgsMapSettings, QgsProject, QgsRectangle
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def main(project_path: str, png: str) -> int:
    app = QgsApplication([], False)
    app.initQgis()
    try:
        project = QgsProject.instance()
        if not project.read(project_path):
            print(json.dumps({"error": project.error()}))
            return 1
        root = project.layerTreeRoot()
        layers = []
        for node in root.findLayers():
            layer = node.layer()
            if layer is None:
                layers.append({"id": node.layerId(), "valid": False})
                continue
            labeling = layer.labeling() if layer.labelsEnabled() else None
            styles = layer.listStylesInDatabase()[0]
            layers.append({"id": layer.id(), "name": layer.name(), "group": node.parent().name(), "valid": layer.isValid(),
                           "features": layer.featureCount(), "crs": layer.crs().authid(), "renderer": layer.renderer().type(),
                           "labels": labeling.settings().fieldName if labeling is not None else None,
                           "styles_in_gpkg": styles, "visible": node.isVisible()})

        shown = [n.layer() for n in root.findLayers() if n.isVisible() and n.layer() is not None]
        extent = QgsRectangle()
        for layer in shown:
            extent.combineExtentWith(QgsCoordinateTransform(layer.crs(), project.crs(), project).transformBoundingBox(layer.extent()))
        extent.scale(1.05)
        settings = QgsMapSettings()
        settings.setDestinationCrs(project.crs())
        settings.setLayers(shown)  # in the tree's order: the first is drawn on top
        settings.setExtent(extent)
        settings.setOutputSize(QSize(1400, 1100))
        settings.setBackgroundColor(QColor(255, 255, 255))
        settings.setFlag(QgsMapSettings.DrawLabeling, True)
        settings.setFlag(QgsMapSettings.Antialiasing, True)
        job = QgsMapRendererSequentialJob(settings)
        job.start()
        job.waitForFinished()
        image = job.renderedImage()
        image.save(png, "PNG")
        step = 4
        inked = sum(1 for x in range(0, image.width(), step) for y in range(0, image.height(), step)
                    if image.pixelColor(x, y).lightness() < 250)
        total = len(range(0, image.width(), step)) * len(range(0, image.height(), step))
        print(json.dumps({"crs": project.crs().authid(), "groups": [g.name() for g in root.children()], "layers": layers,
                          "rendered": {"layers": len(shown), "width": image.width(), "height": image.height(),
                                       "inked": round(inked / total, 4), "scale": round(settings.scale())}},
                         ensure_ascii=False))
        return 0
    finally:
        app.exitQgis()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
