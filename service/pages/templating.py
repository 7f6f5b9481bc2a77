"""The pages' Jinja2 environment: templates shipped with the package, every value escaped, links from the data only to
web addresses (``is web_address``: a javascript: URL in a scheme file is shown as text), and the filters that write the
model's facts in French (geo/wording.py, geo/periods.py through geo/mapspec.py)."""
from __future__ import annotations

import datetime as dt
from functools import cache

import jinja2

from geo import wording
from geo.kinds import kind_label
from geo.mapspec import fr_date, period_text
from service.pages.views import territory_href


@cache
def environment() -> jinja2.Environment:
    """The templates of service/pages/templates, autoescaped, strict about undefined names."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("service.pages", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(
        date=fr_date, number=wording.number, inhabitants=wording.inhabitants, area=wording.area,
        level=wording.level_name, kind=kind_label, upper_first=wording.upper_first, period=period_text, path=wording.path_words,
        doll=lambda d: wording.doll_name(d.level, d.kind), isodate=lambda text: fr_date(dt.date.fromisoformat(str(text))),
        membership=lambda row: wording.membership_period(row["start"], row["end"], row["start_basis"], row["end_basis"]),
    )
    env.tests["web_address"] = lambda url: isinstance(url, str) and url.strip().lower().startswith(("https://", "http://"))
    env.globals.update(doll_href=lambda d: territory_href(d.level, d.code), territory_href=territory_href)
    return env


def render(template: str, **context: object) -> str:
    """A page from its template and context."""
    return environment().get_template(template).render(**context)
