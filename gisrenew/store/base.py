"""The store seam: what a project store (GeoPackage or PostGIS) does for :mod:`gisrenew.project`.

A project keeps its layers and tables in one *store*. :class:`Store` is what
:class:`gisrenew.project.Project` asks of it — the layer names, a layer, a table or some
columns read back, the exclusive lock with its holder, a transaction, a label for
messages — and :class:`Transaction` the changes one run makes, applied together or not
at all. The GeoPackage store (:mod:`gisrenew.store.geopackage`) and the PostGIS store
(:mod:`gisrenew.store.postgis`) implement both; everything above the project sees the
same API whichever store a project names in ``gisrenew.toml``.
"""

from __future__ import annotations

import abc
import contextlib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gisrenew.errors import InputError, LockError, Problem
from gisrenew.schema import LAYERS

__all__ = [
    "RESULTS_STATE",
    "ColumnMap",
    "Store",
    "Transaction",
    "lock_refused",
    "same_geometry",
    "wait_seconds",
]

#: The table of the store that records what its result layers were computed from.
RESULTS_STATE = "results_state"

#: ``kind -> {your header: gisrenew column}`` of the project's ``[columns.<kind>]``.
ColumnMap = Callable[[str], dict]


def wait_seconds(timeout_s) -> float:
    """`timeout_s` as a finite number of seconds ≥ 0 (a wait must end)."""
    try:
        seconds = float(timeout_s)
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise InputError(
            f"the wait for the project lock must be a finite number of seconds ≥ 0, got "
            f"{timeout_s!r}. Fix: give e.g. --wait 0 (refuse at once) or --wait 600."
        )
    return seconds


def lock_refused(where: str, holder: str) -> LockError:
    """The one "another run holds the project" error of every store."""
    return LockError(
        f"{where}: another gisrenew run is changing this project ({holder}). Wait for it to "
        "finish and run again; two runs never write a project at the same time."
    )


def same_geometry(frame: pd.DataFrame, stored: pd.DataFrame) -> bool:
    """False when both frames have geometry and it differs (or the rows do not match)."""
    if len(frame) != len(stored):
        return False
    if not isinstance(frame, gpd.GeoDataFrame) or not isinstance(stored, gpd.GeoDataFrame):
        return True
    a, b = frame.geometry.array, stored.geometry.array
    return a is b or bool(np.all(shapely.equals_exact(np.asarray(a), np.asarray(b), 0.0)))


class Transaction(abc.ABC):
    """Changes to a project store, applied together on commit (see ``Project.transaction``).

    Attributes
    ----------
    changed : list of str
        The layers and tables written or deleted so far, in order.
    """

    def __init__(self) -> None:
        self.changed: list[str] = []
        self._inputs_written = False
        self._state_new: dict[str, Any] | None = None

    def _written(self, name: str) -> None:
        self.changed.append(name)
        self._inputs_written |= name in LAYERS

    # -- writing
    @abc.abstractmethod
    def write_layer(self, name: str, gdf: gpd.GeoDataFrame) -> None:
        """Write (or replace) layer `name` in the store."""

    @abc.abstractmethod
    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        """Write (or replace) the non-spatial table `name`."""

    @abc.abstractmethod
    def write_input_layer(self, kind: str, gdf: gpd.GeoDataFrame) -> None:
        """Write (or replace) input layer `kind`, recording the column mapping it was read with."""

    @abc.abstractmethod
    def update_layer(
        self, name: str, frame: pd.DataFrame, stored: pd.DataFrame | None = None
    ) -> int:
        """Write `frame` as layer (or table) `name`, changing only the rows that differ.

        `stored` is what the layer holds now, row for row; returns the rows written.
        """

    @abc.abstractmethod
    def delete_layer(self, name: str) -> None:
        """Remove layer or table `name` from the store (no error when absent)."""

    def append_table(self, name: str, frame: pd.DataFrame) -> None:
        """Append rows to the table `name` (created when absent)."""
        existing = self.read_table(name)
        combined = frame if existing is None else pd.concat([existing, frame], ignore_index=True)
        self.write_table(name, combined)

    def _write_whole(self, name: str, frame: pd.DataFrame) -> int:
        if isinstance(frame, gpd.GeoDataFrame):
            self.write_layer(name, frame)
        else:
            self.write_table(name, frame)
        return len(frame)

    # -- reading inside the transaction
    @abc.abstractmethod
    def read_table(self, name: str) -> pd.DataFrame | None:
        """Read a table as it stands inside this transaction (None: absent)."""

    @abc.abstractmethod
    def read_columns(self, name: str, columns: Sequence[str]) -> pd.DataFrame | None:
        """Columns `columns` of layer `name` as it stands inside this transaction (no geometry)."""

    @abc.abstractmethod
    def read_layer(self, name: str) -> gpd.GeoDataFrame | None:
        """Layer `name` with its geometry as it stands inside this transaction (None: absent)."""

    # -- the results state
    @abc.abstractmethod
    def results_state(self) -> dict[str, Any] | None:
        """What the store's result layers were computed from, when still current."""

    def record_results_state(self, state: dict[str, Any]) -> None:
        """Record `state` (JSON-ready) as what the result layers now hold; written last."""
        self._state_new = dict(state)

    def finish(self) -> None:  # noqa: B027  (a store without a last step needs none)
        """The last change before the commit (the GeoPackage writes its results state)."""

    def verify(self) -> None:  # noqa: B027  (a database checks its own transactions)
        """Check the changes before they replace the store; raise ProjectError when not."""


