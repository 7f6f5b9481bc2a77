"""The FastAPI application factory."""
from __future__ import annotations

import os
import threading
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from geo.config import Settings
from geo.model import Model
from geo.sources import codes_source, geometry_source
from service import changements, fragments, ogc, static_maps
from service.admin.auth import Guard, UploadLimit
from service.admin.pages import install_admin
from service.admin.settings import AdminSettings
from service.api import router as api_router
from service.assets import mount_assets
from service.deps import get_holder, get_model
from service.docs import mount_docs
from service.errors import install_error_handlers
from service.exports import exports_router
from service.geojson import response_memo
from service.heavy import HeavyWork
from service.http import GZip, HeadAsGet, PublicOrigin
from service.limits import Limits, install_limits
from service.maps import mount_map_static
from service.maps import router as maps_router
from service.memberfiles import router as memberfiles_router
from service.pages import mount_pages
from service.settings import MapSettings
from service.state import ModelHolder
from service.tiles import router as tiles_router
from service.warmup import warm


def create_app(settings: Settings | None = None, map_settings: MapSettings | None = None, limits: Limits | None = None,
               admin: AdminSettings | None = None) -> FastAPI:
    """Build the app; the model is loaded at start-up from the settings (environment by default). Limits, map and
    admin settings are read now (from the environment by default) and kept in the app state with its caches; /admin
    exists only when a credential is configured."""
    holder = ModelHolder(settings or Settings.from_env())
    admin = admin or AdminSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if holder.model is None:
            holder.load()
        stop = threading.Event()
        holder.watch(stop)
        yield
        stop.set()

    limits = limits or Limits()
    app = FastAPI(title="territoires", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Quels territoires sont couverts par quels dispositifs, contrats et programmes.",
                  responses={429: {"description": "Trop de requêtes pour ce client (TERRITOIRES_RATE_LIMIT) ; voir Retry-After"}})
    app.state.holder = holder
    app.state.limits = limits
    app.state.map_settings = map_settings or MapSettings()
    app.state.responses = response_memo(limits.response_cache_mb)
    app.state.tiles = response_memo(limits.tile_cache_mb)
    app.state.heavy = HeavyWork(limits.max_heavy)
    holder.on_load.append(lambda model: warm(app, model))  # the pages a first visitor opens, before the model serves
    app.add_middleware(GZip, minimum_size=500)  # innermost; then the policy (rate limit, headers), the public origin, HEAD
    install_limits(app, limits)
    app.add_middleware(PublicOrigin, base_url=limits.base_url)
    app.add_middleware(HeadAsGet)
    mount_assets(app)
    mount_docs(app)
    mount_map_static(app)
    install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(maps_router)
    app.include_router(tiles_router)
    app.include_router(exports_router())
    app.include_router(ogc.router)
    app.include_router(static_maps.router)
    app.include_router(fragments.router)
    app.include_router(changements.router)
    app.include_router(memberfiles_router)
    if admin.enabled:
        app.add_middleware(UploadLimit, max_bytes=admin.max_upload_bytes)
        install_admin(app, Guard(admin, holder.settings))
    mount_pages(app)

    @app.get("/healthz", tags=["service"])
    def healthz(model: Model = Depends(get_model), h: ModelHolder = Depends(get_holder)) -> dict:
        """Service health, data version and vintages."""
        return {
            "status": "ok",
            "version": model.version,
            "scope": model.territories.scope,
            "vintages": {"geometrie": geometry_source().label, "codes": codes_source().label},
            "schemes": len(model.catalogue.schemes),
            "last_refresh_error": h.last_error,
            "pid": os.getpid(),
        }

    return app
