"""The map specification (geo/mapspec.py): pure tests of the spec, then the colours every renderer really draws for
every scale — the web page's configuration, the static figure's artists, the standalone HTML and the QGIS style of
an exported GeoPackage — compared with it, on the real data."""
from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from matplotlib.colors import to_hex

from geo import mapspec
from geo.exports import build_layer, write
from geo.exports.styles import Style, coverage_style, to_qml, to_sld
from geo.mapspec import COVERAGE_CLASSES, GAP, GROUPING_LINES, MAP_KINDS, PATTERN_ANGLES, SCALE_LINES, SCHEME_COLOURS, Symbol
from geo.model import Model
from geo.schemes import KINDS
from service.maps.base import leaflet_style, seamless_period
from service.maps.kinds import MAP_KINDS as REGISTRY
from service.maps.kinds import resolve_map, standalone_page, static_figure

HEX = re.compile(r"^#[0-9a-f]{6}$")
LEVELS = ("commune", "epci", "departement", "region")
PAIR = ("agglomeration-toulousaine", "dialogue-metropolitain")


def every_symbol() -> list[Symbol]:
    """Every symbol the specification holds, including the per-grouping and per-scheme ones."""
    symbols = [*SCALE_LINES.values(), *GROUPING_LINES, GAP, *(c.symbol for c in COVERAGE_CLASSES)]
    symbols += [s for kind in MAP_KINDS for s in kind.symbols.values()]
    symbols += list(mapspec.scheme_symbols({f"{k}-{i}": k for k in KINDS for i in range(3)}).values())
    return symbols


# --- the specification alone -----------------------------------------------------------------------------------


def test_every_colour_is_a_palette_hex() -> None:
    colours = {*mapspec.PALETTE.values(), *(c for pair in SCHEME_COLOURS for c in pair)}
    assert all(HEX.match(c) for c in colours), sorted(c for c in colours if not HEX.match(c))
    for sym in every_symbol():
        used = {sym.edge, sym.fill, sym.pattern.colour if sym.pattern else None} - {None}
        assert used <= colours, sym


def test_units_convert_both_ways() -> None:
    assert mapspec.px_to_pt(4) == 3 and mapspec.pt_to_px(3) == 4  # 96 px and 72 pt to the inch
    for value in (0.4, 1.6, 4.5, 10):
        assert mapspec.pt_to_px(mapspec.px_to_pt(value)) == pytest.approx(value)
        assert mapspec.px_to_pt(mapspec.pt_to_px(value)) == pytest.approx(value)


def test_every_scale_has_its_own_line_and_the_outermost_doll_is_on_top() -> None:
    assert set(LEVELS) == set(SCALE_LINES)
    lines = [(SCALE_LINES[lv].edge, SCALE_LINES[lv].weight) for lv in LEVELS] + [(s.edge, s.weight) for s in GROUPING_LINES]
    assert len(set(lines)) == len(lines)
    assert [SCALE_LINES[lv].weight for lv in LEVELS] == sorted(SCALE_LINES[lv].weight for lv in LEVELS)  # outer dolls heavier
    order = mapspec.SCALES.layers
    assert [order.index(lv) for lv in ("commune", "quartier", "epci", "grouping", "departement", "region")] == [0, 1, 2, 3, 4, 5]
    for kind in MAP_KINDS:  # the context scales are drawn last, the région above the départements
        assert kind.layers[-2:] == ("departement", "region"), kind.name
        assert set(kind.symbols) <= set(kind.layers)


def test_grouping_styles_are_deterministic_per_id_and_distinct() -> None:
    ids = ["dialogue-metropolitain", "agglomeration-toulousaine", "partenariat-toulouse-montpellier"]
    first = mapspec.grouping_symbols(ids)
    for _ in range(5):
        shuffled = random.sample(ids, len(ids))
        assert mapspec.grouping_symbols(shuffled) == first  # not the order in which a renderer happens to list them
    assert len({(s.edge, s.dash) for s in first.values()}) == len(ids)
    assert all(s.dash for s in first.values())  # groupings are dashed: they read apart from the scales in print
    assert first["agglomeration-toulousaine"] == GROUPING_LINES[0]  # the first id in order takes the first style


