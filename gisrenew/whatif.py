"""What if a park were added here, or that one closed? The session behind ``gisrenew serve``.

A planner draws a pocket park 口袋公园 on the map, picks a candidate site 备选地块 or removes
an existing park, and sees at once what the city's coverage 公园绿地服务半径覆盖率 would be.
:class:`WhatIfSession` pays the cost once, when it opens — the project's inputs gathered
(:func:`gisrenew.inputs.gather_inputs`), every coverage figure computed by the one
orchestrator (:func:`gisrenew.indicators.compute_indicators`: straight line, and the walk
along streets when the project has roads) and the incremental engine
(:class:`gisrenew.coverage.IncrementalCoverage`) seeded from it — and then answers:

* :meth:`~WhatIfSession.evaluate` — a sketch's effect, never changing the project or the
  session: the engine's :meth:`~gisrenew.coverage.IncrementalCoverage.change_if` recomputes
  only the residential pieces the sketch's service areas reach, without applying it; the
  walk comes from :func:`gisrenew.indicators.walk_after_change` (only the new parks walked
  from when the sketch only adds). ``buffer.ratio_after`` equals a from-scratch
  :func:`~gisrenew.indicators.compute_indicators` with the sketch's parks (the tests
  check 1e-12);
* :meth:`~WhatIfSession.apply` — the sketch made real through
  :func:`gisrenew.recompute.recompute` (atomic, with a ``run_history`` row), then the
  session opens again on the changed project;
* :meth:`~WhatIfSession.save_candidate` — the sketch's drawn polygons kept as candidate
  sites (``candidates`` layer) for ``gisrenew sites``.

Sketches (:func:`read_sketch`) come from a web page, so every part is checked and a bad
one is a :class:`~gisrenew.errors.SketchError` naming the entry, what is wrong and the
fix (the server answers HTTP 422)::

    {"add": [{"type": "Feature",
              "geometry": {"type": "Polygon", "coordinates": [[[lon, lat], ...]]},
              "properties": {"name": "...", "park_class": "G14"}}],
     "remove": ["P012"],
     "candidates": ["C03"]}

Drawn geometry is WGS84 lon/lat (what Leaflet gives), Polygon or MultiPolygon, at most
:data:`MAX_FEATURES` features of at most :data:`MAX_VERTICES` vertices, finite
coordinates, inside the project's extent grown by :data:`EXTENT_MARGIN_M`. A
self-intersecting polygon (a bow tie drawn by a slip of the mouse) is **repaired**
(``shapely.make_valid``, its polygonal parts kept) and the answer says so
(``repaired``); one with no area left (below :data:`MIN_AREA_M2`) is refused.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew import coverage, jsonable, units
from gisrenew.coverage.blind_spots import blind_spot_table
from gisrenew.errors import SketchError
from gisrenew.geometry import geometry_array, polygonal_part
from gisrenew.indicators import Indicators, compute_indicators, walk_after_change
from gisrenew.inputs import ProjectInputs, gather_inputs
from gisrenew.io import conformed
from gisrenew.project import Project
from gisrenew.recompute import read_history, recompute
from gisrenew.results import CoverageResult

__all__ = [
    "EXTENT_MARGIN_M",
    "MAX_FEATURES",
    "MAX_VERTICES",
    "MIN_AREA_M2",
    "SESSION_KINDS",
    "Sketch",
    "WhatIfSession",
    "read_sketch",
]

#: At most this many parks a sketch adds (drawn and picked), and parks it removes.
MAX_FEATURES = 50
#: At most this many vertices in one drawn feature (all its rings).
MAX_VERTICES = 5000
#: Drawn parks must lie within the project's extent grown by this much (m).
EXTENT_MARGIN_M = 5000.0
#: A drawn park smaller than this (m², after repair) encloses no area: a slip of the
#: mouse, or a flat outline whose lon/lat round trip left a rounding remainder.
MIN_AREA_M2 = 1.0
#: Longest park name kept from a sketch (characters).
MAX_NAME_CHARS = 200
#: The project layers a session reads (plans and facilities are not what-if figures).
SESSION_KINDS = (
    "parks", "residential", "boundary", "districts", "roads", "entrances", "candidates",
)  # fmt: skip

_LONLAT = "EPSG:4326"
_KEYS = ("add", "remove", "candidates")
_GEOMETRY_TYPES = ("Polygon", "MultiPolygon")


# --------------------------------------------------------------------------- sketches


@dataclass(frozen=True)
class Sketch:
    """A checked sketch in the project's working CRS.

    Attributes
    ----------
    parks : geopandas.GeoDataFrame
        The parks it adds, drawn ones first, then the candidate sites picked:
        ``park_id`` (``sketch-1``, ... — never an id of the project), ``name``,
        ``park_class``, ``candidate_id`` (``""`` for a drawn park), ``repaired``
        (a self-intersecting drawing repaired), geometry.
    removed : list of str
        Ids of the project's parks it removes.
    drawn : int
        How many of `parks` were drawn (the first rows).
    """

    parks: gpd.GeoDataFrame
    removed: list[str]
    drawn: int

    @property
    def empty(self) -> bool:
        """True when the sketch adds and removes nothing."""
        return len(self.parks) == 0 and not self.removed


def _fail(where: str, what: str, fix: str) -> SketchError:
    """A :class:`SketchError`: the entry (``add[2]``; empty: the sketch), what, the fix."""
    return SketchError(f"sketch{' ' + where if where else ''}: {what}. Fix: {fix}")


def _id_list(sketch: Mapping, key: str, known: Sequence[str], what: str) -> list[str]:
    """The ids of `sketch[key]`, each one of `known` (duplicates dropped)."""
    value = sketch.get(key) or []
    if not isinstance(value, list):
        raise _fail(key, f"is a {type(value).__name__}", f"give a list of {what} ids")
    if len(value) > MAX_FEATURES:
        raise _fail(key, f"lists {len(value)} ids", f"give at most {MAX_FEATURES}")
    known_set = set(known)
    ids = []
    for number, item in enumerate(value):
        if not isinstance(item, (str, int)) or isinstance(item, bool):
            raise _fail(f"{key}[{number}]", f"is a {type(item).__name__}", f"give a {what} id")
        if str(item) not in known_set:
            shown = ", ".join(sorted(known_set)[:10]) or "none"
            more = ", ..." if len(known_set) > 10 else ""
            raise _fail(
                f"{key}[{number}]",
                f"no {what} with id {str(item)[:50]!r} in the project",
                f"pick one of the project's {what}s (ids: {shown}{more})",
            )
        ids.append(str(item))
    return list(dict.fromkeys(ids))


def _ring(where: str, ring: Any, budget: int) -> np.ndarray:
    """One ring's vertices as an (n, 2) float array of finite lon/lat."""
    if not isinstance(ring, list):
        raise _fail(where, "a ring is not a list of [lon, lat] positions", "send GeoJSON")
    if len(ring) > budget:
        raise _fail(
            where, f"has more than {MAX_VERTICES} vertices",
            "simplify the outline (fewer corners) or draw it in parts",
        )  # fmt: skip
    try:
        coords = np.asarray(ring, dtype=float)
    except (TypeError, ValueError):
        coords = np.zeros((0, 0))
    if coords.ndim != 2 or coords.shape[1] not in (2, 3) or len(coords) < 3:
        raise _fail(
            where, "a ring must be at least 3 [lon, lat] number pairs", "send GeoJSON positions"
        )
    coords = coords[:, :2]
    if not np.isfinite(coords).all():
        raise _fail(where, "has a coordinate that is not a finite number (NaN or ∞)", "redraw it")
    lon, lat = coords[:, 0], coords[:, 1]
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        raise _fail(
            where, "has coordinates outside longitude ±180° / latitude ±90°",
            "send WGS84 lon/lat (EPSG:4326), longitude first",
        )  # fmt: skip
    return coords


