"""Display geometries drawn once: a park change redraws the popups, not the city's parcels.

Turning a layer into what a page draws — simplified, reprojected to longitude/latitude,
shifted to the basemap's datum and, for a large layer, packed
(:func:`~gisrenew.webmap.packed.pack_geometry`) — depends only on the layer's geometry
and on the display settings. Adding a park changes neither for the residential land
(the same parcels, other coverage classes), so both coverage pages and every later
publish of the same city reuse it:

* in memory, between the pages of one publish (the coverage pages of both methods and
  the before/after page draw the same residential land and blind spots);
* on disk, in a cache folder (:func:`map_cache_folder`: ``.gisrenew-cache/maps`` in the
  project folder — never the published site, which a planner copies to a web server),
  between runs: one file per packed layer, named by its key.

An entry is found by its **key**: the SHA-256 of the layer's geometry (its WKB, row by
row) and of everything that shapes the drawing (CRS, simplification, precision, datums,
the versions of GEOS and PROJ, this file's format). A file that is missing, damaged
(its own SHA-256 does not match) or of another key is ignored and drawn again; a cache
folder that cannot be written (a read-only sample) only makes publishing slower.

Examples
--------
>>> with drawing_cache(map_cache_folder("taicang")):  # doctest: +SKIP
...     publish pages
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyproj
import shapely

from gisrenew import __version__ as gisrenew_version
from gisrenew import outfiles
from gisrenew.errors import GisrenewError

__all__ = [
    "MAP_CACHE_FOLDER",
    "DrawnGeometry",
    "also_forget",
    "cached",
    "cached_column",
    "column_key",
    "drawing_cache",
    "forget_drawn_geometries",
    "geometry_key",
    "keep_column",
    "keep_drawn",
    "keep_rows",
    "known_rows",
    "map_cache_folder",
    "source_key",
]

log = logging.getLogger(__name__)

#: The cache folder inside a project folder (see :func:`map_cache_folder`).
MAP_CACHE_FOLDER = Path(outfiles.PROJECT_CACHE) / "maps"

#: Version of the cache files (part of every key: a new layout never reads an old file).
_FORMAT = 1

#: Part of every key: what drawing and wording depend on besides the data (a new
#: gisrenew, GEOS or PROJ draws again).
_VERSIONS = (_FORMAT, gisrenew_version, shapely.geos_version_string, pyproj.proj_version_str)

#: Layers of fewer rows are drawn every time (cheap), never kept.
MIN_ROWS = 500

#: Entries kept in memory, and files kept on disk (the least recently used go first).
MEMORY_ENTRIES = 6
DISK_ENTRIES = 24

#: Encoded popup columns kept (in memory and on disk).
COLUMN_ENTRIES = 120

#: Rows of more vertices are kept one by one (:func:`known_rows`), at most ``HEAVY_ROWS``.
HEAVY_VERTICES = 32
HEAVY_ROWS = 5000


@dataclass(frozen=True)
class DrawnGeometry:
    """A layer's geometry as a page draws it.

    Attributes
    ----------
    keep : numpy.ndarray of bool
        Rows drawn (non-empty once simplified and reprojected).
    vertices : int
        Vertices of the rows drawn.
    packable : bool
        Whether every row drawn is a polygon (a packed layer can draw it).
    bounds : numpy.ndarray
        ``[west, south, east, north]`` of the rows drawn.
    geoms : numpy.ndarray or None
        The display geometries of the rows drawn (not rounded); None when read from
        disk (only packed layers are kept there).
    packed : tuple of (dict, str) or None
        :func:`~gisrenew.webmap.packed.pack_geometry` of the rows drawn, when packed.
    """

    keep: np.ndarray
    vertices: int
    packable: bool
    bounds: np.ndarray
    geoms: np.ndarray | None = None
    packed: tuple[dict, str] | None = None


def map_cache_folder(project_folder: str | os.PathLike) -> Path:
    """Where the maps of the project in `project_folder` keep their drawn geometries."""
    return Path(project_folder) / MAP_CACHE_FOLDER


def geometry_key(geoms: np.ndarray, settings: tuple) -> str:
    """The key of a layer's drawing: SHA-256 of its geometry (WKB) and of `settings`.

    The key of the last large array is kept with its objects, so a page drawing the
    same geometry objects again (the walk's result carries the straight line's
    residential land) does not digest them twice.
    """
    if len(geoms) >= MIN_ROWS:
        last = _LastKey.found(geoms, settings)
        if last is not None:
            return last
    key = _geometry_key(geoms, settings)
    if len(geoms) >= MIN_ROWS:
        _LastKey.keep(geoms, settings, key)
    return key


class _LastKey:
    """The last large geometry arrays digested: their objects (kept, so their identities
    cannot be reused by other objects meanwhile), settings and keys."""

    entries: ClassVar[list[tuple]] = []
    size = MEMORY_ENTRIES

    @classmethod
    def found(cls, geoms: np.ndarray, settings: tuple) -> str | None:
        identities = None
        for objects, known, old_settings, key in cls.entries:
            if len(objects) != len(geoms) or old_settings != settings:
                continue
            if identities is None:
                identities = np.fromiter(map(id, geoms), np.int64, len(geoms))
            if np.array_equal(known, identities):
                return key
        return None

    @classmethod
    def keep(cls, geoms: np.ndarray, settings: tuple, key: str) -> None:
        identities = np.fromiter(map(id, geoms), np.int64, len(geoms))
        cls.entries = [(geoms, identities, settings, key), *cls.entries][: cls.size]


def _geometry_key(geoms: np.ndarray, settings: tuple) -> str:
    digest = hashlib.sha256()
    described = (*_VERSIONS, *settings)
    digest.update(repr(described).encode("utf-8"))
    digest.update(str(len(geoms)).encode("ascii"))
    # WKB says its own type and counts, so the rows one after the other read back one way
    digest.update(b"".join(_wkb(geoms)))
    return digest.hexdigest()


def _wkb(geoms: np.ndarray) -> np.ndarray:
    """The WKB of each geometry; a missing one as ``b"-"`` (no WKB starts with it)."""
    wkb = shapely.to_wkb(geoms)
    missing = shapely.is_missing(geoms)
    if missing.any():
        wkb[missing] = b"-"
    return wkb


class _Cache:
    """The entries of this process (memory) and the cache folder in use (disk)."""

    memory: dict[str, DrawnGeometry] = {}  # noqa: RUF012 - the one process-wide cache
    folder: Path | None = None
    rows: dict[str, _Rows] = {}  # noqa: RUF012 - heavy rows by settings key
    columns: dict[str, tuple[str, str]] = {}  # noqa: RUF012 - encoded popup columns

    @classmethod
    def get(cls, key: str) -> DrawnGeometry | None:
        found = cls.memory.pop(key, None)
        if found is None and cls.folder is not None:
            found = _read(cls.folder / f"geometry-{key}.json", key)
        if found is not None:
            cls.remember(key, found)
        return found

    @classmethod
    def remember(cls, key: str, drawn: DrawnGeometry) -> None:
        cls.memory[key] = drawn  # newest last
        while len(cls.memory) > MEMORY_ENTRIES:
            cls.memory.pop(next(iter(cls.memory)))

    @classmethod
    def put(cls, key: str, drawn: DrawnGeometry) -> None:
        cls.remember(key, drawn)
        if cls.folder is not None and drawn.packed is not None:
            _write(cls.folder, key, drawn)


def cached(key: str) -> DrawnGeometry | None:
    """The drawing of key `key`, from memory or the cache folder; None when not kept."""
    return _Cache.get(key)


def keep_drawn(key: str, drawn: DrawnGeometry) -> None:
    """Keep `drawn` for the next page (and, when packed, in the cache folder)."""
    _Cache.put(key, drawn)


def forget_drawn_geometries() -> None:
    """Let go of the drawn geometries kept in memory (a site is published).

    A long-lived process (a notebook, a server) would otherwise hold the city's
    reprojected residential land until its next map.
    """
    _Cache.memory = {}
    _Cache.rows = {}
    _Cache.columns = {}
    for forget in _FORGET:
        forget()


#: What else the pages keep between them (registered by :func:`also_forget`).
_FORGET: list[Callable[[], None]] = []


def also_forget(forget: Callable[[], None]) -> None:
    """Call `forget` too when the drawn geometries are let go (memos of the page code)."""
    _FORGET.append(forget)
    _LastKey.entries = []


# --------------------------------------------------------------------------- popup columns


def column_key(values: np.ndarray) -> str:
    """The key of a popup column's encoding: SHA-256 of its values.

    A column of text (worded popups) is digested as the length of each value and the
    values one after the other; any other column as pandas' 64-bit hash of each value
    and the names of its values' types (so ``1`` and ``"1"`` are two columns).
    """
    values = np.asarray(values, dtype=object)
    digest = hashlib.sha256(repr(("column", *_VERSIONS, len(values))).encode("utf-8"))
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        digest.update(np.fromiter(map(len, values), dtype=np.int64, count=len(values)).tobytes())
        digest.update("".join(values).encode("utf-8", "surrogatepass"))
    else:
        digest.update(pd.util.hash_array(values, categorize=False).tobytes())
        digest.update(repr(sorted({type(v).__qualname__ for v in values})).encode("utf-8"))
    return digest.hexdigest()


def source_key(source, how: tuple) -> str:
    """The key of a popup column worded from `source` as `how` says (see ``page.Worded``).

    Numbers are digested as their bytes, Arrow-backed text as its lengths, bytes and
    missing values, anything else as :func:`column_key` does.
    """
    digest = hashlib.sha256(repr(("worded", *_VERSIONS, len(source), how)).encode("utf-8"))
    dtype = getattr(source, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        digest.update(dtype.str.encode("ascii"))
        digest.update(np.ascontiguousarray(np.asarray(source)).tobytes())
    elif isinstance(source, pd.Series) and _arrow_text(source) is not None:
        lengths, data, missing = _arrow_text(source)
        digest.update(b"arrow-text")
        digest.update(lengths.tobytes())
        digest.update(data)
        digest.update(missing.tobytes())
    else:
        digest.update(column_key(np.asarray(source, dtype=object)).encode("ascii"))
    return digest.hexdigest()


def _arrow_text(source: pd.Series) -> tuple[np.ndarray, bytes, np.ndarray] | None:
    """The lengths, bytes and missing mask of Arrow-backed text, or None when it is not."""
    if not isinstance(source.dtype, pd.StringDtype) or source.dtype.storage == "python":
        return None
    try:
        array = pa.array(source)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if not pa.types.is_string(array.type):
        return None
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    offsets = offsets[array.offset : array.offset + len(array) + 1]
    data = array.buffers()[2]
    body = b"" if data is None else data.to_pybytes()[offsets[0] : offsets[-1]]
    missing = array.is_null().to_numpy(zero_copy_only=False)
    return np.diff(offsets), body, missing


def cached_column(key: str) -> tuple[str, str] | None:
    """The encoded popup column of key `key` (memory, then the cache folder), or None."""
    found = _Cache.columns.pop(key, None)
    if found is None and _Cache.folder is not None:
        found = _read_column(_Cache.folder / f"col-{key}.json", key)
    if found is not None:
        _Cache.columns[key] = found
    return found


def keep_column(key: str, parts: tuple[str, str]) -> None:
    """Keep an encoded popup column (and write it into the cache folder, when one is used)."""
    _Cache.columns[key] = parts
    while len(_Cache.columns) > COLUMN_ENTRIES:
        _Cache.columns.pop(next(iter(_Cache.columns)))
    if _Cache.folder is not None:
        payload = {"codes": parts[0], "uniques": parts[1]}
        entry = {"format": _FORMAT, "key": key, "sha256": _checksum(key, payload), **payload}
        if _save(_Cache.folder, f"col-{key}.json", entry):
            _prune(_Cache.folder, "col-", COLUMN_ENTRIES)


def _read_column(path: Path, key: str) -> tuple[str, str] | None:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        payload = {"codes": entry["codes"], "uniques": entry["uniques"]}
        if entry["format"] != _FORMAT or entry["key"] != key:
            return None
        if entry["sha256"] != _checksum(key, payload):
            log.info("map cache %s is damaged: drawn again", path)
            return None
        parts = (str(payload["codes"]), str(payload["uniques"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        log.info("map cache %s cannot be read (%s): drawn again", path, exc)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)
    return parts


# --------------------------------------------------------------------------- heavy rows


@dataclass
class _Rows:
    """Heavy rows drawn with one set of settings: source WKB digest → display WKB."""

    drawn: dict[str, bytes]
    changed: bool = False


def _row_digests(geoms: np.ndarray) -> list[str]:
    """SHA-256 of each row's WKB (heavy rows only: a few thousand at most)."""
    return [hashlib.sha256(w).hexdigest() for w in _wkb(geoms)]