def test_every_scheme_kind_has_a_pattern_and_schemes_read_apart() -> None:
    assert set(mapspec.KIND_ANGLES) == set(KINDS)
    kinds = {f"{k}-{i}": k for k in KINDS for i in range(len(SCHEME_COLOURS))}
    symbols = mapspec.scheme_symbols(kinds)
    looks = {(s.fill, s.pattern.angle, s.pattern.weight, s.pattern.spacing) for s in symbols.values()}
    assert len(looks) == len(kinds)  # 7 schemes of each of the 7 kinds: no two alike
    assert all(s.fill and s.pattern and s.pattern.colour == s.edge for s in symbols.values())
    assert mapspec.scheme_symbols(dict(reversed(kinds.items()))) == symbols  # by id, not by the order given
    many = mapspec.scheme_symbols({f"programme-{i:02}": "programme" for i in range(20)})  # 17 programmes in Occitanie
    assert len({(s.fill, s.pattern.angle, s.pattern.weight) for s in many.values()}) == 20
    assert all(s.pattern.angle == mapspec.KIND_ANGLES["programme"] for s in list(many.values())[:14])  # the kind's hatch first
    one = mapspec.scheme_symbols({"b": "network", "a": "network", "c": "club"})
    assert one["a"].fill != one["b"].fill and one["a"].pattern.angle == one["b"].pattern.angle != one["c"].pattern.angle


def test_every_pattern_repeats_seamlessly_on_map_tiles() -> None:
    patterns = [s.pattern for s in every_symbol() if s.pattern]
    assert patterns
    with pytest.raises(ValueError, match="pattern angle 30"):
        mapspec.Pattern(30, 1, 4, "#000000")
    for p in patterns:
        assert p.angle in PATTERN_ANGLES
        period = seamless_period(-p.angle, p.period)
        assert abs(period - p.period) < p.period * 0.25, p  # the web map's stripes stay close to the specification


def test_coverage_classes_and_gaps() -> None:
    assert mapspec.count_symbol(0) is GAP and mapspec.count_class(0) == 0
    assert [mapspec.count_class(n) for n in range(1, 8)] == [1, 2, 3, 4, 4, 4, 4]
    assert mapspec.count_symbol(12) is COVERAGE_CLASSES[-1].symbol
    assert all(c.symbol.pattern for c in COVERAGE_CLASSES if c.count >= 2)  # overlaps hatched
    assert len({c.symbol.pattern for c in COVERAGE_CLASSES}) == len(COVERAGE_CLASSES)
    assert mapspec.count_label(0) == "Aucun (lacune)" and mapspec.count_label(1) == "1 dispositif"
    assert mapspec.count_legend(4, 379, open_ended=True) == "4 dispositifs ou plus : 379 communes"
    style = coverage_style(9)
    assert style.breaks == ((0, 0), (1, 1), (2, 2), (3, 3), (4, 9)) and style.symbols[0] is GAP


def test_qml_and_sld_translate_units_and_patterns() -> None:
    sym = Symbol("#123456", 4, dash=(8, 4), fill="#abcdef", fill_opacity=0.5, pattern=mapspec.Pattern(45, 2, 6, "#654321"))
    qml = to_qml(Style("one", (sym,), ("Un",)))
    root = ET.fromstring(qml.split("\n", 1)[1])
    props = {p.get("k"): p.get("v") for p in root.iter("prop")}
    assert props["line_color"] == "18,52,86,255" and props["line_width"] == "3" and props["customdash"] == "6;3"
    assert props["line_width_unit"] == "Point" and "b_diagonal" in qml and "171,205,239,128" in qml
    sld = to_sld(Style("one", (sym,), ("Un",)), "layer")
    assert '"stroke-width">4<' in sld and "8 4" in sld and "shape://slash" in sld and "<se:Size>8</se:Size>" in sld


def test_every_map_kind_is_registered_with_three_renderers() -> None:
    assert list(REGISTRY) == [k.name for k in MAP_KINDS]
    assert mapspec.map_names() == "scales, coverage or scheme-<id>"
    for entry in REGISTRY.values():
        assert callable(entry.page) and callable(entry.static) and callable(entry.standalone) and entry.path.startswith("/maps/")


# --- every renderer against the specification, on the real data -----------------------------------------------


