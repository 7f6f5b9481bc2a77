"""`territoires` command line: data, check, coverage, lookup, refresh, serve, export, render, map."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from enum import Enum
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from geo.catalogue import load_catalogue
from geo.config import Settings
from geo.errors import TerritoiresError
from geo.exports.formats import FORMATS
from geo.mapspec import map_names
from geo.model import assemble, load_model
from geo.nesting import check_all
from geo.territories import load_territories
from geo.versions import archive_path, current_pointer, publish, publish_tiles, read_pointer, read_published

app = typer.Typer(help="Which French territories are covered by which cooperation schemes.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
SCOPE_FIX = "add --scope france (or set TERRITOIRES_SCOPE=france)"

Mirror = Annotated[Path | None, typer.Option(help="Mirror directory (else TERRITOIRES_MIRROR; else download).")]
Scope = Annotated[str | None, typer.Option(help="occitanie (default) or france (else TERRITOIRES_SCOPE).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _error(message: str) -> None:
    """One error line on stderr (no traceback)."""
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)


def _fail(exc: Exception | str) -> None:
    for line in str(exc).splitlines():  # one line per problem (a bad file may hold several)
        _error(line)
    raise typer.Exit(1)


def _settings(mirror: Path | None, scope: str | None, **overrides: object) -> Settings:
    try:
        return Settings.from_env(mirror=mirror, scope=scope, **overrides)
    except ValueError as exc:  # an unknown scope (--scope or TERRITOIRES_SCOPE) or tiles' zoom: the message names it
        _fail(exc)


def _emit(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _written(path: Path, **fields: object) -> dict:
    """What a command that writes a file prints with --json."""
    return {"path": str(path.resolve()), "bytes": path.stat().st_size, **fields}


def _show_version(value: bool) -> None:
    if value:
        console.print(f"territoires {package_version('territoires')}", highlight=False)
        raise typer.Exit()


@app.callback()
def options(version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                                  help="Print the version and exit.")] = False) -> None:
    """Which French territories are covered by which cooperation schemes."""


def main() -> None:
    """The `territoires` entry point: every error is one line on stderr with the fix, never a traceback."""
    args = sys.argv[1:] or ["--help"]
    try:
        code = app(args, prog_name="territoires", standalone_mode=False)
    except typer.TyperException as exc:  # usage errors: unknown option, missing or invalid argument
        ctx = getattr(exc, "ctx", None)
        _error(f"{exc.format_message().rstrip('.')}. Fix: see `{ctx.command_path if ctx else 'territoires'} --help`.")
        code = getattr(exc, "exit_code", 2)
    except typer.Abort:
        code = 130
    except OSError as exc:  # a file that cannot be written or read
        what = f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
        _error(f"{what.rstrip('.')}. Fix: check the path, its directory and its permissions.")
        code = 1
    except Exception as exc:
        if os.environ.get("TERRITOIRES_DEBUG"):
            raise
        _error(f"unexpected {type(exc).__name__}: {exc}. Fix: run again with TERRITOIRES_DEBUG=1 and report the traceback.")
        code = 1
    sys.exit(code or 0)


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
    settings = _settings(mirror, scope)
    try:
        model = load_model(settings)
        cog = model.territories.cog
        if code in cog.commune_codes and code not in model.scales["commune"]["code"].to_numpy():
            nom = cog.communes.set_index("code")["nom"].get(code)
            _fail(f"commune {code} ({nom}) is outside the {settings.scope} scope. Fix: {SCOPE_FIX}.")
        stack = model.stack(model.territory(f"commune:{code}").code)
    except TerritoiresError as exc:
        _fail(exc)
    _emit(stack) if as_json else _print_stack(stack)


@app.command(context_settings={"ignore_unknown_options": True})  # so that -0.046 is a longitude, not an option
def lookup(lon: Annotated[float, typer.Argument(help="Longitude in degrees (WGS 84), e.g. -0.046.")],
           lat: Annotated[float, typer.Argument(help="Latitude in degrees (WGS 84), e.g. 43.095.")],
           mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """The whole stack at a point (longitude, latitude in WGS 84); exit 1 when no commune in scope holds it."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        _fail(f"({lon}, {lat}) is not a longitude/latitude. Fix: give LON LAT in degrees, longitude first.")
    settings = _settings(mirror, scope)
    try:
        result = load_model(settings).lookup(lon, lat)
    except TerritoiresError as exc:
        _fail(exc)
    if as_json:
        _emit(result)
    if result["commune"] is None:
        if settings.scope == "france":
            _fail(f"({lon}, {lat}) is in no French commune (at sea or abroad). Fix: check the coordinates: longitude first, "
                  "in degrees (WGS 84).")
        _fail(f"({lon}, {lat}) is in no commune of the {settings.scope} scope. Fix: for a point elsewhere in France, {SCOPE_FIX}.")
    if not as_json:
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
    try:  # the workers serve the tiles from it as soon as it is there
        publish_tiles(settings, settings.tiles_max_zoom)
    except TerritoiresError as exc:  # the version is in service all the same: its tiles are encoded on demand
        err.print(f"[bold yellow]warning:[/] {escape(str(exc))} (the tiles of version {pointer['version']} are encoded "
                  "on demand; `territoires tiles` writes them later)", markup=True, highlight=False)
    _emit(pointer) if as_json else console.print(f"version {pointer['version']} in service", highlight=False)


