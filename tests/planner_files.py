"""A planner's own data set, made from the sample city: Chinese headers, GBK, EPSG:4490.

The layers of the bundled sample are written the way a Chinese planning bureau hands
them over: GBK Shapefiles **without** a ``.cpg`` file, in CGCS2000 degrees (EPSG:4490),
with the headers 编号, 名称, 类别, 户数, 人口, 街道编号, 居民户, 非居户, 商铺, 已签约户数,
楼栋数, 建筑面积, 可步行, 层级, 公园编号 — and, for the study-area layers, one GeoPackage
holding several layers with the usual Chinese layer names (公园绿地, 居住用地, ...).
Every id is a planner's code (``D01``, ``PL01``, ...), never ``1..N``, so a test can
tell a kept id from a generated one.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "geo" / "taicang_sample"

#: gisrenew column → the planner's header, per layer.
HEADERS: dict[str, dict[str, str]] = {
    "parks": {"park_id": "编号", "name": "名称", "park_class": "类别",
              "is_pocket_park": "口袋公园", "opened": "建成时间"},
    "residential": {"residential_id": "编号", "name": "名称", "land_use": "用地代码",
                    "households": "户数", "population": "人口", "district_id": "街道编号"},
    "parcels": {"parcel_id": "编号", "name": "名称", "land_use": "用地代码",
                "households_residential": "居民户", "households_nonresidential": "非居户",
                "households_shops": "商铺", "households_signed": "已签约户数",
                "buildings": "楼栋数", "floor_area_m2": "建筑面积"},
    "plans": {"plan_id": "编号", "name": "名称", "plan_type": "类别", "target_use": "规划用途",
              "status": "进度", "year": "年度", "investment_wan": "投资"},
    "boundary": {"boundary_id": "编号", "name": "名称"},
    "districts": {"district_id": "编号", "name": "名称", "level": "层级"},
    "roads": {"road_id": "编号", "name": "名称", "road_class": "道路等级", "walkable": "可步行",
              "level": "层级"},
    "entrances": {"entrance_id": "编号", "park_id": "公园编号"},
    "water": {"water_id": "编号", "name": "名称"},
    "candidates": {"candidate_id": "编号", "name": "名称", "park_class": "类别"},
}  # fmt: skip

#: Shapefile names (as a bureau names them) of the layers written one file each.
SHAPEFILES = {
    "parks": "公园", "parcels": "地块", "plans": "更新项目", "roads": "道路",
    "entrances": "出入口", "candidates": "备选地块",
}  # fmt: skip
#: Layers of the multi-layer GeoPackage, by their Chinese layer names.
GPKG_LAYERS = {
    "residential": "居住用地",
    "boundary": "建成区",
    "districts": "街道",
    "water": "水系",
}
GPKG_NAME = "城市现状.gpkg"


def planner_ids(kind: str, frame: gpd.GeoDataFrame) -> list[str]:
    """Planner's codes for the sample's ids: D01, PL01, ... (never 1..N)."""
    prefix = {"parks": "GY", "residential": "JZ", "parcels": "DK", "plans": "PL",
              "boundary": "JC", "districts": "D", "roads": "DL", "entrances": "CRK",
              "water": "SX", "candidates": "BX"}[kind]  # fmt: skip
    return [f"{prefix}{i:02d}" for i in range(1, len(frame) + 1)]


def id_maps(sample: Path = SAMPLE) -> dict[str, dict[str, str]]:
    """``{kind: {sample id: planner's id}}`` (``planner_layers`` renames in row order)."""
    maps = {}
    for kind, headers in HEADERS.items():
        frame = gpd.read_file(sample / "project.gpkg", layer=kind, engine="pyogrio")
        id_col = next(iter(headers))
        maps[kind] = dict(zip(frame[id_col].astype(str), planner_ids(kind, frame), strict=True))
    return maps


def planner_layers(sample: Path = SAMPLE) -> dict[str, gpd.GeoDataFrame]:
    """The sample's layers with planner's ids, every reference between layers kept.

    Districts, parks and plans get codes (``D01``, ``GY01``, ``PL01``); residential
    ``district_id`` and entrance ``park_id`` follow them; roads get 是/否 for walkable.
    """
    layers = {
        kind: gpd.read_file(sample / "project.gpkg", layer=kind, engine="pyogrio")
        for kind in HEADERS
    }
    renamed: dict[str, dict[str, str]] = {}
    for kind, frame in layers.items():
        id_col = HEADERS[kind] and next(iter(HEADERS[kind]))
        new = planner_ids(kind, frame)
        renamed[kind] = dict(zip(frame[id_col].astype(str), new, strict=True))
        frame[id_col] = new
    layers["residential"]["district_id"] = (
        layers["residential"]["district_id"].astype(str).map(renamed["districts"]).fillna("")
    )
    layers["entrances"]["park_id"] = (
        layers["entrances"]["park_id"].astype(str).map(renamed["parks"]).fillna("")
    )
    yes_no = {True: "是", False: "否"}
    layers["roads"]["walkable"] = layers["roads"]["walkable"].map(yes_no)
    layers["parks"]["is_pocket_park"] = layers["parks"]["is_pocket_park"].map(yes_no)
    return layers


def new_parks(sample: Path = SAMPLE) -> gpd.GeoDataFrame:
    """The sample's five new pocket parks, with planner's codes (XGY01, ...)."""
    frame = gpd.read_file(sample / "new_pocket_parks.gpkg", engine="pyogrio")
    frame["park_id"] = [f"XGY{i:02d}" for i in range(1, len(frame) + 1)]
    frame["is_pocket_park"] = frame["is_pocket_park"].map({True: "是", False: "否"})
    return frame


def to_planner(frame: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    """`frame` with the planner's headers, in EPSG:4490."""
    return frame.rename(columns=HEADERS[kind]).to_crs("EPSG:4490")


def write_gbk_shapefile(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """Write a GBK Shapefile and remove its ``.cpg``, as many desktop GIS exports are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(frame, path, driver="ESRI Shapefile", encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


def write_planner_data(folder: Path, sample: Path = SAMPLE) -> dict[str, Path | str]:
    """Write the planner's data set into `folder`; return ``{kind: file or FILE::LAYER}``.

    The new pocket parks (``new_parks``) go to the sub-folder ``新建``, so that `folder`
    holds exactly the project's layers.
    """
    folder.mkdir(parents=True, exist_ok=True)
    layers = planner_layers(sample)
    written: dict[str, Path | str] = {}
    for kind, stem in SHAPEFILES.items():
        written[kind] = write_gbk_shapefile(to_planner(layers[kind], kind), folder / f"{stem}.shp")
    gpkg = folder / GPKG_NAME
    for kind, layer in GPKG_LAYERS.items():
        pyogrio.write_dataframe(to_planner(layers[kind], kind), gpkg, layer=layer, driver="GPKG")
        written[kind] = f"{gpkg}::{layer}"
    written["new_parks"] = write_gbk_shapefile(
        to_planner(new_parks(sample), "parks"), folder / "新建" / "新建口袋公园.shp"
    )
    return written
