"""Placing a territory given only by its name: a normalised comparison with the 2026 EPCI names, never a guess.

Normalisation: accents, case, punctuation, the words of the legal form ("Communauté de communes" = "CC"),
"Saint"/"St" and articles. A name is placed when it equals exactly one EPCI name, first with the legal form
and then, if that finds nothing, without it; several candidates or none: not placed.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pandas as pd

_FORMS = (
    (r"\bcommunaute de communes\b", "cc"), (r"\bcommunaute d agglomeration\b", "ca"),
    (r"\bcommunaute urbaine\b", "cu"), (r"\bagglomeration\b", "agglo"),
)
_WORDS = {"st": "saint", "ste": "sainte"}
_STOP = {"de", "du", "des", "d", "la", "le", "les", "l", "et"}
_LEGAL = {"cc", "ca", "cu", "metropole"}


def normalise(name: str) -> str:
    """A comparable form of a name: lower case, no accent or punctuation, legal forms abbreviated, no article."""
    text = str(name).replace("œ", "oe").replace("Œ", "oe")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\([^)]*\)", " ", text)  # "(CABBALR)", "(fusion 2 CC)", "(partie rurale)"
    text = re.sub(r"[^a-z0-9]+", " ", text)
    for pattern, short in _FORMS:
        text = re.sub(pattern, short, text)
    words = [_WORDS.get(w, w) for w in text.split()]
    return " ".join(w for w in words if w not in _STOP)


def _core(normalised: str) -> str:
    """A normalised name without its legal form."""
    return " ".join(w for w in normalised.split() if w not in _LEGAL)


@lru_cache(maxsize=4)
def _index(codes: tuple[str, ...], names: tuple[str, ...]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    full: dict[str, list[str]] = {}
    core: dict[str, list[str]] = {}
    for code, name in zip(codes, names):
        n = normalise(name)
        full.setdefault(n, []).append(code)
        core.setdefault(_core(n), []).append(code)
    return full, core


def match_epci(name: str, epci: pd.DataFrame) -> tuple[str | None, str]:
    """(SIREN, note) of the one 2026 EPCI whose name matches ``name``, or (None, the reason it is not placed)."""
    full, core = _index(tuple(epci["code"]), tuple(epci["nom"]))
    n = normalise(name)
    names = dict(zip(epci["code"], epci["nom"]))
    for table, key, how in ((full, n, "même nom"), (core, _core(n), "même nom sans la forme juridique")):
        found = table.get(key, []) if key else []
        if len(found) == 1:
            return found[0], f"nom de la source « {name.strip()} » ; {how} que l'EPCI 2026 {names[found[0]]}"
        if len(found) > 1:
            return None, f"{len(found)} EPCI 2026 portent ce nom : {', '.join(sorted(found))}"
    return None, "aucun EPCI 2026 de ce nom"