@app.command()
def tiles(pmtiles: Annotated[Path | None, typer.Option(help="Write the archive here (a file, or a directory to write "
                                                              "territoires-<scope>-<version>.pmtiles into) instead of the cache.")] = None,
          maxzoom: Annotated[int | None, typer.Option(help="Deepest zoom encoded (else TERRITOIRES_TILES_MAX_ZOOM, 9).")] = None,
          jobs: Annotated[int, typer.Option(min=1, help="Processes encoding tiles (--pmtiles; the cache's archive is "
                                                        "written by one, beside the workers).")] = 1,
          mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """Encode every vector tile of the version in service, every scale, up to a zoom, into one PMTiles archive.

    Without --pmtiles, into the cache beside the version's build, where the workers serve tiles from it (`serve`
    and `refresh` do this themselves). With --pmtiles, for a static host or a CDN (TERRITOIRES_TILES_BASE_URL).
    """
    from geo.archive import archive_name, build_archive

    settings = _settings(mirror, scope, tiles_max_zoom=maxzoom)
    try:
        pointer = current_pointer(settings) or publish(settings, progress=not as_json)
        if pmtiles is None:
            path, count = publish_tiles(settings, settings.tiles_max_zoom)
        else:
            path = pmtiles / archive_name(settings.scope, pointer["version"]) if pmtiles.is_dir() else pmtiles
            count = build_archive(assemble(settings, *read_published(settings)), path, settings.tiles_max_zoom, jobs=jobs)
    except TerritoiresError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(f"cannot write {pmtiles}: {exc.strerror or exc}. Fix: choose a writable path for --pmtiles")
    if as_json:
        _emit(_written(path, version=pointer["version"], scope=settings.scope, max_zoom=settings.tiles_max_zoom, tiles=count))
    else:
        done = "already there" if count is None else f"{count:,} tiles"
        console.print(f"wrote {path} ({done}, zooms 0-{settings.tiles_max_zoom}, {path.stat().st_size:,} bytes)", highlight=False)


@app.command()
def serve(mirror: Mirror = None, scope: Scope = None, host: str = "127.0.0.1", port: int = 8000,
          workers: Annotated[int, typer.Option(help="Number of uvicorn worker processes.")] = 1,
          access_log: Annotated[bool, typer.Option(help="Log every request (off behind a proxy that logs).")] = True,
          as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line (url, version, scope, workers, pid) "
                                                               "before the workers start; every log goes to stderr.")] = False) -> None:
    """Run the map service (FastAPI + uvicorn) on the configured data."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    from service.workers import run_workers

    settings = _settings(mirror, scope)
    try:
        # one shared build on disk, prepared before any worker starts
        pointer = current_pointer(settings) or publish(settings, progress=not as_json)
    except TerritoiresError as exc:
        _fail(exc)
    if settings.mirror:
        os.environ["TERRITOIRES_MIRROR"] = str(settings.mirror)
    os.environ["TERRITOIRES_SCOPE"] = settings.scope
    log_config = copy.deepcopy(LOGGING_CONFIG)
    if as_json:  # stdout carries the JSON line only
        log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"
        print(json.dumps({"url": f"http://{host}:{port}", "version": pointer["version"], "scope": settings.scope,
                          "workers": workers, "pid": os.getpid()}, ensure_ascii=False), flush=True)
    # the version's tile archive, if it is not there yet, written meanwhile by a process of lower priority
    tiler = None if archive_path(settings, pointer["version"]).is_file() else _tiles_in_background(settings)
    try:  # non-zero exit, with the reason, if the workers cannot start
        run_workers(settings, host=host, port=port, workers=workers, access_log=access_log, log_config=log_config)
    except TerritoiresError as exc:
        _fail(exc)
    finally:
        if tiler is not None:
            tiler.terminate()


def _tiles_in_background(settings: Settings) -> subprocess.Popen:
    """`territoires tiles` for the version in service, niced, its messages on stderr."""
    return subprocess.Popen([sys.executable, "-c", "from service.cli import main; main()", "tiles", "--maxzoom",
                             str(settings.tiles_max_zoom)], stdout=subprocess.DEVNULL, preexec_fn=lambda: os.nice(10))


Within = Annotated[str | None, typer.Option(help="Restrict to a territory (commune, EPCI, grouping, département or région code).")]
#: The export formats, from the table of geo/exports/formats.py.
ExportFormat = Enum("ExportFormat", {f: f for f in FORMATS}, type=str)


@app.command()
def export(layer: Annotated[str | None, typer.Argument(help="communes, epci, departements, regions, groupings, grouping-<id>, "
                                                            "scheme-<id>, coverage, or bundle (GeoPackage of --layers).")] = None,
           fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="File format.")] = ExportFormat(next(iter(FORMATS))),
           output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: LAYER.FORMAT).")] = None,
           within: Within = None, crs: Annotated[str, typer.Option(help="4326 (WGS 84) or 2154 (Lambert-93).")] = "4326",
           wkt: Annotated[bool, typer.Option(help="CSV: add the geometry as WKT.")] = False,
           layers: Annotated[str | None, typer.Option(help="bundle: comma-separated layer ids (default: all).")] = None,
           list_layers: Annotated[bool, typer.Option("--list", help="List the layer ids and exit.")] = False,
           mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """Export a layer (or a bundle of layers) for GIS: GeoPackage with QGIS styles, GeoJSON, FlatGeobuf, Shapefile, CSV."""
    from geo.exports import ExportError, build_layer, check_crs, check_format, layer_specs, write
    from geo.exports.formats import multi_layer_formats

    try:
        model = load_model(_settings(mirror, scope))
        if list_layers:
            specs = list(layer_specs(model).values())
            if as_json:
                _emit([{"id": spec.id, "title": spec.title} for spec in specs])
            else:
                for spec in specs:
                    console.print(f"{spec.id}\t{spec.title}", highlight=False)
            return
        if layer is None:
            _fail("no LAYER given. Fix: name a layer (territoires export --list lists them), or bundle.")
        spec, epsg = check_format(fmt.value), check_crs(crs)
        if layer == "bundle" and not spec.multi_layer:
            raise ExportError(f"a bundle holds several layers: use --format {' or '.join(multi_layer_formats())}")
        ids = ([i.strip() for i in layers.split(",")] if layers else list(layer_specs(model))) if layer == "bundle" else [layer]
        territory = model.territory(within) if within else None
        chosen = [build_layer(model, i, territory) for i in dict.fromkeys(ids)]
        target = output or Path(f"{layer}.{spec.extension}")
        write(chosen, spec.extension, target, epsg, wkt)
    except TerritoiresError as exc:
        _fail(exc)
    if as_json:
        _emit(_written(target, format=spec.extension, crs=f"EPSG:{epsg}", within=within,
                       layers=[{"id": x.spec.id, "title": x.spec.title, "features": len(x.frame)} for x in chosen]))
        return
    counts = ", ".join(f"{x.spec.id} {len(x.frame)}" for x in chosen)
    console.print(f"wrote {target} ({target.stat().st_size:,} bytes; EPSG:{epsg}; features: {counts})", highlight=False)


@app.command()
def render(name: Annotated[str, typer.Argument(help=f"{map_names()}.")],
           output: Annotated[Path, typer.Option("--output", "-o", help="Image file: .png, .svg or .pdf.")],
           within: Within = None,
           size: Annotated[str, typer.Option(help="a4 (landscape), a4-portrait or WIDTHxHEIGHT in pixels.")] = "a4",
           mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """Render a static map for reports (title, legend, scale bar, north arrow, sources), printable in black and white."""
    from service.maps.kinds import static_bytes

    try:
        model = load_model(_settings(mirror, scope))
        data = static_bytes(model, name, output.suffix.lstrip(".").lower(), model.territory(within) if within else None, size)
    except TerritoiresError as exc:
        _fail(exc)
    output.write_bytes(data)
    if as_json:
        _emit(_written(output, map=name, format=output.suffix.lstrip(".").lower(), within=within, size=size))
    else:
        console.print(f"wrote {output} ({len(data):,} bytes)", highlight=False)


@app.command(name="map")
def standalone_map(name: Annotated[str, typer.Argument(help=f"{map_names()}.")],
                   output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")],
                   within: Within = None, mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """Write a self-contained HTML map (JS, CSS and data inlined) that opens with no server and no internet."""
    from service.maps.kinds import standalone_page

    try:
        model = load_model(_settings(mirror, scope))
        page = standalone_page(model, name, model.territory(within) if within else None)
    except TerritoiresError as exc:
        _fail(exc)
    output.write_text(page, encoding="utf-8")
    if as_json:
        _emit(_written(output, map=name, within=within))
    else:
        console.print(f"wrote {output} ({output.stat().st_size:,} bytes)", highlight=False)