def _polygon(where: str, rings: Any, budget: list[int]) -> shapely.Polygon:
    """A GeoJSON polygon's rings as a shapely Polygon (vertices counted against `budget`)."""
    if not isinstance(rings, list) or not rings:
        raise _fail(where, "a polygon needs a list of rings", "send GeoJSON coordinates")
    arrays = []
    for ring in rings:
        arrays.append(_ring(where, ring, budget[0]))
        budget[0] -= len(arrays[-1])
    try:
        return shapely.Polygon(arrays[0], arrays[1:])
    except (ValueError, shapely.errors.GEOSException) as error:
        raise _fail(where, f"the outline is not a polygon ({error})", "redraw it") from None


def _drawn_geometry(where: str, geometry: Any) -> shapely.Geometry:
    """A feature's GeoJSON geometry (Polygon or MultiPolygon), checked, in lon/lat."""
    if not isinstance(geometry, Mapping) or geometry.get("type") not in _GEOMETRY_TYPES:
        found = geometry.get("type") if isinstance(geometry, Mapping) else type(geometry).__name__
        raise _fail(
            where, f"geometry is {str(found)[:40]!r}, not a Polygon or MultiPolygon",
            "draw a park as an area (polygon or rectangle), not a line or a point",
        )  # fmt: skip
    coords = geometry.get("coordinates")
    budget = [MAX_VERTICES]
    if geometry["type"] == "Polygon":
        return _polygon(where, coords, budget)
    if not isinstance(coords, list) or not coords:
        raise _fail(where, "a MultiPolygon needs a list of polygons", "send GeoJSON coordinates")
    return shapely.MultiPolygon([_polygon(where, part, budget) for part in coords])