class Store(abc.ABC):
    """Where a project keeps its layers and tables (see the module docs).

    Parameters of the implementations name the store; :meth:`describe` is the label
    every message uses (a path, or ``postgresql://host:port/db schema S`` — never a
    password).
    """

    @abc.abstractmethod
    def describe(self) -> str:
        """The store as messages name it."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raise ProjectError when the store is missing, unreachable or damaged."""

    @abc.abstractmethod
    def exists(self) -> bool:
        """True when the store holds a project (``init`` asks before it replaces one)."""

    @abc.abstractmethod
    def layer_names(self) -> list[str]:
        """Names of every layer and table in the store."""

    @abc.abstractmethod
    def layer_crs(self, name: str) -> CRS | None:
        """The CRS of layer `name` (None: a table, or none recorded)."""

    @abc.abstractmethod
    def load_layer(
        self, name: str, kind: str, *, working_crs, columns: dict
    ) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
        """Layer `name` validated and conformed as layer `kind` (see ``io.load_layer``)."""

    @abc.abstractmethod
    def recorded_columns(self, name: str) -> Any:
        """The ``[columns.<kind>]`` mapping layer `name` was stored with (None: none recorded)."""

    @abc.abstractmethod
    def read_table(self, name: str) -> pd.DataFrame:
        """Table `name` without geometry."""

    @abc.abstractmethod
    def read_result(self, name: str) -> gpd.GeoDataFrame:
        """Layer `name` as stored, with its geometry (no validation)."""

    @abc.abstractmethod
    def lock(self, timeout_s: float, purpose: str) -> contextlib.AbstractContextManager[None]:
        """Hold the store's exclusive write lock (LockError naming the holder after `timeout_s`)."""

    @abc.abstractmethod
    def transaction(self, column_map: ColumnMap) -> contextlib.AbstractContextManager[Transaction]:
        """One transaction of changes (call while holding :meth:`lock`)."""

    @abc.abstractmethod
    def write_new(self, layers: Mapping[str, pd.DataFrame], recorded: Mapping[str, Any]) -> None:
        """Make the store anew from `layers` (init, copies); complete before it replaces the old.

        GeoDataFrames become layers, DataFrames tables; ``recorded[name]`` is the
        ``[columns.<kind>]`` mapping an input layer was read with (kept with the layer).
        """

    def results_state(self) -> dict[str, Any] | None:
        """What the result layers were computed from, when still current — read, no lock.

        As :meth:`Transaction.results_state`, for a reader (a report) that writes
        nothing; None when the store cannot vouch for it.
        """
        return None

    def owned_files(self) -> list:
        """Files of the store in the project folder that an output must never replace."""
        return []
