"""New and closed parks merged into a project's parks layer (the first step of a recompute).

New parks come from files or GeoDataFrames and are validated like any layer. A new
park that is already in the project — the same shape, whatever its id — is skipped and
reported, so re-adding this year's file changes nothing; a new park whose explicit id
is taken by a park of another shape is refused (replace it with a removal in the same
run). Files without an id column get ids named after the file (``<stem>-1``, ...), never
reusing an id in the project or one closed in the same run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisrenew import io
from gisrenew.checksums import file_sha256, frame_sha256
from gisrenew.errors import SchemaError, raise_for_problems
from gisrenew.geometry import geometry_array

__all__ = [
    "IncomingParks",
    "ParkMerge",
    "merge_parks",
    "read_incoming",
    "same_geometry",
]

#: Two shapes within this many metres of each other (Hausdorff) are the same park.
SAME_SHAPE_TOLERANCE_M = 0.01


@dataclass(frozen=True)
class IncomingParks:
    """New parks from one source, validated and in the working CRS."""

    label: str
    frame: gpd.GeoDataFrame
    sha256: str
    explicit_ids: bool


def _frame_sha256_or_empty(frame: gpd.GeoDataFrame | None) -> str:
    return "" if frame is None else frame_sha256(frame)


def read_incoming(
    project, sources: Sequence, *, crs=None, override_crs=None, encoding: str | None = None
) -> list[IncomingParks]:
    """Read and validate the new parks of a recompute (every problem of every source at once).

    A source is a file, ``FILE::LAYER`` or a GeoDataFrame; `crs`, `override_crs` and
    `encoding` are those of :func:`gisrenew.io.load_layer` (``--crs``, ...). The
    loaders' warnings are logged, except "ids were generated": a recompute names such
    parks after their file instead (see :func:`merge_parks`).
    """
    working = project.working_crs
    columns = project.config.column_map("parks") or None
    incoming, problems = [], []
    for number, source in enumerate(sources, start=1):
        if isinstance(source, gpd.GeoDataFrame):
            frame, found = io.load_frame(source, "parks", working_crs=working, columns=columns)
            # a caller may name its frame (``attrs["label"]``, e.g. ``<sketch: note>``)
            label = str(source.attrs.get("label") or f"<GeoDataFrame {number}>")
            checksum = frame_sha256(source)
        else:
            ref = io.LayerRef.parse(source)
            path = ref.path
            frame, found = io.load_layer(
                ref, "parks", working_crs=working, columns=columns, crs=crs,
                override_crs=override_crs, encoding=encoding,
            )  # fmt: skip
            label = str(ref)
            checksum = file_sha256(path) if path.is_file() else _frame_sha256_or_empty(frame)
        problems.extend(found)
        generated = any(p.category == io.GENERATED_IDS for p in found)
        if frame is not None:
            incoming.append(IncomingParks(label, frame, checksum, explicit_ids=not generated))
    raise_for_problems(problems)
    io.log_problems([p for p in problems if p.category != io.GENERATED_IDS])
    return incoming


def same_geometry(
    new_geoms: np.ndarray, old_geoms: np.ndarray, tolerance: float = SAME_SHAPE_TOLERANCE_M
) -> np.ndarray:
    """For each new geometry, the position of an equal old geometry (-1 if none).

    Equal means the same shape vertex by vertex after normalization (ring start and
    orientation do not matter), or — for shapes that went through a reprojection round
    trip — a Hausdorff distance of at most `tolerance` metres.
    """
    match = np.full(len(new_geoms), -1, dtype=np.int64)
    if len(new_geoms) == 0 or len(old_geoms) == 0:
        return match
    pairs = shapely.STRtree(old_geoms).query(new_geoms, predicate="intersects")
    if pairs.shape[1] == 0:
        return match
    a = shapely.normalize(new_geoms[pairs[0]])
    b = shapely.normalize(old_geoms[pairs[1]])
    equal = shapely.equals_exact(a, b, tolerance=tolerance)
    rest = ~equal
    if rest.any():
        equal[rest] = shapely.hausdorff_distance(a[rest], b[rest]) <= tolerance
    new_pos, old_pos = pairs[0][equal], pairs[1][equal]
    first = np.unique(new_pos, return_index=True)[1]  # the first old match of each new shape
    match[new_pos[first]] = old_pos[first]
    return match


@dataclass
class ParkMerge:
    """The parks layer after a change, and what the change was."""

    parks: gpd.GeoDataFrame
    added: gpd.GeoDataFrame
    added_sources: dict[str, str]
    removed: list[str]
    skipped: list[dict] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when a park was added or removed."""
        return len(self.added) > 0 or len(self.removed) > 0


