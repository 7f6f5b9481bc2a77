"""`territoires` command line: data, check, coverage, lookup, locate, changes, refresh, serve, export, render, map;
members import and template, versions, rollback; admin hash-password."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from enum import Enum
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from geo.catalogue import legacy_members, load_catalogue
from geo.config import Settings
from geo.errors import InputError, TerritoiresError
from geo.exports.formats import FORMATS
from geo.heap import release
from geo.mapspec import map_names
from geo.model import assemble, load_model
from geo.nesting import check_all
from geo.periods import BadDate, check_interval, french_date, parse_date
from geo.territories import load_territories
from geo.versions import (
    archive_path,
    current_pointer,
    publish,
    publish_members,
    publish_tiles,
    read_pointer,
    read_published,
    rollback,
    starting_pointer,
)

app = typer.Typer(help="Which French territories are covered by which cooperation schemes.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
members_app = typer.Typer(help="Member lists kept in the data directory (TERRITOIRES_DATA_DIR).", no_args_is_help=True)
admin_app = typer.Typer(help="The protected /admin page.", no_args_is_help=True)
app.add_typer(members_app, name="members")
app.add_typer(admin_app, name="admin")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
SCOPE_FIX = "add --scope france (or set TERRITOIRES_SCOPE=france)"

Mirror = Annotated[Path | None, typer.Option(help="Mirror directory (else TERRITOIRES_MIRROR; else download).")]
Scope = Annotated[str | None, typer.Option(help="occitanie (default) or france (else TERRITOIRES_SCOPE).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
DateOption = Annotated[str | None, typer.Option("--date", help="The situation at this date, YYYY-MM-DD between 1990 and 2100 "
                                                               "(default: today); boundaries stay the 2026 ones.")]


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
    except ValueError as exc:  # an unknown scope (--scope or TERRITOIRES_SCOPE), a setting that is not a number
        _fail(str(exc) if "TERRITOIRES_" in str(exc) else f"{exc} (--scope or TERRITOIRES_SCOPE)")


def _usage(message: str) -> None:
    """A usage error (a bad option value): one line, exit 2."""
    _error(message)
    raise typer.Exit(2)


def _on(value: str | None, option: str = "date") -> dt.date:
    """The date of a --date/--from/--to option (today when absent); a usage error otherwise."""
    try:
        return parse_date(value, f"--{option}")
    except BadDate as exc:
        _usage(exc.english)


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
    """Fetch or verify the sources, build every scale and print the reconciliation report (and the programmes not loaded)."""
    from geo.programmes import unavailable

    settings = _settings(mirror, scope)
    try:
        t = load_territories(settings, rebuild=rebuild, progress=not as_json)
    except TerritoiresError as exc:
        _fail(exc)
    rep = t.reconciliation
    not_loaded = unavailable(settings)
    if as_json:
        _emit({"version": t.version, "scope": t.scope, "reconciliation": rep.as_dict(),
               "repaired": t.read_report.repaired, "reprojected": t.read_report.reprojected,
               "scales": {k: len(v) for k, v in t.scales.items()}, "not_loaded": not_loaded})
        return
    console.print(f"[bold]Build {t.version}[/] (scope {t.scope})")
    for line in rep.lines():
        console.print(line, highlight=False)
    for file, code in t.read_report.repaired:
        console.print(f"repaired invalid geometry: {code} in {file}", highlight=False)
    for file, crs in t.read_report.reprojected:
        console.print(f"reprojected from {crs}: {file}", highlight=False)
    console.print("scales: " + ", ".join(f"{k} {len(v):,}" for k, v in t.scales.items()))
    for reason in not_loaded.values():
        console.print(reason, highlight=False, markup=False)


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
               "warnings": catalogue.warnings, "not_loaded": catalogue.not_loaded, "nesting": [n.__dict__ for n in nesting]})
    else:
        console.print(f"{len(catalogue.schemes)} schemes valid, {len(catalogue.problems)} errors, {len(catalogue.warnings)} warnings, "
                      f"{len(catalogue.not_loaded)} not loaded", highlight=False)
        for p in catalogue.problems:
            console.print(f"[red]error[/] {escape(str(p))}", highlight=False)
        for reason in catalogue.not_loaded.values():
            console.print(reason, highlight=False, markup=False)
        for n in nesting:
            mark = "[green]ok[/]" if n.ok else "[red]FAIL[/]"
            console.print(f"nesting {mark} {n.level} {n.code} {n.nom}: {n.parts} whole {n.contains}", highlight=False)
            for e in n.exceptions:
                console.print(f"   exception: {e}", highlight=False)
            for note in n.notes:
                console.print(f"   note: {note}", highlight=False)
    if catalogue.problems or failed:
        raise typer.Exit(1)


def _via(path: dict) -> str:
    """A coverage path in the CLI's words: 'direct', 'quartier QP031005', 'EPCI 243100518 in dialogue-metropolitain'."""
    if path["level"] == "commune":
        text = "direct"
    else:
        text = f"{'EPCI' if path['level'] == 'epci' else path['level']} {path['code']}"
        if path["grouping"]:
            text += f" in {path['grouping']['id']}"
    return text + (f" (all members of network {path['network']['id']})" if path["network"] else "")


