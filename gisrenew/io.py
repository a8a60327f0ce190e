"""Reading and writing layers: the only module that knows source files and schemas.

:func:`read_layer` reads anything pyogrio reads (GeoPackage, Shapefile, GeoJSON,
FlatGeobuf, ...) and returns a validated GeoDataFrame in the working CRS;
:func:`load_layer` is its raw twin that returns every problem instead of raising;
:func:`conform` applies the same rules to an in-memory GeoDataFrame. The rules
(documented in the README, "Loading your own data"):

* **columns** — user headers are renamed to gisrenew's English names by the
  project's ``[columns.<layer>]`` mapping and the built-in aliases of each layer
  (:func:`gisrenew.schema.column_aliases`: 编号, 名称, 户数, 已签约户数, 可步行, ...);
  a header that looks like a column but is not read is a warning naming the
  mapping; absent optional columns get their documented default; values are
  converted to the column's type, and every value
  that cannot be (text in a household count, a negative, fractional or infinite
  count) is an error naming the rows — every kind of bad value of a column at once;
* **ids** — the layer's id column (``park_id``, ...) is kept as text; without one,
  ids are generated from the row order (1, 2, ...) with a warning; duplicate or
  empty ids are an error;
* **geometry** — vertices with NaN or infinite coordinates are an error naming the
  rows; null or empty geometries are dropped and reported; invalid polygons are
  repaired with ``make_valid`` keeping the polygonal part and reported; geometry
  collections keep their parts of the layer's kind; rows of the wrong geometry kind
  (points in a polygon layer) are an error; multipart features are kept whole;
* **CRS** — see :mod:`gisrenew.crs`; ``crs=`` (``--crs``) applies only to a file
  without a CRS (a file with its own keeps it, with a warning), ``override_crs=``
  relabels any file (a warning every time); coordinates beyond what a CRS can hold
  are an error naming the rows;
* **layers** — in a multi-layer file an empty layer named for the kind is refused
  when another layer named for the same kind has features;
* **Shapefile encoding** — see :mod:`gisrenew.encodings` (``.cpg`` spellings, UTF-8
  bytes under a GBK ``.cpg``, Big5 detection); ``encoding=`` overrides it.

Errors are collected first and raised together as a
:class:`~gisrenew.errors.ValidationError`, so a planner sees every problem at once.
Warnings and notices (every repair, drop, default, generated id, doubtful encoding or
CRS decision) travel with the returned layer: :func:`layer_problems`.
:func:`check_extents` compares the layers of one run (features far outside the study
area).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from wcwidth import wcswidth

from gisrenew import crs as crs_rules
from gisrenew import outfiles
from gisrenew.encodings import choose_shapefile_encoding
from gisrenew.errors import (
    CRSError,
    EncodingError,
    GeometryError,
    GisrenewError,
    InputError,
    OutputError,
    Problem,
    ReadError,
    SchemaError,
    raise_for_problems,
)
from gisrenew.geometry import in_two_threads
from gisrenew.schema import (
    LayerSchema,
    column_aliases,
    get_layer_schema,
    kind_from_name,
    lookalike_column,
)

__all__ = [
    "FAR_FROM_STUDY_AREA_M",
    "GENERATED_IDS",
    "LAYER_SEPARATOR",
    "READABLE_SUFFIXES",
    "FoundLayer",
    "LayerRef",
    "check_extents",
    "conform",
    "conformed",
    "detect_shapefile_encoding",
    "find_layers",
    "finish_loading",
    "layer_problems",
    "list_layers",
    "load_frame",
    "load_layer",
    "log_problems",
    "plain_columns",
    "read_layer",
    "write_results",
]

log = logging.getLogger(__name__)

#: The ``category`` of the warning that a layer had no id column and got ids 1..n.
GENERATED_IDS = "generated_ids"

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
_LINEAR = (shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING)
_PUNCTUAL = (shapely.GeometryType.POINT, shapely.GeometryType.MULTIPOINT)
_KIND_TYPES = {"polygon": _POLYGONAL, "line": _LINEAR, "point": _PUNCTUAL}

_TRUE = {"true", "t", "yes", "y", "1", "是", "对", "√"}
_FALSE = {"false", "f", "no", "n", "0", "否", "", "none", "nan"}

# --------------------------------------------------------------------------- reading


def detect_shapefile_encoding(path: str | os.PathLike) -> str:
    """Return the text encoding of a Shapefile's attributes.

    The ``.cpg`` file wins when present and consistent with the bytes; otherwise the
    ``.dbf`` bytes decide: UTF-8, GB18030 (a superset of GBK and GB2312, the usual
    encoding of Chinese Shapefiles written by desktop GIS) or Big5 (``CP950``). The
    rules, and the warnings a doubtful choice gives, are in :mod:`gisrenew.encodings`.

    Raises
    ------
    EncodingError
        When the bytes are none of these; the message asks for an explicit ``encoding``.
    """
    return choose_shapefile_encoding(path).encoding


#: Separates a file from a layer inside it: ``城市现状.gpkg::居住用地``.
LAYER_SEPARATOR = "::"


@dataclasses.dataclass(frozen=True)
class LayerRef(os.PathLike):
    """A file, and optionally one layer inside it (``FILE::LAYER`` on the command line).

    It is a path-like of the file (``os.fspath`` gives the file, so the output guard
    and checksums see the real file) whose text is ``FILE::LAYER``. Every loader
    accepts it, or the text, wherever it accepts a file.

    Examples
    --------
    >>> ref = LayerRef.parse("城市现状.gpkg::居住用地")
    >>> os.fspath(ref), ref.layer, str(ref)
    ('城市现状.gpkg', '居住用地', '城市现状.gpkg::居住用地')
    """

    path: Path
    layer: str | None = None

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return f"{self.path}{LAYER_SEPARATOR}{self.layer}" if self.layer else str(self.path)

    @classmethod
    def parse(cls, source: str | os.PathLike) -> LayerRef:
        """`source` as a file and layer; a file that exists under the whole name is a file."""
        if isinstance(source, LayerRef):
            return source
        text = os.fspath(source)
        if LAYER_SEPARATOR in text and not os.path.exists(text):
            file, _, layer = text.rpartition(LAYER_SEPARATOR)
            return cls(Path(file), layer or None)
        return cls(Path(text))


def list_layers(source: str | os.PathLike) -> list[str]:
    """Names of the layers in a data source (one for a Shapefile or GeoJSON)."""
    _check_readable(Path(source))
    try:
        return [str(name) for name in pyogrio.list_layers(source)[:, 0]]
    except Exception as exc:  # pyogrio raises several DataSourceError subclasses
        raise ReadError(f"{source}: cannot open the file: {exc}") from None


#: Suffixes of data files a folder is searched for (a Shapefile by its ``.shp``).
READABLE_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".gml", ".kml", ".sqlite")


@dataclasses.dataclass(frozen=True)
class FoundLayer:
    """A layer found in the paths a planner gave: where it is and which kind it is.

    ``kind`` is None when neither an option nor the file or layer name tells it.
    """

    ref: LayerRef
    kind: str | None


def find_layers(paths: Sequence[str | os.PathLike], kind: str | None = None) -> list[FoundLayer]:
    """The layers in `paths` — files, ``FILE::LAYER``, folders — each with its kind.

    ``gisrenew validate`` and ``gisrenew init`` read their positional paths with this
    one function, so they accept the same things: a folder is searched for data files
    (:data:`READABLE_SUFFIXES`); every layer of a multi-layer file is one entry; the
    kind is `kind` (``--kind``) or the one the layer's or file's name tells
    (:func:`gisrenew.schema.kind_from_name`: 公园绿地 → parks, 居住用地 → residential).
    A file that cannot be opened is listed with the kind of its name (reading it
    reports the problem).
    """
    found: list[FoundLayer] = []
    for path in paths:
        ref = LayerRef.parse(path)
        if ref.layer is None and ref.path.is_dir():
            files = sorted(p for p in ref.path.iterdir() if p.suffix.lower() in READABLE_SUFFIXES)
            found += find_layers(files, kind)
            continue
        if ref.layer is not None:
            found.append(FoundLayer(ref, kind or kind_from_name(ref.layer)))
            continue
        try:
            layers = list_layers(ref.path) if ref.path.exists() else []
        except GisrenewError:
            layers = []
        if len(layers) <= 1:
            named = kind_from_name(layers[0]) if layers else None
            found.append(FoundLayer(ref, kind or named or kind_from_name(ref.path.stem)))
            continue
        for layer in layers:
            guessed = kind or kind_from_name(layer) or kind_from_name(ref.path.stem)
            found.append(FoundLayer(LayerRef(ref.path, layer), guessed))
    return found


def _feature_count(source: Path, layer: str) -> int:
    """Features in `layer` (-1 when the driver cannot tell without reading it)."""
    return int(pyogrio.read_info(source, layer=layer)["features"])


def _pick_layer(source: Path, kind: str, layer: str | None) -> str | None:
    """The layer to read: `layer`, the only one, or the one named for `kind`.

    Without `layer`, a multi-layer file's layer named `kind` (``parks``) is read, else
    the one layer whose name :func:`gisrenew.schema.kind_from_name` takes for `kind`
    (公园绿地, 居住用地, ...). Several such layers, or none, are refused with their names
    and the ``FILE::LAYER`` form that picks one. A layer named `kind` that is empty
    while another layer named for the same kind has features is refused too: one of
    them is a leftover, and gisrenew does not guess which.
    """
    layers = list_layers(source)
    if layer is not None:
        if layer not in layers:
            raise ReadError(
                f"{source}: there is no layer {layer!r}; layers in the file: {', '.join(layers)}. "
                f"Fix: name one of them, e.g. `{source}::{layers[0]}`"
            )
        return layer
    if len(layers) == 1:
        return layers[0]
    schema_name = get_layer_schema(kind).name
    if kind not in layers:
        named = [name for name in layers if kind_from_name(name) == schema_name]
        if len(named) == 1:
            return named[0]
        listed = ", ".join(named or layers)
        why = (
            f"several layers are named for `{schema_name}` ({listed})"
            if named
            else f"none is named for `{schema_name}` (layers: {listed})"
        )
        raise ReadError(
            f"{source}: the file has several layers and {why}. Fix: name the layer with "
            f"`{source}::LAYER` (e.g. `--{schema_name} {source}::{(named or layers)[0]}`; "
            "`layer=` in Python)."
        )
    if _feature_count(source, kind) == 0:
        rivals = {
            name: count
            for name in layers
            if name != kind
            and kind_from_name(name) == schema_name
            and (count := _feature_count(source, name)) != 0
        }
        if rivals:
            listed = ", ".join(
                f"{name!r} ({count if count > 0 else 'some'} features)"
                for name, count in rivals.items()
            )
            raise ReadError(
                f"{source}: the layer {kind!r} is empty, but {listed} also hold(s) `{kind}`; "
                "gisrenew does not guess which one is meant. Fix: remove the empty layer, "
                f"or name the layer to read (`{source}::LAYER`; `layer=` in Python)."
            )
    return kind


def _same_crs(a: CRS, b: CRS) -> bool:
    """Equal CRSs, or one EPSG code for both (a .prj in ESRI WKT against ``EPSG:xxxx``)."""
    if a == b:
        return True
    code = b.to_epsg()
    return code is not None and a.to_epsg(min_confidence=70) == code


def _declared_crs(frame: gpd.GeoDataFrame, crs, override_crs, found: _Found) -> gpd.GeoDataFrame:
    """Apply ``override_crs`` (always, warned) or ``crs`` (only to a file without a CRS)."""
    own = None if frame.crs is None else CRS.from_user_input(frame.crs)
    if override_crs is not None:
        said = f"says {crs_rules.describe_crs(own)}" if own is not None else "has no CRS"
        found.add(
            "warning",
            f"CRS overridden: the file {said}; `override_crs` makes it "
            f"{crs_rules.describe_crs(override_crs)} (coordinates unchanged, only relabelled)",
            fix="correct the file's CRS (.prj) so that no override is needed",
            category="crs",
        )
        return frame.set_crs(override_crs, allow_override=True)
    if crs is None:
        return frame
    if own is None:
        found.add(
            "info",
            f"the file has no CRS; using {crs_rules.describe_crs(crs)} given by `crs` (--crs)",
            category="crs",
        )
        return frame.set_crs(crs)
    if not _same_crs(own, crs):
        found.add(
            "warning",
            f"`crs` (--crs) {crs_rules.describe_crs(crs)} was not applied: it is for files "
            f"without a CRS, and this file declares {crs_rules.describe_crs(own)}, which is "
            "kept (and reprojected as usual)",
            fix="if the file's own CRS is wrong, correct its .prj, or pass `override_crs=` "
            "(Python) to relabel it",
            category="crs",
        )
    return frame


def _read_frame(path: Path, kind: str, layer: str | None, encoding: str | None):
    """Read the layer; return ``(frame, layer name, encoding choice or None)``; InputErrors only."""
    _check_readable(path)
    layer_name = _pick_layer(path, kind, layer)
    choice = None
    if encoding is None and path.suffix.lower() == ".shp":
        choice = choose_shapefile_encoding(path)
        encoding = choice.encoding
    try:
        frame = _read_file(path, layer_name, encoding)
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"attribute text cannot be decoded as {encoding or 'UTF-8'}: {exc.reason}. "
            "Fix: pass the right encoding (`--encoding GBK`, `encoding=` in Python)"
        ) from None
    except Exception as exc:  # anything GDAL cannot read
        raise ReadError(
            f"cannot read the file: {exc}. Fix: check that the file is a complete "
            "GeoPackage/Shapefile/GeoJSON"
        ) from None
    return frame, layer_name, choice


def _read_file(path: Path, layer: str | None, encoding: str | None) -> gpd.GeoDataFrame:
    """The layer as pyogrio reads it: through Arrow, else row by row (same frame either way).

    The Arrow path (``use_arrow=True``, pyarrow) reads a GeoPackage about twice as fast. It
    gives a few columns in other forms than the row reader: those are converted back
    (:func:`_as_row_reader_gives`), so the layer never depends on the path taken. Whatever
    the Arrow path cannot read (text that is not in `encoding`, a driver without Arrow
    support) is read again row by row, which raises the errors the messages are made for.
    """
    try:
        frame = gpd.read_file(
            path, layer=layer, encoding=encoding, engine="pyogrio", use_arrow=True
        )
    except Exception:  # any failure: the row reader reads it, or says why it cannot
        return gpd.read_file(path, layer=layer, encoding=encoding, engine="pyogrio")
    return _as_row_reader_gives(frame)


def _as_row_reader_gives(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns read through Arrow in the row reader's forms.

    Yes/no columns with empty values are numbers there (1.0, 0.0, NaN) and date columns
    ``datetime64[ms]``; Arrow gives Python ``bool``/``date`` objects with ``None``.
    """
    for column in frame.columns:
        series = frame[column]
        if column == frame.geometry.name or series.dtype != object:
            continue
        kind = pd.api.types.infer_dtype(series, skipna=True)
        if kind == "boolean":
            frame[column] = series.astype("float64")
        elif kind == "date":
            frame[column] = pd.to_datetime(series).astype("datetime64[ms]")
    return frame


