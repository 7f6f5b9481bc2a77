"""The /admin pages: log in, upload a member list, read its validation report and the changes it would make (a table
and a map), publish it as a new version, see the versions and roll back to one. Every route requires a credential
(401 otherwise) and every form its session's signed token (403 otherwise); the router is mounted only when a credential
is configured, so with none every /admin address is a 404.

Uploaded files are kept as bytes in the data directory while they wait for publication (``admin/attente/``, an hour)
and then with their version; they are only ever read as member lists (geo/memberlists.py), never executed.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
import time
from pathlib import Path
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from geo import memberstore
from geo.catalogue import declared_schemes
from geo.errors import TerritoiresError
from geo.imports import Checked, check_file
from geo.mapspec import fr_date, period_text
from geo.memberlists import Change
from geo.model import Model
from geo.versions import publish_members, rollback
from service.admin.auth import COOKIE_PATH, LOGIN_COOKIE, MAX_NAME, SESSION_COOKIE, Admin, AuthRequired, CsrfFailed, Guard, TooManyLogins
from service.admin.mapview import change_map, legend_items
from service.deps import get_holder, get_model
from service.state import ModelHolder

TEMPLATES = Environment(loader=PackageLoader("service.admin", "templates"), autoescape=select_autoescape(default=True),
                        trim_blocks=True, lstrip_blocks=True)
STAGING, STAGING_TTL_S = "attente", 3600
PARIS = ZoneInfo("Europe/Paris")
TOKEN = r"^[A-Za-z0-9_-]{16,64}$"
STATUS_CSS = {"ajouté": "ajoute", "modifié": "modifie", "retiré": "retire"}


def _guard(request: Request) -> Guard:
    return request.app.state.admin_guard


async def require_admin(request: Request) -> Admin:
    """The person at /admin; AuthRequired (401) without a valid credential."""
    return _guard(request).identify(request)


AdminDep = Annotated[Admin, Depends(require_admin)]
GuardDep = Annotated[Guard, Depends(_guard)]
ModelDep = Annotated[Model, Depends(get_model)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]

router = APIRouter(prefix="/admin", tags=["administration"], include_in_schema=False, default_response_class=HTMLResponse)


def page(name: str, status: int = 200, **context: object) -> HTMLResponse:
    """A French admin page, every text escaped (Jinja2 autoescape), never cached."""
    body = TEMPLATES.get_template(name).render(**context)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                                           "Referrer-Policy": "same-origin"})


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="strict", secure=_secure(request))


async def _form(request: Request, guard: Guard, admin: Admin) -> dict:
    """The fields of a posted form, after its token is checked against the session (CsrfFailed otherwise)."""
    form = await request.form(max_files=1, max_fields=10, max_part_size=64 * 1024)
    guard.check_form(str(form.get("csrf") or ""), admin.subject)
    return dict(form)


# --- log in and out ----------------------------------------------------------------------------------------------

def login_page(request: Request, guard: Guard, message: str | None = None, status: int = 401, name: str = "") -> HTMLResponse:
    """The 401 answer of every /admin address without a credential: the login form (password) or the way in (proxy)."""
    nonce = secrets.token_urlsafe(16)
    target = request.url.path if request.method == "GET" and request.url.path != "/admin/connexion" else "/admin"
    response = page("login.html", status, title="Connexion à l'administration", admin=None, message=message,
                    password=guard.admin.password_hash is not None, csrf=guard.form_token(f"login:{nonce}"), next=target, nom=name)
    response.headers["WWW-Authenticate"] = 'Form realm="territoires-admin"'
    if guard.admin.password_hash is not None:
        _set_cookie(response, request, LOGIN_COOKIE, nonce, 3600)
    return response


@router.post("/connexion")
async def login(request: Request, guard: GuardDep) -> Response:
    """Check the password (after the login limits) and open a session."""
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    name = " ".join(str(form.get("nom") or "").split())[:MAX_NAME]
    try:
        guard.check_form(str(form.get("csrf") or ""), f"login:{nonce}")
    except CsrfFailed:
        return login_page(request, guard, "Le formulaire a expiré : saisissez de nouveau votre nom et le mot de passe.", name=name)
    if guard.admin.password_hash is None:
        raise AuthRequired
    if not name or any(ord(ch) < 32 for ch in name):
        return login_page(request, guard, "Indiquez votre nom : il figure dans l'historique des versions que vous publiez.")
    ok = await run_in_threadpool(guard.check_password, request, str(form.get("motdepasse") or ""))
    if not ok:
        return login_page(request, guard, "Mot de passe incorrect.", name=name)
    target = str(form.get("next") or "/admin")
    target = target if target.startswith("/admin") and "//" not in target and "\\" not in target else "/admin"
    response = RedirectResponse(target, status_code=303)
    _set_cookie(response, request, SESSION_COOKIE, guard.session_cookie(name), guard.admin.session_seconds)
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/deconnexion")
async def logout(request: Request, admin: AdminDep, guard: GuardDep) -> Response:
    """Close the session (its cookie is removed)."""
    await _form(request, guard, admin)
    response = RedirectResponse("/admin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


# --- upload, preview, publish ------------------------------------------------------------------------------------

def _importable(model: Model, request: Request) -> list[dict]:
    settings = request.app.state.holder.settings
    declared = declared_schemes(settings)
    counts = {sid: len(v) for sid, v in memberstore.content(settings, memberstore.in_service(settings)).items()}
    return [{"id": s.id, "name": s.name, "imported": counts.get(s.id, 0)}
            for s in sorted(declared.values(), key=lambda s: s.name) if not s.all_parent_members]


@router.get("")
def dashboard(request: Request, admin: AdminDep, guard: GuardDep, model: ModelDep) -> Response:
    """Upload form, the version in service, the templates of each scheme."""
    settings = request.app.state.holder.settings
    number = memberstore.in_service(settings)
    return page("dashboard.html", title="Listes de membres", admin=admin, csrf=guard.form_token(admin.subject),
                schemes=_importable(model, request), max_mb=f"{guard.admin.max_upload_bytes / 2**20:g}",
                in_service_label=f"version {number}" if number else "aucune liste importée (version 0)")


def _staging(request: Request) -> Path:
    return request.app.state.holder.settings.data_dir / "admin" / STAGING


@router.post("/televersement")
async def upload(request: Request, admin: AdminDep, guard: GuardDep) -> Response:
    """Keep the uploaded file (bytes only) for its preview, then show the preview (303)."""
    form = await _form(request, guard, admin)
    file = form.get("fichier")
    if file is None or isinstance(file, str):
        return page("message.html", 422, title="Aucun fichier", admin=admin, csrf=guard.form_token(admin.subject),
                    message="Choisissez un fichier CSV ou .xlsx à déposer.")
    data = await file.read()
    name = Path(str(file.filename or "liste")).name[:120] or "liste"
    chosen = str(form.get("dispositif") or "")[:100] or None
    token = secrets.token_urlsafe(18)
    await run_in_threadpool(_stage, _staging(request), token, data, {"name": name, "chosen": chosen, "by": admin.subject})
    return RedirectResponse(f"/admin/apercu/{token}", status_code=303)


def _stage(root: Path, token: str, data: bytes, meta: dict) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():  # uploads never published are removed after an hour
        if old.stat().st_mtime < time.time() - STAGING_TTL_S:
            shutil.rmtree(old, ignore_errors=True)
    (root / token).mkdir(mode=0o700)
    (root / token / "fichier").write_bytes(data)
    (root / token / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def _staged(request: Request, admin: Admin, token: str) -> tuple[bytes, dict]:
    """A staged upload of this person; NotFound-like 404 page otherwise."""
    folder = _staging(request) / token
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        data = (folder / "fichier").read_bytes()
    except (OSError, ValueError):
        raise StagedGone from None
    if meta.get("by") != admin.subject:
        raise StagedGone
    return data, meta


class StagedGone(Exception):
    """A preview that does not exist (expired, published, or another session's)."""


def _check(request: Request, model: Model, data: bytes, meta: dict) -> Checked:
    return check_file(request.app.state.holder.settings, model.territories.cog, data, meta["name"], meta.get("chosen"))


def _member_period(member) -> str:
    return period_text(member.start, member.end) if member.start or member.end else "celle du dispositif"


def _change_rows(model: Model, found: list[Change]) -> list[dict]:
    out = []
    for c in found:
        scheme = model.catalogue.schemes.get(c.scheme)
        scale = scheme.member_scale if scheme else "commune"
        m = c.after or c.before
        source = m.source
        out.append({"scheme": scheme.name if scheme else c.scheme, "code": c.code, "nom": model.names(scale).get(c.code, c.code),
                    "status": c.status, "css": STATUS_CSS[c.status], "role": m.role or "", "period": _member_period(m),
                    "source": source.title if source else "", "url": source.url if source else None, "note": m.note or ""})
    return out


@router.get("/apercu/{token}")
def preview(request: Request, admin: AdminDep, guard: GuardDep, model: ModelDep,
            token: Annotated[str, PathParam(pattern=TOKEN)]) -> Response:
    """The validation report of an upload, or the changes its publication would make (per scheme, map and table)."""
    try:
        data, meta = _staged(request, admin, token)
    except StagedGone:
        return _gone(admin, guard)
    checked = _check(request, model, data, meta)
    context = {"title": "Vérification du fichier", "admin": admin, "csrf": guard.form_token(admin.subject), "token": token,
               "file_name": meta["name"], "chosen": meta.get("chosen"), "size": _size(len(data)),
               "sha256": checked.upload.sha256 if checked.upload else "", "problems": checked.problems,
               "rows": len(checked.members.entries)}
    if checked.problems:
        return page("preview.html", 422, **context)
    found = list(checked.changes)
    settings = request.app.state.holder.settings
    after = {**memberstore.content(settings, memberstore.in_service(settings)), **checked.members.by_scheme()}
    per_scheme = [{"id": sid, "name": model.catalogue.schemes[sid].name if sid in model.catalogue.schemes else sid,
                   "added": sum(c.scheme == sid and c.status == "ajouté" for c in found),
                   "removed": sum(c.scheme == sid and c.status == "retiré" for c in found),
                   "changed": sum(c.scheme == sid and c.status == "modifié" for c in found), "after": len(after.get(sid, ()))}
                  for sid in checked.members.schemes]
    scales = {sid: model.catalogue.schemes[sid].member_scale for sid in checked.members.schemes if sid in model.catalogue.schemes}
    names = {level: model.names(level) for level in set(scales.values()) | {"commune"} if level != "quartier"}
    svg = change_map(model, found, scales, names) if found else ""
    return page("preview.html", 200, **context, per_scheme=per_scheme, changes=_change_rows(model, found), map_svg=svg,
                legend=legend_items())


def _size(n: int) -> str:
    return f"{n:,} octets".replace(",", "\u202f") if n < 10_000 else f"{n / 1024:,.0f} Kio".replace(",", "\u202f")


def _gone(admin: Admin, guard: Guard) -> HTMLResponse:
    return page("message.html", 404, title="Aperçu introuvable", admin=admin, csrf=guard.form_token(admin.subject),
                message="Cet aperçu n'existe plus (il expire au bout d'une heure, ou a déjà été publié) : déposez de nouveau le fichier.")


@router.post("/apercu/{token}/publier")
async def publish_upload(request: Request, admin: AdminDep, guard: GuardDep, holder: HolderDep,
                         token: Annotated[str, PathParam(pattern=TOKEN)]) -> Response:
    """Publish a previewed upload as a new version (checked again first: a failed validation publishes nothing)."""
    await _form(request, guard, admin)
    try:
        data, meta = _staged(request, admin, token)
    except StagedGone:
        return _gone(admin, guard)
    model = holder.model
    checked = await run_in_threadpool(_check, request, model, data, meta)
    if not checked.ok:
        return RedirectResponse(f"/admin/apercu/{token}", status_code=303)
    try:
        record = await run_in_threadpool(publish_members, holder.settings, checked.members.by_scheme(), admin.who, checked.upload)
    except TerritoiresError as exc:
        return page("message.html", exc.status if exc.status != 500 else 422, title="Publication refusée", admin=admin,
                    csrf=guard.form_token(admin.subject), message=f"Rien n'a été publié : {exc}")
    shutil.rmtree(_staging(request) / token, ignore_errors=True)
    await run_in_threadpool(holder.reload)  # this worker serves it at once; the others within a second
    return RedirectResponse(f"/admin/versions?publiee={record['version']}", status_code=303)


# --- versions ------------------------------------------------------------------------------------------------------

def version_rows(model: Model, records: list[dict]) -> list[dict]:
    """The versions as people read them: French date and time, changes by scheme with counts."""
    out = []
    for r in records:
        when = dt.datetime.fromisoformat(r["published_at"]).astimezone(PARIS)
        changes = []
        for sid, c in r["changes"].items():
            name = model.catalogue.schemes[sid].name if sid in model.catalogue.schemes else sid
            parts = [f"{len(c[k])} {label}" for k, label in (("added", "ajouté(s)"), ("removed", "retiré(s)"), ("changed", "modifié(s)")) if c[k]]
            changes.append(f"{name} : {', '.join(parts) or 'aucun changement'}")
        out.append({**r, "when": f"{fr_date(when.date())} à {when:%H h %M}", "changes": changes})
    return out


@router.get("/versions")
def versions_page(request: Request, admin: AdminDep, guard: GuardDep, model: ModelDep, publiee: int | None = None) -> Response:
    """Every version kept, who published it, when, from which file, what changed; roll back to any of them."""
    settings = request.app.state.holder.settings
    rows = version_rows(model, memberstore.history(settings))
    if memberstore.in_service(settings) != 0:
        rows.append({"version": 0, "when": "—", "by": "—", "restores": None, "file": None, "in_service": False,
                     "changes": ["État sans aucune liste importée (membres déclarés dans les fichiers du catalogue seulement)"]})
    message = f"La version {publiee} est en service." if publiee is not None else None
    return page("versions.html", title="Versions publiées des listes de membres", admin=admin, csrf=guard.form_token(admin.subject),
                versions=rows, keep=settings.keep_versions, message=message)


@router.post("/versions/{number}/retablir")
async def restore(request: Request, admin: AdminDep, guard: GuardDep, holder: HolderDep,
                  number: Annotated[int, PathParam(ge=0)]) -> Response:
    """Roll back to a version in one step (a new version restoring it)."""
    await _form(request, guard, admin)
    try:
        record = await run_in_threadpool(rollback, holder.settings, number, admin.who)
    except TerritoiresError as exc:
        return page("message.html", exc.status if exc.status != 500 else 422, title="Retour impossible", admin=admin,
                    csrf=guard.form_token(admin.subject), message=f"Rien n'a changé : {exc}")
    await run_in_threadpool(holder.reload)
    return RedirectResponse(f"/admin/versions?publiee={record['version']}", status_code=303)


@router.get("/versions/{number}/fichier")
def version_file(request: Request, admin: AdminDep, number: Annotated[int, PathParam(ge=1)]) -> Response:
    """The file a version was published from, as it was received (a download, never displayed)."""
    path = memberstore.upload_path(request.app.state.holder.settings, number)
    if path is None or not path.is_file():
        raise memberstore.UnknownVersion(f"La version {number} n'a pas de fichier (c'est un retour à une version antérieure).")
    name = memberstore.record(request.app.state.holder.settings, number)["file"]["name"]
    return FileResponse(path, media_type="application/octet-stream",
                        headers={"Content-Disposition": f"attachment; filename=\"version-{number}{path.suffix}\"; "
                                                        f"filename*=UTF-8''{quote(name)}", "Cache-Control": "no-store"})


# --- mounting ----------------------------------------------------------------------------------------------------

def install_admin(app: FastAPI, guard: Guard) -> None:
    """Mount /admin with its answers to a missing credential (401), a bad form token (403), too many logins (429)."""
    app.state.admin_guard = guard
    app.include_router(router)

    @app.exception_handler(AuthRequired)
    async def unauthorised(request: Request, exc: AuthRequired) -> Response:
        return login_page(request, guard)

    @app.exception_handler(CsrfFailed)
    async def forged(request: Request, exc: CsrfFailed) -> Response:
        return page("message.html", 403, title="Formulaire refusé", admin=None,
                    message="Ce formulaire n'a pas été envoyé depuis votre session d'administration (jeton absent ou expiré) : "
                            "rechargez la page et recommencez.")

    @app.exception_handler(TooManyLogins)
    async def too_many(request: Request, exc: TooManyLogins) -> Response:
        minutes = max(1, round(exc.retry_after / 60))
        response = page("message.html", 429, title="Trop de tentatives", admin=None,
                        message=f"Trop de tentatives de connexion : réessayez dans {minutes} minute{'s' if minutes > 1 else ''}.")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
