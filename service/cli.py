"""`territoires` command line: data, check, coverage, lookup, refresh, serve, export, render, map."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from geo.catalogue import load_catalogue
from geo.config import Settings
from geo.errors import TerritoiresError
from geo.model import assemble, load_model
from geo.nesting import check_all
from geo.territories import load_territories
from geo.versions import current_pointer, publish, read_pointer

app = typer.Typer(help="Which French territories are covered by which cooperation schemes.", no_args_is_help=True)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

Mirror = Annotated[Path | None, typer.Option(help="Mirror directory (else TERRITOIRES_MIRROR; else download).")]
Scope = Annotated[str | None, typer.Option(help="occitanie (default) or france (else TERRITOIRES_SCOPE).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _settings(mirror: Path | None, scope: str | None) -> Settings:
    return Settings.from_env(mirror=mirror, scope=scope)


def _emit(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _fail(exc: Exception) -> None:
    err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False)
    raise typer.Exit(1)


@app.command()
def data(mirror: Mirror = None, scope: Scope = None, rebuild: Annotated[bool, typer.Option(help="Ignore the cache.")] = False,
         as_json: Json = False) -> None:
    """Fetch or verify the sources, build every scale and print the reconciliation report."""
    try:
        t = load_territories(_settings(mirror, scope), rebuild=rebuild, progress=not as_json)
    except TerritoiresError as exc:
        _fail(exc)
    rep = t.reconciliation
    if as_json:
        _emit({"version": t.version, "scope": t.scope, "reconciliation": rep.as_dict(),
               "repaired": t.read_report.repaired, "reprojected": t.read_report.reprojected,
               "scales": {k: len(v) for k, v in t.scales.items()}})
        return
    console.print(f"[bold]Build {t.version}[/] (scope {t.scope})")
    for line in rep.lines():
        console.print(line, highlight=False)
    for file, code in t.read_report.repaired:
        console.print(f"repaired invalid geometry: {code} in {file}", highlight=False)
    for file, crs in t.read_report.reprojected:
        console.print(f"reprojected from {crs}: {file}", highlight=False)
    console.print("scales: " + ", ".join(f"{k} {len(v):,}" for k, v in t.scales.items()))


@app.command()
def check(mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """Validate every scheme and the nesting of scales; exit 1 on any error."""
    settings = _settings(mirror, scope)
    try:
        territories = load_territories(settings)
        catalogue = load_catalogue(territories.cog, settings, keep_going=True)
    except TerritoiresError as exc:
        _fail(exc)
    model = assemble(settings, territories, catalogue)
    nesting = check_all(model.scales)
    failed = [n for n in nesting if not n.ok]
    if as_json:
        _emit({"schemes": sorted(catalogue.schemes), "errors": [p.__dict__ for p in catalogue.problems],
               "warnings": catalogue.warnings, "nesting": [n.__dict__ for n in nesting]})
    else:
        console.print(f"{len(catalogue.schemes)} schemes valid, {len(catalogue.problems)} errors, {len(catalogue.warnings)} warnings")
        for p in catalogue.problems:
            console.print(f"[red]error[/] {escape(str(p))}", highlight=False)
        for n in nesting:
            mark = "[green]ok[/]" if n.ok else "[red]FAIL[/]"
            console.print(f"nesting {mark} {n.level} {n.code} {n.nom}: {n.parts} whole {n.contains}", highlight=False)
            for e in n.exceptions:
                console.print(f"   exception: {e}", highlight=False)
            for note in n.notes:
                console.print(f"   note: {note}", highlight=False)
    if catalogue.problems or failed:
        raise typer.Exit(1)


def _print_stack(stack: dict) -> None:
    c = stack["commune"]
    console.print(f"[bold]{escape(c['nom'])}[/] ({c['code']}), EPCI {stack['epci']['code'] if stack['epci'] else '—'} "
                  f"{stack['epci']['nom'] if stack['epci'] else ''}, département {stack['departement']['code']}, "
                  f"région {stack['region']['code']}", highlight=False)
    table = Table("scheme", "kind", "via", "role", "start", "end")
    for s in stack["schemes"]:
        table.add_row(*(escape("" if v is None else str(v)) for v in (s["name"], s["kind"], s["via"], s["role"], s["start"], s["end"])))
    console.print(table)


@app.command()
def coverage(code: str, mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """What covers a commune (INSEE code)."""
    try:
        model = load_model(_settings(mirror, scope))
        stack = model.stack(model.coverage.resolve(f"commune:{code}")[1])
    except (TerritoiresError, KeyError) as exc:
        _fail(exc)
    _emit(stack) if as_json else _print_stack(stack)


@app.command()
def lookup(lon: float, lat: float, mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """The whole stack at a point (longitude, latitude in WGS 84)."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        _fail(ValueError(f"({lon}, {lat}) is not a longitude/latitude: give LON LAT in degrees, longitude first"))
    try:
        result = load_model(_settings(mirror, scope)).lookup(lon, lat)
    except TerritoiresError as exc:
        _fail(exc)
    if as_json:
        _emit(result)
    elif result["commune"] is None:
        console.print(f"({lon}, {lat}): {result['message']}")
    else:
        _print_stack(result)


