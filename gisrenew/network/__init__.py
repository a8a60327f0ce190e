"""The real ten-minute walk: park coverage by walking distance along streets.

A straight-line service radius overstates access: rivers, rail lines, walled compounds
and missing crossings make the walk longer. This package measures the walk along the
city's own street centre lines (the ``roads`` layer, or an OpenStreetMap extract via
:mod:`gisrenew.osm`), from each park's access points, as the "城市公园绿地十分钟服务圈"
intends.

Method (every step vectorized: numpy, shapely 2, scipy.sparse.csgraph)
----------------------------------------------------------------------
1. **Walk graph** (:func:`walk_graph_from_roads`): lines are noded where they cross at
   the same ``level`` (0 ground, 1 bridge, -1 tunnel; different levels join only at a
   shared vertex), duplicate and zero-length segments are removed, ``walkable = False``
   ways left out, optional ``barriers`` cut the ground-level streets they cross. Edge
   lengths are metres in the working CRS.
2. **Access points** (:func:`park_access`): the ``entrances`` layer when given (the link
   from an entrance to its street counts); otherwise the park's *frontage*: every stretch
   of ground-level street inside the park or within ``snap_distance_m`` (30 m) of its
   boundary; a park with no street that near is reached from the nearest street within
   ``connector_limit_m`` (the gap counts). Access positions are inserted into the graph
   at their exact place (edges are split).
3. **Distances** (:func:`walk_reach`): one multi-source Dijkstra from all access points
   at once (``scipy.sparse.csgraph.dijkstra(min_only=True)``). Tiers in the same pass:
   park ``p`` with walk limit ``r_p`` starts with a handicap of ``R - r_p`` (``R`` the
   largest limit), so ``handicapped walk <= R`` ⇔ some park's own limit is met.
4. **Per polygon**: the representative point (``point_on_surface``) of each piece of
   residential land goes straight to its nearest ground-level street (the connector
   counts; farther than ``connector_limit_m`` = unreachable, ``walk_status =
   "no_street"``, never covered), then along the street:
   ``connector + min(d(u) + offset, d(v) + length - offset)``.
5. **Coverage** (:func:`network_coverage`, module :mod:`gisrenew.network.coverage`) =
   area (or weight) of residential land whose walk meets a qualifying park's limit /
   all residential land inside the built-up area — the buffer method's denominator
   (:func:`gisrenew.coverage.residential_land`). A polygon counts whole or not at all.
6. **Service areas** (maps): reached street pieces, partly reached edges cut at the exact
   remaining distance, buffered by ``lateral_m`` (50 m).

Walk limits
-----------
``walk_distance_m=None`` (default): each qualifying park's **tier radius** is its walk
limit (tijian-2021: ≥ 5000 m² → 500 m walk, 2000–5000 m² → 300 m walk). An explicit
``walk_distance_m`` **replaces the limit of every qualifying park** (which parks qualify
still follows the rule set). Minutes convert with :func:`walk_distance_from_minutes`
(default 10 min at 4.8 km/h = 800 m; GB 50180-2018's ten-minute life circle says
~500 m, so say which one a report uses).
"""

from __future__ import annotations

from gisrenew.network.access import ParkAccess, park_access, snap_points
from gisrenew.network.areas import reached_pieces, service_polygons
from gisrenew.network.coverage import (
    DEFAULT_WALK_MINUTES,
    DEFAULT_WALK_SPEED_KMH,
    compare_methods,
    network_coverage,
    options_from_settings,
    park_service_areas,
    updated_network_coverage,
    walk_distance_from_minutes,
)
from gisrenew.network.graph import (
    WalkGraph,
    close_pairs,
    insert_points,
    merge_points,
    walk_graph_from_roads,
)
from gisrenew.network.walk import (
    PointSnap,
    Reach,
    snap_to_access_graph,
    walk_from_points,
    walk_reach,
)

__all__ = [
    "DEFAULT_WALK_MINUTES",
    "DEFAULT_WALK_SPEED_KMH",
    "ParkAccess",
    "PointSnap",
    "Reach",
    "WalkGraph",
    "close_pairs",
    "compare_methods",
    "insert_points",
    "merge_points",
    "network_coverage",
    "options_from_settings",
    "park_access",
    "park_service_areas",
    "reached_pieces",
    "service_polygons",
    "snap_points",
    "snap_to_access_graph",
    "updated_network_coverage",
    "walk_distance_from_minutes",
    "walk_from_points",
    "walk_graph_from_roads",
    "walk_reach",
]