def _check_readable(path: Path) -> None:
    """Refuse what is not a file or a folder (a pipe, a socket, a device): GDAL would hang."""
    mode = path.stat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise ReadError(
            f"{path} is not a file (a pipe, socket or device); gisrenew reads GeoPackage, "
            "Shapefile, GeoJSON and other GIS files. Fix: give the path of the data file"
        )


_CATEGORIES = {
    CRSError: "crs",
    SchemaError: "schema",
    GeometryError: "geometry",
    EncodingError: "encoding",
    ReadError: "read",
}


def load_layer(
    source: str | os.PathLike,
    kind: str,
    *,
    layer: str | None = None,
    crs=None,
    override_crs=None,
    encoding: str | None = None,
    columns: Mapping[str, str] | None = None,
    working_crs=None,
) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    """Read and validate one layer, collecting problems instead of raising.

    Returns the conformed layer (``None`` when an error makes it unusable) and every
    problem found: errors, warnings for every repair, drop, default, generated id,
    doubtful encoding or CRS decision (each naming file, layer, count, first rows or
    ids, and what was done) and notices (``info``). The returned layer carries its
    warnings and notices too: :func:`layer_problems`. :func:`read_layer` is the raising
    variant; ``gisrenew validate`` uses this one to list everything at once.
    Parameters are those of :func:`read_layer`.
    """
    ref = LayerRef.parse(source)
    path, label = ref.path, str(ref.path)
    if layer is not None and ref.layer is not None and layer != ref.layer:
        return None, [
            Problem(
                "error", f"two layers asked for: `layer={layer!r}` and `{ref}`", label, layer,
                fix="name the layer once", category="read",
            )
        ]  # fmt: skip
    layer = layer if layer is not None else ref.layer
    if not path.exists():
        return None, [
            Problem(
                "error", "the file does not exist", label, layer or kind, fix="check the path",
                category="read",
            )
        ]  # fmt: skip
    if kind == "roads" and path.name.lower().endswith((".osm.pbf", ".osm", ".pbf")):
        return _load_osm_roads(path, working_crs=working_crs)
    try:
        crs = None if crs is None else crs_rules.parse_crs(crs, what="`crs` (--crs)")
        if override_crs is not None:
            override_crs = crs_rules.parse_crs(override_crs, what="`override_crs`")
        frame, layer_name, choice = _read_frame(path, kind, layer, encoding)
    except InputError as exc:
        category = next((c for cls, c in _CATEGORIES.items() if isinstance(exc, cls)), "read")
        return None, [Problem("error", str(exc), label, layer or kind, category=category)]
    found = _Found(label, layer_name or kind)
    if choice is not None and choice.warning:
        found.add("warning", choice.warning, category="encoding")
    elif choice is not None and choice.how == "detected" and choice.encoding != "UTF-8":
        found.add(
            "info", f"no .cpg file; attribute text read as {choice.encoding}", category="encoding"
        )
    frame = _declared_crs(frame, crs, override_crs, found)
    gdf, more = _conform(
        frame, kind, source=label, layer=layer_name or kind, working_crs=working_crs,
        columns=columns,
    )  # fmt: skip
    problems = found.problems + more
    if gdf is not None:
        gdf.attrs["problems"] = _as_records(problems)
    return gdf, problems


