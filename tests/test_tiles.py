"""Vector tiles of the scales on the real data: decode round-trip, level of detail per zoom band, HTTP caching,
errors in French, and (on the France scope) no tile or layer response that carries a whole nation of communes."""
from __future__ import annotations

import gzip

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from geo import mapspec
from geo.memo import Memo
from geo.tiles import (
    BANDS,
    LEVELS,
    MAX_ZOOM,
    TILE_PIXELS,
    WHOLE_PAD_PX,
    TileSet,
    band,
    code_number,
    layer_codes,
    min_zoom,
    number_code,
    properties,
    tile_bounds,
    tiles_covering,
    whole,
)
from service.geojson import Payload
from service.tiles import MVT

TOULOUSE = (1.4442, 43.6047)


def at(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    return tiles_covering((lon, lat, lon, lat), z)[0]


def decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


def lonlat(geometry: dict, z: int, x: int, y: int, extent: int):
    """A decoded tile geometry back in degrees."""
    def back(coords: np.ndarray) -> np.ndarray:
        n = 2**z
        lon = (x + coords[:, 0] / extent) / n * 360 - 180
        lat = np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * (y + coords[:, 1] / extent) / n))))
        return np.column_stack((lon, lat))
    return shapely.transform(shape(geometry), back)


def coded(features: list[dict]) -> list[tuple[str, dict]]:
    """Each feature with its code: its property, or (whole communes at zooms 7 – 9) decoded from the differences."""
    if features and "d" in features[0]["properties"]:
        return list(zip(layer_codes(features), features))
    return [(f["properties"]["code"], f) for f in features]


def codes_in(features: list[dict]) -> set[str]:
    return {code for code, _ in coded(features)}


@pytest.fixture(scope="module")
def tileset(model) -> TileSet:
    return TileSet.of(model)


def test_z7_tile_over_toulouse_round_trips(tileset, model):
    z, x, y = at(*TOULOUSE, 7)
    layer = decode(tileset.encode("commune", z, x, y))["commune"]
    assert layer["extent"] == band(7).extent
    codes = codes_in(layer["features"])
    assert "31555" in codes and len(codes) > 1000
    # zooms 7 – 9: the code only, as the difference from the previous feature's (names follow from the API)
    assert all(set(f["properties"]) == {"d"} and not f.get("id") for f in layer["features"])
    toulouse = next(f for c, f in coded(layer["features"]) if c == "31555")
    assert lonlat(toulouse["geometry"], z, x, y, layer["extent"]).contains(shapely.Point(TOULOUSE))
    epci = decode(tileset.encode("epci", z, x, y))["epci"]
    metropole = next(f for c, f in coded(epci["features"]) if c == "243100518")
    assert metropole["properties"]["nom"] == "Toulouse Métropole"


def test_deeper_tile_carries_names_and_the_right_geometry(tileset, model):
    z, x, y = at(*TOULOUSE, 10)
    layer = decode(tileset.encode("commune", z, x, y))["commune"]
    toulouse = next(f for c, f in coded(layer["features"]) if c == "31555")
    assert toulouse["properties"] == {"code": "31555", "nom": "Toulouse", "epci": "243100518"}
    polygon = lonlat(toulouse["geometry"], z, x, y, layer["extent"])
    assert polygon.is_valid and polygon.contains(shapely.Point(TOULOUSE))
    full = model.scales["commune"].set_index("code").geometry["31555"]
    # within the tile, the decoded commune is the commune (tolerance 1 px at z10, quantised to 1/1024 of a tile)
    box = shapely.box(*tile_bounds(z, x, y))
    assert shapely.intersection(polygon, box).symmetric_difference(shapely.intersection(full, box)).area < 0.02 * full.area


