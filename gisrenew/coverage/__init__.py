"""Park service-radius coverage (公园绿地服务半径覆盖率): the buffer (straight-line) engine.

The indicator (docs/SOURCES.md; newer documents call it 公园绿化活动场地服务半径覆盖率)::

    coverage = residential land inside the built-up area within a qualifying park's
               service radius / all residential land inside the built-up area

One concern per module (every choice is recorded in each result):

* :mod:`~gisrenew.coverage.parks` — which parks count under a rule set (tier by the
  area of the whole park feature and its class; optional minimum width) and their
  service areas: buffers of the park polygon with :data:`BUFFER_QUAD_SEGS` = 16
  segments per quarter circle (geopandas' default; the PostGIS oracle uses
  ``quad_segs=16`` too);
* :mod:`~gisrenew.coverage.land` — the denominator (:func:`residential_land`):
  residential polygons whose land-use code counts, overlaps counted once (the polygon
  listed first keeps the shared land), clipped to the built-up boundary, split by
  districts, weights spread evenly;
* :mod:`~gisrenew.coverage.overlay` — the overlay kernel (:func:`covered_area`,
  :func:`covered_parts`): the city-wide union of service areas is never built; results
  equal the exact overlay to floating-point precision (1e-9 against shapely, 1e-6
  against PostGIS);
* :mod:`~gisrenew.coverage.indicator` — :func:`compute_coverage`,
  :func:`summarize_coverage`, the district table, :func:`park_contribution`;
* :mod:`~gisrenew.coverage.blind_spots` — blind spots 服务盲区 and the land a change
  closes or opens (:func:`closed_blind_spots`, :func:`opened_blind_spots`), slivers
  (:func:`mark_slivers`);
* :mod:`~gisrenew.coverage.incremental` — :class:`IncrementalCoverage`: coverage kept
  up to date under park changes, and the one implementation of "gain if added" and
  "unique gain".
"""

from __future__ import annotations

from gisrenew.coverage.blind_spots import (
    SLIVER_M2,
    closed_blind_spots,
    mark_slivers,
    opened_blind_spots,
)
from gisrenew.coverage.columns import coverage_figures
from gisrenew.coverage.incremental import IncrementalCoverage, PieceChange, UpdateSummary
from gisrenew.coverage.indicator import (
    PIECE_RESULT_COLUMNS,
    comparison_dict,
    compute_coverage,
    coverage_layers,
    district_table,
    park_contribution,
    summarize_coverage,
    updated_coverage,
)
from gisrenew.coverage.land import (
    PARALLEL_MIN_PIECES,
    residential_land,
    rules_and_codes,
    select_residential,
)
from gisrenew.coverage.overlay import covered_area, covered_parts
from gisrenew.coverage.parks import (
    BUFFER_QUAD_SEGS,
    WIDTH_TOLERANCE_M,
    park_table,
    park_width,
    service_area_union,
    service_areas,
)

__all__ = [
    "BUFFER_QUAD_SEGS",
    "PARALLEL_MIN_PIECES",
    "PIECE_RESULT_COLUMNS",
    "SLIVER_M2",
    "WIDTH_TOLERANCE_M",
    "IncrementalCoverage",
    "PieceChange",
    "UpdateSummary",
    "closed_blind_spots",
    "comparison_dict",
    "compute_coverage",
    "coverage_figures",
    "coverage_layers",
    "covered_area",
    "covered_parts",
    "district_table",
    "mark_slivers",
    "opened_blind_spots",
    "park_contribution",
    "park_table",
    "park_width",
    "residential_land",
    "rules_and_codes",
    "select_residential",
    "service_area_union",
    "service_areas",
    "summarize_coverage",
    "updated_coverage",
]
