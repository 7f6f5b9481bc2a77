"""Exports for GIS and reports: layers built from the model, their writers (one table of formats), styles and provenance."""
from geo.exports.formats import CRS_NAMES, FORMATS, ExportError, Format, WriteOptions, check_crs, check_format, write
from geo.exports.layers import ExportLayer, LayerSpec, UnknownLayer, build_layer, bundle_ids, layer_specs, resolve_layer

__all__ = ["CRS_NAMES", "FORMATS", "ExportError", "ExportLayer", "Format", "LayerSpec", "UnknownLayer", "WriteOptions", "build_layer",
           "bundle_ids", "check_crs", "check_format", "layer_specs", "resolve_layer", "write"]
