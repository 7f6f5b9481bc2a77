"""Who is at /admin: a password session or a reverse proxy's identity header; signed form tokens (CSRF); failed
logins counted per client and overall, across workers; uploads bounded before they are read.

Sessions and form tokens are signed with itsdangerous (HMAC, with an expiry), by a key every worker of the deployment
shares (``TERRITOIRES_ADMIN_SECRET``, or a random key created once in the data directory, readable by its owner
only). Cookies are HttpOnly, SameSite=Strict, limited to /admin, and Secure over HTTPS.
"""
from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from geo.cachefiles import locked, write_atomic
from geo.config import Settings
from service.admin.settings import AdminSettings

SESSION_COOKIE, LOGIN_COOKIE = "territoires_admin", "territoires_admin_login"
COOKIE_PATH = "/admin"
MAX_NAME = 80


@dataclass(frozen=True)
class Admin:
    """A person let in: who (recorded with what they publish), how, and the session's id (its form tokens' subject)."""

    who: str
    via: str  # "mot de passe" or "mandataire"
    subject: str


class AuthRequired(Exception):
    """No valid credential: answered 401 (with the login form when a password is configured)."""


class CsrfFailed(Exception):
    """A form without the token of this session: answered 403."""


class TooManyLogins(Exception):
    """Too many failed logins from this client or overall: answered 429 with Retry-After."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after


def admin_dir(settings: Settings) -> Path:
    return settings.data_dir / "admin"


def _secret(admin: AdminSettings, settings: Settings) -> str:
    """The signing key: the setting, else a random key created once in the data directory (mode 0600)."""
    if admin.secret:
        return admin.secret
    path = admin_dir(settings) / "secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):  # another worker made it first: keep theirs
            os.link(tmp, path)
        tmp.unlink()
    return path.read_text().strip()


class Guard:
    """The credentials of /admin and their tokens, for one app."""

    def __init__(self, admin: AdminSettings, settings: Settings):
        self.admin, self.settings = admin, settings
        key = _secret(admin, settings)
        self.sessions = URLSafeTimedSerializer(key, salt="territoires-admin-session")
        self.forms = URLSafeTimedSerializer(key, salt="territoires-admin-form")
        self.logins = LoginLimiter(admin_dir(settings) / "logins.json", admin)
        self.hasher = PasswordHasher()

    # --- who is there ---------------------------------------------------------------------------------------------

    def identify(self, request: Request) -> Admin:
        """The person behind a request; AuthRequired when there is none."""
        client = request.client.host if request.client else ""
        if self.admin.proxy_header and client in self.admin.proxy_addresses:
            who = request.headers.get(self.admin.proxy_header, "").strip()
            if who:
                return Admin(who[:MAX_NAME], "mandataire", f"proxy:{who}")
        if self.admin.password_hash:
            token = request.cookies.get(SESSION_COOKIE)
            if token:
                try:
                    data = self.sessions.loads(token, max_age=self.admin.session_seconds)
                    return Admin(str(data["who"]), "mot de passe", str(data["sid"]))
                except (BadSignature, KeyError, TypeError):
                    pass
        raise AuthRequired

    def check_password(self, request: Request, password: str) -> bool:
        """Verify a password against the hash, after the login limits; a failure is counted."""
        client = request.client.host if request.client else "-"
        self.logins.check(client)
        try:
            ok = bool(self.admin.password_hash) and self.hasher.verify(self.admin.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
        self.logins.record(client, ok)
        return ok

    def session_cookie(self, who: str) -> str:
        return self.sessions.dumps({"who": who, "sid": secrets.token_urlsafe(16)})

    # --- form tokens (CSRF) ---------------------------------------------------------------------------------------

    def form_token(self, subject: str) -> str:
        """A token bound to a session (or to the login cookie's nonce), signed and expiring with the session."""
        return self.forms.dumps(subject)

    def check_form(self, token: str | None, subject: str) -> None:
        """CsrfFailed unless ``token`` is this app's signature of ``subject``, not expired."""
        try:
            value = self.forms.loads(token or "", max_age=self.admin.session_seconds)
        except BadSignature:
            raise CsrfFailed from None
        if not isinstance(value, str) or not hmac.compare_digest(value, subject):
            raise CsrfFailed


class LoginLimiter:
    """Failed logins in a sliding window, kept in one small file under an flock, so every worker counts them all."""

    def __init__(self, path: Path, admin: AdminSettings):
        self.path, self.admin = path, admin

    def _read(self, now: float) -> list[list]:
        try:
            entries = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return []
        cutoff = now - self.admin.login_window_seconds
        return [e for e in entries if isinstance(e, list) and len(e) == 2 and isinstance(e[1], (int, float)) and e[1] > cutoff]

    def check(self, client: str) -> None:
        """TooManyLogins when this client, or all clients together, failed too often in the window."""
        now = time.time()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with locked(self.path.with_name(".logins.lock"), shared=True):
            entries = self._read(now)
        mine = [t for c, t in entries if c == client]
        for failures, limit in ((mine, self.admin.login_per_client), ([t for _, t in entries], self.admin.login_global)):
            if len(failures) >= limit:
                raise TooManyLogins(max(1, int(min(failures) + self.admin.login_window_seconds - now)))

    def record(self, client: str, ok: bool) -> None:
        """Count a failure; a success clears this client's failures."""
        now = time.time()
        with locked(self.path.with_name(".logins.lock")):
            entries = self._read(now)
            entries = [e for e in entries if e[0] != client] if ok else entries + [[client, now]]
            write_atomic(self.path, json.dumps(entries[-10_000:]).encode())


class UploadLimit:
    """Pure ASGI middleware: a POST to /admin whose body is larger than the limit is refused with 413, from its
    Content-Length before anything is read, or as soon as the bytes received pass the limit."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH") or not scope["path"].startswith("/admin"):
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await self._refuse(send)
        received, started = 0, False

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracked(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send) -> None:
        limit = self.max_bytes / (1024 * 1024)
        body = ("<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Fichier trop volumineux</title></head><body>"
                f"<h1>Fichier trop volumineux</h1><p>Un envoi à l'administration est limité à {limit:g} Mo "
                "(TERRITOIRES_ADMIN_MAX_UPLOAD_MB). Déposez une liste par dispositif, sans images ni autres feuilles.</p>"
                "<p><a href=\"/admin\">Retour à l'administration</a></p></body></html>").encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    """The body passed the upload limit while it was being received."""
