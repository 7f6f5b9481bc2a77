"""Declared data: dataset sources (sources.yaml) and the scheme membership catalogue (schemes/)."""
from pathlib import Path

DIR = Path(__file__).parent
SOURCES = DIR / "sources.yaml"
SCHEMES_DIR = DIR / "schemes"
