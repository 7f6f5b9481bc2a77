"""A QGIS project (.qgz: a zip holding one .qgs XML document) over a bundle GeoPackage written next to it.

Every layer of the bundle is a layer of the project, its source the GeoPackage by a relative path
(``./bundle.gpkg|layername=communes``), grouped by scale in the doll order — région, départements, groupements,
EPCI, communes, then the schemes — with the style of the GeoPackage's ``layer_styles`` embedded (the same QML
symbology) and labels on ``nom``, shown from a scale suited to the level. The project CRS is Lambert-93.
Written with the standard library's ElementTree: QGIS is not needed to write it (only to open it).
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from pyproj import CRS, Transformer

from geo.exports.layers import ExportLayer, LayerSpec
from geo.exports.provenance import stamped, summary
from geo.exports.styles import to_qml

PROJECT_CRS = 2154
QGIS_VERSION = "3.22.16-Białowieża"
#: Layer tree groups, in the doll order (the first is drawn on top): the group of each layer comes from its level.
GROUPS = ("Régions", "Départements", "Groupements", "EPCI", "Communes", "Dispositifs")
_SCALE_GROUP = {"region": "Régions", "departement": "Départements", "grouping": "Groupements", "epci": "EPCI", "commune": "Communes"}
#: Label size (points) and the smallest scale (most zoomed out, 1:N) at which labels show, per feature level.
LABELS = {"region": (13, None), "departement": (10, 5_000_000), "grouping": (9, 3_000_000), "epci": (8, 1_000_000),
          "commune": (7, 200_000), "quartier": (7, 100_000)}


def group_of(spec: LayerSpec) -> str:
    """The layer tree group of a layer: its scale's, "Groupements" for a grouping's perimeter, else "Dispositifs"."""
    if spec.kind == "scale":
        return _SCALE_GROUP[spec.key]
    return "Groupements" if spec.kind == "grouping" else "Dispositifs"


def shown_by_default(spec: LayerSpec) -> bool:
    """The nested scales are ticked; each grouping, scheme and the coverage are one tick away (they overlap)."""
    return spec.kind == "scale"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _srs(parent: ET.Element, epsg: int) -> None:
    crs = CRS.from_epsg(epsg)
    ref = _sub(parent, "spatialrefsys")
    _sub(ref, "wkt", crs.to_wkt())
    _sub(ref, "srid", str(epsg))
    _sub(ref, "authid", f"EPSG:{epsg}")
    _sub(ref, "description", crs.name)
    _sub(ref, "geographicflag", "true" if crs.is_geographic else "false")


def _labeling(parent: ET.Element, level: str) -> None:
    size, min_scale = LABELS.get(level, (8, 500_000))
    settings = _sub(_sub(parent, "labeling", type="simple"), "settings", calloutType="simple")
    style = _sub(settings, "text-style", fieldName="nom", isExpression="0", fontFamily="Sans Serif", fontSize=str(size),
                 fontSizeUnit="Point", textColor="40,40,40,255", textOpacity="1", namedStyle="Regular", fontWeight="50",
                 fontItalic="0", blendMode="0", multilineHeight="1", allowHtml="0")
    _sub(style, "text-buffer", bufferDraw="1", bufferSize="0.8", bufferSizeUnits="MM", bufferColor="255,255,255,255",
         bufferOpacity="0.9", bufferNoFill="1", bufferJoinStyle="128", bufferBlendMode="0")
    _sub(settings, "text-format", wrapChar="", autoWrapLength="12", useMaxLineLengthForAutoWrap="1", multilineAlign="3",
         plussign="0", reverseDirectionSymbol="0", formatNumbers="0", decimals="3")
    _sub(settings, "placement", placement="1", centroidInside="1", centroidWhole="0", fitInPolygonOnly="0", priority="5",
         dist="0", offsetType="0", quadOffset="4")
    _sub(settings, "rendering", scaleVisibility="0" if min_scale is None else "1", scaleMin="0", scaleMax=str(min_scale or 0),
         obstacle="1", obstacleType="1", upsidedownLabels="0", limitNumLabels="0", maxNumLabels="2000", labelPerPart="0",
         mergeLines="0", displayAll="0", drawLabels="1", fontLimitPixelSize="0", zIndex="0")


def _renderer(layer: ExportLayer) -> ET.Element:
    """The layer's QML symbology (the style the GeoPackage stores in layer_styles) as a renderer-v2 element."""
    return ET.fromstring(to_qml(layer.style)).find("renderer-v2")