def _print_stack(stack: dict) -> None:
    c = stack["commune"]
    console.print(f"[bold]{escape(c['nom'])}[/] ({c['code']}), EPCI {stack['epci']['code'] if stack['epci'] else '—'} "
                  f"{stack['epci']['nom'] if stack['epci'] else ''}, département {stack['departement']['code']}, "
                  f"région {stack['region']['code']}", highlight=False)
    if stack.get("date"):
        console.print(f"on {stack['date']} ({stack['perimeters']})", highlight=False)
    table = Table("scheme", "kind", "via", "role", "start", "end", "status")
    for s in stack["schemes"]:
        table.add_row(*(escape("" if v is None else str(v))
                        for v in (s["name"], s["kind"], _via(s["path"]), s["role"], s["start"], s["end"], s.get("status"))),
                      style=None if s.get("in_force", True) else "dim")
    console.print(table)


@app.command()
def coverage(code: str, date: DateOption = None, mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """What covers a commune (INSEE code) at a date: the schemes in force first, then those ended or not started yet."""
    at = _on(date)
    settings = _settings(mirror, scope)
    try:
        model = load_model(settings)
        cog = model.territories.cog
        if code in cog.commune_codes and code not in model.scales["commune"]["code"].to_numpy():
            nom = cog.communes.set_index("code")["nom"].get(code)
            _fail(f"commune {code} ({nom}) is outside the {settings.scope} scope. Fix: {SCOPE_FIX}.")
        stack = model.stack(model.territory(f"commune:{code}").code, at)
    except TerritoiresError as exc:
        _fail(exc)
    _emit(stack) if as_json else _print_stack(stack)


@app.command(context_settings={"ignore_unknown_options": True})  # so that -0.046 is a longitude, not an option
def lookup(lon: Annotated[float, typer.Argument(help="Longitude in degrees (WGS 84), e.g. -0.046.")],
           lat: Annotated[float, typer.Argument(help="Latitude in degrees (WGS 84), e.g. 43.095.")],
           date: DateOption = None, mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """The whole stack at a point (longitude, latitude in WGS 84) at a date; exit 1 when no commune in scope holds it."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        _fail(f"({lon}, {lat}) is not a longitude/latitude. Fix: give LON LAT in degrees, longitude first.")
    at = _on(date)
    settings = _settings(mirror, scope)
    try:
        result = load_model(settings).lookup(lon, lat, at)
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


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"--date {value!r} is not a date. Fix: give it as YYYY-MM-DD, e.g. --date 2024-01-01.")


@app.command()
def locate(source: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV (lon/lat, x/y with --crs, or code columns), "
                                                                    "GeoPackage or GeoParquet of points.")],
           output: Annotated[Path, typer.Option("--output", "-o", help="File to write: .csv (for spreadsheets), .gpkg or .parquet.")],
           date: Annotated[str | None, typer.Option(help="Schemes in force on this date, YYYY-MM-DD (default: today).")] = None,
           crs: Annotated[int, typer.Option(help="EPSG code of a CSV's coordinates: 4326 reads lon/lat, "
                                                 "another (e.g. 2154, Lambert-93) reads x/y.")] = 4326,
           layer: Annotated[str | None, typer.Option(help="GeoPackage layer (when it holds several).")] = None,
           mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """Add commune, EPCI, département, région, groupings and the schemes in force to every row of a file of points or codes.

    Rows keep their order; a row that cannot be placed keeps its place, with the reason in the motif column.
    """
    from geo.pointfiles import locate_table, read_table, write_table

    at = _date(date)
    started = time.perf_counter()
    try:
        table = read_table(source, crs, layer)
        model = load_model(_settings(mirror, scope))
        located = locate_table(model, table, at)
        fmt = write_table(table, located, output)
    except TerritoiresError as exc:
        _fail(exc)
    rows, reasons = len(located.columns), located.reasons()
    if as_json:
        _emit(_written(output, format=fmt, rows=rows, placed=located.placed, unplaced=reasons, by=table.source,
                       date=located.date.isoformat(), schemes=located.schemes))
        return
    unplaced = "".join(f", {n:,} {reason}" for reason, n in reasons.items())
    console.print(f"located {rows:,} rows of {source} by {table.source} in {time.perf_counter() - started:.1f} s: "
                  f"{located.placed:,} placed{unplaced}; {len(located.schemes)} schemes in force on {located.date.isoformat()}",
                  highlight=False)
    console.print(f"wrote {output} ({output.stat().st_size:,} bytes, {fmt})", highlight=False)


@app.command()
def changes(start: Annotated[str, typer.Option("--from", help="The first date, YYYY-MM-DD.")],
            end: Annotated[str | None, typer.Option("--to", help="The second date, YYYY-MM-DD (default: today).")] = None,
            within: Annotated[str | None, typer.Option(help="Restrict to a territory (commune, EPCI, grouping, département "
                                                            "or région code); default: the whole scope.")] = None,
            output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the table as a CSV file "
                                                                              "(spreadsheet: ';', UTF-8 with BOM).")] = None,
            mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """What changed between two dates: per commune, the schemes gained and lost (a later generation replacing an
    earlier one is listed apart); boundaries stay the 2026 ones."""
    from geo.changes import changes as changes_between
    from geo.changes import rows
    from geo.spreadsheet import write_csv

    first, second = _on(start, "from"), _on(end, "to")
    try:
        check_interval(first, second)
    except BadDate as exc:
        _usage(exc.english)
    try:
        model = load_model(_settings(mirror, scope))
        result = changes_between(model.coverage, first, second, model.territory(within) if within else None)
    except TerritoiresError as exc:
        _fail(exc)
    names = {i: s.name for i, s in model.catalogue.schemes.items()}
    table = rows(result, names)
    if output:
        write_csv(table, output)
    changed = result.table[result.table["status"] != "unchanged"]
    if as_json:
        _emit({"from": first.isoformat(), "to": second.isoformat(), "within": within, "perimeters": model.dating(first)["perimeters"],
               "summary": result.summary(),
               "communes": [{"code": r.code, "nom": r.nom, "status": r.status, "gained": list(r.gained), "lost": list(r.lost),
                             "replaced": [{"from": list(a), "to": list(b)} for a, b in r.replaced]}
                            for r in changed.itertuples(index=False)],
               **({"csv": _written(output)} if output else {})})
        return
    where = model.territory(within).label if within else model.territories.scope
    console.print(f"[bold]{escape(where)}[/]: from {french_date(first)} to {french_date(second)} ({model.dating(first)['perimeters']})",
                  highlight=False)
    for status, part in result.summary().items():
        console.print(f"{status}: {part['communes']:,} communes, {part['population']:,} inhabitants", highlight=False)
    shown = Table("code", "commune", "gained", "lost", "replaced")
    for r in changed.itertuples(index=False):
        shown.add_row(*(escape(v) for v in (r.code, r.nom, ", ".join(r.gained), ", ".join(r.lost),
                                            "; ".join(f"{', '.join(a)} → {', '.join(b)}" for a, b in r.replaced))))
    console.print(shown)
    if output:
        console.print(f"wrote {output} ({output.stat().st_size:,} bytes)", highlight=False)


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
                                                              "territoires-<scope>-<version>-t<format>.pmtiles into) instead of the cache.")] = None,
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

    from service.assets import check_assets
    from service.workers import run_workers

    settings = _settings(mirror, scope)
    if legacy := legacy_members(settings):  # a pointer may exist: without this, the variable would be silently ignored
        _fail(InputError(legacy))
    try:
        check_assets()  # before any build: a worker would otherwise fail on them with a traceback
        # one shared build on disk, prepared before any worker starts (edited scheme files published first)
        pointer, problems = starting_pointer(settings, progress=not as_json)
        release()  # a build's freed heap back to the system, before this process serves (one worker runs in it)
    except TerritoiresError as exc:
        _fail(exc)
    if problems is not None:
        for line in str(problems).splitlines():
            err.print(f"[bold yellow]warning:[/] {escape(line)}", highlight=False)
        err.print(f"[bold yellow]warning:[/] the scheme files do not validate: serving version {pointer['version']}, published "
                  "before they changed. Fix them and run `territoires refresh`.", highlight=False)
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
Schemes = Annotated[str | None, typer.Option(help="Coverage map: scheme ids separated by commas (every scheme by default).")]


@app.command()
def export(layer: Annotated[str | None, typer.Argument(help="communes, epci, departements, regions, groupings, grouping-<id>, "
                                                            "scheme-<id>, coverage, or bundle (--layers in one gpkg, parquet.zip or qgz).")] = None,
           fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="File format.")] = ExportFormat(next(iter(FORMATS))),
           output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: LAYER.FORMAT).")] = None,
           within: Within = None, crs: Annotated[str, typer.Option(help="4326 (WGS 84) or 2154 (Lambert-93).")] = "4326",
           wkt: Annotated[bool, typer.Option(help="CSV: add the geometry as WKT.")] = False,
           layers: Annotated[str | None, typer.Option(help="bundle: comma-separated layer ids (default: all).")] = None,
           list_layers: Annotated[bool, typer.Option("--list", help="List the layer ids and exit.")] = False,
           date: DateOption = None, mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """Export a layer (or a bundle of layers) for GIS: GeoPackage with QGIS styles, GeoJSON, FlatGeobuf, Shapefile, CSV,
    GeoParquet, or a QGIS project (qgz) written with the GeoPackage it opens."""
    from geo.exports import ExportError, build_layer, bundle_ids, check_crs, check_format, layer_specs, write
    from geo.exports.formats import multi_layer_formats

    at = _on(date)
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
        ids = bundle_ids(model, layers) if layer == "bundle" else [layer]
        territory = model.territory(within) if within else None
        chosen = [build_layer(model, i, territory, at) for i in ids]
        target = output or Path(f"{layer}.{spec.extension}")
        companion = write(chosen, spec.extension, target, epsg, wkt, companion=True)  # a QGIS project: its GeoPackage beside it
    except TerritoiresError as exc:
        _fail(exc)
    if as_json:
        _emit(_written(target, format=spec.extension, crs=f"EPSG:{epsg}", within=within, date=at.isoformat(),
                       layers=[{"id": x.spec.id, "title": x.spec.title, "features": len(x.frame)} for x in chosen],
                       **({"companion": _written(companion)} if companion else {})))
        return
    counts = ", ".join(f"{x.spec.id} {len(x.frame)}" for x in chosen)
    console.print(f"wrote {target} ({target.stat().st_size:,} bytes; EPSG:{epsg}; features: {counts})", highlight=False)
    if companion is not None:
        console.print(f"wrote {companion} ({companion.stat().st_size:,} bytes), the {spec.companion} it opens", highlight=False)


@app.command()
def render(name: Annotated[str, typer.Argument(help=f"{map_names()}.")],
           output: Annotated[Path, typer.Option("--output", "-o", help="Image file: .png, .svg or .pdf.")],
           within: Within = None,
           size: Annotated[str, typer.Option(help="a4 (landscape), a4-portrait or WIDTHxHEIGHT in pixels.")] = "a4",
           schemes: Schemes = None, date: DateOption = None, mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """Render a static map for reports (title, legend, scale bar, north arrow, sources), printable in black and white."""
    from service.maps.kinds import static_bytes

    at = _on(date)
    try:
        model = load_model(_settings(mirror, scope))
        data = static_bytes(model, name, output.suffix.lstrip(".").lower(), model.territory(within) if within else None, size, schemes, at)
    except TerritoiresError as exc:
        _fail(exc)
    output.write_bytes(data)
    if as_json:
        _emit(_written(output, map=name, format=output.suffix.lstrip(".").lower(), within=within, size=size, date=at.isoformat()))
    else:
        console.print(f"wrote {output} ({len(data):,} bytes)", highlight=False)


@app.command(name="map")
def standalone_map(name: Annotated[str, typer.Argument(help=f"{map_names()}.")],
                   output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")],
                   within: Within = None, schemes: Schemes = None, date: DateOption = None, mirror: Mirror = None, scope: Scope = None,
                   as_json: Json = False) -> None:
    """Write a self-contained HTML map (JS, CSS and data inlined) that opens with no server and no internet."""
    from service.assets import check_assets
    from service.maps.kinds import standalone_page

    at = _on(date)
    try:
        check_assets()
        model = load_model(_settings(mirror, scope))
        page = standalone_page(model, name, model.territory(within) if within else None, schemes, at)
    except TerritoiresError as exc:
        _fail(exc)
    output.write_text(page, encoding="utf-8")
    if as_json:
        _emit(_written(output, map=name, within=within, date=at.isoformat()))
    else:
        console.print(f"wrote {output} ({output.stat().st_size:,} bytes)", highlight=False)


By = Annotated[str | None, typer.Option("--by", help="Who publishes (recorded with the version; default: the system user).")]


def _by(by: str | None) -> str:
    import getpass

    return by or f"{getpass.getuser()} (ligne de commande)"


def _changes_line(record: dict) -> str:
    parts = [f"{sid} +{len(c['added'])} -{len(c['removed'])} ~{len(c['changed'])}" for sid, c in record["changes"].items()]
    return ", ".join(parts) or "no change"


@members_app.command("import")
def members_import(file: Annotated[Path, typer.Argument(help="A member list: CSV (; or ,) or XLSX, columns "
                                                             "code;dispositif;role;debut;fin;source;note.")],
                   dispositif: Annotated[str | None, typer.Option(help="The scheme the file is for (rows may then leave "
                                                                       "dispositif empty; a file of no row empties its list).")] = None,
                   dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and show the changes; publish nothing.")] = False,
                   by: By = None, mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """Validate a member list and publish it as a new version (it replaces the imported members of each scheme it names)."""
    from dataclasses import replace

    from geo.imports import check_file
    from geo.memberlists import summary

    settings = replace(_settings(mirror, scope), legacy_members=())  # importing is how TERRITOIRES_MEMBERS files move here
    try:
        checked = check_file(settings, load_territories(settings).cog, file.read_bytes(), file.name, dispositif)
        if not checked.ok:
            _fail("\n".join(str(p) for p in checked.problems))
        found = {"changes": summary(list(checked.changes))}
        if dry_run:
            _emit(found) if as_json else console.print(f"{len(checked.members.entries)} rows valid; would change: {_changes_line(found)}",
                                                       highlight=False)
            return
        record = publish_members(settings, checked.members.by_scheme(), _by(by), checked.upload)
    except TerritoiresError as exc:
        _fail(exc)
    _emit(record) if as_json else console.print(f"version {record['version']} in service ({record['data_version']}): "
                                                f"{_changes_line(record)}", highlight=False)


@members_app.command("template")
def members_template(scheme: Annotated[str, typer.Argument(help="Scheme id.")],
                     output: Annotated[Path, typer.Option("--output", "-o", help="File to write: .csv or .xlsx.")],
                     mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """Write the member-list template of a scheme (prefilled with its imported members)."""
    from geo.membertemplate import template_csv, template_xlsx

    if output.suffix.lower() not in (".csv", ".xlsx"):
        _fail(f"{output.name}: the template is .csv or .xlsx. Fix: name the output file *.csv or *.xlsx.")
    try:
        s = load_model(_settings(mirror, scope)).scheme(scheme)
    except TerritoiresError as exc:
        _fail(exc)
    output.write_bytes(template_xlsx(s) if output.suffix.lower() == ".xlsx" else template_csv(s))
    if as_json:
        _emit(_written(output, scheme=scheme, format=output.suffix.lower().lstrip(".")))
    else:
        console.print(f"wrote {output} ({output.stat().st_size:,} bytes)", highlight=False)


@app.command()
def versions(mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """The member-list versions kept in the data directory, newest first (the one in service marked *)."""
    from geo.memberstore import history

    try:
        records = history(_settings(mirror, scope))
    except TerritoiresError as exc:
        _fail(exc)
    if as_json:
        _emit(records)
        return
    table = Table("", "version", "published (UTC)", "by", "what", "file (sha256)", "changes")
    for r in records:
        what = f"rollback to {r['restores']}" if r["action"] == "rollback" else "import"
        f = r.get("file") or {}
        table.add_row("*" if r["in_service"] else "", str(r["version"]), r["published_at"], escape(r["by"]), what,
                      escape(f"{f['name']} ({f['sha256'][:12]})") if f else "", escape(_changes_line(r)))
    console.print(table)


@app.command(name="rollback")
def rollback_command(version: Annotated[int, typer.Argument(help="The version to return to (see `territoires versions`; 0: no "
                                                                  "imported member).", min=0)],
                     by: By = None, mirror: Mirror = None, scope: Scope = None, as_json: Json = False) -> None:
    """Put an earlier member-list version back in service, in one step (recorded as a new version)."""
    try:
        record = rollback(_settings(mirror, scope), version, _by(by))
    except TerritoiresError as exc:
        _fail(exc)
    _emit(record) if as_json else console.print(f"version {record['version']} in service (restores {version}): "
                                                f"{_changes_line(record)}", highlight=False)


@admin_app.command("hash-password")
def hash_password(stdin: Annotated[bool, typer.Option("--stdin", help="Read the password from standard input (one line).")] = False,
                  as_json: Json = False) -> None:
    """Print the argon2 hash of a password, for TERRITOIRES_ADMIN_PASSWORD_HASH."""
    import getpass

    from argon2 import PasswordHasher

    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            _fail("the two passwords differ. Fix: type the same password twice.")
    if len(password) < 12:
        _fail("the password is shorter than 12 characters. Fix: choose a longer one (a passphrase).")
    hashed = PasswordHasher().hash(password)
    _emit({"hash": hashed}) if as_json else print(hashed)
