"""Packed layers (gisrenew.webmap.packed) read back in Python: the tests' decoder.

Used by the published-map tests (the arrays in a page) and the serve tests (the arrays
from ``/api/layers``): the same reading as the page's ``packed.js``.
"""

from __future__ import annotations

import base64
import json
import zlib

import numpy as np
import shapely


def inflated(part: str) -> bytes:
    """A packed part (base64 of deflated bytes) as its bytes."""
    return zlib.decompress(base64.b64decode(part))


def unpack(definition: dict, binary: tuple[str, ...], text: list[str]):
    """Geometries, style indices and popup values of a packed layer.

    `binary`: the geometry, the styles and each column's codes, in that order; `text`:
    each column's values.
    """
    n = definition["counts"]
    numbers = np.concatenate([np.frombuffer(inflated(b), dtype="<i4") for b in binary])
    sizes = [2 * n["coords"], n["rings"] + 1, n["parts"] + 1, n["features"] + 1, n["features"]]
    sizes += [n["features"]] * n["columns"]
    arrays = np.split(numbers, np.cumsum(sizes)[:-1])
    steps, rings, parts, features, style, *codes = arrays
    coords = (np.cumsum(steps.reshape(-1, 2), axis=0) + n["origin"]) / n["scale"]
    geoms = shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON, coords, (rings, parts, features)
    )
    uniques = [json.loads(inflated(t).decode("utf-8")) for t in text]
    values = [[uniques[c][codes[c][f]] for c in range(n["columns"])] for f in range(len(style))]
    return geoms, style, values


def unpack_served(layer: dict):
    """:func:`unpack` of a packed layer as ``/api/layers`` sends it."""
    columns = layer["columns"]
    return unpack(layer["def"], (layer["geometry"], layer["binary"], *columns[0::2]), columns[1::2])
