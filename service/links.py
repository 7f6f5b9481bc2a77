"""The addresses of the planners' pages, written once: a territory's page, and the date a link keeps.

A page asked at a date (``?date=2016-06-01``) links to the other pages at that date, so a reader browsing the
situation of 2016 stays in 2016; a page asked without a date links without one (today, whatever day it is read).
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode


def territory_href(level: str, code: str) -> str:
    """The page of a territory: its code (a région's written 'region:…', which a département's code could shadow)."""
    return f"/territoires/{'region:' if level == 'region' else ''}{code}"


def dated(href: str, asked: dt.date | None) -> str:
    """``href`` keeping the date a page was asked at (before its fragment); unchanged without one."""
    if asked is None:
        return href
    path, hash_, fragment = href.partition("#")
    joiner = "&" if "?" in path else "?"
    return f"{path}{joiner}{urlencode({'date': asked.isoformat()})}{hash_}{fragment}"