def _text(where: str, properties: Mapping, key: str, default: str) -> str:
    value = properties.get(key)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise _fail(f"{where}.properties.{key}", f"is a {type(value).__name__}", "give text")
    return value.strip()[:MAX_NAME_CHARS] or default


def _drawn(features: Any) -> tuple[list, list[str], list[str]]:
    """The `add` features: geometries (lon/lat), names and park classes."""
    if not isinstance(features, list):
        raise _fail("add", f"is a {type(features).__name__}", "give a list of GeoJSON Features")
    geoms, names, classes = [], [], []
    for number, feature in enumerate(features):
        where = f"add[{number}]"
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            raise _fail(where, "is not a GeoJSON Feature", 'send {"type": "Feature", ...}')
        geoms.append(_drawn_geometry(where, feature.get("geometry")))
        properties = feature.get("properties") or {}
        if not isinstance(properties, Mapping):
            raise _fail(f"{where}.properties", "is not an object", "send an object or null")
        names.append(_text(where, properties, "name", f"sketch park {number + 1}"))
        classes.append(_text(where, properties, "park_class", "G14").upper())
    return geoms, names, classes


def _in_working_crs(geoms: list, crs, extent: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Drawn geometries in the working CRS, repaired; and which were repaired."""
    working = gpd.GeoSeries(geoms, crs=_LONLAT).to_crs(crs)
    out = geometry_array(working)
    repaired = ~shapely.is_valid(out)
    if repaired.any():
        out = out.copy()
        out[repaired] = polygonal_part(shapely.make_valid(out[repaired]))
    area = shapely.area(out)
    bounds = shapely.bounds(out)
    for number in range(len(out)):
        if not area[number] >= MIN_AREA_M2:
            raise _fail(
                f"add[{number}]", "encloses no area (even after repairing a crossing outline)",
                "draw the park as an area with at least three distinct corners",
            )  # fmt: skip
        b = bounds[number]
        inside = b[0] >= extent[0] and b[1] >= extent[1] and b[2] <= extent[2] and b[3] <= extent[3]
        if not inside:
            raise _fail(
                f"add[{number}]",
                f"lies outside the project's area (more than {EXTENT_MARGIN_M / 1000:g} km "
                "beyond its layers)",
                "draw parks in the city the project covers (lon/lat in WGS84, longitude first)",
            )
    return out, repaired


def read_sketch(
    sketch: Any,
    *,
    crs,
    extent: Sequence[float],
    park_ids: Sequence[str],
    candidates: gpd.GeoDataFrame | None = None,
) -> Sketch:
    """Check a sketch (see the module notes) and bring it to the working CRS.

    Parameters
    ----------
    sketch : dict
        ``{"add": [Feature, ...], "remove": [park_id, ...], "candidates": [candidate_id, ...]}``;
        every key optional.
    crs
        The project's working CRS.
    extent : sequence of float
        ``(minx, miny, maxx, maxy)`` drawn parks must lie in (working CRS).
    park_ids : sequence of str
        The project's park ids (``remove`` must name them; new ids avoid them).
    candidates : GeoDataFrame, optional
        The project's candidate sites (conformed: ``candidate_id``, ``name``, ``park_class``).

    Raises
    ------
    SketchError
        Naming the entry (``add[2]``, ``remove[0]``), what is wrong and the fix.
    """
    if not isinstance(sketch, Mapping):
        raise _fail("", f"is a {type(sketch).__name__}", "send a JSON object")
    unknown = sorted(str(k)[:40] for k in sketch if k not in _KEYS)
    if unknown:
        raise _fail("", f"has unknown key(s) {unknown}", f"use only {', '.join(_KEYS)}")
    geoms, names, classes = _drawn(sketch.get("add") or [])
    site_ids = [] if candidates is None else candidates["candidate_id"].astype(str).tolist()
    picked = _id_list(sketch, "candidates", site_ids, "candidate site")
    if len(geoms) + len(picked) > MAX_FEATURES:
        raise _fail(
            "", f"adds {len(geoms) + len(picked)} parks",
            f"add at most {MAX_FEATURES} at a time",
        )  # fmt: skip
    removed = _id_list(sketch, "remove", list(park_ids), "park")
    working, repaired = _in_working_crs(geoms, crs, tuple(extent))
    frame = _sketch_parks(working, names, classes, repaired, crs)
    if picked:
        frame = pd.concat([frame, _picked(candidates, picked)], ignore_index=True)
    taken = set(park_ids)
    frame["park_id"] = _fresh_ids(len(frame), taken)
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)
    return Sketch(frame, removed, len(geoms))


def _sketch_parks(geoms, names, classes, repaired, crs) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": pd.Series(names, dtype=object),
            "park_class": pd.Series(classes, dtype=object),
            "candidate_id": pd.Series([""] * len(names), dtype=object),
            "repaired": np.asarray(repaired, dtype=bool),
        },
        geometry=np.asarray(geoms, dtype=object),
        crs=crs,
    )


def _picked(candidates: gpd.GeoDataFrame, picked: list[str]) -> gpd.GeoDataFrame:
    """The picked candidate sites as sketch parks (their name and class)."""
    rows = candidates.set_index(candidates["candidate_id"].astype(str)).loc[picked]
    classes = rows["park_class"].astype(str).str.strip().str.upper().replace("", "G14")
    return gpd.GeoDataFrame(
        {
            "name": rows["name"].astype(str).to_numpy(dtype=object),
            "park_class": classes.to_numpy(dtype=object),
            "candidate_id": np.asarray(picked, dtype=object),
            "repaired": np.zeros(len(picked), dtype=bool),
        },
        geometry=geometry_array(rows),
        crs=candidates.crs,
    )


def _fresh_ids(count: int, taken: set[str], prefix: str = "sketch-") -> list[str]:
    ids, number = [], 0
    while len(ids) < count:
        number += 1
        if f"{prefix}{number}" not in taken:
            ids.append(f"{prefix}{number}")
    return ids


# --------------------------------------------------------------------------- figures


def _weighted(weight: np.ndarray | None, area: np.ndarray, covered: np.ndarray) -> float:
    """Covered weight (households) as the coverage engine counts it: spread by area."""
    if weight is None:
        return math.nan
    share = np.divide(covered, area, out=np.zeros(len(area)), where=area > 0)
    return float((weight * share).sum())


def _change(before: CoverageResult, covered_m2: float, weight_covered: float) -> dict[str, Any]:
    """Before/after figures of one method: ratio, gain in m²/公顷/亩, households."""
    area = before.residential_area_m2
    gain = covered_m2 - before.covered_area_m2
    return {
        "ratio_before": before.ratio,
        "ratio_after": covered_m2 / area if area > 0 else math.nan,
        "gain_m2": gain,
        "gain_ha": float(units.m2_to_ha(gain)),
        "gain_mu": float(units.m2_to_mu(gain)),
        "households_before": before.weight_covered,
        "households_after": weight_covered,
        "households_gain": weight_covered - before.weight_covered,
    }


def _figures(result: CoverageResult | None) -> dict[str, Any] | None:
    """A result's city figures for :meth:`WhatIfSession.state`."""
    if result is None:
        return None
    spots = result.listed_blind_spots()
    return {
        "ratio": result.ratio,
        "covered_m2": result.covered_area_m2,
        "residential_m2": result.residential_area_m2,
        "households_covered": result.weight_covered,
        "households_total": result.weight_total,
        "blind_spots": {
            "count": len(spots),
            "area_m2": float(spots["area_m2"].sum()) if len(spots) else 0.0,
            "sliver_count": len(result.blind_spots) - len(spots),
        },
    }


def _feature_collection(frame: gpd.GeoDataFrame, columns: Sequence[str]) -> dict[str, Any]:
    """`frame` as a GeoJSON FeatureCollection in WGS84 lon/lat (the page's coordinates)."""
    lonlat = frame.to_crs(_LONLAT) if len(frame) else frame
    geometries = shapely.to_geojson(geometry_array(lonlat)) if len(frame) else []
    rows = jsonable.records(pd.DataFrame(frame), columns)
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": json.loads(g), "properties": p}
            for g, p in zip(geometries, rows, strict=True)
        ],
    }


