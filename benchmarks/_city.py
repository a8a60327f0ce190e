"""The synthetic city of the whole-command benchmark, written to files the way a planner has them.

The parcels and parks are those of :func:`bench_coverage.synthetic_city` (N residential
parcels of 45 m in blocks of 4 × 4 with 15 m streets; N/100 parks of every class, G11
综合公园 … G3 广场用地, with irregular outlines). Around them this module adds what a city's
files hold besides: a built-up area boundary (建成区, the city's square with its corners
cut, so the boundary clips parcels), 10 districts (区/镇/街道, a 5 × 2 grid), the street
centre lines of the 15 m streets (路网, one feature per street segment between junctions)
and one new 80 m × 80 m pocket park (口袋公园) for the recompute, placed on the housing
farthest from any park that counts.

Files (:func:`write_city`), each in the form planners receive:

* ``居住用地.shp`` — residential land, Shapefile in EPSG:4490 (CGCS2000 degrees), GBK
  attributes (名称, 用地代码, 户数) and **no** ``.cpg``, as desktop-GIS exports often are:
  the reader has to detect the encoding, and reproject;
* ``公园绿地.gpkg`` — parks, GeoPackage in EPSG:4490 (公园名称, 类别, 口袋公园);
* ``建成区.gpkg``, ``行政区.gpkg`` — boundary and districts, GeoPackage in EPSG:4549
  (CGCS2000 3-degree Gauss-Krüger CM 120°E, the working CRS);
* ``道路.shp`` — streets, Shapefile in EPSG:4549, GBK with a ``.cpg`` (名称, 道路等级);
* ``新建口袋公园.gpkg`` — the new pocket park, GeoPackage in EPSG:4490.

Run as a script (``python benchmarks/_city.py N FOLDER``) it writes the city of N parcels
and prints the files and feature counts as JSON: the benchmark writes the city in a
process of its own, so that its own memory stays small.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from bench_coverage import CELL, CRS, STREET, X0, Y0, synthetic_city

GEOGRAPHIC = "EPSG:4490"
BLOCK = 4 * CELL + STREET  # pitch of the street grid (m)
NEW_PARK_SIDE = 80.0

DISTRICT_NAMES = [
    "城厢镇", "娄东街道", "陆渡街道", "浮桥镇", "浏河镇",
    "沙溪镇", "璜泾镇", "双凤镇", "科教新城", "港区",
]  # fmt: skip
CLASS_NAMES = {"G11": "综合公园", "G12": "社区公园", "G13": "专类公园", "G14": "游园", "G3": "广场"}

#: File name of each layer kind, as the ``gisrenew init`` option of the same name takes it.
FILES = {
    "parks": "公园绿地.gpkg",
    "residential": "居住用地.shp",
    "boundary": "建成区.gpkg",
    "districts": "行政区.gpkg",
    "roads": "道路.shp",
}
NEW_PARK_FILE = "新建口袋公园.gpkg"
#: A second new pocket park, for a recompute on a project whose stored results are current.
SECOND_PARK_FILE = "新建口袋公园二.gpkg"


def city_layers(n_parcels: int) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the synthetic city of `n_parcels` parcels, in EPSG:4549, Chinese headers.

    Returns
    -------
    dict
        ``parks``, ``residential``, ``boundary``, ``districts``, ``roads``, ``new_park`` and
        ``second_park`` (placed once ``new_park`` is there).
    """
    parks, residential = synthetic_city(n_parcels)
    extent = _extent(n_parcels)
    layers = {
        "parks": _parks(parks),
        "residential": _residential(residential),
        "boundary": _boundary(extent),
        "districts": _districts(extent),
        "roads": _roads(extent),
    }
    boundary = layers["boundary"].geometry.iloc[0]
    layers["new_park"] = _new_park(parks, residential, boundary)
    with_first = gpd.GeoDataFrame(
        {"park_class": [*parks["park_class"], "G14"]},
        geometry=[*parks.geometry, layers["new_park"].geometry.iloc[0]],
        crs=CRS,
    )
    layers["second_park"] = _new_park(with_first, residential, boundary, park_id="NEW2")
    return layers


