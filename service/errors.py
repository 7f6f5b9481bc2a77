"""Errors answered in French: unknown territories and schemes (404), invalid parameters (422).

JSON for the API, a small HTML page for the maps; every text is escaped.
"""
from __future__ import annotations

import html

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response

from geo.model import Model
from geo.sources import codes_source

LEVEL_NAMES = {"commune": "commune", "epci": "EPCI", "departement": "département", "region": "région", "grouping": "groupement"}


class NotFound(Exception):
    """A territory, scheme or level that does not exist; the message is French and names it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadRequest(Exception):
    """A parameter that cannot be used (beyond what the type checks catch); answered with 422."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def unknown_territory(model: Model, territory: str) -> NotFound:
    """The French 404 for a territory code or grouping id, naming the 2026 commune a merged commune became."""
    code = territory.partition(":")[2].strip() if ":" in territory else territory.strip()
    cog = model.territories.cog
    if len(code) == 5:
        parent = cog.successor(code)
        if parent is not None:
            nom = cog.communes.set_index("code")["nom"].get(parent, "?")
            return NotFound(f"La commune {code} n'existe plus : elle a fusionné dans la commune {parent} ({nom}) au {codes_source().label}.")
        if code in cog.commune_codes:
            return NotFound(f"La commune {code} est hors du périmètre servi ({model.territories.scope}).")
        return NotFound(f"{code} n'est pas un code de commune du {codes_source().label}.")
    return NotFound(f"Territoire inconnu : « {territory} ». Donnez un code INSEE de commune, un SIREN d'EPCI, "
                    "un code de département ou de région, ou l'identifiant d'un groupement.")


def unknown_scheme(scheme_id: str) -> NotFound:
    return NotFound(f"Dispositif inconnu : « {scheme_id} ». La liste est sur /api/schemes.")


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


def _wants_html(request: Request) -> bool:
    return request.url.path.startswith("/maps")


def error_response(request: Request, status: int, message: str) -> Response:
    if _wants_html(request):
        body = (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Erreur {status}</title></head>'
                f'<body><h1>Erreur {status}</h1><p>{html.escape(message)}</p><p><a href="/maps/scales">Carte des échelles</a></p>'
                "</body></html>")
        return HTMLResponse(body, status_code=status)
    return JSONResponse({"detail": message}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """French answers for unknown things (404) and invalid parameters (422)."""

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return error_response(request, 404, exc.message)

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest) -> Response:
        return error_response(request, 422, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, describe_validation(exc))
