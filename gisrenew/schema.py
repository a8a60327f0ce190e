"""The layers of a gisrenew project and their columns — defined once, here.

Every loader, validator, writer and the README's layer table read these
definitions. Column names are English; :data:`DEFAULT_ALIASES` maps common
Chinese headers (名称, 面积, 户数, ...) to them, and a project's
``[columns.<layer>]`` table in ``gisrenew.toml`` adds its own mapping.

Only geometry is ever required for the core analyses: every attribute column
is optional with a documented default, except where a specific analysis needs
it (e.g. household counts for a plan table), and then that analysis says so.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DEFAULT_ALIASES",
    "LAYERS",
    "LAYER_NAMES",
    "SIGNING_STATUS_TERMS",
    "Column",
    "LayerSchema",
    "get_layer_schema",
    "kind_from_name",
    "layer_table_markdown",
]

GeometryKind = Literal["polygon", "line", "point"]
DType = Literal["str", "int", "float", "bool"]


@dataclass(frozen=True)
class Column:
    """One attribute column of a layer.

    Attributes
    ----------
    name : str
        English column name used inside gisrenew.
    dtype : {"str", "int", "float", "bool"}
        Values are converted to this type on load; values that cannot be are an error.
    default : Any
        Value used when the column is absent (and for missing values in it).
    description : str
        Meaning, with the Chinese term a planner knows.
    required : bool
        A required column must be present; there is no default.
    nonnegative : bool
        Numeric values below zero are an error.
    """

    name: str
    dtype: DType
    default: Any = None
    description: str = ""
    required: bool = False
    nonnegative: bool = False


@dataclass(frozen=True)
class LayerSchema:
    """A project layer: its geometry kind, id column and attribute columns."""

    name: str
    geometry: GeometryKind
    id_column: str
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)
    optional_layer: bool = False

    @property
    def column_names(self) -> list[str]:
        """Names of all declared attribute columns (id first)."""
        return [self.id_column, *(c.name for c in self.columns)]

    def column(self, name: str) -> Column:
        """Return the column called `name`."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


_name = Column("name", "str", "", "name 名称")