def write_city(layers: dict[str, gpd.GeoDataFrame], folder: Path) -> dict[str, Path]:
    """Write `layers` to `folder` as described in the module docstring; return the paths.

    The returned keys are the layer kinds of :data:`FILES`, ``new_park`` and ``second_park``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / name for kind, name in FILES.items()}
    paths["new_park"] = folder / NEW_PARK_FILE
    paths["second_park"] = folder / SECOND_PARK_FILE
    geographic = {"parks", "residential", "new_park", "second_park"}
    for kind, path in paths.items():
        gdf = layers[kind].to_crs(GEOGRAPHIC) if kind in geographic else layers[kind]
        if path.suffix == ".shp":
            gdf.to_file(path, driver="ESRI Shapefile", encoding="GBK", engine="pyogrio")
        else:
            gdf.to_file(path, driver="GPKG", layer=path.stem, engine="pyogrio")
    paths["residential"].with_suffix(".cpg").unlink(missing_ok=True)
    return paths


# --------------------------------------------------------------------------- layers


def _extent(n_parcels: int) -> float:
    """Side of the city's square (m), as :func:`bench_coverage.synthetic_city` lays it out."""
    per_side = int(np.ceil(np.sqrt(n_parcels)))
    return per_side * CELL + (per_side // 4) * STREET


def _parks(parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    classes = parks["park_class"].to_numpy().astype(str)
    label = np.vectorize(CLASS_NAMES.get, otypes=[object])(classes)
    number = np.arange(len(parks)).astype(str)
    pocket = (classes == "G14") & (parks.area.to_numpy() < 10_000)
    return gpd.GeoDataFrame(
        {
            "park_id": parks["park_id"].to_numpy(),
            "公园名称": np.char.add(label.astype(str), np.char.add(number, "号")).astype(object),
            "类别": classes.astype(object),
            "口袋公园": pocket,
        },
        geometry=parks.geometry.to_numpy(),
        crs=CRS,
    )


def _residential(residential: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    n = len(residential)
    codes = np.where(np.arange(n) % 3 == 0, "0701", "R21").astype(object)
    names = np.char.add("幸福小区", np.char.add(np.arange(n).astype(str), "号地块"))
    return gpd.GeoDataFrame(
        {
            "名称": names.astype(object),
            "用地代码": codes,
            "户数": residential["households"].to_numpy(),
        },
        geometry=residential.geometry.to_numpy(),
        crs=CRS,
    )


def _boundary(extent: float) -> gpd.GeoDataFrame:
    """The city's square with its corners cut (an octagon): the built-up area 建成区."""
    cut = 0.15 * extent
    ring = [
        (cut, 0), (extent - cut, 0), (extent, cut), (extent, extent - cut),
        (extent - cut, extent), (cut, extent), (0, extent - cut), (0, cut),
    ]  # fmt: skip
    octagon = shapely.Polygon([(X0 + x, Y0 + y) for x, y in ring])
    return gpd.GeoDataFrame(
        {"boundary_id": ["B1"], "名称": ["建成区"]}, geometry=[octagon], crs=CRS
    )


def _districts(extent: float) -> gpd.GeoDataFrame:
    """10 districts: a 5 × 2 grid over the city, a little larger than it."""
    col, row = np.arange(10) % 5, np.arange(10) // 5
    xs = X0 - 1 + np.linspace(0, extent + 2, 6)  # shared edges: neighbours touch, never overlap
    ys = Y0 - 1 + np.linspace(0, extent + 2, 3)
    return gpd.GeoDataFrame(
        {
            "district_id": [f"D{k + 1:02d}" for k in range(10)],
            "名称": DISTRICT_NAMES,
        },
        geometry=shapely.box(xs[col], ys[row], xs[col + 1], ys[row + 1]),
        crs=CRS,
    )


def _roads(extent: float) -> gpd.GeoDataFrame:
    """Street centre lines in the 15 m streets, one two-point segment between junctions."""
    offsets = np.arange(1, int(extent // BLOCK) + 1) * BLOCK - STREET / 2  # from the origin
    stops = np.concatenate([[0.0], offsets, [extent]])  # the junctions along every street
    street, piece = np.meshgrid(np.arange(len(offsets)), np.arange(len(stops) - 1), indexing="ij")
    street, piece = street.ravel(), piece.ravel()
    across, start, end = offsets[street], stops[piece], stops[piece + 1]
    east_west = _segments(X0 + start, Y0 + across, X0 + end, Y0 + across)
    north_south = _segments(X0 + across, Y0 + start, X0 + across, Y0 + end)
    number = np.tile((street + 1).astype(str), 2)
    direction = np.repeat(["东西向", "南北向"], len(street))
    main = np.tile((street + 1) % 4 == 0, 2)
    return gpd.GeoDataFrame(
        {
            "名称": np.char.add(np.char.add(direction, number), "路").astype(object),
            "道路等级": np.where(main, "主干路", "支路").astype(object),
        },
        geometry=np.concatenate([east_west, north_south]),
        crs=CRS,
    )


def _segments(x0, y0, x1, y1) -> np.ndarray:
    """Two-point line strings from (x0, y0) to (x1, y1), element by element."""
    return shapely.linestrings(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], 1))


def _new_park(
    parks: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    boundary: shapely.Polygon,
    park_id: str = "NEW1",
) -> gpd.GeoDataFrame:
    """An 80 m × 80 m pocket park on the built-up housing farthest from any park that counts."""
    counts = (parks.area.to_numpy() >= 2000) & (parks["park_class"].to_numpy() != "G3")
    centres = shapely.centroid(residential.geometry.to_numpy())
    centres = centres[shapely.contains(boundary.buffer(-NEW_PARK_SIDE), centres)]
    tree = shapely.STRtree(parks.geometry.to_numpy()[counts])
    _, distance = tree.query_nearest(centres, return_distance=True, all_matches=False)
    x, y = shapely.get_coordinates(centres[np.argmax(distance)])[0]
    half = NEW_PARK_SIDE / 2
    return gpd.GeoDataFrame(
        {
            "park_id": [park_id],
            "公园名称": ["新建口袋公园" if park_id == "NEW1" else f"新建口袋公园{park_id}"],
            "类别": ["G14"],
            "口袋公园": [True],
        },
        geometry=[shapely.box(x - half, y - half, x + half, y + half)],
        crs=CRS,
    )


def main() -> None:
    """``python benchmarks/_city.py N FOLDER``: write the city of N parcels; print its files."""
    n_parcels, folder = int(sys.argv[1]), Path(sys.argv[2])
    layers = city_layers(n_parcels)
    paths = write_city(layers, folder)
    counts = {kind: len(gdf) for kind, gdf in layers.items()}
    print(
        json.dumps({"files": {kind: str(path) for kind, path in paths.items()}, "counts": counts})
    )


if __name__ == "__main__":
    main()