def config(html: str) -> dict:
    return json.loads(re.search(r"territoires\.init\([^,]+, (\{.*\})\);", html).group(1))


def expected(model: Model) -> dict[str, str]:
    """The outline colour of every scale and grouping of the scales map, from the specification alone."""
    groupings = mapspec.grouping_symbols(g.id for g in model.catalogue.groupings)
    return {**{lv: SCALE_LINES[lv].edge for lv in LEVELS}, **{f"grouping-{g}": s.edge for g, s in groupings.items()}}


def web_colours(client) -> dict[str, str]:
    """The line colour of each scale of the web map (the scales above the communes are doll layers)."""
    cfg = config(client.get("/maps/scales").text)
    return {lyr.get("doll", lyr["level"]) if lyr.get("doll") != "grouping" else f"grouping-{lyr['codes'][0]}": lyr["style"]["color"]
            for lyr in cfg["layers"] if lyr["level"] in ("commune", "quartier", "edge")}


def static_colours(model: Model) -> dict[str, str]:
    """The edge colour of each outline artist of the static figure (its gid names the layer)."""
    ax = static_figure(model, "scales").axes[0]
    return {c.get_gid(): to_hex(c.get_edgecolor()[0]) for c in ax.collections if c.get_gid() and not c.get_gid().endswith(("-fill", "-pattern"))}


def standalone_colours(model: Model) -> dict[str, str]:
    """The colour of each GeoJSON layer of the standalone page: layer control name → variable → its styler."""
    page = standalone_page(model, "scales")
    stylers = {m.group(1): json.loads(m.group(2))["color"]
               for m in re.finditer(r"function (geo_json_\w+)_styler\(feature\) \{\s*switch\(feature\.id\) \{\s*default:\s*return (\{.*?\});", page)}
    names = {json.loads(f'"{m.group(1)}"'): stylers[m.group(2)] for m in re.finditer(r'"([^"]+)" : (geo_json_\w+)', page)}
    by_name = {**{mapspec.SCALE_LABELS[lv]: lv for lv in LEVELS}, **{g.name: f"grouping-{g.id}" for g in model.catalogue.groupings}}
    by_name["Région Occitanie"] = "region"
    by_name[mapspec.SCALE_LABELS["quartier"]] = "quartier"
    return {by_name[n]: colour for n, colour in names.items()}


def qml_colours(model: Model, path: Path) -> dict[str, str]:
    """The line colour of each layer (and each grouping category) in the GeoPackage's default QGIS styles."""
    layers = {"communes": "commune", "epci": "epci", "departements": "departement", "regions": "region", "groupings": "grouping"}
    write([build_layer(model, layer) for layer in layers], "gpkg", path)
    with sqlite3.connect(path) as db:
        styles = dict(db.execute("SELECT f_table_name, styleQML FROM layer_styles").fetchall())

    def line_colour(symbol: ET.Element) -> str:
        rgba = next(p.get("v") for p in symbol.iter("prop") if p.get("k") == "line_color")
        return "#" + "".join(f"{int(v):02x}" for v in rgba.split(",")[:3])

    out = {}
    for layer, level in layers.items():
        root = ET.fromstring(styles[layer].split("\n", 1)[1])
        symbols = {s.get("name"): line_colour(s) for s in root.iter("symbol")}
        if level == "grouping":
            out |= {f"grouping-{c.get('value')}": symbols[c.get("symbol")] for c in root.iter("category")}
        else:
            out[level] = symbols["0"]
    return out


def test_every_renderer_draws_every_scale_in_the_specifications_colours(model: Model, client, tmp_path: Path) -> None:
    want = expected(model)
    assert len(want) == 7  # four scales and the three groupings of the catalogue
    quartier = {"quartier": mapspec.QUARTIER.edge}  # the quartiers: on the maps, not a layer of the scales' GeoPackage
    renderers = {"web": (web_colours(client), quartier), "static": (static_colours(model), quartier),
                 "standalone": (standalone_colours(model), quartier), "qgis": (qml_colours(model, tmp_path / "scales.gpkg"), {})}
    for name, (got, more) in renderers.items():
        assert got == want | more, name


def test_dialogue_and_agglomeration_look_the_same_on_web_and_static(model: Model, client) -> None:
    web, static = web_colours(client), static_colours(model)
    for gid in PAIR:
        assert web[f"grouping-{gid}"] == static[f"grouping-{gid}"], gid
    assert web[f"grouping-{PAIR[0]}"] != web[f"grouping-{PAIR[1]}"]