LAYERS: dict[str, LayerSchema] = {
    schema.name: schema
    for schema in [
        LayerSchema(
            "parks",
            "polygon",
            "park_id",
            "park green space 公园绿地 (and plazas 广场用地 where the rule set counts them)",
            (
                _name,
                Column(
                    "park_class",
                    "str",
                    "G1",
                    "class per CJJ/T 85-2017: G11 综合公园, G12 社区公园, G13 专类公园, "
                    "G14 游园, G3 广场用地 (plaza); G1 = park of unknown class",
                ),
                Column("is_pocket_park", "bool", False, "口袋公园 pocket park"),
                Column("opened", "str", "", "opening date or year 建成时间 (text)"),
            ),
        ),
        LayerSchema(
            "residential",
            "polygon",
            "residential_id",
            "residential land 居住用地 — the denominator of the coverage ratio",
            (
                _name,
                Column(
                    "land_use",
                    "str",
                    "R",
                    "land-use code 用地代码 (GB 50137 R/R11/..., or 07/0701/...); "
                    "rows whose code is not residential per the project settings are left out",
                ),
                Column("households", "float", 0.0, "households 户数 (weights)", nonnegative=True),
                Column("population", "float", 0.0, "residents 人口 (weights)", nonnegative=True),
                Column(
                    "district_id", "str", "", "district 区/镇/街道 id; filled spatially if empty"
                ),
            ),
        ),
        LayerSchema(
            "parcels",
            "polygon",
            "parcel_id",
            "land parcels 地块 with households, used by renewal plans",
            (
                _name,
                Column("land_use", "str", "", "land-use code 用地代码"),
                Column(
                    "households_residential",
                    "int",
                    0,
                    "居民户 residential households",
                    nonnegative=True,
                ),
                Column(
                    "households_nonresidential",
                    "int",
                    0,
                    "非居户 non-residential households",
                    nonnegative=True,
                ),
                Column("households_shops", "int", 0, "商铺/店铺 shops", nonnegative=True),
                Column(
                    "households_signed", "int", 0, "已签约户数 households signed", nonnegative=True
                ),
                Column("buildings", "int", 0, "楼栋数 buildings", nonnegative=True),
                Column("floor_area_m2", "float", 0.0, "建筑面积 floor area (m²)", nonnegative=True),
            ),
        ),
        LayerSchema(
            "plans",
            "polygon",
            "plan_id",
            "renewal plans 更新地块/片区/老旧小区改造",
            (
                _name,
                Column(
                    "plan_type",
                    "str",
                    "renewal",
                    "renewal 更新地块, old_community 老旧小区改造, historic 历史街区/古镇, ...",
                ),
                Column(
                    "target_use",
                    "str",
                    "",
                    "land use after the plan; 'park'/'green'/G1x turns it into park green space",
                ),
                Column("status", "str", "", "status 进度 (text)"),
                Column("year", "int", 0, "year 年度", nonnegative=True),
            ),
        ),
        LayerSchema(
            "boundary",
            "polygon",
            "boundary_id",
            "built-up area 建成区 — the coverage ratio is computed inside it",
            (_name,),
        ),
        LayerSchema(
            "districts",
            "polygon",
            "district_id",
            "districts 区/镇/街道 for the per-district tables",
            (_name, Column("level", "str", "", "区 / 镇 / 街道")),
        ),
        LayerSchema(
            "roads",
            "line",
            "road_id",
            "walkable street centre lines 路网 for the network (walking) method",
            (
                _name,
                Column("road_class", "str", "", "road class 道路等级 (text)"),
                Column(
                    "walkable", "bool", True, "false for expressways and other non-walkable ways"
                ),
                Column(
                    "level",
                    "int",
                    0,
                    "vertical level: 0 ground; 1 bridge / -1 tunnel. Lines at different levels "
                    "that cross without a shared vertex are not connected",
                ),
            ),
        ),
        LayerSchema(
            "entrances",
            "point",
            "entrance_id",
            "park entrances 公园出入口 (access points) for the network method",
            (Column("park_id", "str", "", "the park this entrance serves; nearest park if empty"),),
            optional_layer=True,
        ),
        LayerSchema(
            "water",
            "polygon",
            "water_id",
            "water bodies 水系 (rivers, lakes): context on maps",
            (_name,),
            optional_layer=True,
        ),
        LayerSchema(
            "candidates",
            "polygon",
            "candidate_id",
            "candidate sites for new pocket parks 口袋公园备选地块",
            (_name, Column("park_class", "str", "G14", "class the site would have as a park")),
            optional_layer=True,
        ),
    ]
}

# Park-like layers share the parks schema (e.g. the sample city's new pocket parks).
LAYER_KIND_ALIASES = {"new_parks": "parks"}

DEFAULT_ALIASES: dict[str, str] = {
    "名称": "name",
    "名字": "name",
    "地块名称": "name",
    "公园名称": "name",
    "项目名称": "name",
    "类别": "park_class",
    "公园类别": "park_class",
    "绿地类别": "park_class",
    "口袋公园": "is_pocket_park",
    "用地代码": "land_use",
    "用地性质": "land_use",
    "地类编码": "land_use",
    "户数": "households",
    "人口": "population",
    "居民户": "households_residential",
    "居民户数": "households_residential",
    "非居户": "households_nonresidential",
    "非居户数": "households_nonresidential",
    "商铺": "households_shops",
    "店铺": "households_shops",
    "已签约": "households_signed",
    "签约户数": "households_signed",
    "楼栋数": "buildings",
    "建筑面积": "floor_area_m2",
    "规划用途": "target_use",
    "更新类型": "plan_type",
    "状态": "status",
    "进度": "status",
    "年度": "year",
    "道路等级": "road_class",
    "层级": "level",
}


