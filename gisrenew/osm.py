"""Read walkable streets from an OpenStreetMap extract (``.osm.pbf`` / ``.osm``).

For cities whose own road data is missing or incomplete. Needs pyosmium
(``pip install "gisrenew[osm]"``). The result is a ``roads`` layer
(:mod:`gisrenew.schema`) in a metric working CRS, ready for
:func:`gisrenew.network.walk_graph_from_roads`.

Which ways are walkable (our own rule, close to common pedestrian-routing practice):

* every way with a ``highway`` tag except ``motorway``/``motorway_link``, ways under
  construction or only planned (``construction``, ``proposed``, ``planned``,
  ``abandoned``, ``razed``), ``raceway``, ``bus_guideway``, ``busway``, ``escape``;
* not ``motorroad=yes`` (motor vehicles only, e.g. many 城市快速路);
* not ``foot=no``/``private``/``use_sidepath`` (the sidewalk is mapped separately),
  nor ``access=no``/``private`` unless ``foot`` allows walking;
* ``cycleway`` and ``bridleway`` only with ``foot=yes``/``designated``/``permissive``;
* closed ``area=yes`` ways only for ``highway=pedestrian`` (squares: their outline).

``level`` is the ``layer`` tag when it is a whole number, otherwise 1 for
``bridge=*`` and -1 for ``tunnel=*`` (``no`` excepted), otherwise 0. OSM joins ways only
at shared nodes, so pass ``node_crossings=False`` to
:func:`~gisrenew.network.walk_graph_from_roads` to keep exactly OSM's topology.
"""

from __future__ import annotations

import logging
import os

import geopandas as gpd
import numpy as np
import shapely

from gisrenew.crs import pick_working_crs
from gisrenew.errors import ReadError

__all__ = ["NOT_WALKABLE_HIGHWAYS", "is_walkable", "roads_from_osm"]

log = logging.getLogger(__name__)

NOT_WALKABLE_HIGHWAYS = frozenset(
    {
        "motorway", "motorway_link", "construction", "proposed", "planned", "abandoned",
        "razed", "raceway", "bus_guideway", "busway", "escape", "platform", "rest_area",
        "services",
    }
)  # fmt: skip
_FOOT_OK = frozenset({"yes", "designated", "permissive"})
_FOOT_NO = frozenset({"no", "private", "use_sidepath"})
_FOOT_ONLY_IF_ALLOWED = frozenset({"cycleway", "bridleway"})


def is_walkable(tags: dict) -> bool:
    """Whether an OSM way with these tags can be walked (see module docs).

    Examples
    --------
    >>> is_walkable({"highway": "footway"}), is_walkable({"highway": "motorway"})
    (True, False)
    >>> is_walkable({"highway": "cycleway"}), is_walkable({"highway": "cycleway", "foot": "yes"})
    (False, True)
    """
    highway = tags.get("highway")
    if not highway or highway in NOT_WALKABLE_HIGHWAYS:
        return False
    foot = tags.get("foot", "")
    if foot in _FOOT_NO or tags.get("motorroad") == "yes":
        return False
    if tags.get("access") in ("no", "private") and foot not in _FOOT_OK:
        return False
    if highway in _FOOT_ONLY_IF_ALLOWED and foot not in _FOOT_OK:
        return False
    return not (tags.get("area") == "yes" and highway != "pedestrian")


def _level(tags: dict) -> int:
    layer = tags.get("layer", "").strip()
    try:
        return int(layer)
    except ValueError:
        pass
    if tags.get("bridge", "no") != "no":
        return 1
    if tags.get("tunnel", "no") != "no":
        return -1
    return 0


def roads_from_osm(
    path: str | os.PathLike,
    *,
    working_crs=None,
    walkable_only: bool = True,
) -> gpd.GeoDataFrame:
    """Read the streets of an OpenStreetMap extract as a ``roads`` layer.

    Parameters
    ----------
    path : path
        ``.osm.pbf``, ``.osm`` (XML) or any format pyosmium reads.
    working_crs : CRS-like, optional
        Metric CRS of the result; by default the CGCS2000 Gauss-Krüger zone (or UTM zone)
        of the data's extent (:func:`gisrenew.crs.pick_working_crs`).
    walkable_only : bool, default True
        Keep only walkable ways; with ``False`` every ``highway`` way is returned and the
        ``walkable`` column says which ones are.

    Returns
    -------
    geopandas.GeoDataFrame
        ``road_id`` (``w<osm id>``), ``name``, ``road_class`` (the ``highway`` value),
        ``walkable``, ``level``, ``osm_id``, LineString geometry.

    Raises
    ------
    ImportError
        When pyosmium is not installed.
    ReadError
        When the file does not exist or cannot be read.
    """
    try:
        import osmium
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "reading OpenStreetMap files needs pyosmium: pip install 'gisrenew[osm]' "
            "(or pip install osmium)"
        ) from None
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ReadError(f"{path}: no such OpenStreetMap file")

    wkb = osmium.geom.WKBFactory()
    ids, names, classes, walkable, levels, geoms = [], [], [], [], [], []
    broken = 0
    try:
        processor = (
            osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for obj in processor:
            if not obj.is_way():
                continue
            tags = dict(obj.tags)
            ok = is_walkable(tags)
            if walkable_only and not ok:
                continue
            try:
                geoms.append(wkb.create_linestring(obj))
            except (osmium.InvalidLocationError, RuntimeError):
                broken += 1  # nodes missing from the extract, or fewer than two locations
                continue
            ids.append(obj.id)
            names.append(tags.get("name", ""))
            classes.append(tags.get("highway", ""))
            walkable.append(ok)
            levels.append(_level(tags))
    except RuntimeError as exc:
        raise ReadError(f"{path}: cannot read the OpenStreetMap file: {exc}") from None
    if broken:
        log.warning(
            "%s: %d highway way(s) without usable node locations were skipped", path, broken
        )
    geometry = shapely.from_wkb(np.asarray(geoms, dtype=object)) if geoms else []
    frame = gpd.GeoDataFrame(
        {
            "road_id": [f"w{i}" for i in ids],
            "name": names,
            "road_class": classes,
            "walkable": np.asarray(walkable, dtype=bool),
            "level": np.asarray(levels, dtype=np.int64),
            "osm_id": np.asarray(ids, dtype=np.int64),
        },
        geometry=geometry,
        crs="EPSG:4326",
    )
    if frame.empty:
        log.warning("%s: no walkable highway ways found", path)
        if working_crs is not None:
            frame = frame.to_crs(working_crs)
        return frame
    target = working_crs if working_crs is not None else pick_working_crs(frame.total_bounds)
    log.info("%s: %d ways read, reprojected to %s", path, len(frame), target)
    return frame.to_crs(target)