def _load_osm_roads(path: Path, *, working_crs) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    """An OpenStreetMap extract as a ``roads`` layer (walkable ways; see :mod:`gisrenew.osm`)."""
    from gisrenew.osm import roads_from_osm  # optional dependency (pyosmium): loaded on use

    try:
        roads = roads_from_osm(path, working_crs=working_crs)
    except (ReadError, ImportError) as exc:
        return None, [Problem("error", str(exc), str(path), "roads", category="read")]
    return _conform(
        roads, "roads", source=str(path), layer="roads", working_crs=working_crs, columns=None
    )


def read_layer(
    source: str | os.PathLike,
    kind: str,
    *,
    layer: str | None = None,
    crs=None,
    override_crs=None,
    encoding: str | None = None,
    columns: Mapping[str, str] | None = None,
    working_crs=None,
) -> gpd.GeoDataFrame:
    """Read one layer of kind `kind` from a file into a validated GeoDataFrame.

    Parameters
    ----------
    source : path, str or LayerRef
        GeoPackage, Shapefile, GeoJSON or any file pyogrio reads; for ``roads`` also an
        OpenStreetMap extract (``.osm.pbf``/``.osm``, walkable ways, via pyosmium).
        ``FILE::LAYER`` (or a :class:`LayerRef`) names a layer inside the file.
    kind : str
        Layer kind: ``parks``, ``residential``, ``parcels``, ``plans``, ``boundary``,
        ``districts``, ``roads``, ``entrances``, ``water`` or ``candidates``.
    layer : str, optional
        Layer inside a multi-layer file; by default the only layer, the one named
        `kind`, or the one layer with a name of `kind` (公园绿地, 居住用地, ...:
        :data:`gisrenew.schema.LAYER_NAMES`); several or none are refused, as is an
        empty layer named `kind` when another layer named for `kind` is not empty.
    crs : CRS-like, optional
        CRS of a file **without** one (``"EPSG:4490"``, ...). A file that declares its
        own CRS keeps it (a warning says `crs` was not applied).
    override_crs : CRS-like, optional
        CRS to use whatever the file declares, for a file whose ``.prj`` is wrong; the
        coordinates are relabelled, not transformed, with a warning every time.
    encoding : str, optional
        Attribute text encoding; by default from the ``.cpg`` or detected
        (:mod:`gisrenew.encodings`).
    columns : mapping, optional
        Extra ``{source header: gisrenew column}`` renames, on top of the Chinese aliases.
    working_crs : CRS-like, optional
        The metric CRS to return the layer in; by default the layer's own metric CRS,
        or for degrees the CGCS2000 Gauss-Krüger zone of its longitude.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer in the working CRS with gisrenew's columns, ids as text, valid geometry.
        Its warnings and notices (repairs, drops, defaults, generated ids, encoding and
        CRS decisions) are logged and kept with it: :func:`layer_problems`.

    Raises
    ------
    ValidationError, CRSError, SchemaError, GeometryError, EncodingError, ReadError
        With every problem found, each naming file, layer, rows and fix.
    """
    gdf, problems = load_layer(
        source, kind, layer=layer, crs=crs, override_crs=override_crs, encoding=encoding,
        columns=columns, working_crs=working_crs,
    )  # fmt: skip
    return _finish(gdf, problems)