@pytest.mark.parametrize("z", [7, 8, 9])
def test_occitanie_communes_at_low_zooms_are_all_there_once_and_whole(tileset, model, z):
    """Zooms 7 – 9: every commune in exactly one tile (where its point on surface lies), not clipped to it, and
    reaching at most WHOLE_PAD_PX past it (what the maps draw past a tile's edge)."""
    assert whole("commune", z) and not whole("commune", 10) and not whole("epci", z)
    bounds = tuple(model.scales["region"].total_bounds)
    seen: list[str] = []
    past_the_edge, reach = 0, 0.0
    for t in tiles_covering(bounds, z):
        data = tileset.encode("commune", *t)
        if data:
            layer = decode(data)["commune"]
            seen += [code for code, _ in coded(layer["features"])]
            corners = np.array([shapely.bounds(shape(f["geometry"])) for f in layer["features"]]) * TILE_PIXELS / layer["extent"]
            past_the_edge += int(((corners[:, :2] < 0) | (corners[:, 2:] > TILE_PIXELS)).any(axis=1).sum())
            reach = max(reach, -corners[:, :2].min(), corners[:, 2:].max() - TILE_PIXELS)
    assert sorted(seen) == sorted(model.scales["commune"]["code"]) and len(seen) == 4446  # each once
    assert past_the_edge > 100 and reach <= WHOLE_PAD_PX  # communes across a tile's edge travel whole, in one tile


def test_a_commune_reaching_past_the_pad_is_clipped_into_each_tile():
    """A commune wider than a tile plus WHOLE_PAD_PX at zoom 9 is cut into every tile it meets; a small one stays whole."""
    import geopandas as gpd

    from geo.simplify import SimplifiedScales

    wide, small = shapely.box(1.0, 43.0, 2.5, 43.3), shapely.box(3.0, 43.0, 3.01, 43.01)  # 1.5° ≈ 546 pixels at z9
    communes = gpd.GeoDataFrame({"code": ["31001", "34001"], "nom": ["Large", "Petite"], "epci": ["", ""]}, geometry=[wide, small], crs=4326)
    tiles = TileSet(SimplifiedScales({"commune": communes}))
    held = {t: coded(decode(tiles.encode("commune", *t) or b"").get("commune", {"features": []})["features"])
            for t in tiles_covering((1.0, 43.0, 3.01, 43.3), 9)}
    with_wide = [t for t, found in held.items() if any(code == "31001" for code, _ in found)]
    assert len(with_wide) >= 3  # cut into each tile it meets
    for t in with_wide:
        corners = np.array([shapely.bounds(shape(f["geometry"])) for code, f in held[t] if code == "31001"])
        assert corners.min() >= -TILE_PIXELS and corners.max() <= 2 * TILE_PIXELS  # clipped (with the tile's buffer)
    assert sum(code == "34001" for found in held.values() for code, _ in found) == 1


def test_level_of_detail(tileset, model):
    z, x, y = at(*TOULOUSE, 5)
    assert min_zoom("commune") == 7 and min_zoom("quartier") == mapspec.QUARTIER_ZOOM == 11
    assert all(min_zoom(level) == 0 for level in LEVELS if level not in ("commune", "quartier"))
    assert tileset.encode("commune", 6, *at(*TOULOUSE, 6)[1:]) == b"" and tileset.encode("commune", z, x, y) == b""
    epci = {f["properties"]["code"] for t in tiles_covering(tuple(model.scales["region"].total_bounds), 5)
            for f in decode(tileset.encode("epci", *t) or b"").get("epci", {"features": []})["features"]}
    assert epci == set(model.scales["epci"]["code"])
    assert decode(tileset.encode("departement", z, x, y))["departement"]["features"]
    # one band per zoom, tolerance finer as the zoom grows, names on communes from z10
    assert [b.min_zoom for b in BANDS] == sorted(b.min_zoom for b in BANDS) and BANDS[0].min_zoom == 0
    assert properties("commune", 9) == ("d",) and "nom" in properties("commune", 10) and "nom" in properties("epci", 0)  # z ≤ 9: code only
    nine = len(tileset.encode("commune", *at(*TOULOUSE, 9)))
    assert nine < 60_000
    assert tileset.encode("commune", 3, 0, 0) == b""  # outside the data


def test_tiles_outside_range_are_refused(tileset):
    with pytest.raises(ValueError):
        tileset.encode("commune", MAX_ZOOM + 1, 0, 0)
    with pytest.raises(ValueError):
        tileset.encode("commune", 3, 8, 0)
    with pytest.raises(ValueError):
        tileset.encode("canton", 3, 0, 0)


