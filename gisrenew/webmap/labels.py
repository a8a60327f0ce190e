"""Chinese and English labels of the web maps, and the language choice.

Labels here are trusted constants; they still go through
:func:`gisrenew.webmap.escape.escape_text` like every other text on a page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

__all__ = ["LANGS", "PARK_CLASS_NAMES", "detect_lang", "label", "resolve_lang"]

LANGS = ("zh", "en")

_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "coverage_title": "公园绿地服务半径覆盖率",
        "coverage_title_network": "公园绿地服务半径覆盖率（步行路网）",
        "method_buffer": "按公园边界直线服务半径计算",
        "method_network": "按路网步行距离计算",
        "numerator": "服务半径覆盖的居住用地",
        "denominator": "建成区居住用地总面积",
        "weighted": "覆盖户数（人口）比例",
        "rules": "规则",
        "parks": "公园绿地",
        "pocket_parks": "口袋公园",
        "pocket_park": "口袋公园",
        "service_area": "服务范围",
        "service_areas": "公园服务范围",
        "walk_service_areas": "公园步行服务范围（路网）",
        "walk_status": "步行可达情况",
        "residential": "居住用地（覆盖比例）",
        "blind_spots": "服务盲区（未覆盖的居住用地）",
        "districts": "各片区覆盖率",
        "boundary": "建成区范围",
        "id": "编号",
        "name": "名称",
        "park_class": "类别",
        "area": "面积",
        "tier": "服务半径等级",
        "radius": "服务半径",
        "counts": "是否计入",
        "yes": "是",
        "no": "否",
        "reason": "说明",
        "covered_share": "覆盖比例",
        "covered_area": "覆盖面积",
        "district": "所属片区",
        "households": "户数",
        "population": "人口",
        "walk_distance": "步行距离",
        "nearest_park": "最近公园",
        "coverage_ratio": "覆盖率",
        "residential_area": "居住用地面积",
        "share_full": "全部覆盖",
        "share_high": "大部分覆盖（50%–100%）",
        "share_low": "少部分覆盖（0–50%）",
        "share_none": "未覆盖",
        "no_residential": "无居住用地",
        "not_counted": "不计入（面积或类别不符）",
        "plans_title": "城市更新地块",
        "plans": "更新地块",
        "affected_parcels": "涉及地块（签约进度）",
        "plan": "更新地块",
        "plan_type": "更新类型",
        "status": "进度",
        "year": "年度",
        "parcel_count": "涉及地块数",
        "households_residential": "居民户",
        "households_nonresidential": "非居户",
        "households_shops": "商铺",
        "households_total": "合计户数",
        "households_signed": "已签约",
        "households_unsigned": "未签约",
        "signing_rate": "签约率",
        "signing_all": "已完成签约",
        "signing_partial": "签约中",
        "signing_none": "未启动签约",
        "signing_empty": "无住户",
        "signing_unknown": "签约情况未知",
        "signing_status": "签约进度",
        "overlap": "涉及面积",
        "parcel_share": "地块在更新范围内比例",
        "plans_summary": "{plans} 个更新地块，{area}，{households} 户，已签约 {signed} 户",
        "before_after_title": "新建公园前后的服务半径覆盖率",
        "before": "新建前",
        "after": "新建后",
        "change": "变化",
        "new_parks": "新建公园",
        "closed_blind_spots": "新增覆盖（消除的盲区）",
        "remaining_blind_spots": "剩余服务盲区",
        "new_service_areas": "新建公园服务范围",
        "service_areas_before": "原有公园服务范围",
        "unit_mu": "亩",
        "unit_ha": "公顷",
        "legend": "图例",
        "index_title": "公园绿地服务半径覆盖率与城市更新地图",
        "index_generated": "生成日期",
        "index_maps": "地图",
        "index_tables": "数据表",
        "index_figures": "主要指标",
        "map_coverage": "覆盖率地图（直线服务半径）",
        "map_coverage_network": "覆盖率地图（步行路网）",
        "map_plans": "城市更新地块地图",
        "map_before_after": "新建公园前后对比地图",
        "basemap": "底图",
        "offline_note": "离线版：页面不加载任何网络资源",
    },
    "en": {
        "coverage_title": "Park service-radius coverage",
        "coverage_title_network": "Park service-radius coverage (walking network)",
        "method_buffer": "straight-line service radius from the park boundary",
        "method_network": "walking distance along the street network",
        "numerator": "residential land within service",
        "denominator": "residential land in the built-up area",
        "weighted": "share of households (population) covered",
        "rules": "rule set",
        "parks": "parks",
        "pocket_parks": "pocket parks",
        "pocket_park": "pocket park",
        "service_area": "service area",
        "service_areas": "park service areas",
        "walk_service_areas": "park walking service areas (street network)",
        "walk_status": "walk",
        "residential": "residential land (covered share)",
        "blind_spots": "blind spots (residential land not covered)",
        "districts": "coverage by district",
        "boundary": "built-up area",
        "id": "id",
        "name": "name",
        "park_class": "class",
        "area": "area",
        "tier": "radius tier",
        "radius": "service radius",
        "counts": "counts",
        "yes": "yes",
        "no": "no",
        "reason": "note",
        "covered_share": "covered share",
        "covered_area": "covered area",
        "district": "district",
        "households": "households",
        "population": "population",
        "walk_distance": "walking distance",
        "nearest_park": "nearest park",
        "coverage_ratio": "coverage ratio",
        "residential_area": "residential area",
        "share_full": "fully covered",
        "share_high": "mostly covered (50–100%)",
        "share_low": "partly covered (0–50%)",
        "share_none": "not covered",
        "no_residential": "no residential land",
        "not_counted": "does not count (area or class)",
        "plans_title": "Urban renewal plans",
        "plans": "renewal plans",
        "affected_parcels": "affected parcels (signing progress)",
        "plan": "renewal plan",
        "plan_type": "plan type",
        "status": "status",
        "year": "year",
        "parcel_count": "parcels affected",
        "households_residential": "residential households",
        "households_nonresidential": "non-residential households",
        "households_shops": "shops",
        "households_total": "households in all",
        "households_signed": "signed",
        "households_unsigned": "not signed",
        "signing_rate": "signing rate",
        "signing_all": "all signed",
        "signing_partial": "signing under way",
        "signing_none": "none signed",
        "signing_empty": "no households",
        "signing_unknown": "signing unknown",
        "signing_status": "signing progress",
        "overlap": "area affected",
        "parcel_share": "share of the parcel inside the plan",
        "plans_summary": "{plans} plans, {area}, {households} households, {signed} signed",
        "before_after_title": "Coverage before and after the new parks",
        "before": "before",
        "after": "after",
        "change": "change",
        "new_parks": "new parks",
        "closed_blind_spots": "newly covered (blind spots closed)",
        "remaining_blind_spots": "remaining blind spots",
        "new_service_areas": "service areas of the new parks",
        "service_areas_before": "service areas of existing parks",
        "unit_mu": "mu",
        "unit_ha": "ha",
        "legend": "legend",
        "index_title": "Park coverage and urban renewal maps",
        "index_generated": "generated",
        "index_maps": "maps",
        "index_tables": "data tables",
        "index_figures": "key figures",
        "map_coverage": "coverage map (straight-line service radius)",
        "map_coverage_network": "coverage map (walking network)",
        "map_plans": "renewal plans map",
        "map_before_after": "before/after map of the new parks",
        "basemap": "basemap",
        "offline_note": "offline edition: the page loads nothing from the network",
    },
}

#: Park classes of CJJ/T 85-2017 (城市绿地分类标准).
PARK_CLASS_NAMES: dict[str, dict[str, str]] = {
    "zh": {
        "G1": "公园绿地",
        "G11": "综合公园",
        "G12": "社区公园",
        "G13": "专类公园",
        "G14": "游园",
        "G3": "广场用地",
    },
    "en": {
        "G1": "park (class unknown)",
        "G11": "comprehensive park",
        "G12": "community park",
        "G13": "specialized park",
        "G14": "small garden",
        "G3": "plaza",
    },
}

_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def resolve_lang(lang: str | None) -> str:
    """Validate a language code (``zh`` or ``en``); ``None`` is returned as is."""
    if lang is None:
        return lang
    lang = lang.lower()
    if lang.startswith("zh") or lang == "cn":
        return "zh"
    if lang.startswith("en"):
        return "en"
    raise ValueError(f"`lang` must be 'zh' or 'en', got {lang!r}")


def label(key: str, lang: str) -> str:
    """Return the label `key` in language `lang`."""
    return _LABELS[lang][key]


def detect_lang(frames: Iterable[pd.DataFrame | None], *, in_china: bool = False) -> str:
    """Pick the label language for data: Chinese for Chinese data, else English.

    Chinese when any text column holds CJK characters, or when the data lies in
    China (`in_china`); English otherwise.
    """
    if in_china:
        return "zh"
    for frame in frames:
        if frame is None or len(frame) == 0:
            continue
        for column in frame.columns:
            series = frame[column]
            if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
                sample = series.dropna().astype(str).head(200)
                if any(_CJK.search(text) for text in sample):
                    return "zh"
    return "en"
