"""Reading and writing layers: the only module that knows source files and schemas.

:func:`read_layer` reads anything pyogrio reads (GeoPackage, Shapefile, GeoJSON,
FlatGeobuf, ...) and returns a validated GeoDataFrame in the working CRS;
:func:`conform` applies the same rules to an in-memory GeoDataFrame. The rules
(documented in the README, "Loading your own data"):

* **columns** — user headers are renamed to gisrenew's English names by the
  built-in Chinese aliases (:data:`gisrenew.schema.DEFAULT_ALIASES`) and the
  project's ``[columns.<layer>]`` mapping; absent optional columns get their
  documented default; values are converted to the column's type, and a value that
  cannot be (text in a household count, a negative count) is an error naming the
  rows;
* **ids** — the layer's id column (``park_id``, ...) is kept as text; without one,
  ids are generated from the row order (1, 2, ...) with a notice; duplicate or
  empty ids are an error;
* **geometry** — null or empty geometries are dropped and reported; invalid
  polygons are repaired with ``make_valid`` keeping the polygonal part and
  reported; geometry collections keep their parts of the layer's kind; rows of
  the wrong geometry kind (points in a polygon layer) are an error; multipart
  features are kept whole;
* **CRS** — see :mod:`gisrenew.crs`;
* **Shapefile encoding** — a ``.cpg`` file is honoured; without one the ``.dbf``
  bytes are checked: valid UTF-8 is read as UTF-8, otherwise GB18030 (a superset
  of GBK/GB2312) is used when it decodes cleanly; ``encoding=`` overrides both.

Errors are collected first and raised together as a
:class:`~gisrenew.errors.ValidationError`, so a planner sees every problem at once.
"""

from __future__ import annotations

import logging
import os
import struct
import tempfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from gisrenew import crs as crs_rules
from gisrenew.errors import (
    CRSError,
    EncodingError,
    Problem,
    ReadError,
    SchemaError,
    raise_for_problems,
)
from gisrenew.schema import DEFAULT_ALIASES, LayerSchema, get_layer_schema

__all__ = [
    "COLUMN_LABELS_ZH",
    "conform",
    "conformed",
    "detect_shapefile_encoding",
    "list_layers",
    "load_layer",
    "read_layer",
    "write_results",
]

log = logging.getLogger(__name__)

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
_LINEAR = (shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING)
_PUNCTUAL = (shapely.GeometryType.POINT, shapely.GeometryType.MULTIPOINT)
_KIND_TYPES = {"polygon": _POLYGONAL, "line": _LINEAR, "point": _PUNCTUAL}

_TRUE = {"true", "t", "yes", "y", "1", "是", "对", "√"}
_FALSE = {"false", "f", "no", "n", "0", "否", "", "none", "nan"}

#: Chinese column headers for tables written with ``headers="zh"``. Modules add their
#: own result columns here (additive edits only).
COLUMN_LABELS_ZH: dict[str, str] = {
    "park_id": "公园编号",
    "residential_id": "居住用地编号",
    "parcel_id": "地块编号",
    "plan_id": "更新项目编号",
    "district_id": "区镇街道编号",
    "candidate_id": "备选地块编号",
    "name": "名称",
    "park_class": "绿地类别",
    "is_pocket_park": "口袋公园",
    "land_use": "用地代码",
    "households": "户数",
    "population": "人口",
    "households_residential": "居民户",
    "households_nonresidential": "非居户",
    "households_shops": "商铺",
    "households_signed": "已签约户数",
    "buildings": "楼栋数",
    "floor_area_m2": "建筑面积(m²)",
    "plan_type": "更新类型",
    "target_use": "规划用途",
    "status": "状态",
    "area_m2": "面积(m²)",
    "area_ha": "面积(公顷)",
    "area_mu": "面积(亩)",
    "covered_m2": "覆盖面积(m²)",
    "covered_share": "覆盖比例",
    "coverage_ratio": "覆盖率",
    "radius_m": "服务半径(m)",
    "tier": "档位",
}