@app.command()
def refresh(mirror: Mirror = None, scope: Scope = None,
            rebuild: Annotated[bool, typer.Option(help="Rebuild the territories from the sources.")] = False,
            as_json: Json = False) -> None:
    """Build and validate a new data version and put it in service; running workers switch to it.

    On any failure (bad scheme, checksum mismatch, interrupted download) the version in service stays.
    """
    settings = _settings(mirror, scope)
    before = read_pointer(settings)
    try:
        pointer = publish(settings, rebuild=rebuild, progress=not as_json)
    except TerritoiresError as exc:
        kept = f" (version {before['version']} stays in service)" if before else ""
        _fail(TerritoiresError(f"{exc}{kept}"))
    _emit(pointer) if as_json else console.print(f"version {pointer['version']} in service", highlight=False)


@app.command()
def serve(mirror: Mirror = None, scope: Scope = None, host: str = "127.0.0.1", port: int = 8000,
          workers: Annotated[int, typer.Option(help="Number of uvicorn worker processes.")] = 1,
          access_log: Annotated[bool, typer.Option(help="Log every request (off behind a proxy that logs).")] = True) -> None:
    """Run the map service (FastAPI + uvicorn) on the configured data."""
    import os

    import uvicorn

    settings = _settings(mirror, scope)
    try:
        if current_pointer(settings) is None:
            publish(settings, progress=True)  # one shared build on disk, prepared before any worker starts
    except TerritoiresError as exc:
        _fail(exc)
    if settings.mirror:
        os.environ["TERRITOIRES_MIRROR"] = str(settings.mirror)
    os.environ["TERRITOIRES_SCOPE"] = settings.scope
    uvicorn.run("service.app:create_app", factory=True, host=host, port=port, workers=workers, access_log=access_log)


Within = Annotated[str | None, typer.Option(help="Restrict to a territory (commune, EPCI, grouping, département or région code).")]


@app.command()
def export(layer: Annotated[str, typer.Argument(help="communes, epci, departements, regions, groupings, grouping-<id>, "
                                                     "scheme-<id>, coverage, or bundle (GeoPackage of --layers).")],
           fmt: Annotated[str, typer.Option("--format", "-f", help="gpkg, geojson, fgb, shp.zip or csv.")] = "gpkg",
           output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: LAYER.FORMAT).")] = None,
           within: Within = None, crs: Annotated[str, typer.Option(help="4326 (WGS 84) or 2154 (Lambert-93).")] = "4326",
           wkt: Annotated[bool, typer.Option(help="CSV: add the geometry as WKT.")] = False,
           layers: Annotated[str | None, typer.Option(help="bundle: comma-separated layer ids (default: all).")] = None,
           list_layers: Annotated[bool, typer.Option("--list", help="List the layer ids and exit.")] = False,
           mirror: Mirror = None, scope: Scope = None) -> None:
    """Export a layer (or a bundle of layers) for GIS: GeoPackage with QGIS styles, GeoJSON, FlatGeobuf, Shapefile, CSV."""
    from geo.exports import ExportError, build_layer, check_crs, check_format, layer_specs, write

    try:
        model = load_model(_settings(mirror, scope))
        if list_layers:
            for spec in layer_specs(model).values():
                console.print(f"{spec.id}\t{spec.title}", highlight=False)
            return
        spec, epsg = check_format(fmt), check_crs(crs)
        if layer == "bundle" and not spec.multi_layer:
            raise ExportError("a bundle is a GeoPackage: use --format gpkg")
        ids = ([i.strip() for i in layers.split(",")] if layers else list(layer_specs(model))) if layer == "bundle" else [layer]
        chosen = [build_layer(model, i, within) for i in dict.fromkeys(ids)]
        target = output or Path(f"{layer}.{fmt}")
        write(chosen, fmt, target, epsg, wkt)
    except TerritoiresError as exc:
        _fail(exc)
    counts = ", ".join(f"{x.spec.id} {len(x.frame)}" for x in chosen)
    console.print(f"wrote {target} ({target.stat().st_size:,} bytes; EPSG:{epsg}; features: {counts})", highlight=False)


@app.command()
def render(name: Annotated[str, typer.Argument(help="scales, coverage or scheme-<id>.")],
           output: Annotated[Path, typer.Option("--output", "-o", help="Image file: .png, .svg or .pdf.")],
           within: Within = None,
           size: Annotated[str, typer.Option(help="a4 (landscape), a4-portrait or WIDTHxHEIGHT in pixels.")] = "a4",
           mirror: Mirror = None, scope: Scope = None) -> None:
    """Render a static map for reports (title, legend, scale bar, north arrow, sources), printable in black and white."""
    from geo.render import render_bytes

    try:
        data = render_bytes(load_model(_settings(mirror, scope)), name, output.suffix.lstrip(".").lower(), within, size)
    except TerritoiresError as exc:
        _fail(exc)
    output.write_bytes(data)
    console.print(f"wrote {output} ({len(data):,} bytes)", highlight=False)


@app.command(name="map")
def standalone_map(name: Annotated[str, typer.Argument(help="scales, coverage or scheme-<id>.")],
                   output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")],
                   within: Within = None, mirror: Mirror = None, scope: Scope = None) -> None:
    """Write a self-contained HTML map (JS, CSS and data inlined) that opens with no server and no internet."""
    from service.standalone import standalone_html

    try:
        page = standalone_html(load_model(_settings(mirror, scope)), name, within)
    except TerritoiresError as exc:
        _fail(exc)
    output.write_text(page, encoding="utf-8")
    console.print(f"wrote {output} ({output.stat().st_size:,} bytes)", highlight=False)
