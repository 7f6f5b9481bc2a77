"""The one Jinja2 environment of the service's pages and HTML components (service/templates/: ``pages/`` for the
planners' pages, ``time/`` for the timelines, the typology chart and the what-changed page): every value escaped,
strict about undefined names, links from the data only to web addresses (``is web_address``: a javascript: URL in a
scheme file is shown as text), and the filters that write the model's facts in French (geo/wording.py, dates by
geo/periods.py through geo/mapspec.py).

The /admin pages keep their own environment (service/admin/pages.py): their templates are the admin package's, with
their own layout, and none of these filters."""
from __future__ import annotations

import datetime as dt
from functools import cache

import jinja2

from geo import wording
from geo.kinds import kind_label
from geo.mapspec import fr_date, period_text
from service.links import dated, territory_href


def _isodate(text: object) -> str:
    """An ISO date of a data file written in French."""
    return fr_date(dt.date.fromisoformat(str(text)))


def _membership(row: object) -> str:
    """A membership's period in words, its own dates told apart from its scheme's."""
    return wording.membership_period(row["start"], row["end"], row["start_basis"], row["end_basis"])  # type: ignore[index]


@cache
def environment() -> jinja2.Environment:
    """The templates of service/templates, autoescaped, strict about undefined names."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("service", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(
        date=fr_date, number=wording.number, percent=wording.percent, inhabitants=wording.inhabitants, area=wording.area,
        level=wording.level_name, kind=kind_label, upper_first=wording.upper_first, period=period_text, path=wording.path_words,
        doll=lambda d: wording.doll_name(d.level, d.kind), isodate=_isodate, membership=_membership, dated=dated,
    )
    env.tests["web_address"] = lambda url: isinstance(url, str) and url.strip().lower().startswith(("https://", "http://"))
    env.globals.update(doll_href=lambda d: territory_href(d.level, d.code), territory_href=territory_href)
    return env


def render(template: str, **context: object) -> str:
    """A template of service/templates rendered with ``context`` (every value escaped)."""
    return environment().get_template(template).render(**context)
