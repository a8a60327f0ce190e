"""Project stores: where a project keeps its layers (see :mod:`gisrenew.store.base`).

* :mod:`gisrenew.store.geopackage` — one GeoPackage in the project folder (the default);
* :mod:`gisrenew.store.postgis` — one schema of a PostgreSQL + PostGIS database.

:func:`open_store` picks the store ``[project]`` of ``gisrenew.toml`` names.
"""

from __future__ import annotations

from pathlib import Path

from gisrenew.config import ProjectConfig
from gisrenew.store.base import Store
from gisrenew.store.geopackage import GeoPackageStore
from gisrenew.store.postgis import PostgisStore

__all__ = ["open_store"]


def open_store(folder: Path, config: ProjectConfig) -> Store:
    """The store of the project in `folder` whose settings are `config` (nothing is opened)."""
    if config.in_database:
        return PostgisStore(str(config.store), str(config.schema), Path(folder))
    return GeoPackageStore(Path(folder) / config.gpkg, Path(folder))
