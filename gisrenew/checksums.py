"""SHA-256 checksums of input files and layers, so a figure can be traced to its inputs.

The run history (:mod:`gisrenew.recompute.history`) records the checksum of every file
a recompute read; the indicator sheet (:mod:`gisrenew.reporting`) the checksum of every
conformed layer its figures were computed from. Both use these two functions.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from gisrenew.geometry import geometry_array

__all__ = ["file_sha256", "frame_sha256"]


def file_sha256(path: Path) -> str:
    """SHA-256 of a file (for a Shapefile: of its .shp, .shx, .dbf, .prj and .cpg together)."""
    digest = hashlib.sha256()
    paths = [path]
    if path.suffix.lower() == ".shp":
        sidecars = (path.with_suffix(s) for s in (".shp", ".shx", ".dbf", ".prj", ".cpg"))
        paths = [p for p in sidecars if p.exists()]
    for part in paths:
        with open(part, "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def frame_sha256(gdf: gpd.GeoDataFrame) -> str:
    """SHA-256 of a GeoDataFrame's geometry (normalized WKB) and attribute values."""
    digest = hashlib.sha256()
    for wkb in shapely.to_wkb(shapely.normalize(geometry_array(gdf)), hex=False):
        digest.update(wkb)
    attributes = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    digest.update(attributes.astype(str).to_csv(index=False).encode("utf-8"))
    return digest.hexdigest()