def _rows(settings: tuple) -> tuple[str, _Rows]:
    key = geometry_key(np.empty(0, dtype=object), ("rows", *settings))
    if key not in _Cache.rows:
        stored = (
            None if _Cache.folder is None else _read_rows(_Cache.folder / f"rows-{key}.json", key)
        )
        _Cache.rows[key] = _Rows(stored or {})
    return key, _Cache.rows[key]


def known_rows(settings: tuple, geoms: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The digest of each of `geoms` and its display geometry drawn before with
    `settings` (None when not kept)."""
    _, rows = _rows(settings)
    digests = _row_digests(geoms)
    wkb = np.array([rows.drawn.get(d) for d in digests], dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    found = np.array([w is not None for w in wkb], dtype=bool)
    if found.any():
        out[found] = shapely.from_wkb(wkb[found])
    for digest in np.asarray(digests, dtype=object)[found]:  # recently used
        rows.drawn[digest] = rows.drawn.pop(digest)
    return digests, out


def keep_rows(settings: tuple, digests: list[str], drawn: np.ndarray) -> None:
    """Keep the display geometries `drawn` of the heavy rows of `digests` (written when
    the block of :func:`drawing_cache` ends)."""
    _, rows = _rows(settings)
    for digest, wkb in zip(digests, shapely.to_wkb(drawn), strict=True):
        if wkb is not None:
            rows.drawn[digest] = wkb  # newest last
            rows.changed = True
    while len(rows.drawn) > HEAVY_ROWS:
        rows.drawn.pop(next(iter(rows.drawn)))
        rows.changed = True


def _write_rows(folder: Path) -> None:
    for key, rows in _Cache.rows.items():
        if not rows.changed:
            continue
        payload = {"rows": {d: base64.b64encode(w).decode("ascii") for d, w in rows.drawn.items()}}
        entry = {"format": _FORMAT, "key": key, "sha256": _checksum(key, payload), **payload}
        _save(folder, f"rows-{key}.json", entry)


def _read_rows(path: Path, key: str) -> dict[str, bytes] | None:
    """The heavy rows kept at `path` when the file is whole and of key `key`."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        payload = {"rows": entry["rows"]}
        if entry["format"] != _FORMAT or entry["key"] != key:
            return None
        if entry["sha256"] != _checksum(key, payload):
            log.info("map cache %s is damaged: drawn again", path)
            return None
        return {str(d): base64.b64decode(w) for d, w in payload["rows"].items()}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        log.info("map cache %s cannot be read (%s): drawn again", path, exc)
        return None


@contextlib.contextmanager
def drawing_cache(folder: str | os.PathLike | None) -> Iterator[None]:
    """Use cache folder `folder` (None: memory only) while the block draws pages.

    The geometries kept in memory are let go when the block ends.
    """
    before = _Cache.folder
    _Cache.folder = None if folder is None else Path(folder)
    forget_drawn_geometries()  # heavy rows of another folder
    try:
        yield
        if _Cache.folder is not None:
            _write_rows(_Cache.folder)
    finally:
        _Cache.folder = before
        forget_drawn_geometries()


# --------------------------------------------------------------------------- files


def _payload(drawn: DrawnGeometry) -> dict:
    counts, geometry = drawn.packed
    return {
        "rows": len(drawn.keep),
        "keep": base64.b64encode(np.packbits(drawn.keep).tobytes()).decode("ascii"),
        "vertices": drawn.vertices,
        "packable": drawn.packable,
        "bounds": [float(b) for b in drawn.bounds],
        "counts": counts,
        "geometry": geometry,
    }


def _checksum(key: str, payload: dict) -> str:
    """SHA-256 of an entry's key and fields (text as it is, anything else as JSON)."""
    digest = hashlib.sha256(key.encode("utf-8"))
    for name in sorted(payload):
        value = payload[name]
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        digest.update(f"\x00{name}\x00{len(text)}\x00".encode())
        digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _write(folder: Path, key: str, drawn: DrawnGeometry) -> None:
    """Write the entry (atomically); a folder that cannot be written only costs time."""
    payload = _payload(drawn)
    entry = {"format": _FORMAT, "key": key, "sha256": _checksum(key, payload), **payload}
    if _save(folder, f"geometry-{key}.json", entry):
        _prune(folder, "geometry-", DISK_ENTRIES)


def _save(folder: Path, name: str, entry: dict) -> bool:
    """Write `entry` as `folder/name` (atomically); a folder that cannot be written only
    costs time (False)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(entry, separators=(",", ":"))
        outfiles.write_bytes(folder / name, text.encode("utf-8"), durable=False)
    except (OSError, GisrenewError) as exc:
        log.info("map cache not written in %s (%s): the next publish draws again", folder, exc)
        return False
    return True


def _prune(folder: Path, prefix: str, keep: int) -> None:
    """Remove the least recently used entries named `prefix`... beyond `keep`."""
    try:
        entries = sorted(
            folder.glob(f"{prefix}*.json"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for old in entries[keep:]:
            old.unlink()
    except OSError as exc:
        log.info("map cache %s not pruned: %s", folder, exc)


def _read(path: Path, key: str) -> DrawnGeometry | None:
    """The entry at `path` when it is whole and of key `key`; else None (drawn again)."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        payload = {name: entry[name] for name in _payload_names()}
        if entry["format"] != _FORMAT or entry["key"] != key:
            return None
        if entry["sha256"] != _checksum(key, payload):
            log.info("map cache %s is damaged: drawn again", path)
            return None
        rows = int(payload["rows"])
        keep = np.unpackbits(np.frombuffer(base64.b64decode(payload["keep"]), dtype=np.uint8))
        drawn = DrawnGeometry(
            keep=keep[:rows].astype(bool),
            vertices=int(payload["vertices"]),
            packable=bool(payload["packable"]),
            bounds=np.asarray(payload["bounds"], dtype=float),
            packed=(_counts(payload["counts"]), str(payload["geometry"])),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        log.info("map cache %s cannot be read (%s): drawn again", path, exc)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used
    return drawn


def _counts(counts: dict) -> dict:
    """The counts of a packed geometry, as numbers (whatever the file says)."""
    out = {name: int(counts[name]) for name in ("coords", "rings", "parts", "features", "scale")}
    out["origin"] = [int(v) for v in counts["origin"]][:2]
    return {name: out[name] for name in counts}


def _payload_names() -> tuple[str, ...]:
    return ("rows", "keep", "vertices", "packable", "bounds", "counts", "geometry")
