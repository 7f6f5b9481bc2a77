"""The QGIS project written next to the bundle GeoPackage (geo/exports/qgis.py): its XML, every layer source opened by
GDAL, and the project opened and rendered by QGIS itself (Debian's python3-qgis, installed by make system)."""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from geo.exports import build_layer, layer_specs
from geo.exports.qgis import GROUPS
from geo.model import Model

BIN = Path(sys.executable).parent / "territoires"
QGIS_PYTHON = "/usr/bin/python3"  # python3-qgis installs its bindings for Debian's Python
RENDER = Path(__file__).resolve().parent / "qgis_render.py"


@pytest.fixture(scope="module")
def bundle(model: Model, settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """`territoires export bundle --format qgz --crs 2154`: the project bundle.qgz and, beside it, bundle.gpkg."""
    folder = tmp_path_factory.mktemp("bundle")
    env = os.environ | {"TERRITOIRES_MIRROR": str(settings.mirror), "TERRITOIRES_CACHE": str(settings.cache)}
    out = subprocess.run([str(BIN), "export", "bundle", "--format", "qgz", "--crs", "2154", "-o", str(folder / "bundle.qgz"), "--json"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    written = json.loads(out.stdout)
    assert written["companion"]["path"] == str(folder / "bundle.gpkg") and written["format"] == "qgz"
    return folder / "bundle.qgz", [build_layer(model, i) for i in layer_specs(model)]


def project(qgz: Path) -> ET.Element:
    with zipfile.ZipFile(qgz) as zf:
        [name] = zf.namelist()
        assert name == "bundle.qgs"
        return ET.fromstring(zf.read(name))


def test_project_groups_layers_in_the_doll_order_with_styles_and_labels(bundle: tuple[Path, list]):
    qgz, layers = bundle
    root = project(qgz)
    assert root.find("projectCrs/spatialrefsys/authid").text == "EPSG:2154"
    groups = root.findall("layer-tree-group/layer-tree-group")
    assert [g.get("name") for g in groups] == list(GROUPS)
    tree = {n.get("id"): (g.get("name"), n.get("checked")) for g in groups for n in g.findall("layer-tree-layer")}
    maplayers = root.findall("projectlayers/maplayer")
    assert len(maplayers) == len(layers) == len(tree)
    by_source = {m.find("datasource").text: m for m in maplayers}
    for layer in layers:
        m = by_source[f"./bundle.gpkg|layername={layer.spec.id}"]  # relative to the project file
        assert len(m.find("id").text) > 10 and m.find("layername").text == layer.spec.title
        assert m.find("srs/spatialrefsys/authid").text == "EPSG:2154" and m.find("provider").text == "ogr"
        assert m.find("renderer-v2") is not None and m.find("labeling/settings/text-style").get("fieldName") == "nom"
    assert tree["territoires_communes"] == ("Communes", "Qt::Checked") and tree["territoires_regions"] == ("Régions", "Qt::Checked")
    assert tree["territoires_scheme_petites_villes_de_demain"] == ("Dispositifs", "Qt::Unchecked")
    assert tree["territoires_grouping_dialogue_metropolitain"][0] == "Groupements"
    assert root.find("properties/Paths/Absolute").text == "false"


def _gdal(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} not found: install GDAL's command-line tools (make system: apt-get install -y gdal-bin)")
    return path


@pytest.mark.gdal
def test_every_layer_source_resolves_with_gdal(bundle: tuple[Path, list], artifacts: Path):
    qgz, layers = bundle
    counts = {layer.spec.id: len(layer.frame) for layer in layers}
    for m in project(qgz).findall("projectlayers/maplayer"):
        path, _, name = m.find("datasource").text.partition("|layername=")
        out = subprocess.run([_gdal("ogrinfo"), "-ro", "-so", str(qgz.parent / path), name], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert f"Feature Count: {counts[name]}\n" in out.stdout and "Lambert-93" in out.stdout, name
    listed = subprocess.run([_gdal("ogrinfo"), "-ro", "-q", str(qgz.parent / "bundle.gpkg")], capture_output=True, text=True, timeout=60)
    names = re.findall(r"^\d+: (\S+)", listed.stdout, re.M)
    styles = subprocess.run([_gdal("ogrinfo"), "-ro", "-q", str(qgz.parent / "bundle.gpkg"), "-sql",
                             "SELECT f_table_name, styleName FROM layer_styles WHERE useAsDefault"], capture_output=True, text=True, timeout=60)
    styled = re.findall(r"f_table_name \(String\) = (\S+)", styles.stdout)
    assert set(names) == set(counts) | {"layer_styles"} and sorted(styled) == sorted(counts)
    (artifacts / "qgz-gdal.txt").write_text(f"bundle.qgz: {len(counts)} layers, every source resolved by ogrinfo; bundle.gpkg: "
                                            f"{len(names) - 1} layers and {len(styled)} default styles in layer_styles\n", encoding="utf-8")


def _qgis_present() -> bool:
    try:
        return subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.qgis
def test_qgis_opens_the_project_and_renders_it(bundle: tuple[Path, list], artifacts: Path):
    if not _qgis_present():
        pytest.skip("QGIS absent: install it with apt-get install -y python3-qgis (make system does)")
    qgz, layers = bundle
    png = artifacts / "qgis-bundle.png"
    done = subprocess.run([QGIS_PYTHON, str(RENDER), str(qgz), str(png)], capture_output=True, text=True, timeout=600,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(qgz.parent)})
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    seen = json.loads(done.stdout)
    assert seen["crs"] == "EPSG:2154" and seen["groups"] == list(GROUPS)
    assert len(seen["layers"]) == len(layers) and all(x["valid"] for x in seen["layers"])
    counts = {f"territoires_{x.spec.id.replace('-', '_')}": len(x.frame) for x in layers}
    assert {x["id"]: x["features"] for x in seen["layers"]} == counts
    assert all(x["labels"] == "nom" and x["styles_in_gpkg"] >= 1 and x["crs"] == "EPSG:2154" for x in seen["layers"])
    assert [x["name"] for x in seen["layers"] if x["visible"]] == ["Régions", "Départements", "Groupements d'EPCI", "EPCI", "Communes"]
    assert seen["rendered"]["layers"] == 5 and seen["rendered"]["inked"] > 0.05  # outlines and labels drawn, not a blank image
    renderers = sorted({x["renderer"] for x in seen["layers"]})
    (artifacts / "qgz-qgis.txt").write_text(
        f"QGIS opened bundle.qgz: {len(seen['layers'])} layers valid in {len(seen['groups'])} groups ({', '.join(seen['groups'])}), "
        f"project CRS {seen['crs']}, {sum(x['styles_in_gpkg'] for x in seen['layers'])} styles in layer_styles, renderers "
        f"{', '.join(renderers)}, labels on nom; rendered {seen['rendered']}\n", encoding="utf-8")


def test_the_web_project_names_the_geopackage_downloaded_with_the_same_query(client):
    for query, gpkg in (("layers=regions,communes", "bundle.gpkg"), ("layers=regions,communes&within=31", "bundle-31.gpkg")):
        r = client.get(f"/export/bundle.qgz?{query}")
        assert r.status_code == 200 and r.headers["content-disposition"] == f'attachment; filename="{gpkg[:-5]}.qgz"'
        assert client.get(f"/export/bundle.gpkg?{query}").headers["content-disposition"] == f'attachment; filename="{gpkg}"'
        with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
            root = ET.fromstring(zf.read(zf.namelist()[0]))
        # the layers in the model's order whatever the query's (one cached file per set of layers)
        assert [m.find("datasource").text for m in root.iter("maplayer")] == [f"./{gpkg}|layername=communes", f"./{gpkg}|layername=regions"]
        assert client.get(f"/export/bundle.qgz?{query.replace('regions,communes', 'communes,regions')}").content == r.content
