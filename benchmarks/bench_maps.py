"""How to carry a city's parcels in a map page: sizes and write times of the candidates.

The residential parcels of the whole-command benchmark's city (``benchmarks/_city.py``,
N parcels, default 100 000), in longitude/latitude with 6 decimals, written as:

* GeoJSON text (what a Leaflet ``L.geoJSON`` layer reads: ``shapely.to_geojson``);
* FlatGeobuf (pyogrio/GDAL), with and without its packed R-tree index, and deflated
  (zlib level 3, as a page would carry it);
* Mapbox vector tiles at one zoom level (GDAL's MVT encoder, as one PMTiles file):
  parcels are clipped at tile edges, so a click needs the tile's pieces joined again;
* the packed arrays of :func:`gisrenew.webmap.packed.pack_geometry` (GeoArrow layout from
  ``shapely.to_ragged_array``, quantized coordinate differences, deflated), as the
  published pages carry large polygon layers.

Printed: size (MB) and time to write (s, once; geometry only — popup values add about
the same to each). The choice is in ``docs/ARCHITECTURE.md`` (maps at city scale).

Run: .venv/bin/python benchmarks/bench_maps.py [--parcels 100000] [--zoom 15]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from _city import city_layers

from gisrenew.webmap.packed import pack_geometry, pack_styles

PRECISION = 6


def _timed(make):
    start = time.perf_counter()
    size = make()
    return size / 1e6, time.perf_counter() - start


def _file_size(folder: Path, name: str, frame, driver: str, **options) -> int:
    path = folder / name
    pyogrio.write_dataframe(frame, path, driver=driver, **options)
    return path.stat().st_size


def _deflated_fgb(folder: Path, frame) -> int:
    _file_size(folder, "deflate.fgb", frame, "FlatGeobuf", SPATIAL_INDEX="NO")
    return len(zlib.compress((folder / "deflate.fgb").read_bytes(), 3))


def measure(n_parcels: int, zoom: int) -> list[tuple[str, float, float]]:
    """(candidate, size in MB, seconds to write) for the city of `n_parcels` parcels."""
    parcels = city_layers(n_parcels)["residential"][["geometry"]].to_crs(4326)
    parcels.geometry = shapely.set_precision(parcels.geometry.values, 10**-PRECISION)
    geoms = np.asarray(parcels.geometry.array, dtype=object)
    style = np.zeros(len(geoms), dtype=np.int32)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        candidates = {
            "GeoJSON text": lambda: sum(len(s) for s in shapely.to_geojson(geoms)),
            "FlatGeobuf": lambda: _file_size(folder, "a.fgb", parcels, "FlatGeobuf"),
            "FlatGeobuf, no index": lambda: _file_size(
                folder, "b.fgb", parcels, "FlatGeobuf", SPATIAL_INDEX="NO"
            ),
            "FlatGeobuf, no index, deflated": lambda: _deflated_fgb(folder, parcels),
            f"vector tiles (MVT, zoom {zoom}, PMTiles)": lambda: _file_size(
                folder, "c.pmtiles", parcels, "PMTiles", MINZOOM=zoom, MAXZOOM=zoom
            ),
            "packed arrays (deflated, base64)": lambda: (
                len(pack_geometry(geoms, PRECISION)[1]) + len(pack_styles(style))
            ),
        }
        for name, make in candidates.items():
            rows.append((name, *_timed(make)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--zoom", type=int, default=15, help="zoom level of the vector tiles")
    args = parser.parse_args()
    print(f"{args.parcels:,} parcels")
    for name, size_mb, seconds in measure(args.parcels, args.zoom):
        print(f"  {name:<40} {size_mb:8.2f} MB {seconds:7.2f} s")


if __name__ == "__main__":
    main()
