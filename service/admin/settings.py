"""Settings of the protected /admin page, from the environment; the page exists only when one credential is set.

Two ways in (either or both): a password, stored as its argon2 hash (``TERRITOIRES_ADMIN_PASSWORD_HASH``, made by
`territoires admin hash-password`), or the identity header of a reverse proxy that authenticates
(``TERRITOIRES_ADMIN_PROXY_HEADER``), believed only from the proxy's own addresses (``TERRITOIRES_ADMIN_PROXY_ADDRESSES``).
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

MB = 1024 * 1024


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _number(name: str, default: float) -> float:
    value = _env(name)
    try:
        return float(value) if value is not None else default
    except ValueError:
        raise ValueError(f"{name} is {value!r}: write a number (default {default:g})") from None


def _addresses() -> tuple[str, ...]:
    text = _env("TERRITOIRES_ADMIN_PROXY_ADDRESSES") or "127.0.0.1,::1"
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            out.append(str(ipaddress.ip_address(part)))
        except ValueError:
            raise ValueError(f"TERRITOIRES_ADMIN_PROXY_ADDRESSES holds {part!r}, which is not an IP address: list the reverse "
                             "proxy's addresses, comma-separated") from None
    return tuple(out)


@dataclass(frozen=True)
class AdminSettings:
    """Who may use /admin, and the bounds of what it accepts."""

    password_hash: str | None = field(default_factory=lambda: _env("TERRITOIRES_ADMIN_PASSWORD_HASH"))
    proxy_header: str | None = field(default_factory=lambda: _env("TERRITOIRES_ADMIN_PROXY_HEADER"))
    proxy_addresses: tuple[str, ...] = field(default_factory=_addresses)
    #: Signs the session and form tokens; by default a random key kept in the data directory (shared by the workers).
    secret: str | None = field(default_factory=lambda: _env("TERRITOIRES_ADMIN_SECRET"))
    max_upload_bytes: int = field(default_factory=lambda: int(_number("TERRITOIRES_ADMIN_MAX_UPLOAD_MB", 5) * MB))
    session_seconds: int = field(default_factory=lambda: int(_number("TERRITOIRES_ADMIN_SESSION_HOURS", 8) * 3600))
    #: Failed logins allowed per client address, and from all clients together, in each window; beyond: 429.
    login_per_client: int = field(default_factory=lambda: int(_number("TERRITOIRES_ADMIN_LOGIN_LIMIT", 5)))
    login_global: int = field(default_factory=lambda: int(_number("TERRITOIRES_ADMIN_LOGIN_GLOBAL_LIMIT", 50)))
    login_window_seconds: int = 15 * 60

    def __post_init__(self) -> None:
        if self.password_hash is not None and not self.password_hash.startswith("$argon2"):
            raise ValueError("TERRITOIRES_ADMIN_PASSWORD_HASH is not an argon2 hash: make one with `territoires admin hash-password` "
                             "(never put the password itself in the setting)")
        if self.proxy_header is not None and not self.proxy_header.replace("-", "").isalnum():
            raise ValueError(f"TERRITOIRES_ADMIN_PROXY_HEADER {self.proxy_header!r} is not a header name (e.g. X-Remote-User)")
        if self.max_upload_bytes <= 0:
            raise ValueError("TERRITOIRES_ADMIN_MAX_UPLOAD_MB must be positive")

    @property
    def enabled(self) -> bool:
        """True when a credential is configured: otherwise no /admin route exists."""
        return self.password_hash is not None or self.proxy_header is not None