def test_tile_endpoint_gzip_etag_304(client, model):
    z, x, y = at(*TOULOUSE, 8)
    url = f"/tiles/commune/{z}/{x}/{y}.pbf"
    r = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-type"] == MVT
    assert r.headers["content-encoding"] == "gzip" and "max-age" in r.headers["cache-control"]
    assert model.version in r.headers["etag"] and f"commune-{z}-{x}-{y}" in r.headers["etag"]
    assert "31555" in codes_in(decode(r.content)["commune"]["features"])
    again = client.get(url, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get(url, headers={"If-None-Match": 'W/"old"'}).status_code == 200
    raw = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers and gzip.compress(raw.content)
    assert client.get(f"/tiles/epci/{z}/{x}/{y}.pbf", headers={"If-None-Match": r.headers["etag"]}).status_code == 200


def test_one_tile_several_scales(client):
    z, x, y = at(*TOULOUSE, 8)
    r = client.get(f"/tiles/commune,epci,region/{z}/{x}/{y}.pbf")
    layers = decode(r.content)
    assert set(layers) == {"commune", "epci", "region"}
    assert "31555" in codes_in(layers["commune"]["features"])
    assert layers["region"]["features"][0]["properties"] == {"code": "76", "nom": "Occitanie"}
    low = decode(client.get(f"/tiles/commune,epci/5/{at(*TOULOUSE, 5)[1]}/{at(*TOULOUSE, 5)[2]}.pbf").content)
    assert set(low) == {"epci"}  # no commune layer below z7
    for bad in ("commune,commune", "commune,canton", "commune,", ","):
        r = client.get(f"/tiles/{bad}/{z}/{x}/{y}.pbf")
        assert r.status_code == 422 and "« level »" in r.json()["detail"], bad


def test_tile_endpoint_empty_and_focus(client):
    assert client.get("/tiles/commune/5/16/11.pbf").status_code == 204  # communes below z7
    assert client.get("/tiles/commune/8/0/0.pbf").status_code == 204  # outside the data
    z, x, y = at(*TOULOUSE, 10)
    focused = decode(client.get(f"/tiles/commune/{z}/{x}/{y}.pbf", params={"within": "243100518"}).content)["commune"]
    codes = codes_in(focused["features"])
    assert "31555" in codes and codes <= set(client.get("/api/schemes/toulouse-metropole").json()["communes"])
    r = client.get(f"/tiles/commune/{z}/{x}/{y}.pbf", params={"within": "30157"})
    assert r.status_code == 404 and "30052" in r.json()["detail"]


@pytest.mark.parametrize("url, words", [
    ("/tiles/canton/5/16/11.pbf", "level"),
    ("/tiles/commune/19/0/0.pbf", "« z »"),
    ("/tiles/commune/-1/0/0.pbf", "« z »"),
    ("/tiles/commune/3/8/0.pbf", "de 0 à 7"),
    ("/tiles/commune/3/0/8.pbf", "de 0 à 7"),
    ("/tiles/commune/3/x/0.pbf", "« x »"),
])
def test_tile_endpoint_bad_input_is_422(client, url, words):
    r = client.get(url)
    assert r.status_code == 422
    assert r.json()["detail"].startswith("Requête invalide") and words in r.json()["detail"]


def test_tile_cache_is_bounded(model, client):
    """The app's tile memo is bounded in bytes (TERRITOIRES_TILE_CACHE_MB); one a byte short of four real tiles keeps
    fewer than four."""
    assert isinstance(client.app.state.tiles, Memo) and client.app.state.tiles.maxsize == 64 * 2**20
    tiles = TileSet.of(model)
    z, x0, y0 = at(*TOULOUSE, 9)
    payloads = [Payload.of(tiles.encode("commune", z, x0 + dx, y0)) for dx in range(4)]
    bound = sum(Payload.size(p) for p in payloads) - 1
    cache = Memo(bound, getsizeof=Payload.size)
    for dx, payload in enumerate(payloads):
        cache.get(("commune", z, x0 + dx, y0, ""), lambda payload=payload: payload)
    assert cache.size <= bound and 0 < len(cache) < 4
    first = cache.get(("x",), lambda: Payload.of(b"abc"))
    assert cache.get(("x",), lambda: Payload.of(b"other")) is first


def test_openapi_documents_tiles(client):
    spec = client.get("/openapi.json").json()["paths"]["/tiles/{level}/{z}/{x}/{y}.pbf"]["get"]
    assert MVT in spec["responses"]["200"]["content"]
    assert {"204", "304", "422"} <= set(spec["responses"])


def test_map_pages_draw_tiles(client, model):
    from test_maps import config

    cfg = config(client.get("/maps/scales?focus=31").text)
    communes = next(lyr for lyr in cfg["layers"] if lyr["level"] == "commune")
    # one tile URL for every scale of the page: one request per tile, each layer drawing its own MVT layer
    assert {lyr["tiles"] for lyr in cfg["layers"]} == {communes["tiles"]}
    assert communes["tiles"].startswith("/tiles/commune,quartier,edge,label/{z}/{x}/{y}.pbf?")
    assert "within=31" in communes["tiles"] and model.version in communes["tiles"] and communes["minZoom"] == 7
    (south, west), (north, east) = communes["tileBounds"]  # no tile asked for outside the focus
    assert 0.4 < west < 1 and 1.5 < east < 2.1 and 42.6 < south < 43 and 43.8 < north < 44
    assert "/assets/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js" in client.get("/maps/scales").text


# --- France: nothing sends the nation's communes in one response -------------------------------------------------

@pytest.fixture(scope="session")
def france_client(france_settings):
    from fastapi.testclient import TestClient

    from service.app import create_app

    with TestClient(create_app(france_settings)) as test_client:
        yield test_client


MAX_TILE_FEATURES = 5000


def test_france_no_tile_holds_a_nation_of_communes(france_client):
    model = france_client.app.state.holder.model
    assert len(model.scales["commune"]) > 34_000
    metro = (-5.3, 41.3, 9.7, 51.2)
    for z in range(0, 7):  # below z7 the commune layer is empty; the EPCI carry the view
        for z_, x, y in tiles_covering(metro, z):
            assert france_client.get(f"/tiles/commune/{z_}/{x}/{y}.pbf").status_code == 204
    largest, seen = 0, set()
    for z, x, y in tiles_covering(metro, 7):  # every deeper tile lies inside one of these
        r = france_client.get(f"/tiles/commune/{z}/{x}/{y}.pbf")
        if r.status_code == 200:
            features = decode(r.content)["commune"]["features"]
            largest = max(largest, len(features))
            seen |= codes_in(features)
    assert 1000 < largest <= MAX_TILE_FEATURES
    assert len(seen) > 34_000
    epci = france_client.get("/tiles/epci/5/16/11.pbf")
    assert epci.status_code == 200 and len(decode(epci.content)["epci"]["features"]) > 100


def test_france_layer_api_refuses_the_whole_nation(france_client):
    r = france_client.get("/api/territories/commune", params={"simplify": 887})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "within=" in detail and "bbox=" in detail and "communes" in detail and "/tiles/commune" in detail
    big = france_client.get("/api/territories/commune", params={"bbox": "-5,41,10,51"})
    assert big.status_code == 422 and "degrés carrés" in big.json()["detail"]
    dep = france_client.get("/api/territories/commune", params={"within": "31", "simplify": 887})
    assert dep.status_code == 200 and len(dep.json()["features"]) == 586
    box = france_client.get("/api/territories/commune", params={"bbox": "2.2,48.8,2.5,48.9", "simplify": 55})
    assert box.status_code == 200 and 0 < len(box.json()["features"]) < 500
    assert france_client.get("/api/territories/epci", params={"simplify": 3548}).status_code == 200


def test_france_map_page_sends_no_commune_polygons(france_client):
    from test_maps import config

    r = france_client.get("/maps/scales")
    assert r.status_code == 200 and len(r.content) < 200_000
    assert "coordinates" not in r.text
    communes = next(lyr for lyr in config(r.text)["layers"] if lyr["level"] == "commune")
    assert communes["minZoom"] == 7 and "tiles" in communes


def in_tile(geometry, extent: int):
    """The part of a tile geometry inside the tile itself (not its buffer)."""
    return shapely.clip_by_rect(geometry, 0, 0, extent, extent)


def test_doll_boundaries_carry_each_shared_edge_once_with_its_scales(tileset, model):
    """The 'edge' layer: every boundary of the scales above the communes once, with the mask of the scales it bounds;
    per scale, the same lines as its polygons' boundaries; in fewer bytes than those polygons; at Toulouse Métropole's
    edge the EPCI, the agglomeration, the Dialogue and the partnership at once."""
    keys = model.dolls.keys
    assert keys == ("region", "departement", "grouping:dialogue-metropolitain", "grouping:agglomeration-toulousaine",
                    "grouping:partenariat-toulouse-montpellier", "epci")  # the outermost first, from the specification
    for z in (8, 11):
        t = at(*TOULOUSE, z)
        edges = decode(tileset.encode("edge", *t))["edge"]
        extent = edges["extent"]
        masks = np.array([f["properties"]["m"] for f in edges["features"]])
        lines = np.array([shape(f["geometry"]) for f in edges["features"]])
        assert (masks > 0).all() and set(shapely.get_type_id(lines)) <= {1, 5}
        for bit, key in enumerate(keys):
            level, _, code = key.partition(":")
            polygons = decode(tileset.encode(level, *t))[level]["features"]
            outline = shapely.union_all([in_tile(shape(f["geometry"]).boundary, extent) for f in polygons
                                         if not code or f["properties"]["code"] == code])
            mine = in_tile(shapely.union_all(lines[(masks & (1 << bit)) > 0]), extent)
            # the same lines within the tile grid's rounding (each layer is snapped on its own), away from the tile border
            inner = shapely.box(2, 2, extent - 2, extent - 2)
            near = 1.5 * extent / 256
            assert shapely.difference(mine, outline.buffer(near)).intersection(inner).length <= 0.002 * mine.length, (z, key)
            assert shapely.difference(outline, mine.buffer(near)).intersection(inner).length <= 0.002 * mine.length, (z, key)
        # no boundary twice: the lines of the layer overlap nowhere
        assert abs(shapely.union_all(lines).length - shapely.length(lines).sum()) < 0.005 * shapely.length(lines).sum()
    z, x, y = at(*TOULOUSE, 8)
    tm_edge = sum(1 << keys.index(k) for k in ("epci", "grouping:agglomeration-toulousaine", "grouping:dialogue-metropolitain"))
    assert any((f["properties"]["m"] & tm_edge) == tm_edge for f in decode(tileset.encode("edge", z, x, y))["edge"]["features"])
    per_scale = tileset.encode_layers(("epci", "grouping", "departement", "region"), z, x, y)
    assert len(gzip.compress(tileset.encode("edge", z, x, y))) < len(gzip.compress(per_scale)) / 2


def test_doll_boundaries_run_with_their_inner_side_on_the_left(tileset, model):
    """A boundary's inner side (inside the scope, inside more groupings) is on its left as seen on the map (tiles are
    y down: the side (dy, -dx))."""
    region, tm = model.scales["region"].geometry.iloc[0], model.scales["epci"].set_index("code").geometry["243100518"]
    tm_bit = 1 << model.dolls.keys.index("grouping:partenariat-toulouse-montpellier")
    checked = {"tm": 0, "region": 0}
    z, x0, y0 = at(*TOULOUSE, 10)
    tiles = [(z, x0 + dx, y0 + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)] + [at(1.2, 42.6, 10)]  # and the Spanish border
    for z, x, y in tiles:
        edges = decode(tileset.encode("edge", z, x, y))["edge"]
        for f in edges["features"]:
            for line in shapely.get_parts(shape(f["geometry"])):
                xy = np.array(line.coords)
                steps = np.diff(xy, axis=0)
                i = int(np.argmax(np.hypot(*steps.T)))  # the longest segment: its middle is far from any corner
                d = steps[i] / np.hypot(*steps[i])
                left = shapely.Point(*((xy[i] + xy[i + 1]) / 2 + np.array([d[1], -d[0]]) * 1.0))
                point = lonlat(shapely.geometry.mapping(left), z, x, y, edges["extent"])
                if f["properties"]["m"] & tm_bit:
                    assert tm.contains(point)
                    checked["tm"] += 1
                elif f["properties"]["m"] & 1:
                    assert region.contains(point)
                    checked["region"] += 1
    assert checked["tm"] > 5 and checked["region"] >= 1, checked


def test_focused_doll_boundaries_bound_the_focus(tileset, model):
    """Focused on Toulouse Métropole, the EPCI's boundary is its own only; the groupings holding it are whole."""
    focus = model.territory("243100518")
    codes = {lv: focus.codes(lv) for lv in ("epci", "departement", "region", "grouping")}
    z, x, y = at(*TOULOUSE, 9)
    lines = decode(tileset.encode_layers(("edge",), z, x, y, codes))["edge"]["features"]
    epci = shapely.union_all([shape(f["geometry"]) for f in lines if f["properties"]["m"] & (1 << model.dolls.keys.index("epci"))])
    tm = decode(tileset.encode("epci", z, x, y, frozenset({"243100518"})))["epci"]["features"][0]
    assert abs(in_tile(epci, 256).length - in_tile(shape(tm["geometry"]).boundary, 256).length) < 0.02 * epci.length


def test_place_names_come_by_zoom(tileset, model):
    """The 'label' layer: the names shown at a tile's zoom whose point lies in it, with their class and priority."""
    def names(z: int, where: tuple[float, float] = TOULOUSE) -> dict[str, dict]:
        layer = decode(tileset.encode("label", *at(*where, z)) or b"").get("label", {"features": []})
        return {f["properties"]["nom"]: f["properties"] for f in layer["features"]}

    colomiers = (1.335, 43.611)
    assert names(6)["Toulouse"]["kind"] == "capitale" and names(6)["Toulouse"]["rank"] == 0
    assert "Colomiers" not in names(6, colomiers) and "Colomiers" in names(8, colomiers)  # 39,000 inhabitants: from zoom 8
    assert names(12, colomiers)["Colomiers"]["kind"] == "commune"
    assert "Toulouse Métropole" in names(10) and "Toulouse Métropole" not in names(8)  # EPCI named from zoom 9
    seen: dict[str, int] = {}
    for t in tiles_covering(tuple(model.scales["region"].total_bounds), 8):
        for f in decode(tileset.encode("label", *t) or b"").get("label", {"features": []})["features"]:
            seen[f["properties"]["nom"]] = seen.get(f["properties"]["nom"], 0) + 1
    assert {"Foix", "Mende", "Auch", "Cahors"} <= set(seen) and max(seen.values()) == 1  # every prefecture, each name once


def test_quartiers_come_from_their_zoom(tileset, model):
    """The priority neighbourhoods (QPV 2015) are in the tiles from zoom 11, with their code and name."""
    mirail = (1.395, 43.578)
    assert tileset.encode("quartier", *at(*mirail, 10)) == b""
    layer = decode(tileset.encode("quartier", *at(*mirail, 12)))["quartier"]
    assert {f["properties"]["code"] for f in layer["features"]} & set(model.scales["quartier"]["code"])
    assert all(f["properties"]["nom"] for f in layer["features"])


def test_code_numbers_round_trip_every_commune_code(model):
    codes = model.territories.cog.communes["code"]
    assert all(number_code(code_number(c)) == c for c in codes)
    assert len({code_number(c) for c in codes}) == len(codes)


def test_a_tile_keeps_only_the_polygonal_parts_of_a_geometry():
    """A territory whose geometry is a collection with lines and points (as make_valid or clipping can leave) is cut into
    polygons only: MVT polygon layers hold no MultiLineString or MultiPoint."""
    import geopandas as gpd
    from shapely.geometry import GeometryCollection, MultiLineString, MultiPoint

    from geo.simplify import SimplifiedScales

    square = shapely.box(1.440, 43.600, 1.445, 43.605)
    mixed = GeometryCollection([square, MultiLineString([[(1.441, 43.601), (1.444, 43.604)], [(1.442, 43.601), (1.443, 43.602)]]),
                                MultiPoint([(1.4425, 43.6025), (1.4426, 43.6026)])])
    communes = gpd.GeoDataFrame({"code": ["31555"], "nom": ["Toulouse"], "epci": ["243100518"]}, geometry=[mixed], crs=4326)
    tiles = TileSet(SimplifiedScales({"commune": communes}))
    z, x, y = at(1.4425, 43.6025, 15)
    found = tiles.features("commune", z, x, y)
    assert found is not None
    _, idx, geometries = found
    assert list(idx) == [0] and set(shapely.get_type_id(geometries)) <= {3, 6}
    alone = TileSet(SimplifiedScales({"commune": communes.set_geometry([square], crs=4326)})).features("commune", z, x, y)[2]
    assert shapely.equals(geometries[0], alone[0])  # the square's own tile geometry: lines and points dropped, nothing else
    layer = decode(tiles.encode("commune", z, x, y))["commune"]
    assert [f["geometry"]["type"] for f in layer["features"]] == ["Polygon"]