# --------------------------------------------------------------------------- the session


@dataclass(frozen=True)
class _Loaded:
    """What a session computed when it opened (replaced whole when it reloads)."""

    inputs: ProjectInputs
    indicators: Indicators
    engine: coverage.IncrementalCoverage
    covered: np.ndarray
    weight: np.ndarray | None
    extent: tuple[float, float, float, float]
    run_id: int | None


def _extent(inputs: ProjectInputs) -> tuple[float, float, float, float]:
    """The study area's bounds grown by :data:`EXTENT_MARGIN_M` (working CRS)."""
    bounds = np.vstack(
        [
            inputs.layer(kind).total_bounds
            for kind in ("boundary", "residential", "parks")
            if inputs.has(kind) and len(inputs.layer(kind))
        ]
    )
    m = EXTENT_MARGIN_M
    low, high = np.nanmin(bounds[:, :2], axis=0) - m, np.nanmax(bounds[:, 2:], axis=0) + m
    return float(low[0]), float(low[1]), float(high[0]), float(high[1])


def _latest_run(project: Project) -> int | None:
    history = read_history(project)
    if not len(history) or "run_id" not in history.columns:
        return None
    runs = pd.to_numeric(history["run_id"], errors="coerce").dropna()
    return int(runs.max()) if len(runs) else None