def conform(
    gdf: gpd.GeoDataFrame,
    kind: str,
    *,
    source: str = "<GeoDataFrame>",
    layer: str = "",
    working_crs=None,
    columns: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Validate an in-memory layer with the loader's rules; return a new GeoDataFrame.

    Library functions call this on their inputs, so a GeoDataFrame with geometry
    alone is enough. The input is never modified. Warnings are logged and kept with
    the result (:func:`layer_problems`).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> parks = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:4549")
    >>> conform(parks, "parks")[["park_id", "park_class"]].iloc[0].tolist()
    ['1', 'G1']
    """
    result, problems = _conform(
        gdf, kind, source=source, layer=layer or kind, working_crs=working_crs, columns=columns
    )
    return _finish(result, problems)


def conformed(
    gdf: gpd.GeoDataFrame | None,
    kind: str,
    *,
    name: str | None = None,
    crs=None,
) -> gpd.GeoDataFrame | None:
    """`gdf` validated by :func:`conform` unless it already was; in `crs` when given.

    Every engine calls this on its inputs. A frame the loaders or the project store
    conformed (``attrs["kind"]`` is the layer kind and every schema column is there)
    is used as it is — never copied or re-validated — when it is in a metric CRS;
    reprojected (logged) when `crs` names another CRS. Any other frame goes through
    :func:`conform`, which also reprojects a layer in degrees to a metric working CRS;
    so does a conformed frame that is no longer in a metric CRS (one reprojected to
    degrees after loading), exactly as a raw frame would.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame or None
        The layer; None gives None (an optional layer that was not given).
    kind : str
        Layer kind (``parks``, ``residential``, ``boundary``, ... see :mod:`gisrenew.schema`).
    name : str, optional
        Name of the argument or layer for messages (default: `kind`).
    crs : optional
        Working CRS to bring the layer to (e.g. the residential layer's CRS).

    Returns
    -------
    geopandas.GeoDataFrame or None

    Raises
    ------
    SchemaError
        When `gdf` is not a GeoDataFrame.
    CRSError
        When `gdf` has no coordinate reference system.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> raw = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:4549")
    >>> parks = conformed(raw, "parks")
    >>> parks["park_id"].tolist(), conformed(parks, "parks") is parks
    (['1'], True)
    """
    if gdf is None:
        return None
    name = name or kind
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SchemaError(f"`{name}` must be a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is None:
        raise CRSError(
            f"`{name}` has no coordinate reference system (CRS); areas and distances need one. "
            "Set it with `.set_crs(...)`, or load the layer with gisrenew.read_layer."
        )
    schema = get_layer_schema(kind)
    done = gdf.attrs.get("kind") == schema.name and set(schema.column_names) <= set(gdf.columns)
    if done and crs_rules.is_metric_projected(gdf.crs):
        if crs is None or crs_rules.same_crs(gdf.crs, crs):
            return gdf
        log.info(
            "reprojecting `%s` from %s to %s",
            name,
            gdf.crs.to_string(),
            CRS.from_user_input(crs).to_string(),
        )
        return gdf.to_crs(crs)
    return conform(gdf, kind, source=f"`{name}`", working_crs=crs)


def load_frame(
    gdf: gpd.GeoDataFrame,
    kind: str,
    *,
    source: str = "<GeoDataFrame>",
    layer: str = "",
    working_crs=None,
    columns: Mapping[str, str] | None = None,
) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    """Validate an in-memory layer, collecting problems instead of raising.

    The in-memory counterpart of :func:`load_layer`; :func:`conform` is the raising
    variant.
    """
    return _conform(
        gdf, kind, source=source, layer=layer or kind, working_crs=working_crs, columns=columns
    )


def finish_loading(gdf, problems: list[Problem]) -> gpd.GeoDataFrame:
    """Log the warnings of a load and raise its errors; return the layer.

    Turns the collecting loaders (:func:`load_layer`, :func:`load_frame`) into their
    raising variants.
    """
    return _finish(gdf, problems)


def layer_problems(gdf: pd.DataFrame) -> list[Problem]:
    """The warnings and notices found while loading `gdf` (errors stop the load).

    :func:`read_layer`, :func:`load_layer` and :func:`conform` keep them in
    ``gdf.attrs["problems"]`` as plain dicts (so the frame stays serialisable);
    this rebuilds the :class:`~gisrenew.errors.Problem` objects. Empty for a frame
    that did not come from a loader.
    """
    return [
        Problem(**{**record, "rows": tuple(record.get("rows", ()))})
        for record in gdf.attrs.get("problems", [])
    ]


def log_problems(problems: list[Problem]) -> None:
    """Log warnings (``WARNING``) and notices (``INFO``) to the ``gisrenew`` logger."""
    for problem in problems:
        if problem.severity == "warning":
            log.warning("%s", problem.text(severity=False))
        elif problem.severity == "info":
            log.info("%s", problem.text(severity=False))


def _finish(gdf, problems: list[Problem]) -> gpd.GeoDataFrame:
    log_problems(problems)
    raise_for_problems(problems)
    return gdf


def _as_records(problems: list[Problem]) -> list[dict]:
    return [dataclasses.asdict(p) for p in problems if p.severity != "error"]


#: Features farther than this (metres) outside the study area's extent — or than the
#: extent's own diagonal, when that is larger — are reported by :func:`check_extents`.
FAR_FROM_STUDY_AREA_M = 10_000.0
_STUDY_KINDS = ("residential", "boundary")


def check_extents(layers) -> list[Problem]:
    """Warn about features lying far outside the study area of one run.

    The study area is the extent of the ``residential`` and ``boundary`` layers
    (``attrs["kind"]``, as the loaders set it). Every feature of the other layers
    whose bounding box lies more than :data:`FAR_FROM_STUDY_AREA_M` — or the study
    extent's diagonal, when larger — outside it is named in one warning per layer:
    a park 300 km away cannot serve the city, and is probably in the wrong file or
    the wrong CRS. Without a study layer nothing is checked.

    Parameters
    ----------
    layers : iterable or mapping of GeoDataFrame
        The loaded layers of one command (any CRSs; compared in the study area's).

    Returns
    -------
    list of Problem
        One ``warning`` per layer with far features: count, distance, first ids.
    """
    frames = [
        f for f in (layers.values() if isinstance(layers, Mapping) else layers) if f is not None
    ]
    study = [f for f in frames if f.attrs.get("kind") in _STUDY_KINDS and len(f) and f.crs]
    if not study:
        return []
    crs = study[0].crs
    boxes = np.array([_bounds_in(f, crs) for f in study])
    extent = np.array([*np.nanmin(boxes[:, :2], axis=0), *np.nanmax(boxes[:, 2:], axis=0)])
    if not np.all(np.isfinite(extent)):
        return []
    margin = max(FAR_FROM_STUDY_AREA_M, float(np.hypot(*(extent[2:] - extent[:2]))))
    return [
        problem
        for frame in frames
        if frame.attrs.get("kind") not in _STUDY_KINDS and len(frame) and frame.crs
        for problem in _far_features(frame, crs, extent, margin)
    ]


def _bounds_in(frame: gpd.GeoDataFrame, crs) -> np.ndarray:
    """The frame's total bounds in `crs` (edges densified when reprojected)."""
    if frame.crs == crs:
        return frame.total_bounds
    to_crs = Transformer.from_crs(frame.crs, crs, always_xy=True)
    return np.array(to_crs.transform_bounds(*frame.total_bounds, densify_pts=21))


def _far_features(frame: gpd.GeoDataFrame, crs, extent: np.ndarray, margin: float) -> list[Problem]:
    bounds = shapely.bounds(np.asarray(frame.geometry.array, dtype=object))
    if frame.crs != crs:
        boxes = gpd.GeoSeries(shapely.box(*bounds.T), crs=frame.crs).to_crs(crs)
        bounds = shapely.bounds(np.asarray(boxes.array, dtype=object))
    gap_x = np.maximum.reduce(
        [extent[0] - bounds[:, 2], bounds[:, 0] - extent[2], np.zeros(len(bounds))]
    )
    gap_y = np.maximum.reduce(
        [extent[1] - bounds[:, 3], bounds[:, 1] - extent[3], np.zeros(len(bounds))]
    )
    gap = np.hypot(gap_x, gap_y)
    far = gap > margin
    if not far.any():
        return []
    kind = frame.attrs.get("kind", "")
    id_col = get_layer_schema(kind).id_column if kind else None
    ids = frame[id_col].to_numpy() if id_col in frame.columns else np.arange(1, len(frame) + 1)
    shown = [str(v) for v in ids[far][:10]]
    return [
        Problem(
            "warning",
            f"{int(far.sum())} feature(s) lie {np.nanmin(gap[far]) / 1000:,.0f}–"
            f"{np.nanmax(gap[far]) / 1000:,.0f} km outside the study area (the extent of the "
            f"residential/boundary layers; more than {margin / 1000:,.0f} km): ids {shown}",
            str(frame.attrs.get("source", "")),
            str(frame.attrs.get("layer", kind)),
            fix="check that these features belong to this city and that the file's CRS is "
            "right; features that far away cannot serve the study area",
            category="geometry",
        )
    ]


# --------------------------------------------------------------------------- conform


class _Found:
    """The problems of one layer, each naming its source and layer."""

    def __init__(self, source: str, layer: str):
        self.source, self.layer = source, layer
        self.problems: list[Problem] = []

    def add(self, severity, message, rows=(), column=None, fix="", category="schema") -> None:
        self.problems.append(
            Problem(severity, message, self.source, self.layer, tuple(rows), column, fix, category)
        )

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def _mapping_fix(schema: LayerSchema, header: str, column: str) -> str:
    """The fix that maps `header` to `column`: the settings line and the init option."""
    return (
        f'add `"{header}" = "{column}"` to [columns.{schema.name}] in gisrenew.toml '
        f"(or `gisrenew init ... --column {schema.name}:{header}={column}`)"
    )


def _explicit_renames(present: set[str], schema: LayerSchema, columns, found) -> dict[str, str]:
    """The project's own ``[columns.<layer>]`` renames that apply to this layer."""
    mapping: dict[str, str] = {}
    for header, target in (columns or {}).items():
        if header == target:
            continue
        if header not in present:
            if target not in present and target in schema.column_names and found is not None:
                found.add(
                    "warning",
                    f"[columns.{schema.name}] maps `{header}` to `{target}`, but the layer has "
                    f"no column `{header}` (columns: {', '.join(sorted(present)) or 'none'})",
                    column=header,
                    fix=f"correct the header in [columns.{schema.name}] of gisrenew.toml",
                    category="columns",
                )
            continue
        if target in present:
            if found is not None:
                found.add(
                    "warning",
                    f"[columns.{schema.name}] maps `{header}` to `{target}`, but the layer "
                    f"already has a `{target}` column, which is used",
                    column=header,
                    fix=f"rename or remove the layer's `{target}` column; in a project made "
                    "before the mapping, run `gisrenew reload`",
                    category="columns",
                )
            continue
        mapping[header] = target
    return mapping


def _rename_map(
    frame_columns, schema: LayerSchema, columns: Mapping[str, str] | None, found=None
) -> dict:
    """``{header: gisrenew column}`` for a layer's headers; look-alikes reported to `found`.

    The project's ``[columns.<layer>]`` mapping first, then English names in another
    case or cut to 10 characters (Shapefiles), then the aliases of
    :func:`gisrenew.schema.column_aliases` in their order: one header per column,
    never two columns with one name. Every other header that looks like one of the
    layer's columns (:func:`gisrenew.schema.lookalike_column`) is a warning naming the
    mapping to add.
    """
    present = {str(c) for c in frame_columns}
    known = set(schema.column_names)
    mapping = _explicit_renames(present, schema, columns, found)
    taken = (present & known) | set(mapping.values())

    def use(header: str, target: str) -> None:
        if header in present and header not in mapping and target not in taken:
            mapping[header] = target
            taken.add(target)

    lower = {c.lower(): c for c in present}
    for name in schema.column_names:  # English names in another case (Shapefiles upper-case)
        if name.lower() in lower:
            use(lower[name.lower()], name)
    truncated: dict[str, list[str]] = {}  # Shapefile field names are cut to 10 characters
    for name in schema.column_names:
        if len(name) > 10:
            truncated.setdefault(name[:10], []).append(name)
    for short, names in truncated.items():
        if len(names) == 1:
            use(short, names[0])
    for alias, target in column_aliases(schema.name).items():
        use(alias, target)
    if found is not None:
        _report_lookalikes(present, mapping, schema, found)
    return mapping


def _report_lookalikes(present: set[str], mapping: dict, schema: LayerSchema, found) -> None:
    """Warn about every header that looks like a column of the layer but is not read."""
    source_of = {target: header for header, target in mapping.items()}
    for header in sorted(present - set(mapping) - set(schema.column_names)):
        column = lookalike_column(schema.name, header)
        if column is None:
            continue
        used = source_of.get(column, column)
        if column in source_of or column in present:
            message = (
                f"column `{header}` looks like `{column}` but is not used: `{column}` is read "
                f"from `{used}`"
            )
            fix = f"if `{header}` is meant, {_mapping_fix(schema, header, column)}"
        else:
            message = f"column `{header}` looks like `{column}` but is not read"
            fix = _mapping_fix(schema, header, column)
        found.add("warning", message, column=header, fix=fix, category="columns")


def _rows(mask_or_positions) -> tuple:
    """The first offending rows, numbered from 1 in file order (as a planner counts them)."""
    positions = np.asarray(mask_or_positions)
    if positions.dtype == bool:
        positions = np.flatnonzero(positions)
    return tuple(int(i) + 1 for i in positions[:10])


def _first_ids(ids: np.ndarray, mask: np.ndarray) -> str:
    return f"; first ids {ids[mask][:5].tolist()}"


def _conform(
    gdf,
    kind: str,
    *,
    source: str,
    layer: str,
    working_crs,
    columns: Mapping[str, str] | None,
) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    """The loader's rules, step by step; returns ``(layer or None, problems)``.

    Rows keep their file order until the end, so every problem names rows as the
    planner counts them (from 1); errors of every step are collected before giving up.
    """
    schema = get_layer_schema(kind)
    found = _Found(source, layer)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.active_geometry_name not in gdf.columns:
        found.add(
            "error", "the layer has no geometry column", fix="load a spatial layer",
            category="geometry",
        )  # fmt: skip
        return None, found.problems
    frame = gdf.rename(columns=_rename_map(gdf.columns, schema, columns, found))
    frame = frame.reset_index(drop=True)
    unusable = _check_coordinates(frame, found)
    frame = _with_ids(frame, schema, found)
    frame, keep = _checked_geometry(frame, schema, found, unusable)
    frame, defaulted = _converted_columns(frame, schema, found)
    if found.has_errors:
        return None, found.problems
    frame = frame.loc[keep].reset_index(drop=True)
    if frame.empty:
        found.add("warning", "the layer has no usable features", category="geometry")
    try:
        frame = _to_working(frame, working_crs, found)
    except CRSError as exc:
        found.add("error", str(exc), category="crs")
        return None, found.problems
    ordered = [*schema.column_names, *(c for c in frame.columns if c not in schema.column_names)]
    frame = frame[ordered]
    # `defaulted_columns`: schema columns absent from the source, filled with defaults —
    # analyses that need real values (e.g. household counts) check it.
    frame.attrs = {
        "source": source,
        "layer": layer,
        "kind": schema.name,
        "defaulted_columns": defaulted,
        "problems": _as_records(found.problems),
    }
    return frame, found.problems


def _check_coordinates(frame: gpd.GeoDataFrame, found: _Found) -> np.ndarray:
    """CRS present, coordinates finite, plausible and consistent with the CRS.

    Returns the rows whose coordinates are unusable (already reported as errors).
    """
    geoms = np.asarray(frame.geometry.array, dtype=object)
    if frame.crs is None:
        found.add(
            "error",
            "the layer has no coordinate reference system (CRS)",
            fix="pass `--crs EPSG:xxxx` (e.g. EPSG:4490 for CGCS2000 degrees, EPSG:4549 for "
            "CGCS2000 GK CM 120°E) or set `crs` for this layer in gisrenew.toml",
            category="crs",
        )
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    unusable = np.zeros(len(geoms), dtype=bool)
    finite = np.isfinite(coords)
    if not finite.all():  # one flat pass; rows only when something is wrong
        unusable[index[~(finite[:, 0] & finite[:, 1])]] = True
    if unusable.any():
        found.add(
            "error",
            f"{int(unusable.sum())} row(s) have vertices whose coordinates are not finite "
            "numbers (NaN or infinity)",
            _rows(unusable),
            fix="redraw or delete these features: a vertex without a position cannot be measured",
            category="geometry",
        )
    if frame.crs is None:
        return unusable
    bounds = shapely.bounds(geoms)
    usable = ~unusable & np.isfinite(bounds).all(axis=1)
    implausible = crs_rules.implausible_rows(bounds, frame.crs) & usable
    whole_layer = bool(implausible.any()) and bool(implausible[usable].all())
    if implausible.any() and not (whole_layer and frame.crs.is_geographic):
        found.add(
            "error",
            f"{int(implausible.sum())} row(s) have coordinates no place on Earth has in "
            f"{crs_rules.describe_crs(frame.crs)} (beyond ±{crs_rules.IMPLAUSIBLE_METRES:.0e} m, "
            "or ±360°/±90° in degrees)",
            _rows(implausible),
            fix="check these features' coordinates: a lost decimal point, a wrong unit or a "
            "placeholder value",
            category="crs",
        )
        unusable |= implausible
        usable &= ~implausible
    try:
        crs_rules.check_coordinates_match_crs(
            frame.geometry[usable], source=found.source, layer=found.layer
        )
    except CRSError as exc:
        found.add("error", f"coordinate reference system mismatch: {exc}", category="crs")
    return unusable


def _with_ids(frame: gpd.GeoDataFrame, schema: LayerSchema, found: _Found) -> gpd.GeoDataFrame:
    """The id column as text; generated from the row order (a warning) when absent."""
    id_col = schema.id_column
    if id_col not in frame.columns:
        frame[id_col] = _numbers_as_text(np.arange(1.0, len(frame) + 1.0))
        if len(frame):
            found.add(
                "warning",
                f"no `{id_col}` column: ids 1..{len(frame)} were generated from the row order "
                "(they change when rows are added, removed or reordered)",
                column=id_col,
                fix=f"add a `{id_col}` column, or map yours in [columns.{schema.name}]",
                category=GENERATED_IDS,
            )
        return frame
    as_text = _ids_as_text(frame[id_col])
    missing = (as_text == "").to_numpy()
    if missing.any():
        found.add(
            "error",
            f"{int(missing.sum())} row(s) have an empty `{id_col}`",
            _rows(missing),
            id_col,
            f"give every row an id, or drop the `{id_col}` column to generate ids",
        )
    duplicated = as_text.duplicated(keep=False).to_numpy() & ~missing
    if duplicated.any():
        values = list(dict.fromkeys(as_text[duplicated]))[:5]
        found.add(
            "error",
            f"duplicate ids {values} ({int(duplicated.sum())} rows)",
            _rows(duplicated),
            id_col,
            "make the ids unique (each feature needs its own id)",
        )
    frame[id_col] = as_text
    return frame


def _checked_geometry(frame, schema: LayerSchema, found: _Found, unusable: np.ndarray):
    """Drop empty rows, keep the right parts of collections, refuse wrong kinds, repair.

    Returns the frame with the repaired geometry and the mask of rows to keep.
    """
    geoms = np.asarray(frame.geometry.array, dtype=object).copy()
    ids = frame[schema.id_column].to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        found.add(
            "warning",
            f"{int(empty.sum())} row(s) with empty or missing geometry were dropped"
            + _first_ids(ids, empty),
            _rows(empty),
            category="geometry",
        )
    keep = ~empty & ~unusable
    keep &= _kept_collection_parts(geoms, schema, found, keep)
    allowed = _KIND_TYPES[schema.geometry]
    types = shapely.get_type_id(geoms)
    wrong = keep & ~np.isin(types, [int(t) for t in allowed])
    if wrong.any():
        kinds = sorted({shapely.GeometryType(int(t)).name.title() for t in types[wrong]})
        found.add(
            "error",
            f"{int(wrong.sum())} row(s) have {'/'.join(kinds)} geometry, but a `{schema.name}` "
            f"layer holds {schema.geometry}s",
            _rows(wrong),
            fix=f"check that this is the right file for `{schema.name}`",
            category="geometry",
        )
    if schema.geometry == "polygon":
        keep &= _repaired_polygons(geoms, ids, found, keep & ~wrong)
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    return frame, keep


def _kept_collection_parts(geoms, schema: LayerSchema, found: _Found, rows) -> np.ndarray:
    """Geometry collections keep their parts of the layer's kind (in place); False: none left."""
    collection = rows & (shapely.get_type_id(geoms) == shapely.GeometryType.GEOMETRYCOLLECTION)
    if not collection.any():
        return np.ones(len(geoms), dtype=bool)
    geoms[collection] = _extract_kind(geoms[collection], _KIND_TYPES[schema.geometry])
    lost = collection & shapely.is_empty(geoms)
    found.add(
        "warning",
        f"{int(collection.sum())} geometry collection(s): kept their {schema.geometry} parts"
        + (f"; {int(lost.sum())} had none and were dropped" if lost.any() else ""),
        _rows(collection),
        category="geometry",
    )
    return ~lost


def _repaired_polygons(geoms, ids, found: _Found, rows) -> np.ndarray:
    """Invalid polygons repaired with make_valid (in place); False: nothing left of them."""
    invalid = rows & ~in_two_threads(shapely.is_valid, geoms)
    if not invalid.any():
        return np.ones(len(geoms), dtype=bool)
    geoms[invalid] = _extract_kind(shapely.make_valid(geoms[invalid]), _POLYGONAL)
    nothing = invalid & (shapely.is_empty(geoms) | (shapely.area(geoms) <= 0))
    found.add(
        "warning",
        f"{int(invalid.sum())} invalid polygon(s) (e.g. self-intersecting) were repaired "
        f"with make_valid, keeping the polygonal part; first ids {ids[invalid][:5].tolist()}"
        + (f"; {int(nothing.sum())} had no area left and were dropped" if nothing.any() else ""),
        _rows(invalid),
        category="geometry",
    )
    return ~nothing


def _converted_columns(frame, schema: LayerSchema, found: _Found):
    """Schema columns converted to their types; absent ones filled with their defaults.

    Returns the frame and the names of the columns that were absent (defaulted).
    """
    defaulted = [col.name for col in schema.columns if col.name not in frame.columns]
    for col in schema.columns:
        if col.name in frame.columns:
            frame[col.name] = _convert_column(frame[col.name], col, found)
        elif col.required:
            found.add(
                "error",
                f"required column `{col.name}` is missing",
                column=col.name,
                fix=f"add it, or map your column in [columns.{schema.name}] of gisrenew.toml",
            )
        else:
            frame[col.name] = pd.Series(col.default, index=frame.index)  # one value, broadcast
    return frame, defaulted


def _value_as_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _ids_as_text(ids: pd.Series) -> pd.Series:
    """Values as text; whole-number floats (from Shapefiles) lose their ``.0``; missing → ``""``.

    Text, integer and float columns are converted in one vectorized pass; other columns
    (mixed values, dates) convert each distinct value once (``pandas.factorize``).
    """
    is_text = isinstance(ids.dtype, pd.StringDtype)
    kind = "string" if is_text else pd.api.types.infer_dtype(ids, skipna=True)
    if kind == "empty":
        return pd.Series("", index=ids.index, dtype=object)
    if kind == "string":
        text = ids.str.strip().fillna("").to_numpy(dtype=object)
        return pd.Series(text, index=ids.index, dtype=object)
    if kind in ("integer", "floating") and pd.api.types.is_numeric_dtype(ids.dtype):
        numbers = _numbers_as_text(ids.to_numpy(dtype=float, na_value=np.nan))
        if numbers is not None:
            return pd.Series(numbers, index=ids.index, dtype=object)
    codes, uniques = pd.factorize(ids.astype(object), use_na_sentinel=True)
    texts = np.array([_value_as_text(v) for v in uniques] + [""], dtype=object)
    return pd.Series(texts[codes], index=ids.index, dtype=object)  # code -1 → ""


def _numbers_as_text(values: np.ndarray) -> np.ndarray | None:
    """Numbers as :func:`_value_as_text` writes them; None when one is not a safe whole number.

    Whole numbers below 2**53 (exact in a float) are written as integers, missing values
    as ``""``; anything else (fractions, infinities, huge values) is left to the caller.
    """
    missing = np.isnan(values)
    whole = ~missing & (np.abs(values) < 2.0**53)
    whole[whole] = values[whole] == np.round(values[whole])
    if not (whole | missing).all():
        return None
    out = np.full(len(values), "", dtype=object)
    out[whole] = pd.Series(values[whole].astype(np.int64)).astype(str).to_numpy(dtype=object)
    return out


def _convert_column(series: pd.Series, col, found: _Found) -> pd.Series:
    missing = series.isna().to_numpy()
    if col.dtype == "str":
        text = _ids_as_text(series)
        text[missing] = col.default
        return text
    if col.dtype == "bool":
        text = _ids_as_text(series).str.lower()  # with gaps, a yes/no column is 1.0/0.0/NaN
        truthy = text.isin(_TRUE).to_numpy()
        falsy = text.isin(_FALSE).to_numpy() | missing
        bad = ~(truthy | falsy)
        if bad.any():
            found.add(
                "error",
                f"{int(bad.sum())} value(s) are not yes/no: {list(series[bad].unique()[:5])}",
                _rows(bad),
                col.name,
                "use true/false, 1/0 or 是/否",
            )
        values = np.where(truthy, True, False)
        if missing.any():
            values[missing] = bool(col.default)
        return pd.Series(values, index=series.index, dtype=bool)
    return _convert_numbers(series, col, found, missing)


def _convert_numbers(series: pd.Series, col, found: _Found, missing: np.ndarray) -> pd.Series:
    """Numbers; every kind of bad value reported in one pass (text, non-finite, negative, ...)."""
    values = pd.to_numeric(series.astype(object), errors="coerce").to_numpy(dtype=float)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        negative = finite & (values < 0) if col.nonnegative else None
        fractional = (
            finite & (np.abs(values - np.round(values)) > 1e-9) if col.dtype == "int" else None
        )
    kinds = [
        (
            np.isnan(values) & ~missing,
            "are not numbers",
            "must be numeric; clean the values or map another column",
        ),
        (~finite & ~np.isnan(values), "are not finite", "must be a finite number (not inf/1e400)"),
        (negative, "are negative", "cannot be negative"),
        (fractional, "are not whole numbers", "counts things: use whole numbers"),
    ]
    bad_any = False
    for bad, what, fix in kinds:
        if bad is None or not bad.any():
            continue
        bad_any = True
        shown = (
            f": {list(series[bad].astype(str).unique()[:5])}" if what == "are not numbers" else ""
        )
        found.add(
            "error",
            f"{int(bad.sum())} value(s) {what}{shown}",
            _rows(bad),
            col.name,
            f"`{col.name}` {fix}",
        )
    if bad_any:
        return series
    if missing.any():
        found.add(
            "warning",
            f"{int(missing.sum())} missing value(s) taken as {col.default!r}",
            _rows(missing),
            col.name,
        )
        values = np.where(missing, float(col.default), values)
    if col.dtype == "int":
        return pd.Series(np.round(values).astype(np.int64), index=series.index)
    return pd.Series(values, index=series.index, dtype=float)


def _extract_kind(geoms: np.ndarray, allowed) -> np.ndarray:
    """Keep the parts of each geometry whose type is in `allowed` (vectorized)."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.empty(len(geoms), dtype=object)
    out[:] = (
        [shapely.Polygon()] * len(geoms)
        if allowed is _POLYGONAL
        else [shapely.GeometryCollection()] * len(geoms)
    )
    parts, index = shapely.get_parts(geoms, return_index=True)
    # one more level for multi-geometries nested in collections
    parts, inner = shapely.get_parts(parts, return_index=True)
    index = index[inner]
    singular = {
        _POLYGONAL: shapely.GeometryType.POLYGON,
        _LINEAR: shapely.GeometryType.LINESTRING,
        _PUNCTUAL: shapely.GeometryType.POINT,
    }[allowed]
    ok = shapely.get_type_id(parts) == singular
    if allowed is _POLYGONAL:
        ok &= shapely.area(parts) > 0
    parts, index = parts[ok], index[ok]
    if len(parts) == 0:
        return out
    builder = {
        _POLYGONAL: shapely.multipolygons,
        _LINEAR: shapely.multilinestrings,
        _PUNCTUAL: shapely.multipoints,
    }[allowed]
    rows = np.unique(index)
    combined = builder(parts, indices=np.searchsorted(rows, index))
    single = shapely.get_num_geometries(combined) == 1
    combined[single] = shapely.get_geometry(combined[single], 0)
    out[rows] = combined
    return out


def _to_working(frame: gpd.GeoDataFrame, working_crs, found: _Found) -> gpd.GeoDataFrame:
    """The layer in the working CRS (picked from the data when not given).

    Warns when the data lie outside the working CRS's area of use.
    """
    bounds = frame.total_bounds if len(frame) else None
    lonlat = None
    if bounds is not None and np.all(np.isfinite(bounds)):
        lonlat = crs_rules.geographic_bounds(bounds, frame.crs)
    if working_crs is None:
        if crs_rules.is_metric_projected(frame.crs):
            working_crs = frame.crs
        elif lonlat is None or not np.all(np.isfinite(lonlat)):
            raise CRSError(
                f"{found.source}: cannot pick a working CRS for an empty layer in degrees"
            )
        else:
            working_crs = crs_rules.pick_working_crs(lonlat)
    out = crs_rules.to_working_crs(frame, working_crs, source=found.source, layer=found.layer)
    if lonlat is not None:
        outside = crs_rules.area_of_use_problem(lonlat, out.crs)
        if outside is not None:
            found.add("warning", outside[0], fix=outside[1], category="crs")
    return out


# --------------------------------------------------------------------------- writing


def _table(frame: pd.DataFrame, headers: str, labels: Mapping[str, str] | None) -> pd.DataFrame:
    if isinstance(frame, gpd.GeoDataFrame):
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    if headers == "zh":
        if labels is None:
            raise ValueError(
                "headers='zh' needs the Chinese headers: pass "
                "labels=gisrenew.present.column_headers('zh')"
            )
        frame = frame.rename(columns=lambda c: labels.get(str(c), str(c)))
    return outfiles.defuse_formulas(frame)


def write_results(
    out_path: str | os.PathLike,
    layers: Mapping[str, pd.DataFrame],
    *,
    headers: str = "en",
    labels: Mapping[str, str] | None = None,
    sheet_names: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write result layers and tables; return the files written.

    Parameters
    ----------
    out_path : path
        ``*.gpkg``: one layer per key (tables without geometry become attribute tables);
        ``*.csv``: one ``<stem>_<key>.csv`` per key (UTF-8 with BOM, so Excel shows Chinese);
        ``*.xlsx``: one sheet per key. Geometry is left out of CSV and Excel.
    layers : mapping of str to DataFrame or GeoDataFrame
    headers : {"en", "zh"}
        Column headers in English (gisrenew's names) or Chinese (CSV/Excel only;
        GeoPackage layers keep the English names so they load back).
    labels : mapping, optional
        Column name → Chinese header, used with ``headers="zh"``; columns not in it
        keep their names. The caller passes the wording, usually
        ``gisrenew.present.labels.column_headers("zh")``.
    sheet_names : mapping, optional
        Layer key → Excel sheet name (e.g. Chinese names); others keep their key.

    Raises
    ------
    OutputError
        For a suffix other than ``.gpkg``, ``.csv``, ``.xlsx``, a full disk or a path
        that cannot be written; the previous file, if any, is then unchanged.

    Notes
    -----
    Every file is written by :func:`gisrenew.outfiles.atomic_path`: next to its target
    under an unpredictable temporary name, and moved into place when complete, so an
    interrupted run never leaves a half-written file. Text cells and column headers of
    CSV and Excel tables that start like a spreadsheet formula (``=``, ``+``, ``-``,
    ``@``) are written with a leading ``'`` so they stay text. Check the path with
    :func:`gisrenew.outfiles.check_output` before computing the results.

    Excel sheets get a frozen header row, columns as wide as their text (Chinese
    characters count double) and number formats from the column names: ratios, shares
    and rates as percentages (``0.00%``), m² and households with thousands separators
    and no decimals, 公顷 (``_ha``) with 2 and 亩 (``_mu``) with 1 decimal — the cells
    keep their exact values.
    """
    if headers not in ("en", "zh"):
        raise ValueError(f"`headers` must be 'en' or 'zh', got {headers!r}")
    out = Path(out_path)
    suffix = out.suffix.lower()
    if suffix not in outfiles.RESULT_SUFFIXES:
        raise OutputError(f"{out}: output must end in .gpkg, .csv or .xlsx")
    written: list[Path] = []
    if suffix == ".gpkg":
        with outfiles.atomic_path(out) as tmp:
            for name, frame in layers.items():
                if isinstance(frame, gpd.GeoDataFrame) and len(frame) == 0:
                    frame = gpd.GeoDataFrame(frame, geometry=frame.geometry.name, crs=frame.crs)
                pyogrio.write_dataframe(plain_columns(frame), tmp, layer=name, driver="GPKG")
        written.append(out)
    elif suffix == ".csv":
        for name, frame in layers.items():
            target = out.with_name(f"{out.stem}_{name}.csv")
            with outfiles.atomic_path(target) as tmp:
                _table(frame, headers, labels).to_csv(tmp, index=False, encoding="utf-8-sig")
            written.append(target)
    else:
        with outfiles.atomic_path(out) as tmp:
            _write_workbook(tmp, layers, headers, labels, sheet_names or {})
        written.append(out)
    for path in written:
        log.info("wrote %s", path)
    return written


#: Excel number formats by the end of a column's (English) name; checked in order.
EXCEL_FORMATS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("_ratio", "_share", "_rate", "ratio", "share"), "0.00%"),
    (("_m2",), "#,##0"),
    (("_ha",), "#,##0.00"),
    (("_mu",), "#,##0.0"),
    (("households", "_weight", "weight", "population", "_count"), "#,##0"),
)

#: Characters Excel refuses in a sheet name.
_SHEET_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


def _excel_format(name: str, dtype) -> str | None:
    if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return None
    for endings, number_format in EXCEL_FORMATS:
        if name.endswith(endings):
            return number_format
    return "#,##0" if name.startswith("households") else None


def _column_width(header: str, values: pd.Series) -> float:
    """Display width of a column: its header and (a sample of) its values, CJK counted double."""
    sample = values.iloc[:2000].astype(str).unique()[:500] if len(values) else []
    widest = max((wcswidth(str(v)) for v in [header, *sample]), default=8)  # -1: control chars
    return float(min(max(widest, 4) + 2, 60))


def _sheet_name(key: str, sheet_names: Mapping[str, str], taken: set[str]) -> str:
    name = str(sheet_names.get(key, key)).translate(_SHEET_FORBIDDEN).strip("'")[:31] or "sheet"
    base, number = name, 2
    while name.lower() in taken:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name.lower())
    return name


