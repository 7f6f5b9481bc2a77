"""Request dependencies: the current model, read from the app state (no module globals).

They are ``async``: each is a few attribute reads, and FastAPI would run a plain ``def`` in the thread pool.
"""
from __future__ import annotations

from fastapi import Request

from geo.model import Model
from service.geojson import LayerCache
from service.settings import MapSettings
from service.state import ModelHolder


async def get_holder(request: Request) -> ModelHolder:
    return request.app.state.holder


async def get_model(request: Request) -> Model:
    """The model serving this request (the holder follows newly published data versions)."""
    holder: ModelHolder = request.app.state.holder
    holder.maybe_reload()
    return holder.model


async def get_layers(request: Request) -> LayerCache:
    """Serialised GeoJSON layers and recent responses, shared by every request."""
    return request.app.state.layers


async def get_map_settings(request: Request) -> MapSettings:
    return request.app.state.map_settings
