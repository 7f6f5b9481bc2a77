"""Public answers about member lists: the published versions (`/api/versions`, for the sources page) and each scheme's
member-list template (`/dispositifs/{id}/modele.csv` and `.xlsx`, linked from the scheme page)."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from geo import memberstore
from geo.membertemplate import template_csv, template_xlsx
from service import schemas
from service.deps import ModelDep, SchemeDep

router = APIRouter(tags=["listes de membres"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PUBLIC_FIELDS = ("version", "published_at", "by", "action", "restores", "schemes", "changes", "members", "data_version", "in_service")


def public_versions(records: list[dict]) -> list[dict]:
    """What anyone may read of the versions: everything but where the file is kept on disk."""
    return [{**{k: r.get(k) for k in PUBLIC_FIELDS},
             "file": {k: r["file"][k] for k in ("name", "sha256", "bytes")} if r.get("file") else None} for r in records]


@router.get("/api/versions", summary="Les versions publiées des listes de membres")
async def versions(request: Request, model: ModelDep) -> JSONResponse:
    """Chaque version gardée, la plus récente d'abord : numéro, date de publication, auteur, fichier d'origine (nom et
    sha256) ou version rétablie, changements par dispositif (codes ajoutés, retirés, modifiés), version en service."""
    records = await run_in_threadpool(memberstore.history, request.app.state.holder.settings)
    return JSONResponse(public_versions(records), headers={"Cache-Control": "no-cache"})


@router.get("/dispositifs/{scheme_id}/modele.{extension}", summary="Modèle de liste de membres d'un dispositif",
            response_class=Response, responses={200: {"content": {"text/csv": {}, XLSX: {}}},
                                                404: schemas.json_error("Dispositif inconnu (message en français)"),
                                                422: schemas.json_error("Paramètre invalide (message en français)")})
def template(model: ModelDep, s: SchemeDep, extension: Literal["csv", "xlsx"]) -> Response:
    """Les colonnes code;dispositif;role;debut;fin;source;note, préremplies des membres importés du dispositif."""
    data, media = (template_xlsx(s), XLSX) if extension == "xlsx" else (template_csv(s), "text/csv; charset=utf-8")
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="membres-{s.id}.{extension}"',
                                                     "Cache-Control": "no-cache"})
