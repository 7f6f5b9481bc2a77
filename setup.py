"""Build hooks: the JS/CSS the map pages load become package data (service/vendor.py prepares them).

An sdist carries ``service/static/assets`` prepared from the npm lock, so the wheel builds from it with no Node;
a build from a checkout prepares them first (``npm ci`` when node_modules is absent). Metadata is in pyproject.toml.
"""
import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist


def _prepare_assets() -> None:
    spec = importlib.util.spec_from_file_location("territoires_vendor", Path(__file__).resolve().parent / "service" / "vendor.py")
    vendor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vendor)
    try:
        vendor.ensure()
    except (vendor.PrepareError, OSError) as exc:
        raise SystemExit(f"error: {exc}") from None


class BuildPy(build_py):
    """Prepare the assets, then list package data afresh (it may have been listed before they existed)."""

    def run(self) -> None:
        _prepare_assets()
        self.__dict__.pop("data_files", None)
        super().run()


class Sdist(sdist):
    """Prepare the assets before the file list is made, so that the sdist carries them."""

    def run(self) -> None:
        _prepare_assets()
        super().run()


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
