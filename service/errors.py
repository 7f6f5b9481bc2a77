"""Errors answered in French, all mapped here: every :class:`geo.errors.TerritoiresError` carries its status and
message (unknown territory, scheme or layer: 404; a parameter that cannot be honoured: 422), and FastAPI's
validation errors are written in French too.

JSON for the API, a small HTML page for the maps; every text is escaped.
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response

from geo.errors import Invalid, TerritoiresError


class BadRequest(Invalid):
    """A request parameter that cannot be used (beyond what the type checks catch); answered with 422."""


class TooLarge(TerritoiresError):
    """A request body larger than the service takes; answered with 413, the message naming the way that takes it."""

    status = 413


class UnsupportedMedia(TerritoiresError):
    """A request body of a media type the route does not read; answered with 415, the message naming those it reads."""

    status = 415


_MESSAGES = {
    "missing": "est obligatoire",
    "string_too_short": "doit contenir au moins {min_length} caractère(s)",
    "string_too_long": "doit contenir au plus {max_length} caractères",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "greater_than": "doit être supérieur à {gt}",
    "less_than": "doit être inférieur à {lt}",
    "float_parsing": "doit être un nombre",
    "int_parsing": "doit être un nombre entier",
    "bool_parsing": "doit valoir 0 ou 1",
    "literal_error": "doit valoir l'une des valeurs : {expected}",
    "enum": "doit valoir l'une des valeurs : {expected}",
    "finite_number": "doit être un nombre fini",
}


def describe_validation(exc: RequestValidationError) -> str:
    """One French sentence per invalid parameter."""
    parts = []
    for error in exc.errors():
        name = str(error["loc"][-1]) if error.get("loc") else "requête"
        template = _MESSAGES.get(error.get("type", ""), "est invalide")
        try:
            ctx = {k: str(v).replace(" or ", " ou ") for k, v in (error.get("ctx") or {}).items()}
            text = template.format(**ctx)
        except (KeyError, IndexError):
            text = "est invalide"
        parts.append(f"le paramètre « {name} » {text}")
    return "Requête invalide : " + " ; ".join(parts) + "."


#: Paths answered with HTML pages: their errors are French pages too (the API, tiles, exports and static maps answer JSON).
HTML_PREFIXES = ("/maps", "/territoires", "/dispositifs", "/couverture", "/sources", "/recherche", "/fragments", "/changements")


#: Route paths under the pages' prefixes that answer a file: their errors are JSON, as the API's.
FILE_SUFFIXES = (".pdf", ".xlsx", ".csv", ".{extension}")


def _wants_html(request: Request) -> bool:
    path = request.url.path
    route = getattr(request.scope.get("route"), "path", path)  # the matched route's template when there is one
    return path == "/" or path.startswith(HTML_PREFIXES) and not (path.endswith(FILE_SUFFIXES) or route.endswith(FILE_SUFFIXES))


def error_response(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    if _wants_html(request):
        from service.pages import error_page  # the pages import the dependencies, which import this module

        return HTMLResponse(error_page(status, message), status_code=status, headers=headers)
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """One handler for every error of the core and the service (status and French message on the class), one for
    invalid parameters."""

    @app.exception_handler(TerritoiresError)
    async def known(request: Request, exc: TerritoiresError) -> Response:
        retry = getattr(exc, "retry_after", None)  # a busy worker says when to come back
        return error_response(request, exc.status, str(exc), {"Retry-After": str(retry)} if retry else None)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, describe_validation(exc))