# --------------------------------------------------------------------------- reading


def _encoding_from_cpg(text: str) -> str:
    value = text.strip().upper().replace("_", "-")
    table = {
        "65001": "UTF-8",
        "UTF8": "UTF-8",
        "UTF-8": "UTF-8",
        "936": "GBK",
        "CP936": "GBK",
        "GBK": "GBK",
        "GB2312": "GBK",  # GBK is a superset of GB2312
        "GB18030": "GB18030",
        "54936": "GB18030",
    }
    return table.get(value, text.strip())


def _sidecar(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None


def detect_shapefile_encoding(path: str | os.PathLike) -> str:
    """Return the text encoding of a Shapefile's attributes.

    The ``.cpg`` file wins when present. Otherwise the ``.dbf`` header (field names)
    and records are decoded: valid UTF-8 (or plain ASCII) gives ``"UTF-8"``; bytes
    that are not UTF-8 but decode as GB18030 (a superset of GBK and GB2312, the usual
    encoding of Chinese Shapefiles written by desktop GIS) give ``"GB18030"``.

    Raises
    ------
    EncodingError
        When the bytes are neither; the message asks for an explicit ``encoding``.
    """
    path = Path(path)
    cpg = _sidecar(path, ".cpg")
    if cpg is not None:
        return _encoding_from_cpg(cpg.read_text(encoding="ascii", errors="replace"))
    dbf = _sidecar(path, ".dbf")
    if dbf is None:
        return "UTF-8"
    raw = dbf.read_bytes()
    if len(raw) < 32:
        return "UTF-8"
    n_records, header_length, record_length = struct.unpack("<IHH", raw[4:12])
    names = raw[32:header_length]
    records = raw[header_length : header_length + n_records * record_length]
    sample = names + b" " + records
    try:
        sample.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("gb18030")
        log.info("%s: no .cpg file; attribute text detected as GB18030/GBK", path)
        return "GB18030"
    except UnicodeDecodeError:
        raise EncodingError(
            f"{path}: the attribute text is neither UTF-8 nor GBK/GB18030 and there is no .cpg "
            "file. Fix: pass the encoding explicitly (`--encoding CP1252`, `encoding=` in Python, "
            "or `encoding` for this layer in gisrenew.toml), or add a .cpg file next to the .shp."
        ) from None


def list_layers(source: str | os.PathLike) -> list[str]:
    """Names of the layers in a data source (one for a Shapefile or GeoJSON)."""
    try:
        return [str(name) for name in pyogrio.list_layers(source)[:, 0]]
    except Exception as exc:  # pyogrio raises several DataSourceError subclasses
        raise ReadError(f"{source}: cannot open the file: {exc}") from None


def _pick_layer(source: Path, kind: str, layer: str | None) -> str | None:
    layers = list_layers(source)
    if layer is not None:
        if layer not in layers:
            raise ReadError(
                f"{source}: there is no layer {layer!r}; layers in the file: {', '.join(layers)}"
            )
        return layer
    if len(layers) == 1:
        return layers[0]
    if kind in layers:
        return kind
    raise ReadError(
        f"{source}: the file has several layers ({', '.join(layers)}) and none is called "
        f"{kind!r}. Fix: name the layer (`FILE` plus `--layer`, or `layer=` in Python)."
    )


def load_layer(
    source: str | os.PathLike,
    kind: str,
    *,
    layer: str | None = None,
    crs=None,
    encoding: str | None = None,
    columns: Mapping[str, str] | None = None,
    working_crs=None,
) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    """Read and validate one layer, collecting problems instead of raising.

    Returns the conformed layer (``None`` when an error makes it unusable) and every
    problem found. :func:`read_layer` is the raising variant; ``gisrenew validate``
    uses this one to list everything at once.
    """
    path = Path(source)
    label = str(path)
    if not path.exists():
        return None, [
            Problem(
                "error",
                "the file does not exist",
                label,
                kind,
                fix="check the path",
                category="read",
            )
        ]
    problems: list[Problem] = []
    if kind == "roads" and path.name.lower().endswith((".osm.pbf", ".osm", ".pbf")):
        return _load_osm_roads(path, working_crs=working_crs)
    try:
        layer_name = _pick_layer(path, kind, layer)
        if encoding is None and path.suffix.lower() == ".shp":
            encoding = detect_shapefile_encoding(path)
        frame = gpd.read_file(path, layer=layer_name, encoding=encoding, engine="pyogrio")
    except ReadError as exc:
        return None, [Problem("error", str(exc), label, layer or kind, category="read")]
    except EncodingError as exc:
        return None, [Problem("error", str(exc), label, layer or kind, category="encoding")]
    except UnicodeDecodeError as exc:
        return None, [
            Problem(
                "error",
                f"attribute text cannot be decoded as {encoding or 'UTF-8'}: {exc.reason}",
                label,
                layer or kind,
                fix="pass the right encoding (`--encoding GBK`, `encoding=` in Python)",
                category="encoding",
            )
        ]
    except Exception as exc:  # anything GDAL cannot read
        return None, [
            Problem(
                "error",
                f"cannot read the file: {exc}",
                label,
                layer or kind,
                fix="check that the file is a complete GeoPackage/Shapefile/GeoJSON",
                category="read",
            )
        ]
    if crs is not None:
        declared = CRS.from_user_input(crs)
        if frame.crs is not None and CRS.from_user_input(frame.crs) != declared:
            problems.append(
                Problem(
                    "warning",
                    f"the file says {frame.crs.to_string()} but `crs` declares "
                    f"{declared.to_string()}; using the declared CRS",
                    label,
                    layer_name or kind,
                )
            )
        frame = frame.set_crs(declared, allow_override=True)
    gdf, more = _conform(
        frame,
        kind,
        source=label,
        layer=layer_name or kind,
        working_crs=working_crs,
        columns=columns,
    )
    return gdf, problems + more


def _load_osm_roads(path: Path, *, working_crs) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    """An OpenStreetMap extract as a ``roads`` layer (walkable ways; see :mod:`gisrenew.osm`)."""
    from gisrenew.osm import roads_from_osm

    try:
        roads = roads_from_osm(path, working_crs=working_crs)
    except (ReadError, ImportError) as exc:
        return None, [Problem("error", str(exc), str(path), "roads", category="read")]
    return _conform(roads, "roads", source=str(path), layer="roads", working_crs=working_crs, columns=None)


def read_layer(
    source: str | os.PathLike,
    kind: str,
    *,
    layer: str | None = None,
    crs=None,
    encoding: str | None = None,
    columns: Mapping[str, str] | None = None,
    working_crs=None,
) -> gpd.GeoDataFrame:
    """Read one layer of kind `kind` from a file into a validated GeoDataFrame.

    Parameters
    ----------
    source : path
        GeoPackage, Shapefile, GeoJSON or any file pyogrio reads; for ``roads`` also an
        OpenStreetMap extract (``.osm.pbf``/``.osm``, walkable ways, via pyosmium).
    kind : str
        Layer kind: ``parks``, ``residential``, ``parcels``, ``plans``, ``boundary``,
        ``districts``, ``roads``, ``entrances`` or ``candidates``.
    layer : str, optional
        Layer inside a multi-layer file; by default the only layer, or the one named `kind`.
    crs : CRS-like, optional
        CRS to assume for a file without one (``"EPSG:4490"``, ...).
    encoding : str, optional
        Attribute text encoding; by default detected (see module docs).
    columns : mapping, optional
        Extra ``{source header: gisrenew column}`` renames, on top of the Chinese aliases.
    working_crs : CRS-like, optional
        The metric CRS to return the layer in; by default the layer's own metric CRS,
        or for degrees the CGCS2000 Gauss-Krüger zone of its longitude.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer in the working CRS with gisrenew's columns, ids as text, valid geometry.

    Raises
    ------
    ValidationError, CRSError
        With every problem found, each naming file, layer, rows and fix.
    """
    gdf, problems = load_layer(
        source, kind, layer=layer, crs=crs, encoding=encoding, columns=columns,
        working_crs=working_crs,
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
    alone is enough. The input is never modified.

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


def _finish(gdf, problems: list[Problem]) -> gpd.GeoDataFrame:
    for problem in problems:
        if problem.severity == "warning":
            log.warning("%s", problem)
        elif problem.severity == "info":
            log.info("%s", problem)
    raise_for_problems(problems)
    return gdf


# --------------------------------------------------------------------------- conform


def _rename_map(frame_columns, schema: LayerSchema, columns: Mapping[str, str] | None) -> dict:
    present = {str(c) for c in frame_columns}
    known = set(schema.column_names)
    mapping: dict[str, str] = {}
    lower = {c.lower(): c for c in present}
    # English names in another case (Shapefiles often upper-case them)
    for name in known:
        original = lower.get(name.lower())
        if original is not None and original != name and name not in present:
            mapping[original] = name
    # Shapefile field names are cut to 10 characters: map a unique truncation back
    truncated: dict[str, list[str]] = {}
    for name in known:
        if len(name) > 10:
            truncated.setdefault(name[:10], []).append(name)
    for short, names in truncated.items():
        if len(names) == 1 and short in present and names[0] not in present:
            mapping[short] = names[0]
    aliases = {**DEFAULT_ALIASES, **{"id": schema.id_column, "ID": schema.id_column}}
    for alias, target in aliases.items():
        if alias in present and target in known and target not in present:
            mapping.setdefault(alias, target)
    for alias, target in (columns or {}).items():
        if alias in present:
            mapping[alias] = target
    # never produce two columns with one name
    seen: set[str] = set(present - set(mapping))
    clean = {}
    for original, target in mapping.items():
        if target in seen:
            continue
        clean[original] = target
        seen.add(target)
    return clean


def _rows(positions, row_numbers) -> tuple:
    """The first offending rows, numbered from 1 in file order (as a planner counts them)."""
    return tuple(int(row_numbers[i]) + 1 for i in positions[:10])


def _conform(
    gdf,
    kind: str,
    *,
    source: str,
    layer: str,
    working_crs,
    columns: Mapping[str, str] | None,
) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    schema = get_layer_schema(kind)
    problems: list[Problem] = []

    def problem(severity, message, rows=(), column=None, fix="", category="schema"):
        problems.append(
            Problem(severity, message, source, layer, tuple(rows), column, fix, category)
        )

    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        problem(
            "error",
            "the layer has no geometry column",
            fix="load a spatial layer",
            category="geometry",
        )
        return None, problems
    frame = gdf.rename(columns=_rename_map(gdf.columns, schema, columns))
    frame = frame.reset_index(drop=True)
    # row numbers as in the source file, kept through the drops below
    row_numbers = np.arange(len(frame))

    # ----- CRS
    if frame.crs is None:
        problem(
            "error",
            "the layer has no coordinate reference system (CRS)",
            fix="pass `--crs EPSG:xxxx` (e.g. EPSG:4490 for CGCS2000 degrees, EPSG:4549 for "
            "CGCS2000 GK CM 120°E) or set `crs` for this layer in gisrenew.toml",
            category="crs",
        )
    else:
        try:
            crs_rules.check_coordinates_match_crs(frame, source=source, layer=layer)
        except CRSError as exc:
            problem("error", f"coordinate reference system mismatch: {exc}", category="crs")

    # ----- ids (generated before any row is dropped, so they follow the file's row order)
    id_col = schema.id_column
    if id_col not in frame.columns:
        frame[id_col] = [str(i + 1) for i in range(len(frame))]
        if len(frame):
            problem(
                "info",
                f"no `{id_col}` column: ids 1..{len(frame)} were generated from the row order",
                column=id_col,
                fix=f"add a `{id_col}` column, or map yours in [columns.{schema.name}]",
            )
    else:
        ids = frame[id_col]
        missing = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
        if missing.any():
            problem(
                "error",
                f"{int(missing.sum())} row(s) have an empty `{id_col}`",
                _rows(np.flatnonzero(missing), row_numbers),
                id_col,
                f"give every row an id, or drop the `{id_col}` column to generate ids",
            )
        as_text = _ids_as_text(ids)
        duplicated = as_text.duplicated(keep=False).to_numpy() & ~missing
        if duplicated.any():
            values = list(dict.fromkeys(as_text[duplicated]))[:5]
            problem(
                "error",
                f"duplicate ids {values} ({int(duplicated.sum())} rows)",
                _rows(np.flatnonzero(duplicated), row_numbers),
                id_col,
                "make the ids unique (each feature needs its own id)",
            )
        frame[id_col] = as_text

    # ----- geometry
    geoms = np.asarray(frame.geometry.array, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        problem(
            "warning",
            f"{int(empty.sum())} row(s) with empty or missing geometry were dropped",
            _rows(np.flatnonzero(empty), row_numbers),
        )
    keep = ~empty
    allowed = _KIND_TYPES[schema.geometry]
    types = shapely.get_type_id(geoms)
    collection = types == shapely.GeometryType.GEOMETRYCOLLECTION
    if collection.any():
        extracted = _extract_kind(geoms[collection], allowed)
        geoms = geoms.copy()
        geoms[collection] = extracted
        lost = collection & shapely.is_empty(geoms)
        problem(
            "warning",
            f"{int(collection.sum())} geometry collection(s): kept their {schema.geometry} parts"
            + (f"; {int(lost.sum())} had none and were dropped" if lost.any() else ""),
            _rows(np.flatnonzero(collection), row_numbers),
        )
        keep &= ~lost
        types = shapely.get_type_id(geoms)
    wrong = keep & ~np.isin(types, [int(t) for t in allowed])
    if wrong.any():
        found = sorted({shapely.GeometryType(int(t)).name.title() for t in types[wrong]})
        problem(
            "error",
            f"{int(wrong.sum())} row(s) have {'/'.join(found)} geometry, but a `{schema.name}` "
            f"layer holds {schema.geometry}s",
            _rows(np.flatnonzero(wrong), row_numbers),
            fix=f"check that this is the right file for `{schema.name}`",
            category="geometry",
        )
    if schema.geometry == "polygon":
        invalid = keep & ~wrong & ~shapely.is_valid(geoms)
        if invalid.any():
            geoms = geoms.copy()
            geoms[invalid] = _extract_kind(shapely.make_valid(geoms[invalid]), _POLYGONAL)
            nothing = invalid & (shapely.is_empty(geoms) | (shapely.area(geoms) <= 0))
            ids_shown = frame[id_col].to_numpy()[np.flatnonzero(invalid)[:5]].tolist()
            problem(
                "warning",
                f"{int(invalid.sum())} invalid polygon(s) (e.g. self-intersecting) were repaired "
                f"with make_valid, keeping the polygonal part; first ids {ids_shown}"
                + (
                    f"; {int(nothing.sum())} had no area left and were dropped"
                    if nothing.any()
                    else ""
                ),
                _rows(np.flatnonzero(invalid), row_numbers),
            )
            keep &= ~nothing
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))

    # ----- attribute columns
    defaulted = [col.name for col in schema.columns if col.name not in frame.columns]
    for col in schema.columns:
        if col.name not in frame.columns:
            if col.required:
                problem(
                    "error",
                    f"required column `{col.name}` is missing",
                    column=col.name,
                    fix=f"add it, or map your column in [columns.{schema.name}] of gisrenew.toml",
                )
            else:
                frame[col.name] = pd.Series([col.default] * len(frame), index=frame.index)
            continue
        frame[col.name] = _convert_column(frame[col.name], col, problem, row_numbers)

    if any(p.severity == "error" for p in problems):
        return None, problems

    frame = frame.loc[keep].reset_index(drop=True)
    if frame.empty:
        problem("warning", "the layer has no usable features")

    # ----- working CRS
    try:
        frame = _to_working(frame, working_crs, source=source, layer=layer)
    except CRSError as exc:
        problem("error", str(exc), category="crs")
        return None, problems
    ordered = [*schema.column_names, *(c for c in frame.columns if c not in schema.column_names)]
    frame = frame[ordered]
    # `defaulted_columns`: schema columns absent from the source, filled with defaults —
    # analyses that need real values (e.g. household counts) check it.
    frame.attrs = {
        "source": source,
        "layer": layer,
        "kind": schema.name,
        "defaulted_columns": defaulted,
    }
    return frame, problems


def _value_as_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _ids_as_text(ids: pd.Series) -> pd.Series:
    """Values as text; whole-number floats (from Shapefiles) lose their ``.0``; missing → ``""``.

    Each distinct value is converted once (``pandas.factorize``), so a layer of many
    rows with few distinct values costs little.
    """
    codes, uniques = pd.factorize(ids.astype(object), use_na_sentinel=True)
    texts = np.array([_value_as_text(v) for v in uniques] + [""], dtype=object)
    return pd.Series(texts[codes], index=ids.index, dtype=object)  # code -1 → ""


def _convert_column(series: pd.Series, col, problem, row_numbers) -> pd.Series:
    missing = series.isna().to_numpy()
    if col.dtype == "str":
        return _ids_as_text(series.astype(object).where(~missing, col.default))
    if col.dtype == "bool":
        text = series.astype(str).str.strip().str.lower()
        truthy = text.isin(_TRUE).to_numpy()
        falsy = text.isin(_FALSE).to_numpy() | missing
        bad = ~(truthy | falsy)
        if bad.any():
            problem(
                "error",
                f"{int(bad.sum())} value(s) are not yes/no: {list(series[bad].unique()[:5])}",
                _rows(np.flatnonzero(bad), row_numbers),
                col.name,
                "use true/false, 1/0 or 是/否",
            )
        values = np.where(truthy, True, False)
        if missing.any():
            values[missing] = bool(col.default)
        return pd.Series(values, index=series.index, dtype=bool)
    numbers = pd.to_numeric(series, errors="coerce").astype(float)
    bad = numbers.isna().to_numpy() & ~missing
    if bad.any():
        problem(
            "error",
            f"{int(bad.sum())} value(s) are not numbers: {list(series[bad].astype(str).unique()[:5])}",
            _rows(np.flatnonzero(bad), row_numbers),
            col.name,
            f"`{col.name}` must be numeric; clean the values or map another column",
        )
        return series
    if missing.any():
        problem(
            "warning",
            f"{int(missing.sum())} missing value(s) taken as {col.default!r}",
            _rows(np.flatnonzero(missing), row_numbers),
            col.name,
        )
        numbers = numbers.fillna(float(col.default))
    values = numbers.to_numpy()
    if col.nonnegative and (values < 0).any():
        neg = values < 0
        problem(
            "error",
            f"{int(neg.sum())} negative value(s)",
            _rows(np.flatnonzero(neg), row_numbers),
            col.name,
            f"`{col.name}` cannot be negative",
        )
    if col.dtype == "int":
        fractional = np.abs(values - np.round(values)) > 1e-9
        if fractional.any():
            problem(
                "error",
                f"{int(fractional.sum())} value(s) are not whole numbers",
                _rows(np.flatnonzero(fractional), row_numbers),
                col.name,
                f"`{col.name}` counts things: use whole numbers",
            )
            return series
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


def _to_working(frame: gpd.GeoDataFrame, working_crs, *, source: str, layer: str):
    if working_crs is None:
        if crs_rules.is_metric_projected(frame.crs):
            return frame
        bounds = frame.to_crs(4326).total_bounds if len(frame) else None
        if bounds is None or not np.all(np.isfinite(bounds)):
            raise CRSError(f"{source}: cannot pick a working CRS for an empty layer in degrees")
        working_crs = crs_rules.pick_working_crs(bounds)
    return crs_rules.to_working_crs(frame, working_crs, source=source, layer=layer)


# --------------------------------------------------------------------------- writing


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defuse_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula (``=...``) with ``'``.

    Names and ids come from user data; a cell such as ``=HYPERLINK(...)`` must reach the
    bureau's spreadsheet as text. Numbers are left alone.
    """
    frame = frame.copy()
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            frame[name] = column.map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v
            )
    return frame


def _table(frame: pd.DataFrame, headers: str, labels: Mapping[str, str] | None) -> pd.DataFrame:
    if isinstance(frame, gpd.GeoDataFrame):
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    frame = _defuse_formulas(frame)
    if headers == "zh":
        table = {**COLUMN_LABELS_ZH, **(labels or {})}
        frame = frame.rename(columns=lambda c: table.get(str(c), str(c)))
    return frame


def _atomic_path(target: Path) -> Path:
    handle, name = tempfile.mkstemp(
        prefix=f".{target.stem}-", suffix=target.suffix, dir=target.parent
    )
    os.close(handle)
    os.unlink(name)
    return Path(name)


def write_results(
    out_path: str | os.PathLike,
    layers: Mapping[str, pd.DataFrame],
    *,
    headers: str = "en",
    labels: Mapping[str, str] | None = None,
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
        Extra Chinese header labels.

    Notes
    -----
    Every file is written next to its target under a temporary name and moved into
    place when complete, so an interrupted run never leaves a half-written file.
    Text cells of CSV and Excel tables that start like a spreadsheet formula
    (``=``, ``+``, ``-``, ``@``) are written with a leading ``'`` so they stay text.
    """
    if headers not in ("en", "zh"):
        raise ValueError(f"`headers` must be 'en' or 'zh', got {headers!r}")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    written: list[Path] = []
    if suffix == ".gpkg":
        tmp = _atomic_path(out)
        try:
            for name, frame in layers.items():
                if isinstance(frame, gpd.GeoDataFrame) and len(frame) == 0:
                    frame = gpd.GeoDataFrame(frame, geometry=frame.geometry.name, crs=frame.crs)
                pyogrio.write_dataframe(_plain_columns(frame), tmp, layer=name, driver="GPKG")
            os.replace(tmp, out)
        finally:
            if tmp.exists():
                tmp.unlink()
        written.append(out)
    elif suffix == ".csv":
        for name, frame in layers.items():
            target = out.with_name(f"{out.stem}_{name}.csv")
            tmp = _atomic_path(target)
            _table(frame, headers, labels).to_csv(tmp, index=False, encoding="utf-8-sig")
            os.replace(tmp, target)
            written.append(target)
    elif suffix == ".xlsx":
        tmp = _atomic_path(out)
        try:
            with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                for name, frame in layers.items():
                    _table(frame, headers, labels).to_excel(
                        writer, sheet_name=name[:31], index=False
                    )
            os.replace(tmp, out)
        finally:
            if tmp.exists():
                tmp.unlink()
        written.append(out)
    else:
        raise ValueError(f"{out}: output must end in .gpkg, .csv or .xlsx")
    for path in written:
        log.info("wrote %s", path)
    return written


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns GDAL can store: objects holding lists/dicts become JSON text."""
    import json

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