@dataclass
class _Known:
    """Parks known so far in a merge: the project's, then each accepted new one."""

    base_ids: set[str]
    ids: list[str]
    geoms: np.ndarray
    taken: set[str]
    retired: set[str]

    def accept(self, frame: gpd.GeoDataFrame) -> None:
        self.ids.extend(frame["park_id"].astype(str))
        self.geoms = np.concatenate([self.geoms, geometry_array(frame)])


def _removals(parks, remove: Sequence[str], skipped: list[dict]) -> list[str]:
    wanted = list(dict.fromkeys(str(r).strip() for r in remove if str(r).strip()))
    present = set(parks["park_id"].astype(str))
    for pid in wanted:
        if pid not in present:
            reason = "no park with this id in the project"
            skipped.append({"park_id": pid, "source": "--remove-parks", "reason": reason})
    return [pid for pid in wanted if pid in present]


def _new_shapes(item: IncomingParks, known: _Known, skipped: list[dict]) -> gpd.GeoDataFrame:
    """The rows of `item` whose shape is not in the project (or earlier in this run)."""
    frame = item.frame
    ids = frame["park_id"].astype(str).to_numpy(dtype=object)
    same = same_geometry(geometry_array(frame), known.geoms)
    for k in np.flatnonzero(same >= 0):
        old_id = known.ids[same[k]]
        where = "in the project" if old_id in known.base_ids else "in this run's files"
        skipped.append(
            {
                "park_id": str(ids[k]) if item.explicit_ids else old_id,
                "source": item.label,
                "reason": f"already {where} as park {old_id} (same geometry)",
            }
        )
    clash = [ids[k] for k in np.flatnonzero(same < 0) if ids[k] in known.base_ids]
    if item.explicit_ids and clash:
        raise SchemaError(
            f"{item.label}: park_id {clash[0]!r} is already in the project with a different "
            f"geometry. Give the new park another id, or replace the old one with "
            f"--remove-parks {clash[0]} in the same run."
        )
    return frame.loc[same < 0].reset_index(drop=True)


def _with_ids(frame: gpd.GeoDataFrame, item: IncomingParks, known: _Known) -> gpd.GeoDataFrame:
    """Check explicit ids, or name generated ones after the source (``<stem>-<row>``)."""
    ids = frame["park_id"].astype(str).tolist()
    if item.explicit_ids:
        clash = [pid for pid in ids if pid in known.taken]
        if clash:
            raise SchemaError(
                f"{item.label}: park ids {clash[:5]} are given twice (in this run's files or as "
                "a park removed in this run); every park needs its own id"
            )
        known.taken.update(ids)
        return frame
    stem = Path(item.label).stem if not item.label.startswith("<") else "new"
    fresh = []
    for pid in ids:
        candidate, suffix = f"{stem}-{pid}", 2
        while candidate in known.taken or candidate in known.retired:
            candidate, suffix = f"{stem}-{pid}-{suffix}", suffix + 1
        fresh.append(candidate)
        known.taken.add(candidate)
    return frame.assign(park_id=fresh)


def merge_parks(
    parks: gpd.GeoDataFrame, incoming: Sequence[IncomingParks], remove: Sequence[str] = ()
) -> ParkMerge:
    """Apply removals, then additions, to the parks layer (never mutating `parks`).

    Parameters
    ----------
    parks : GeoDataFrame
        The project's parks layer.
    incoming : sequence of IncomingParks
        New parks (:func:`read_incoming`), in order; a later source's park with the shape
        of an earlier one is skipped.
    remove : sequence of str
        Ids of parks that closed (applied first, so a park can be replaced in one run).

    Raises
    ------
    SchemaError
        When an explicit id clashes with a different park.
    """
    skipped: list[dict] = []
    removed = _removals(parks, remove, skipped)
    base = parks[~parks["park_id"].astype(str).isin(removed)].reset_index(drop=True)
    base_ids = base["park_id"].astype(str).tolist()
    known = _Known(set(base_ids), list(base_ids), geometry_array(base), set(base_ids), set(removed))
    frames, sources = [], {}
    for item in incoming:
        frame = _with_ids(_new_shapes(item, known, skipped), item, known)
        sources.update(dict.fromkeys(frame["park_id"].astype(str), item.label))
        known.accept(frame)
        frames.append(frame)
    added = pd.concat(frames, ignore_index=True) if frames else parks.iloc[0:0].copy()
    added = gpd.GeoDataFrame(added, geometry=parks.geometry.name, crs=parks.crs)
    merged = pd.concat([base, added], ignore_index=True) if len(added) else base
    merged = gpd.GeoDataFrame(merged, geometry=parks.geometry.name, crs=parks.crs)
    return ParkMerge(merged, added, sources, removed, skipped)
