"""The layers of a gisrenew project and their columns — defined once, here.

Every loader, validator, writer and the README's layer table read these
definitions. Column names are English; :func:`column_aliases` gives the headers
planners use for them in each layer (编号, 名称, 户数, 已签约户数, 可步行, 公园编号, ...:
:data:`SHARED_ALIASES`, :data:`LAYER_ALIASES`, :data:`ID_ALIASES`), and a project's
``[columns.<layer>]`` table in ``gisrenew.toml`` adds its own mapping.

Only geometry is ever required for the core analyses: every attribute column
is optional with a documented default, except where a specific analysis needs
it (e.g. household counts for a plan table), and then that analysis says so.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DEFAULT_ALIASES",
    "ID_ALIASES",
    "LAYERS",
    "LAYER_ALIASES",
    "LAYER_NAMES",
    "SHARED_ALIASES",
    "SIGNING_STATUS_TERMS",
    "Column",
    "LayerSchema",
    "alias_table_markdown",
    "column_aliases",
    "get_layer_schema",
    "headers_of",
    "kind_from_name",
    "layer_table_markdown",
    "lookalike_column",
]

GeometryKind = Literal["polygon", "line", "point", "point_or_polygon"]
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
                Column(
                    "investment_wan",
                    "float",
                    0.0,
                    "investment 投资 in 万元 (10 000 yuan), for the renovation figures",
                    nonnegative=True,
                ),
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
        LayerSchema(
            "facilities",
            "point_or_polygon",
            "facility_id",
            "community facilities 公共服务设施/配套设施 (points or polygons) for the life circles "
            "社区生活圈",
            (
                Column(
                    "facility_type",
                    "str",
                    description="facility type 设施类型 (幼儿园, 小学, 社区卫生服务站, ...): "
                    "a name the life-circle rule set knows",
                    required=True,
                ),
                _name,
            ),
            optional_layer=True,
        ),
        LayerSchema(
            "greenways",
            "line",
            "greenway_id",
            "greenways 绿道 (centre lines) for the greenway service-radius coverage "
            "城市绿道服务半径覆盖率",
            (_name,),
            optional_layer=True,
        ),
    ]
}

# Park-like layers share the parks schema (e.g. the sample city's new pocket parks).
LAYER_KIND_ALIASES = {"new_parks": "parks"}

#: Headers planners use for gisrenew's columns, in every layer that has the column
#: (column → headers, most usual first). Headers whose meaning depends on the layer —
#: 编号 (whose id?), 类别 (park class or plan type?), 层级 — are in :data:`LAYER_ALIASES`.
SHARED_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("名称", "名字"),
    "land_use": (
        "用地代码",
        "用地性质",
        "用地性质代码",
        "地类编码",
        "地类代码",
        "用地分类",
        "用地类型",
    ),
    "households": ("户数", "总户数", "住户数"),
    "population": ("人口", "人口数", "常住人口", "居住人口"),
    "households_residential": ("居民户", "居民户数", "住宅户数"),
    "households_nonresidential": ("非居户", "非居户数", "非居民户"),
    "households_shops": ("商铺", "商铺数", "店铺", "商户"),
    "households_signed": ("已签约户数", "签约户数", "已签约", "已签约户", "签约户"),
    "buildings": ("楼栋数", "栋数", "幢数"),
    "floor_area_m2": ("建筑面积", "建筑面积(m²)", "总建筑面积"),
    "is_pocket_park": ("口袋公园", "是否口袋公园"),
    "opened": ("建成时间", "建成年份", "建成日期", "开园时间"),
    "target_use": ("规划用途", "规划用地性质", "规划用地"),
    "status": ("进度", "状态", "项目进度", "实施状态"),
    "year": ("年度", "年份", "实施年度", "计划年度"),
    "road_class": ("道路等级", "道路类别"),
    "walkable": ("可步行", "是否可步行", "步行"),
}

#: Generic id headers, for every layer's id column (after the layer's own, e.g. 公园编号).
ID_ALIASES: tuple[str, ...] = ("编号", "编码", "ID", "id", "序号")

#: Headers whose column depends on the layer: layer → column → headers, most specific
#: first. Each layer's id comes first with its own names (公园编号 for parks, 街道编号
#: for districts); ``公园编号`` in ``entrances`` is the park an entrance serves, and
#: ``街道编号`` in ``residential`` the district a piece of land lies in.
LAYER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "parks": {
        "park_id": ("公园编号", "公园编码", "公园代码", "绿地编号", "公园ID"),
        "name": ("公园名称", "绿地名称"),
        "park_class": ("类别", "公园类别", "绿地类别", "公园类型", "绿地分类", "类型"),
    },
    "residential": {
        "residential_id": ("居住用地编号", "用地编号", "地块编号", "小区编号"),
        "name": ("小区名称", "用地名称", "地块名称"),
        "district_id": (
            "街道编号",
            "区镇街道编号",
            "所属街道",
            "所属街道编号",
            "街道代码",
            "所属片区",
            "片区编号",
        ),
    },
    "parcels": {
        "parcel_id": ("地块编号", "地块编码", "宗地编号", "宗地代码"),
        "name": ("地块名称",),
    },
    "plans": {
        "plan_id": ("项目编号", "更新项目编号", "更新单元编号", "更新地块编号"),
        "name": ("项目名称", "更新项目名称"),
        "plan_type": ("类别", "更新类型", "项目类型", "改造类型", "类型"),
        "investment_wan": (
            "投资(万元)",
            "投资额(万元)",
            "总投资(万元)",
            "投资",
            "总投资",
            "投资额",
        ),
    },
    "boundary": {"boundary_id": ("建成区编号",)},
    "districts": {
        "district_id": (
            "街道编号",
            "区镇街道编号",
            "街道代码",
            "行政区编号",
            "行政区划代码",
            "区划代码",
            "片区编号",
        ),
        "name": ("街道名称", "行政区名称", "片区名称"),
        "level": ("层级", "级别", "行政级别"),
    },
    "roads": {
        "road_id": ("道路编号",),
        "name": ("道路名称", "路名"),
        "road_class": ("道路等级", "道路类别", "等级", "类别"),
        "level": ("层级", "竖向层级"),
    },
    "entrances": {
        "entrance_id": ("出入口编号",),
        "park_id": ("公园编号", "所属公园", "公园编码", "公园ID"),
    },
    "water": {"water_id": ("水系编号", "河流编号"), "name": ("水系名称", "河流名称")},
    "candidates": {
        "candidate_id": ("备选地块编号", "地块编号"),
        "name": ("地块名称",),
        "park_class": ("类别", "公园类别", "绿地类别"),
    },
    "facilities": {
        "facility_id": ("设施编号", "设施编码", "设施ID"),
        "facility_type": ("设施类型", "类型", "类别", "设施类别", "设施种类"),
        "name": ("设施名称",),
    },
    "greenways": {"greenway_id": ("绿道编号", "绿道编码"), "name": ("绿道名称",)},
}

#: Every shared alias as ``{header: column}`` (the layer-specific ones are in
#: :func:`column_aliases`). A weight given as 户数 or 人口 means this column.
DEFAULT_ALIASES: dict[str, str] = {
    header: column for column, headers in SHARED_ALIASES.items() for header in headers
}


def column_aliases(kind: str) -> dict[str, str]:
    """Every header gisrenew renames in layer `kind`: ``{header: column}``, best first.

    The layer's own headers (:data:`LAYER_ALIASES`) come first, then the shared ones
    (:data:`SHARED_ALIASES`) of the columns the layer has, then the generic id headers
    (:data:`ID_ALIASES`). When a file has several headers for one column, the first in
    this order is used and the others are reported as look-alikes.

    Examples
    --------
    >>> column_aliases("entrances")["公园编号"], column_aliases("parks")["公园编号"]
    ('park_id', 'park_id')
    >>> column_aliases("plans")["类别"], column_aliases("parks")["类别"]
    ('plan_type', 'park_class')
    >>> column_aliases("districts")["编号"], column_aliases("residential")["街道编号"]
    ('district_id', 'district_id')
    """
    schema = get_layer_schema(kind)
    known = set(schema.column_names)
    aliases: dict[str, str] = {}
    for column, headers in LAYER_ALIASES.get(schema.name, {}).items():
        for header in headers:
            aliases.setdefault(header, column)
    for column, headers in SHARED_ALIASES.items():
        if column in known:
            for header in headers:
                aliases.setdefault(header, column)
    for header in ID_ALIASES:
        aliases.setdefault(header, schema.id_column)
    return aliases


_UNIT_SUFFIX = re.compile(r"\s*[（(\[【][^）)\]】]*[)）\]】]\s*$")
_SEPARATORS = re.compile(r"[\s_\-.]+")


def _normalized(header: str) -> str:
    """A header compared loosely: NFKC, lower case, no unit suffix ``(户)``, no separators."""
    text = unicodedata.normalize("NFKC", str(header)).strip().lower()
    return _SEPARATORS.sub("", _UNIT_SUFFIX.sub("", text))


def lookalike_column(kind: str, header: str) -> str | None:
    """The column of layer `kind` that `header` looks like, or None.

    Used to warn about a column that gisrenew does not read although it probably
    means one of its fields: an alias or English name apart from case, separators or
    a unit in brackets (``户数（户）``, ``Park-ID``), a close English spelling
    (``househods``), or a Chinese header that contains a known one (``公园编码号``,
    ``街道名称``) or is contained in one of three or more characters (``签约户`` in
    ``已签约户数``). The longest known header decides.

    Examples
    --------
    >>> lookalike_column("parks", "公园编码号"), lookalike_column("parcels", "签约户（户）")
    ('park_id', 'households_signed')
    >>> lookalike_column("roads", "是否步行"), lookalike_column("parks", "备注")
    ('walkable', None)
    """
    schema = get_layer_schema(kind)
    aliases = column_aliases(kind)
    if header in aliases:
        return aliases[header]
    wanted = _normalized(header)
    if not wanted:
        return None
    names = {_normalized(h): c for h, c in reversed(list(aliases.items()))}
    names.update({_normalized(c): c for c in schema.column_names})
    if wanted in names:
        return names[wanted]
    if wanted.isascii():
        close = difflib.get_close_matches(wanted, [n for n in names if n.isascii()], 1, 0.85)
        return names[close[0]] if close else None
    matches = [
        known
        for known in names
        if not known.isascii()
        and len(known) >= 2
        and (known in wanted or (len(wanted) >= 3 and wanted in known))
    ]
    return names[max(matches, key=len)] if matches else None


def headers_of(kind: str, column: str) -> list[str]:
    """The headers :func:`column_aliases` maps to `column` in layer `kind`, best first."""
    return [header for header, target in column_aliases(kind).items() if target == column]


def alias_table_markdown() -> str:
    """Render the README table of the headers each layer's columns are read from."""
    lines = ["| layer | column | headers read as this column |", "|---|---|---|"]
    for schema in LAYERS.values():
        for column in schema.column_names:
            headers = headers_of(schema.name, column)
            if headers:
                shown = ", ".join(headers)
                lines.append(f"| `{schema.name}` | `{column}` | {shown} |")
    return "\n".join(lines)


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
    "facilities": ("facilities", "facility", "公共服务设施", "配套设施", "设施"),
    "greenways": ("greenways", "greenway", "绿道", "城市绿道"),
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