#: File and layer names that tell a layer's kind (lower case; Chinese and English). A name
#: is recognised only when it, or one of its words, is one of these exactly; see
#: :func:`kind_from_name`. ``gisrenew validate`` guesses file kinds from this table and
#: :func:`gisrenew.io.load_layer` uses it to spot rival layers in a GeoPackage.
LAYER_NAMES: dict[str, tuple[str, ...]] = {
    "parks": ("parks", "park", "公园", "公园绿地", "new_parks"),
    "residential": ("residential", "居住用地"),
    "parcels": ("parcels", "parcel", "地块"),
    "plans": ("plans", "plan", "更新地块", "更新项目"),
    "boundary": ("boundary", "built_up", "builtup", "built_up_area", "建成区"),
    "districts": ("districts", "district", "街道", "行政区", "片区"),
    "roads": ("roads", "road", "road_network", "道路", "路网"),
    "entrances": ("entrances", "entrance", "出入口", "公园出入口"),
    "water": ("water", "水系"),
    "candidates": ("candidates", "candidate", "备选地块", "口袋公园备选地块"),
}

_KIND_OF_NAME = {name: kind for kind, names in LAYER_NAMES.items() for name in names}
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")  # separators and digits (years) around a name
_WORD_BREAKS = re.compile(r"[\W\d_]+")


def kind_from_name(name: str) -> str | None:
    """The layer kind a file or layer name names, or ``None`` when it is not clear.

    Conservative on purpose: the name (lower case, digits and separators at either end
    removed, so ``居住用地2023`` and ``parks_v2`` count) must be one of
    :data:`LAYER_NAMES` exactly, or exactly one kind must be named by its words (split
    at ``_``, ``-``, ``.``, spaces and digits: ``parks_nocrs`` → parks). A partial match
    (``居住区公园``, ``街道路网``) or words of two kinds (``公园_居住用地``) give ``None``.

    Examples
    --------
    >>> kind_from_name("更新地块"), kind_from_name("居住区公园"), kind_from_name("road_network")
    ('plans', None, 'roads')
    """
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    whole = _EDGES.sub("", text)
    if whole in _KIND_OF_NAME:
        return _KIND_OF_NAME[whole]
    kinds = {_KIND_OF_NAME[word] for word in _WORD_BREAKS.split(text) if word in _KIND_OF_NAME}
    return kinds.pop() if len(kinds) == 1 else None


def get_layer_schema(kind: str) -> LayerSchema:
    """Return the schema of layer `kind` (``parks``, ``residential``, ...)."""
    kind = LAYER_KIND_ALIASES.get(kind, kind)
    try:
        return LAYERS[kind]
    except KeyError:
        known = ", ".join(LAYERS)
        raise KeyError(f"unknown layer kind {kind!r}; known kinds: {known}") from None


def layer_table_markdown() -> str:
    """Render the layer/column table used in the README."""
    lines = [
        "| layer | geometry | column | type | default | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for schema in LAYERS.values():
        lines.append(
            f"| `{schema.name}` | {schema.geometry} | `{schema.id_column}` | str | row order | "
            f"id; {schema.description} |"
        )
        for col in schema.columns:
            default = "required" if col.required else repr(col.default)
            lines.append(f"| | | `{col.name}` | {col.dtype} | {default} | {col.description} |")
    return "\n".join(lines)


#: Signing progress 签约进度 of a renewal plan or parcel: code → (Chinese, English) term.
#: The plans engine computes the codes; tables and maps show the terms.
SIGNING_STATUS_TERMS: dict[str, tuple[str, str]] = {
    "no_parcels": ("无涉及地块", "no parcels affected"),
    "no_households": ("无住户", "no households"),
    "not_started": ("未启动", "none signed"),
    "signing": ("签约中", "signing under way"),
    "signed": ("已完成签约", "all signed"),
    "unknown": ("签约情况未知", "signing unknown"),
}
