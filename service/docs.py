"""The API documentation pages, /docs (Swagger UI) and /redoc (ReDoc), served with their JS and CSS from /assets
(npm packages swagger-ui-dist and redoc, pinned in service/static/package.json): no CDN, no web font, no validator
badge, and a Content-Security-Policy that keeps the browser on this service, so they work offline like the maps."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from service.assets import asset_url

#: What the documentation pages may load: this service's own files (and their inline start-up script); ReDoc's footer
#: logo on its CDN is refused by the browser rather than fetched.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'")


def mount_docs(app: FastAPI) -> None:
    """/docs and /redoc on the app's OpenAPI document (create the app with ``docs_url=None, redoc_url=None``)."""

    def openapi_url(request: Request) -> str:
        return request.scope.get("root_path", "") + app.openapi_url

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url=openapi_url(request), title=f"{app.title} — API",
                                   swagger_js_url=asset_url("swagger_ui_js"), swagger_css_url=asset_url("swagger_ui_css"),
                                   swagger_favicon_url=asset_url("swagger_ui_favicon"), swagger_ui_parameters={"validatorUrl": None})
        page.headers["Content-Security-Policy"] = CSP
        return page

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        page = get_redoc_html(openapi_url=openapi_url(request), title=f"{app.title} — API", redoc_js_url=asset_url("redoc_js"),
                              redoc_favicon_url=asset_url("swagger_ui_favicon"), with_google_fonts=False)
        page.headers["Content-Security-Policy"] = CSP
        return page
