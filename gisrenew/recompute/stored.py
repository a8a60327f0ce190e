"""The straight-line result before a change, read back from the stored results.

When the stored results are current (:mod:`gisrenew.recompute.state`: nothing wrote the
store since the last recompute recorded them, same settings and layers), the result
layers hold exactly the :class:`~gisrenew.results.CoverageResult` that run computed —
the result the next run's "before" would compute again from scratch. Reading them back
(``coverage_residential`` with geometry, ``blind_spots``, ``service_areas``,
``coverage_parks``, ``coverage_districts`` and the figures of the results state) is
several times faster than the overlay of every residential piece
(:func:`stored_buffer_result`).

What the store does not keep as written is put back:

* the derived columns ``area_ha`` / ``area_mu`` of the per-piece layer are dropped, and
  the geometry column takes its place among the columns again (a store puts it last);
* yes/no columns (``qualifies``, ``sliver``) stored as integers become booleans;
* a layer mixing polygons and multipolygons is stored as multipolygons: a one-part
  multipolygon comes back as its polygon (the same land, as the engines build it);
* rows a later run inserted come last in the store: blind spots are put back in the
  order of their ``blind_spot_id`` (piece order, as the engine numbers them).
"""

from __future__ import annotations

import dataclasses
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew.coverage import PIECE_RESULT_COLUMNS
from gisrenew.inputs import ProjectInputs
from gisrenew.project import Transaction
from gisrenew.recompute.state import stored_figures
from gisrenew.results import CoverageResult

__all__ = ["BUFFER_LAYERS", "stored_buffer_result"]

log = logging.getLogger(__name__)

#: The stored layers of the straight-line result, by the result's attribute.
BUFFER_LAYERS = {
    "residential": "coverage_residential",
    "blind_spots": "blind_spots",
    "service_areas": "service_areas",
    "parks": "coverage_parks",
    "districts": "coverage_districts",
}

#: Columns a store may keep as integers that the result holds as booleans.
_BOOL_COLUMNS = ("qualifies", "sliver")
#: Columns the store adds to the per-piece layer (of ``area_m2``, by ``coverage_layers``).
_DERIVED = ("area_ha", "area_mu")
#: Columns every per-piece layer read back must have.
_PIECE_KEYS = ("residential_id", "district_id", "area_m2", *PIECE_RESULT_COLUMNS)


def _single_parts(geoms: np.ndarray) -> np.ndarray:
    """`geoms` with every one-part multipolygon made its polygon (vectorized)."""
    one = (shapely.get_type_id(geoms) == shapely.GeometryType.MULTIPOLYGON) & (
        shapely.get_num_geometries(geoms) == 1
    )
    if not one.any():
        return geoms
    out = geoms.copy()
    out[one] = shapely.get_geometry(geoms[one], 0)
    return out


def _plain_layer(frame: gpd.GeoDataFrame, before: str | None = None) -> gpd.GeoDataFrame:
    """A layer as written: one-part multipolygons demoted, the geometry column before
    `before` (last when None), booleans as booleans, a fresh row index."""
    name = frame.geometry.name
    geoms = _single_parts(np.asarray(frame.geometry.array, dtype=object))
    columns = [c for c in frame.columns if c != name]
    at = columns.index(before) if before in columns else len(columns)
    columns.insert(at, name)
    out = gpd.GeoDataFrame(
        pd.DataFrame(frame.drop(columns=name)).assign(**{name: geoms})[columns],
        geometry=name,
        crs=frame.crs,
    )
    if len(out) == 0:  # an empty table's text columns, as the engines make them
        out = out.astype({c: object for c in columns if c != name and out[c].dtype.kind in "OT"})
    return _booleans(out).reset_index(drop=True)


def _booleans(frame: pd.DataFrame) -> pd.DataFrame:
    """Yes/no columns stored as integers back as booleans."""
    fix = {
        c: frame[c].fillna(0).astype(bool)
        for c in _BOOL_COLUMNS
        if c in frame.columns and frame[c].dtype.kind != "b"
    }
    return frame.assign(**fix) if fix else frame


def _pieces(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """The per-piece table as the engine made it (None when it lacks a result column)."""
    if not set(_PIECE_KEYS) <= set(frame.columns):
        return None
    frame = frame.drop(columns=[c for c in _DERIVED if c in frame.columns])
    first = next(c for c in frame.columns if c in PIECE_RESULT_COLUMNS)
    return _plain_layer(frame, before=first)


def _blind_spots(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Blind spots in piece order (their ``blind_spot_id``), as the engine numbers them."""
    if "blind_spot_id" not in frame.columns:
        return None
    ids = pd.to_numeric(frame["blind_spot_id"], errors="coerce")
    if ids.isna().any() or ids.duplicated().any():
        return None
    ordered = frame.iloc[np.argsort(ids.to_numpy(), kind="stable")]
    return _plain_layer(ordered, before="sliver")


def stored_buffer_result(
    tx: Transaction, state: dict | None, inputs: ProjectInputs
) -> CoverageResult | None:
    """The straight-line result the stored results hold, or None when they cannot be used.

    Parameters
    ----------
    tx : Transaction
        The run's transaction (the store as it stands inside it).
    state : dict or None
        :meth:`~gisrenew.store.base.Transaction.results_state`.
    inputs : ProjectInputs
        The run's inputs before the change.

    Returns
    -------
    CoverageResult or None
        Equal to the result the run that recorded `state` stored (every table, every
        column, every geometry); None when the state is not current
        (:func:`~gisrenew.recompute.state.state_check`), has no straight-line figures, or
        a layer is missing or of another shape — the caller then computes it.
    """
    figures = stored_figures(state, inputs, "buffer")
    if figures is None:
        return None
    pieces = tx.read_layer(BUFFER_LAYERS["residential"])
    spots = tx.read_layer(BUFFER_LAYERS["blind_spots"])
    areas = tx.read_layer(BUFFER_LAYERS["service_areas"])
    parks = tx.read_table(BUFFER_LAYERS["parks"])
    districts = tx.read_table(BUFFER_LAYERS["districts"])
    if any(f is None for f in (pieces, spots, areas, parks, districts)):
        log.info("stored straight-line results incomplete: computed again")
        return None
    pieces, spots = _pieces(pieces), _blind_spots(spots)
    if pieces is None or spots is None:
        log.info("stored straight-line results of another shape: computed again")
        return None
    return dataclasses.replace(
        figures,
        residential=pieces,
        blind_spots=spots,
        service_areas=_plain_layer(areas),
        parks=_booleans(pd.DataFrame(parks)).reset_index(drop=True),
        districts=pd.DataFrame(districts).reset_index(drop=True),
    )