def _maplayer(parent: ET.Element, layer: ExportLayer, layer_id: str, source: str, crs: int, level: str) -> None:
    element = _sub(parent, "maplayer", type="vector", geometry="Polygon", wkbType="MultiPolygon", labelsEnabled="1",
                   hasScaleBasedVisibilityFlag="0", minScale="100000000", maxScale="0", autoRefreshEnabled="0",
                   readOnly="0", refreshOnNotifyEnabled="0", simplifyDrawingHints="1", simplifyDrawingTol="1",
                   simplifyLocal="1", simplifyMaxScale="1", simplifyAlgorithm="0", styleCategories="AllStyleCategories")
    _sub(element, "id", layer_id)
    _sub(element, "datasource", source)
    _sub(element, "layername", layer.spec.title)
    _sub(element, "abstract", str(layer.provenance.get("title", "")) or layer.spec.title)
    _srs(_sub(element, "srs"), crs)
    _sub(element, "provider", "ogr", encoding="UTF-8")
    element.append(_renderer(layer))
    _labeling(element, level)
    _sub(element, "blendMode", "0")
    _sub(element, "featureBlendMode", "0")
    _sub(element, "layerOpacity", "1")


def _extent(layers: list[ExportLayer]) -> tuple[float, float, float, float]:
    """The bundle's extent in the project CRS."""
    bounds = [layer.frame.total_bounds for layer in layers if len(layer.frame)]
    if not bounds:
        return (100_000.0, 6_000_000.0, 1_250_000.0, 7_150_000.0)  # metropolitan France
    west, south = min(b[0] for b in bounds), min(b[1] for b in bounds)
    east, north = max(b[2] for b in bounds), max(b[3] for b in bounds)
    xmin, ymin, xmax, ymax = Transformer.from_crs(4326, PROJECT_CRS, always_xy=True).transform_bounds(west, south, east, north)
    return xmin, ymin, xmax, ymax


def _level(layer: ExportLayer) -> str:
    """The level of a layer's features, read from the frame (scheme layers hold their member scale)."""
    if "level" in layer.frame.columns and len(layer.frame):
        return str(layer.frame["level"].iloc[0])
    return {"scale": layer.spec.key, "grouping": "grouping"}.get(layer.spec.kind, "commune")


def _metadata(parent: ET.Element, layers: list[ExportLayer], crs: int, title: str, exported_at: str | None) -> None:
    """The project's metadata: its title, and per layer its sources and vintages with the export date (the provenance)."""
    meta = _sub(parent, "projectMetadata")
    _sub(meta, "identifier", "territoires")
    _sub(meta, "parentidentifier")
    _sub(meta, "language", "fr")
    _sub(meta, "type", "dataset")
    _sub(meta, "title", title)
    _sub(meta, "abstract", "\n".join(f"{layer.spec.title} : {summary(stamped({**layer.provenance, 'crs': f'EPSG:{crs}'}, exported_at))}"
                                     for layer in layers))
    _sub(meta, "author", "territoires")
    if exported_at:
        _sub(meta, "creation", exported_at[:19])


def project_xml(layers: list[ExportLayer], gpkg_name: str, crs: int, title: str, exported_at: str | None = None) -> str:
    """The .qgs document: one layer per bundle layer, sources ``./<gpkg_name>|layername=<id>`` in EPSG:``crs``."""
    root = ET.Element("qgis", projectname=title, version=QGIS_VERSION)
    _sub(root, "homePath", path="")
    _sub(root, "title", title)
    _metadata(root, layers, crs, title, exported_at)
    _srs(_sub(root, "projectCrs"), PROJECT_CRS)
    tree = _sub(root, "layer-tree-group")
    _sub(tree, "customproperties")
    groups = {name: _sub(tree, "layer-tree-group", name=name, checked="Qt::Checked", expanded="1") for name in GROUPS}
    project_layers = _sub(root, "projectlayers")
    for layer in layers:
        layer_id = "territoires_" + layer.spec.id.replace("-", "_")  # QGIS keeps a layer id longer than 10 characters only
        source = f"./{gpkg_name}|layername={layer.spec.id}"
        checked = "Qt::Checked" if shown_by_default(layer.spec) else "Qt::Unchecked"
        _sub(groups[group_of(layer.spec)], "layer-tree-layer", id=layer_id, name=layer.spec.title, source=source,
             providerKey="ogr", checked=checked, expanded="0")
        _maplayer(project_layers, layer, layer_id, source, crs, _level(layer))
    for group in groups.values():
        if not len(group):
            tree.remove(group)
    canvas = _sub(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    _sub(canvas, "units", "meters")
    extent = _sub(canvas, "extent")
    for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), _extent(layers)):
        _sub(extent, tag, f"{value:.1f}")
    _sub(canvas, "rotation", "0")
    _srs(_sub(canvas, "destinationsrs"), PROJECT_CRS)
    properties = _sub(root, "properties")
    _sub(_sub(properties, "Paths"), "Absolute", "false", type_="bool")
    _sub(_sub(properties, "SpatialRefSys"), "ProjectionsEnabled", "1", type_="int")  # else QGIS ignores projectCrs
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode") + "\n"


def write_qgz(layers: list[ExportLayer], path: Path, gpkg_name: str, crs: int, exported_at: str | None = None,
              title: str = "territoires") -> None:
    """The project as ``path`` (.qgz), pointing at the GeoPackage ``gpkg_name`` in the same directory."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{Path(path).stem}.qgs", project_xml(layers, gpkg_name, crs, title, exported_at))