def _load(project: Project, progress: bool) -> _Loaded:
    """Gather the inputs, compute the coverage once (both methods), seed the engine."""
    inputs = gather_inputs(project, kinds=[k for k in SESSION_KINDS if project.has(k)])
    indicators = compute_indicators(
        inputs, plans=False, network_service_areas="none", greenspace=False, progress=progress
    )
    buffer = indicators.buffer
    engine = coverage.IncrementalCoverage.from_result(buffer)
    extent = _extent(inputs)
    engine.pieces_touching([shapely.box(*extent)])  # its trees built now: requests only read
    land = buffer.residential
    weight = None
    if buffer.weight_column is not None:
        weight = np.nan_to_num(land["weight"].to_numpy(dtype=float))
    return _Loaded(
        inputs, indicators, engine, engine.covered_m2, weight, extent, _latest_run(project)
    )


class WhatIfSession:
    """One project's coverage, open for what-if questions (``gisrenew serve``).

    Open with :meth:`open`; every method may be called from several threads (one
    request at a time is answered).

    Attributes
    ----------
    project : Project
        The project the session reads (and, for :meth:`apply` and
        :meth:`save_candidate`, writes).
    crs : str
        The working CRS (``EPSG:4549``, ...); sketches come in WGS84 lon/lat.
    """

    def __init__(self, project: Project, loaded: _Loaded):
        self.project = project
        self.crs = project.working_crs.to_string()
        self._loaded = loaded
        self._lock = threading.RLock()

    @classmethod
    def open(cls, project: Project | str | os.PathLike, *, progress: bool = False) -> WhatIfSession:
        """Open a session: gather the inputs, compute the coverage, seed the engine (once).

        Parameters
        ----------
        project : Project or path
            The project folder (a read-only project can be evaluated, not changed).
        progress : bool
            Progress bars on long steps.
        """
        project = project if isinstance(project, Project) else Project.open(project)
        return cls(project, _load(project, progress))

    @property
    def indicators(self) -> Indicators:
        """The indicators the session answers from (``network_service_areas="none"``)."""
        return self._loaded.indicators

    def reload(self) -> None:
        """Open the project again (after another program changed it)."""
        with self._lock:
            self.project = Project.open(self.project.folder)
            self._loaded = _load(self.project, False)

    # -- state ---------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The city as it stands: JSON-ready figures for the page (see the module notes).

        Keys: ``city``, ``crs``, ``ratio`` / ``network_ratio`` (None without roads),
        ``covered_m2``, ``residential_m2``, ``households_covered``, ``households_total``,
        ``weight_column``, ``buffer`` and ``network`` (each ``ratio``, ``covered_m2``,
        ``residential_m2``, ``households_covered``, ``households_total``, ``blind_spots``
        {``count``, ``area_m2``, ``sliver_count``}; ``network`` None without roads),
        ``districts`` [{``district_id``, ``name``, ``ratio``}], ``rules`` {``name``,
        ``version``, ``tiers``}, ``park_count``, ``qualifying_park_count``,
        ``candidate_count``, ``blind_spots`` {``count``, ``area_m2``, ``sliver_count``},
        ``run_id`` (the latest recompute, None before any).
        """
        with self._lock:
            loaded = self._loaded
        buffer, walk = loaded.indicators.buffer, loaded.indicators.network
        figures, rules = _figures(buffer), buffer.rules.to_dict()
        districts = buffer.districts
        candidates = loaded.inputs.layer("candidates")
        return jsonable.plain(
            {
                "city": loaded.inputs.name,
                "crs": self.crs,
                "ratio": buffer.ratio,
                "network_ratio": None if walk is None else walk.ratio,
                **{k: figures[k] for k in ("covered_m2", "residential_m2")},
                **{k: figures[k] for k in ("households_covered", "households_total")},
                "weight_column": buffer.weight_column,
                "buffer": figures,
                "network": _figures(walk),
                "districts": jsonable.records(
                    districts.rename(columns={"coverage_ratio": "ratio"}),
                    ["district_id", "name", "ratio"],
                ),
                "rules": {k: rules[k] for k in ("name", "version", "tiers")},
                "park_count": len(loaded.inputs.layer("parks")),
                "qualifying_park_count": len(buffer.service_areas),
                "candidate_count": 0 if candidates is None else len(candidates),
                "blind_spots": figures["blind_spots"],
                "run_id": loaded.run_id,
            }
        )

    # -- sketches ------------------------------------------------------------------------

    def read(self, sketch: Any) -> Sketch:
        """`sketch` checked against this project (:func:`read_sketch`)."""
        loaded = self._loaded
        return read_sketch(
            sketch,
            crs=self.crs,
            extent=loaded.extent,
            park_ids=loaded.inputs.layer("parks")["park_id"].astype(str).tolist(),
            candidates=loaded.inputs.layer("candidates"),
        )

    def parks_after(self, sketch: Any) -> gpd.GeoDataFrame:
        """The project's parks with the sketch applied (removals, then its parks added).

        What a from-scratch :func:`~gisrenew.indicators.compute_indicators` of the
        sketch takes (``session.indicators.inputs.with_layers(parks=...)``).
        """
        with self._lock:
            return self._parks_after(self.read(sketch))

    def _parks_after(self, parsed: Sketch) -> gpd.GeoDataFrame:
        parks = self._loaded.inputs.layer("parks")
        kept = parks[~parks["park_id"].astype(str).isin(parsed.removed)]
        if not len(parsed.parks):
            return kept.reset_index(drop=True)
        columns = ["park_id", "name", "park_class", "geometry"]
        new = conformed(parsed.parks[columns], "parks", name="sketch", crs=parks.crs)
        merged = pd.concat([kept, new[[c for c in new.columns if c in kept.columns]]])
        return gpd.GeoDataFrame(
            merged.reset_index(drop=True), geometry=parks.geometry.name, crs=parks.crs
        )

    # -- what if -------------------------------------------------------------------------

    def evaluate(self, sketch: Any, *, walk: bool = True) -> dict[str, Any]:
        """What the sketch would do; the project and the session stay as they are.

        `walk`: also the walk along streets when the project has roads (False: the
        straight line alone, at once; ``network`` is then None).

        Returns
        -------
        dict
            JSON-ready: ``buffer`` and ``network`` (None without roads), each
            ``ratio_before``, ``ratio_after``, ``gain_m2``, ``gain_ha``, ``gain_mu``,
            ``households_before``, ``households_after``, ``households_gain``;
            ``districts`` (only the changed ones: ``district_id``, ``name``,
            ``ratio_before``, ``ratio_after``); ``blind_spots_closed`` (``count``,
            ``fully_closed_count``, ``area_m2``, ``households``, ``geojson``: the land
            newly brought into service per residential piece, WGS84);
            ``blind_spots_opened`` (the same for land a removal leaves without service:
            ``count``, ``area_m2``, ``households``, ``geojson``); ``parks`` (each
            park the sketch adds: ``index``, ``park_id``, ``candidate_id``, ``name``,
            ``park_class``, ``area_m2``, ``qualifies``, ``reason`` — the rule set's own,
            in English —, ``radius_m``, ``gain_m2``: its own gain against the parks as
            they are now, ``repaired``); ``removed`` (``park_id``, ``loss_m2``: land
            only that park covers); ``elapsed_ms``.

        Raises
        ------
        SketchError
            For a sketch that cannot be used (see :func:`read_sketch`).
        """
        start = time.perf_counter()
        with self._lock:
            parsed = self.read(sketch)
            answer = self._answer(parsed, walk)
        answer["elapsed_ms"] = (time.perf_counter() - start) * 1000.0
        return jsonable.plain(answer)

    def _answer(self, parsed: Sketch, walk: bool) -> dict[str, Any]:
        loaded = self._loaded
        buffer = loaded.indicators.buffer
        table = coverage.park_table(parsed.parks, buffer.rules)
        areas = coverage.service_areas(parsed.parks, buffer.rules)
        reach = geometry_array(areas)
        change = loaded.engine.change_if(reach, parsed.removed, parts=True)
        covered = loaded.covered.copy()
        covered[change.pieces] = change.covered_after
        area = buffer.residential["area_m2"].to_numpy(dtype=float)
        after_m2 = float(covered.sum())
        network = None
        if walk and loaded.indicators.network is not None:
            network = self._walk(parsed)
        closed, opened = self._blind_spots(change)
        return {
            "buffer": _change(buffer, after_m2, _weighted(loaded.weight, area, covered)),
            "network": network,
            "districts": self._districts(change),
            "blind_spots_closed": closed,
            "blind_spots_opened": opened,
            "parks": self._parks(parsed, table, areas, change),
            "removed": self._removed(parsed.removed),
        }

    def _walk(self, parsed: Sketch) -> dict[str, Any]:
        """The walk's before/after (only the new parks walked from when nothing is removed)."""
        before = self._loaded.indicators
        inputs = before.inputs.with_layers(parks=self._parks_after(parsed))
        after = walk_after_change(before, inputs)
        return _change(before.network, after.covered_area_m2, after.weight_covered)

    def _districts(self, change: coverage.PieceChange) -> list[dict[str, Any]]:
        """The districts whose covered area changes, with their ratio before and after."""
        table = self._loaded.indicators.buffer.districts
        if not len(change.pieces) or not len(table):
            return []
        land = self._loaded.indicators.buffer.residential
        ids = land["district_id"].astype(str).to_numpy(dtype=object)[change.pieces]
        delta = pd.Series(change.covered_after - change.covered_before).groupby(ids).sum()
        moved = pd.Series(change.covered_after != change.covered_before).groupby(ids).any()
        delta = delta[moved.reindex(delta.index).to_numpy(dtype=bool)]
        rows = table[table["district_id"].astype(str).isin(delta.index)]
        area = rows["residential_area_m2"].to_numpy(dtype=float)
        covered = rows["covered_area_m2"].to_numpy(dtype=float)
        after = covered + delta.reindex(rows["district_id"].astype(str)).to_numpy(dtype=float)
        return [
            {"district_id": d, "name": n, "ratio_before": b, "ratio_after": a}
            for d, n, b, a in zip(
                rows["district_id"].astype(str), rows["name"].astype(str),
                rows["coverage_ratio"].to_numpy(dtype=float),
                np.divide(after, area, out=np.full(len(area), np.nan), where=area > 0),
                strict=True,
            )
        ]  # fmt: skip

    def _blind_spots(self, change: coverage.PieceChange) -> tuple[dict, dict]:
        """The blind spots the sketch closes and opens (fully or in part), by the one kernel."""
        buffer = self._loaded.indicators.buffer
        land = buffer.residential.iloc[change.pieces]
        before = dataclasses.replace(
            buffer, blind_spots=blind_spot_table(land, change.uncovered_before)
        )
        after = dataclasses.replace(
            buffer, blind_spots=blind_spot_table(land, change.uncovered_after)
        )
        closed = coverage.closed_blind_spots(before, after)
        opened = coverage.opened_blind_spots(before, after)
        keys = ["residential_id", "district_id", "area_m2", "households"]
        return (
            {
                "count": len(closed),
                "fully_closed_count": int(closed["fully_closed"].sum()),
                "area_m2": float(closed["area_m2"].sum()),
                "households": float(closed["households"].sum()),
                "geojson": _feature_collection(closed, [*keys, "fully_closed"]),
            },
            {
                "count": len(opened),
                "area_m2": float(opened["area_m2"].sum()),
                "households": float(opened["households"].sum()),
                "geojson": _feature_collection(opened, [*keys, "newly_blind"]),
            },
        )

    def _parks(self, parsed, table, areas, change) -> list[dict[str, Any]]:
        """Each park the sketch adds: does it qualify (and why not), its own gain."""
        engine = self._loaded.engine
        gains = dict.fromkeys(table["park_id"].astype(str), 0.0)
        ids = areas["park_id"].astype(str).tolist()
        if len(ids) == 1 and not parsed.removed:
            gains[ids[0]] = change.gain_m2  # the sketch's gain is this park's own
        else:
            for pid, geom in zip(ids, geometry_array(areas), strict=True):
                gains[pid] = engine.gain_if_added(geom)[0]
        return [
            {
                "index": index,
                "park_id": row["park_id"],
                "candidate_id": parsed.parks["candidate_id"].iloc[index] or None,
                "name": row["name"],
                "park_class": row["park_class"],
                "area_m2": row["park_area_m2"],
                "qualifies": bool(row["qualifies"]),
                "reason": row["reason"],
                "radius_m": row["radius_m"] if row["qualifies"] else None,
                "gain_m2": gains[row["park_id"]],
                "repaired": bool(parsed.parks["repaired"].iloc[index]),
            }
            for index, row in enumerate(table.to_dict(orient="records"))
        ]

    def _removed(self, removed: list[str]) -> list[dict[str, Any]]:
        """Each park the sketch removes, with the land only it covers (lost if it closed)."""
        if not removed:
            return []
        found = self._loaded.engine.contributions(removed)
        return [
            {"park_id": pid, "loss_m2": loss}
            for pid, loss in zip(found["park_id"], found["unique_m2"], strict=True)
        ]

    # -- keeping a sketch ----------------------------------------------------------------

    def apply(self, sketch: Any, *, note: str = "") -> dict[str, Any]:
        """Make the sketch real: its parks added and its removals made by a recompute.

        Through :func:`gisrenew.recompute.recompute`, as ``gisrenew recompute`` does it:
        one project transaction with a ``run_history`` row (its ``inputs`` name the
        sketch and `note`); the drawn parks and picked sites become new parks (ids
        ``new-1``, ...). The session then opens the changed project again.

        Returns
        -------
        dict
            ``{"run_id": int, "state": state()}``.

        Raises
        ------
        SketchError
            For a sketch that cannot be used, or one that would change nothing.
        ProjectError, LockError
            For a read-only project, or one another run is changing.
        """
        with self._lock:
            parsed = self.read(sketch)
            if parsed.empty:
                raise _fail("", "adds and removes nothing", "draw, pick or remove a park first")
            self.project.check_writable("apply a sketch")
            new = pd.DataFrame(parsed.parks[["name", "park_class"]])
            new = gpd.GeoDataFrame(new, geometry=geometry_array(parsed.parks), crs=self.crs)
            new.attrs["label"] = f"<sketch{': ' + note.strip()[:MAX_NAME_CHARS] if note else ''}>"
            result = recompute(
                self.project, add_parks=[new] if len(new) else [], remove_parks=parsed.removed
            )
            if not result.changed:
                message = result.report.get("message", "")
                raise _fail("", f"changes nothing ({message})", "draw a park that is not there yet")
            self.reload()
        return {"run_id": int(result.report["run_id"]), "state": self.state()}

    def save_candidate(self, sketch: Any) -> dict[str, Any]:
        """Keep the sketch's drawn parks as candidate sites (the ``candidates`` layer).

        Appended in one project transaction (the layer is made when the project has
        none), with new ids continuing the layer's ``C<number>`` ids; the session's
        sketches can pick them at once. Removals and picked sites are not saved.

        Returns
        -------
        dict
            ``{"candidate_ids": [...]}``.
        """
        with self._lock:
            parsed = self.read(sketch)
            drawn = parsed.parks.iloc[: parsed.drawn]
            if not len(drawn):
                raise _fail("add", "has no drawn park to save", "draw the site first")
            with self.project.transaction(purpose="save sketch as candidate sites") as tx:
                existing = tx.read_layer("candidates")
                rows, ids = _new_candidates(drawn, existing, self.crs)
                tx.write_input_layer("candidates", rows)
            inputs = self._loaded.inputs
            sites = self.project.read("candidates")
            self._loaded = dataclasses.replace(
                self._loaded, inputs=inputs.with_layers(candidates=sites)
            )
        return {"candidate_ids": ids}