def test_web_styles_are_the_specifications(client, model: Model) -> None:
    """Every style a map page hands to its script is a symbol of the specification turned into Leaflet options."""
    member = mapspec.scheme_symbols({s.id: s.kind for s in model.catalogue.schemes.values()})["dialogue-metropolitain"]
    cfg = config(client.get("/maps/schemes/dialogue-metropolitain").text)
    members = next(lyr for lyr in cfg["layers"] if lyr["id"] == "members")
    assert {k: v for k, v in members["memberStyle"].items() if k != "pattern"} == leaflet_style(member)
    assert members["memberStyle"]["pattern"] and members["style"] == leaflet_style(mapspec.OTHER)
    cov = config(client.get("/maps/coverage?schemes=dialogue-metropolitain,agglomeration-toulousaine").text)
    assert next(lyr for lyr in cov["layers"] if lyr["id"] == "gaps")["style"] == leaflet_style(GAP)
    assert [{k: v for k, v in c["style"].items() if k != "pattern"} for c in cov["classes"]] == [leaflet_style(c.symbol) for c in COVERAGE_CLASSES]


def test_unknown_map_names_the_maps(model: Model) -> None:
    assert resolve_map(model, "scheme-dialogue-metropolitain")[1] == "dialogue-metropolitain"
    with pytest.raises(ValueError, match=r"Cartes : scales, coverage ou l'une de scheme-action-coeur-de-ville"):
        resolve_map(model, "scheme-nope")


def test_colour_literals_live_in_the_specification_only() -> None:
    """No renderer writes a colour of its own: a hex colour in geo/ or service/ code (not their vendored npm
    packages, not the UI style sheet) is in geo/mapspec.py."""
    root = Path(__file__).resolve().parent.parent
    literal = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")
    vendored = (root / "service/static/node_modules", root / "service/static/assets")  # npm packages, and the copies the wheel ships
    files = [p for d in ("geo", "service") for ext in ("*.py", "*.js") for p in (root / d).rglob(ext)
             if not any(p.is_relative_to(v) for v in vendored)]
    assert len(files) > 40
    found = {str(p.relative_to(root)) for p in files if literal.search(p.read_text(encoding="utf-8"))}
    assert found == {"geo/mapspec.py"}


