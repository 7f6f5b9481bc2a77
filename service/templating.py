"""The Jinja2 environment of the service's HTML components and pages (service/templates/), escaping every value."""
from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from geo.periods import french_date

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _number(value: float) -> str:
    """12 345 (narrow no-break space between thousands)."""
    return f"{value:,.0f}".replace(",", "\u202f")


def _percent(value: float) -> str:
    """37,5 %."""
    return f"{value:.1f}".replace(".", ",") + "\u202f%"


environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "svg"], default=True),
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
environment.filters.update(fr_date=french_date, number=_number, percent=_percent)


def render(template: str, **context: object) -> str:
    """A template of service/templates rendered with ``context`` (every value escaped)."""
    return environment.get_template(template).render(**context)
