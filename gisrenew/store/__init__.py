"""Project stores: where a project keeps its layers (see :mod:`gisrenew.store.base`).

* :mod:`gisrenew.store.geopackage` — one GeoPackage in the project folder (the default);

:func:`open_store` picks the store ``[project]`` of ``gisrenew.toml`` names.
"""

from __future__ import annotations

from pathlib import Path

from gisrenew.config import ProjectConfig
from gisrenew.store.base import Store
from gisrenew.store.geopackage import GeoPackageStore

__all__ = ["open_store"]


def open_store(folder: Path, config: ProjectConfig) -> Store:
    """The store of the project in `folder` whose settings are `config` (nothing is opened)."""
    return GeoPackageStore(Path(folder) / config.gpkg, Path(folder))