def test_cli_lists_the_registered_maps(settings, tmp_path: Path) -> None:
    """`territoires render` and `territoires map` name the maps of the registry, in their help and their errors."""
    binary = Path(sys.executable).parent / "territoires"
    env = os.environ | {"TERRITOIRES_MIRROR": str(settings.mirror), "TERRITOIRES_CACHE": str(settings.cache)}
    for command in ("render", "map"):
        helped = subprocess.run([str(binary), command, "--help"], capture_output=True, text=True, env=env, timeout=120)
        assert mapspec.map_names() in " ".join(helped.stdout.split()), command
    out = subprocess.run([str(binary), "map", "nope", "-o", str(tmp_path / "x.html")], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 1 and "Cartes : scales, coverage ou l'une de scheme-" in " ".join(out.stderr.split())
    assert not (tmp_path / "x.html").exists()


# --- dolls, textures, place names ---------------------------------------------------------------------------------


def test_dolls_lie_side_by_side_the_outermost_outside() -> None:
    """Where boundaries coincide, the lines lie side by side, touching, centred on the boundary, the outermost doll on
    the outer side (negative: away from the inner side); one line alone stays on the boundary."""
    assert mapspec.doll_keys(["dialogue", "agglo"]) == ("region", "departement", "grouping:dialogue", "grouping:agglo", "epci")
    weights = [SCALE_LINES["region"].weight, SCALE_LINES["departement"].weight, GROUPING_LINES[0].weight, SCALE_LINES["epci"].weight]
    at = mapspec.doll_offsets(weights)
    assert at == sorted(at) and at[0] < 0 < at[-1]
    assert at[0] - weights[0] / 2 == pytest.approx(-(at[-1] + weights[-1] / 2))  # centred on the boundary
    for i in range(len(weights) - 1):  # touching: no gap, no overlap
        assert at[i + 1] - at[i] == pytest.approx((weights[i] + weights[i + 1]) / 2 + mapspec.DOLL_GAP_PX)
    assert mapspec.doll_offsets([1.6]) == [0]


def test_coverage_textures_read_apart() -> None:
    """After the ANCT's first superposeur: up to four schemes, each its own hatch direction and its own colour (none
    the gaps' salmon while another is free); beyond, the heavier hatch."""
    kinds = {"petites-villes-de-demain": "programme", "action-coeur-de-ville": "programme", "villages-d-avenir": "programme",
             "zone-de-montagne": "programme", "territoires-d-industrie": "programme", "contrats-de-ruralite": "contract"}
    two = mapspec.overlay_symbols(["petites-villes-de-demain", "action-coeur-de-ville"], kinds)
    a, b = two.values()
    assert a.pattern.angle != b.pattern.angle and a.fill != b.fill and a.pattern.colour != b.pattern.colour
    assert SCHEME_COLOURS[0][0] not in {a.fill, b.fill}
    four = mapspec.overlay_symbols(list(kinds)[:4], kinds)
    assert len({s.pattern.angle for s in four.values()}) == 4 and len({s.fill for s in four.values()}) == 4
    six = mapspec.overlay_symbols(list(kinds), kinds)
    assert len({(s.pattern.angle, s.pattern.weight) for s in six.values()}) == 6
    assert all(s.fill_opacity < 0.5 and s.weight <= 1 for s in six.values())  # light fills, thin outlines: they superpose
    assert mapspec.combination_label(["A", "B"], 8) == "A + B : 8 communes"
    assert mapspec.combination_label(["A"], 1) == "A uniquement : 1 commune"


def test_place_names_by_population_and_zoom() -> None:
    """The préfectures before every other commune; communes named from a zoom that falls with their population,
    every commune by zoom 13; each class shown over a zoom range."""
    zooms = [mapspec.commune_label_zoom(p) for p in (500_000, 50_000, 20_000, 10_000, 5_000, 2_000, 500, 10)]
    assert zooms == sorted(zooms) and zooms[0] == 7 and zooms[-1] == 13
    classes = list(mapspec.LABEL_CLASSES)
    assert classes.index("capitale") < classes.index("prefecture") < classes.index("commune")
    assert all(c.min_zoom <= c.max_zoom for c in mapspec.LABEL_CLASSES.values())
    assert mapspec.LABEL_CLASSES["prefecture"].min_zoom < mapspec.commune_label_zoom(20_000)
    assert mapspec.label_font(mapspec.LABEL_CLASSES["epci"]).startswith("italic 11px")


def test_web_and_paper_write_place_names_and_textures_in_the_specifications_colours(model: Model, client) -> None:
    cfg = config(client.get("/maps/scales").text)
    assert {k: v["color"] for k, v in cfg["labelClasses"].items()} == {k: c.colour for k, c in mapspec.LABEL_CLASSES.items()}
    kinds = dict(zip(model.labels["nom"], model.labels["kind"]))
    texts = [t for t in static_figure(model, "scales").axes[0].texts if t.get_text() in kinds and t.get_gid() != "halo"]
    assert len(texts) > 10
    for text in texts:
        assert to_hex(text.get_color()) == mapspec.LABEL_CLASSES[kinds[text.get_text()]].colour, text.get_text()
    ids = ["petites-villes-de-demain", "action-coeur-de-ville"]
    want = mapspec.overlay_symbols(ids, {s.id: s.kind for s in model.catalogue.schemes.values()})
    cov = config(client.get("/maps/coverage", params={"schemes": ",".join(ids)}).text)
    web = {lyr["scheme"]: {k: v for k, v in lyr["style"].items() if k != "pattern"} for lyr in cov["layers"] if "scheme" in lyr}
    assert web == {i: leaflet_style(s) for i, s in want.items()}
    paper = {c.get_gid(): c for c in static_figure(model, "coverage", schemes=",".join(ids)).axes[0].collections if c.get_gid()}
    for i, sym in want.items():
        assert to_hex(paper[f"scheme-{i}-fill"].get_facecolor()[0]) == sym.fill
        assert to_hex(paper[f"scheme-{i}-pattern"].get_hatchcolor()) == sym.pattern.colour