def _write_workbook(path, layers, headers: str, labels, sheet_names: Mapping[str, str]) -> None:
    """One formatted workbook: a sheet per table (see :func:`write_results`)."""
    taken: set[str] = set()
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        for key, frame in layers.items():
            plain = (
                frame.drop(columns=frame.geometry.name)
                if isinstance(frame, gpd.GeoDataFrame)
                else frame
            )
            formats = [_excel_format(str(c), plain[c].dtype) for c in plain.columns]
            table = _table(frame, headers, labels)
            sheet = _sheet_name(key, sheet_names, taken)
            table.to_excel(writer, sheet_name=sheet, index=False, freeze_panes=(1, 0))
            worksheet = writer.sheets[sheet]
            for position, column in enumerate(table.columns):
                number_format = formats[position]
                cell = (
                    writer.book.add_format({"num_format": number_format}) if number_format else None
                )
                worksheet.set_column(
                    position, position, _column_width(str(column), table[column]), cell
                )


def plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns GDAL can store: objects holding lists/dicts become JSON text."""
    frame = frame.copy()
    for name in frame.columns:
        if name == getattr(frame, "_geometry_column_name", None):
            continue
        column = frame[name]
        if (
            column.dtype == object
            and column.map(lambda v: isinstance(v, (list, dict, tuple))).any()
        ):
            frame[name] = column.map(
                lambda v: (
                    json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict, tuple)) else v
                )
            )
    return frame