def _new_candidates(
    drawn: gpd.GeoDataFrame, existing: gpd.GeoDataFrame | None, crs: str
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The candidates layer with the drawn parks appended, and their new ids."""
    taken = set() if existing is None else set(existing["candidate_id"].astype(str))
    numbers = [int(t[1:]) for t in taken if len(t) > 1 and t[0] == "C" and t[1:].isdigit()]
    width = max([2, *(len(t) - 1 for t in taken if t[:1] == "C" and t[1:].isdigit())])
    ids, number = [], max(numbers, default=0)
    while len(ids) < len(drawn):
        number += 1
        if f"C{number:0{width}d}" not in taken:
            ids.append(f"C{number:0{width}d}")
    new = gpd.GeoDataFrame(
        {
            "candidate_id": ids,
            "name": drawn["name"].astype(str).to_numpy(dtype=object),
            "park_class": drawn["park_class"].astype(str).to_numpy(dtype=object),
        },
        geometry=geometry_array(drawn),
        crs=crs,
    )
    if existing is None:
        return new, ids
    existing = existing.to_crs(crs) if existing.crs is not None else existing.set_crs(crs)
    if existing.geometry.name != new.geometry.name:
        new = new.rename_geometry(existing.geometry.name)
    rows = pd.concat([existing, new], ignore_index=True)
    return gpd.GeoDataFrame(rows, geometry=existing.geometry.name, crs=crs), ids
