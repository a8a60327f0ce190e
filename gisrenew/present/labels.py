"""The wording of everything gisrenew shows: text reports, web maps, table headers, statuses.

One vocabulary, in Chinese (``zh``) and English (``en``):

* :func:`label` — ``label("coverage.city", "zh")`` → ``"全市"``. Keys are grouped by
  subject: ``unit.*`` (units of measure), ``coverage.*``, ``plans.*``, ``status.*``
  (signing status of renewal plans, 签约进度), ``sites.*`` (口袋公园选址),
  ``recompute.*`` (batch recompute report), ``history.*`` (run history) and ``map.*``
  (web maps and the published site). An unknown key or language raises at once, so a
  typo never prints a blank.
* ``lifecircles.*`` — the community life circles 社区生活圈 (``gisrenew lifecircles``).
* ``report.*`` — the report a planner hands in (城市体检 indicator sheet, :mod:`gisrenew.report`).
* :func:`column_headers` — the Chinese headers of result columns in CSV/Excel files
  (``area_mu`` → ``面积(亩)``); English headers are gisrenew's column names.
* :data:`PARK_CLASS_NAMES` — park classes of CJJ/T 85-2017 (城市绿地分类标准).
* :func:`resolve_lang`, :func:`check_lang`, :func:`detect_lang` — the language choice.

This module is plain data: it imports nothing from the rest of gisrenew, so engines that
store a Chinese status column (:mod:`gisrenew.plans`) can read their wording here.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

import pandas as pd

from gisrenew.schema import SIGNING_STATUS_TERMS

__all__ = [
    "COLUMN_HEADERS_ZH",
    "LANGS",
    "LIFECIRCLE_CIRCLE_HEADERS_ZH",
    "LIFECIRCLE_HEADERS_ZH",
    "PARK_CLASS_NAMES",
    "PLAN_HEADERS_ZH",
    "SHEET_NAMES_ZH",
    "SIGNING_STATUSES",
    "check_lang",
    "column_headers",
    "detect_lang",
    "keys",
    "label",
    "plan_type_name",
    "reason_text",
    "resolve_lang",
    "sheet_names",
    "status_label",
    "walk_status_name",
    "weight_name",
]

LANGS = ("zh", "en")

# Each entry: key → (Chinese, English). Templates hold ``{name}`` fields.

_UNITS = {
    "m2": ("m²", "m²"),
    "ha": ("公顷", "ha"),
    "mu": ("亩", "mu"),
    "m": ("m", "m"),
    "ms": ("ms", "ms"),
    "households": ("户", "households"),
    "pp": ("个百分点", "pp"),
    "minutes": ("分钟", "min"),
    "kmh": ("km/h", "km/h"),
    "seconds": ("秒", "s"),
    "files": ("个文件", "files"),
}

#: How far a walking figure walked (``CoverageResult.walk()``): every walking figure
#: names its distance (GB 50180-2018's 10-minute life circle ≈ 500 m of walking; ten
#: minutes at 4.8 km/h = 800 m).
_WALK = {
    "tier_radius": (
        "沿路网步行 {radii}（按服务半径）",
        "walking {radii} along streets (each park's service radius)",
    ),
    "minutes": (
        "步行 {minutes} 分钟（{distance}，{speed}）",
        "a {minutes}-minute walk ({distance} at {speed})",
    ),
    "distance": ("沿路网步行 {distance}", "walking {distance} along streets"),
    "straight": ("直线服务半径", "straight-line service radius"),
}

#: Why a park or a candidate site does not count or adds nothing: the engines' reasons
#: (English, in the data) as the presenters show them (see :func:`reason_text`).
_REASON = {
    "area_below": ("面积小于 {area} m²", "area below {area} m²"),
    "no_tier": (
        "无匹配档位（面积小于 {area} m² 或类别不在任一档位）",
        "no tier matches (area below {area} m² or class not in a tier)",
    ),
    "class_not_counted": (
        "类别 {cls} 在 {rules} 规则下不计入",
        "class {cls} does not count under {rules}",
    ),
    "narrow": ("宽度 {width} m，窄于 {limit} m", "narrower than {limit} m (width {width} m)"),
    "no_new_land": (
        "其服务范围内的居住用地均已被其他公园覆盖",
        "its service area reaches no residential land that other parks do not already cover",
    ),
    "adds_no_land": ("不能新增覆盖的居住用地", "adds no residential land to the existing coverage"),
    "below_min_area": ("面积小于设定的最小面积 {area} m²", "area below --min-area {area} m²"),
    "no_such_park": ("项目中没有此编号的公园", "no park with this id in the project"),
    "already_in": (
        "已在{where}中，即公园 {park}（形状相同）",
        "already {where} as park {park} (same geometry)",
    ),
    "where_project": ("项目", "in the project"),
    "where_run": ("本次新增文件", "in this run's files"),
    # why an indicator of the sheet (gisrenew report) has no value
    "not_computed": ("未计算", "not computed"),
    "no_roads": (
        "没有路网图层：沿路网步行需要路网",
        "no roads layer: the walk along streets needs one",
    ),
    "no_parks_residential": ("没有公园或居住用地图层", "no parks or residential layer"),
    "no_greenspace": ("未计算绿地指标", "green-space figures not computed"),
    "no_greenways": ("没有绿道图层", "no greenways layer"),
    "no_facilities": ("没有公共服务设施图层", "no facilities layer"),
    "no_life_circles": ("未计算社区生活圈", "life circles not computed"),
    "no_land": ("没有居住用地，无法计算比例", "nothing to divide by (no residential land)"),
    "no_population": (
        "没有人口数：请在 [report] population 中填写城区人口，或填写居住用地的人口字段",
        "no population: set [report] population or fill the residential population",
    ),
}

#: Layer kinds as a planner names them.
_LAYER = {
    "parks": ("公园绿地", "parks"),
    "residential": ("居住用地", "residential land"),
    "parcels": ("地块", "parcels"),
    "plans": ("更新地块", "renewal plans"),
    "boundary": ("建成区", "built-up area"),
    "districts": ("区镇街道", "districts"),
    "roads": ("道路", "streets"),
    "entrances": ("公园出入口", "park entrances"),
    "water": ("水系", "water"),
    "candidates": ("备选地块", "candidate sites"),
    "facilities": ("公共服务设施", "facilities"),
    "greenways": ("绿道", "greenways"),
}

#: Residential columns used as weights (权重).
_WEIGHT = {
    "households": ("户数", "households"),
    "population": ("人口", "population"),
}

#: Kinds of renewal plan (``plan_type``) gisrenew names; other values are shown as written.
_PLAN_TYPE = {
    "renewal": ("更新地块", "renewal plot"),
    "old_community": ("老旧小区改造", "old-community renovation"),
    "historic": ("历史街区/古镇", "historic quarter"),
}

#: How a residential piece fares on the walk (the network engine's ``walk_status``).
_WALK_STATUS = {
    "covered": ("步行可达", "within walking distance"),
    "too_far": ("超出步行距离", "too far"),
    "no_park_path": ("无路径到达公园", "no path to a park"),
    "no_street": ("附近无道路", "no street nearby"),
}

_COVERAGE = {
    "rules": ("规则", "rule set"),
    "method": ("方法", "method"),
    "method_buffer": (
        "直线服务半径（公园边界缓冲区，每四分之一圆 16 段）",
        "straight-line service radius (buffer of the park boundary, "
        "16 segments per quarter circle)",
    ),
    "method_network": ("沿路网步行距离", "walking distance along streets"),
    "parks": ("公园", "parks"),
    "qualifying": ("符合", "qualifying"),
    "not_qualifying": ("不符合", "not qualifying"),
    "area": ("区域", "area"),
    "city": ("全市", "city"),
    "residential": ("居住用地", "residential"),
    "covered": ("覆盖", "covered"),
    "ratio": ("覆盖率", "ratio"),
    "weight": ("权重", "weight"),
    "weighted_ratio": ("覆盖率(按{w})", "ratio by {w}"),
    "weight_of": ("权重({w})", "weight ({w})"),
    "weight_zero": ("（权重字段 {w} 合计为 0）", "(weight column `{w}` sums to 0)"),
    "plazas_count": ("（广场用地计入）", " (plazas count)"),
    "walk": ("步行距离", "walk"),
    "readings": ("两种步行距离", "two walking distances"),
    "blind": ("服务盲区", "blind spots"),
    "pieces": ("块", "pieces"),
    "slivers": (
        "（另有 {n} 处小于 {threshold} 的碎片，共 {area}，不列出）",
        " (and {n} slivers under {threshold}, {area} in all, not listed)",
    ),
    "difference": ("差值(步行−直线)", "difference (walk − straight line)"),
    "difference_short": ("差值", "difference "),
    "both": ("直线服务半径与沿路网步行对比", "straight-line radius against the walk along streets"),
    "short_buffer": ("直线", "straight"),
    "short_network": ("步行", "walk"),
    "contribution_title": (
        "公园独有覆盖（该公园关闭将失去的覆盖面积）",
        "unique coverage (lost if the park closed)",
    ),
    "col_park": ("公园", "park"),
    "col_name": ("名称", "name"),
    "col_radius": ("服务半径", "radius"),
    "col_covered": ("覆盖居住用地", "covered"),
    "col_unique": ("独有", "unique"),
    "col_unique_share": ("独有比例", "unique share"),
    "redundant": (
        "无独有覆盖的公园（其服务范围内的居住用地均已被其他公园覆盖）",
        "parks adding no coverage of their own (redundant)",
    ),
}

_PLANS = {
    "col_plan_id": ("编号", "id"),
    "col_name": ("名称", "name"),
    "col_area_mu": ("面积(亩)", "area (mu)"),
    "col_parcel_count": ("地块数", "parcels"),
    "col_affected_area_mu": ("涉及地块(亩)", "affected (mu)"),
    "col_households_residential": ("居民户", "residential"),
    "col_households_nonresidential": ("非居户", "non-resid."),
    "col_households_shops": ("商铺", "shops"),
    "col_households_total": ("合计户数", "households"),
    "col_signed": ("已签约", "signed"),
    "col_unsigned": ("未签约", "unsigned"),
    "col_signing_rate": ("签约率", "signed %"),
    "col_status": ("签约进度", "status"),
    "col_shared_parcels": ("共有地块", "shared"),
    "total": ("合计(地块不重复计)", "total (parcels once)"),
    "n_plans": ("{n} 个项目", "{n} plans"),
    "rule_whole": ("户数按整个地块计", "households: whole parcel"),
    "rule_area_share": ("户数按面积比例计", "households: by area share"),
    "rule_largest": ("户数计入占地最大的项目", "households: to the plan with the largest part"),
    "effects_title": (
        "规划为公园绿地的更新项目新增服务半径覆盖",
        "Plans becoming parks: residential land newly within a service radius",
    ),
    "col_park_class": ("绿地类别", "class"),
    "col_park_area_m2": ("面积(m²)", "area (m²)"),
    "col_radius_m": ("服务半径(m)", "radius (m)"),
    "col_new_covered_m2": ("新增覆盖(m²)", "newly covered (m²)"),
    "col_new_covered_mu": ("新增覆盖(亩)", "newly covered (mu)"),
    "col_new_households": ("新增覆盖户数", "households"),
    "col_converted_residential_m2": ("转为绿地居住用地(m²)", "converted (m²)"),
    "col_reason": ("说明", "note"),
    "not_counted": ("不计入", "not counted"),
}

#: Signing roll-up of a renewal plan (签约进度): code → (Chinese, English).
_STATUS = SIGNING_STATUS_TERMS

#: The signing status codes, in the order of :data:`_STATUS`.
SIGNING_STATUSES: tuple[str, ...] = tuple(_STATUS)

_SITES = {
    "title": ("口袋公园选址（{method}，{rules}）", "Pocket-park siting ({method}, {rules})"),
    "title_facility": (
        "{facility}选址（{method}，{rules}）",
        "Siting: {facility} ({method}, {rules})",
    ),
    "greedy": ("贪心排序", "greedy"),
    "exact": ("精确最优", "exact optimum"),
    "coverage": (
        "覆盖率 {before} → {after}（选取 {n}/{count} 处）",
        "coverage {before} → {after} with {n} of {count} site(s)",
    ),
    "col_rank": ("序号", "rank"),
    "col_candidate": ("备选地块", "candidate"),
    "col_area": ("面积 m²", "area m²"),
    "col_radius": ("半径", "radius"),
    "col_gain": ("新增覆盖 m²", "gain m²"),
    "col_gain_mu": ("新增 亩", "gain mu"),
    "col_gain_weight": ("新增{w}", "+{w}"),
    "col_ratio_after": ("选后覆盖率", "ratio after"),
    "left": ("未选", "not picked"),
    "optimum": ("精确最优目标值", "exact optimum objective"),
    "households": ("户数", "households"),
    "population": ("人口", "population"),
}

_RECOMPUTE = {
    "title": ("新增/关闭公园后的重新计算", "Recompute after park changes"),
    "nothing": ("无变化", "No change"),
    "rules": ("规则", "rule set"),
    "indicator": ("公园绿地服务半径覆盖率", "park service-radius coverage ratio"),
    "network": ("步行覆盖率", "coverage by walking"),
    "change": ("变化", "change"),
    "covered": ("覆盖居住用地", "residential land covered"),
    "total": ("居住用地总面积", "residential land"),
    "households": ("覆盖户数", "households covered"),
    "districts": ("分区", "districts"),
    "added": ("新增公园（各自独有的增益）", "new parks (each one's own gain)"),
    "removed": ("关闭的公园（失去的覆盖）", "closed parks (coverage lost)"),
    "skipped": ("跳过", "skipped"),
    "nothing_added": ("不增加覆盖的公园", "parks that add nothing"),
    "not_counted": ("按规则不计入服务半径覆盖（{reason}）", "{reason}"),
    "no_tier": ("无匹配档位", "no matching tier"),
    "already_covered": ("服务范围内的居住用地已被其他公园覆盖", "{reason}"),
    "blind": ("服务盲区", "blind spots"),
    "closed": ("处盲区缩小/消除", "blind spot(s) shrunk or closed"),
    "fully": ("完全消除", "fully closed"),
    "published": ("已发布地图", "maps published"),
    "check": ("增量计算核对", "incremental check"),
    "pieces": ("{n} 块居住用地", "{n} residential pieces"),
    "agrees": ("与全量计算一致", "equals the full recompute"),
    "unverified": (
        "未与全量计算核对（重新计算时加核对选项可核对）",
        "not checked against a full recompute (--verify)",
    ),
    "run": (
        "第 {run} 次运行：新增 {added} 处公园，关闭 {removed} 处",
        "run {run}: {added} park(s) added, {removed} removed",
    ),
    "run_skipped": ("，跳过 {n} 处", ", {n} skipped"),
    "unchanged": ("项目保持原样", "the project was left exactly as it was"),
    "gain": ("新增覆盖 {area}", "newly covered {area}"),
    "own_gain": ("独有新增覆盖 {area}", "own gain {area}"),
    "radius": ("服务半径 {radius}", "radius {radius}"),
    "no_radius": ("不计入", "does not count"),
    "area": ("面积 {area}", "area {area}"),
    "lost": ("失去覆盖 {area}", "coverage lost {area}"),
    "published_files": ("{index}（共 {n} 个文件）", "{index} ({n} files)"),
    "differs": ("与全量计算不一致", "DIFFERS from the full recompute"),
}

_HISTORY = {
    "added": ("新增", "added"),
    "removed": ("移除", "removed"),
    "input": ("输入", "input"),
    "features": ("个要素", "features"),
    "none": (
        "尚无运行记录（gisrenew recompute 每次变更记录一次）",
        "no runs recorded yet (gisrenew recompute records one per change)",
    ),
    "runs": ("次运行", "run(s)"),
    "checksum": ("校验值 SHA-256", "sha256"),
    "map": ("前后对比地图已保存", "before/after map kept"),
    "unpublished": (
        "已移除第 {run} 次运行的前后对比地图，下次发布时不再包含",
        "removed the before/after map of run {run}; the next publish leaves it out",
    ),
}

_DEMO = {
    "layers": ("图层", "layers"),
    "features": ("个要素", "features"),
    "working_copy": ("工作副本", "working copy"),
    "crs": ("坐标系", "CRS"),
    "coverage": ("公园绿地服务半径覆盖率", "Park service-radius coverage"),
    "walking": (
        "十分钟步行：两种步行距离与直线服务半径对比",
        "The ten-minute walk: two walking distances against the straight line",
    ),
    "walking_note": (
        "GB 50180-2018 的十分钟生活圈约为步行 500 m；按 4.8 km/h 步行 10 分钟为 800 m，"
        "两种读法并列如下。",
        "GB 50180-2018 puts the ten-minute life circle at about 500 m of walking; ten minutes "
        "at 4.8 km/h is 800 m. Both readings side by side:",
    ),
    "life_circles": (
        "社区生活圈：5、10、15分钟生活圈的配套设施",
        "Community life circles: services within the 5-, 10- and 15-minute circles",
    ),
    "plans": ("城市更新地块及涉及地块", "Renewal plans and the parcels they affect"),
    "recompute": ("新建口袋公园：批量重新计算", "The new pocket parks: batch recompute"),
    "sites": ("下一批口袋公园选址（{n} 处）", "Sites for the next {n} pocket parks"),
    "published": ("发布", "Published"),
    "web_maps": ("网页地图", "web maps"),
    "report": ("城市体检指标报告", "The health-check indicator report"),
    "report_files": ("报告（网页、文档、表格）", "report (page, Word, Excel)"),
    "not_published": ("未发布", "not published"),
    "project_after": ("重新计算后的项目", "project after the recompute"),
    "done": ("用时 {seconds} 秒", "done in {seconds} s"),
    "wrote": ("已写出", "wrote"),
}

#: Community life circles 社区生活圈 (``gisrenew lifecircles``, the demo).
_LIFECIRCLES = {
    "title": ("社区生活圈", "Community life circles"),
    "rules": ("规则", "rule set"),
    "method": ("方法", "method"),
    "straight": (
        "直线距离 {distances}（自设施边界，各类设施按其服务半径）",
        "straight line {distances} from the facility boundary (each type's service radius)",
    ),
    "walk": (
        "沿路网步行 {distances}（各类设施按其步行距离）",
        "walking {distances} along streets (each type's walking distance)",
    ),
    "denominator": ("居住用地（分母）：{area}", "residential land (the denominator): {area}"),
    "denominator_weight": ("；{w} {total}", "; {w} {total}"),
    "col_by_weight": ("按{w}", "by {w}"),
    "circle_name": ("{m}分钟", "{m} min"),
    "col_circle": ("生活圈", "circle"),
    "col_type": ("设施类型", "facility type"),
    "col_required": ("配建", "req."),
    "col_radius": ("服务半径 m", "radius m"),
    "col_walk": ("步行距离 m", "walk m"),
    "col_facilities": ("设施数", "facilities"),
    "col_reached": ("可达居住用地 m²", "reached m²"),
    "col_share": ("可达比例", "share"),
    "col_reached_weight": ("可达{w}", "{w} reached"),
    "col_weight_share": ("可达比例(按{w})", "share by {w}"),
    "legend": (
        "▲ 应配建（计入完整生活圈）  △ 宜配建（不计入）",
        "▲ required (counts toward a complete circle)  △ optional (does not count)",
    ),
    "unconfirmed": (
        "* 未经核实：规则集 {rules} 中的这些数值未能对照标准原文核实（文件中逐项标明）。"
        "请对照标准核对；如有出入，复制该规则集文件、修改后指定使用。",
        "* unconfirmed: the rule set {rules} marks these values as not checked against the "
        "standard's text. Check them against the standard; if they differ, use a corrected "
        "copy of the rule-set file (--rules FILE).",
    ),
    "complete_title": (
        "完整生活圈：该生活圈及更小生活圈的全部应配建设施均可达",
        "Complete life circles: every required type of the circle and of each smaller "
        "circle within reach",
    ),
    "complete_name": ("完整的{m}分钟生活圈", "complete {m}-minute life circle"),
    "col_complete": ("完整生活圈", "complete circle"),
    "col_distance": ("生活圈距离 m", "circle distance m"),
    "col_required_types": ("应配建类型数", "required types"),
    "col_complete_m2": ("完整生活圈居住用地 m²", "complete m²"),
    "col_complete_share": ("比例", "share"),
    "col_complete_weight": ("{w}", "{w}"),
    "col_complete_weight_share": ("比例(按{w})", "share by {w}"),
    "districts_title": (
        "各片区完整生活圈比例（居住用地面积，及按权重）",
        "Complete life circles by district (share of residential land, and by weight)",
    ),
    "area": ("区域", "area"),
    "city": ("全市", "city"),
    "outside": ("片区以外", "outside districts"),
    "both": (
        "直线距离与沿路网步行对比",
        "straight line against the walk along streets",
    ),
    "short_buffer": ("直线", "straight"),
    "short_network": ("步行", "walk"),
    "difference": ("差值", "difference "),
    "field_circle": ("生活圈", "circle"),
    "field_radius_m": ("服务半径", "radius"),
    "field_required": ("配建要求", "required"),
    "field_distance_m": ("距离", "distance"),
    "field_label_zh": ("中文名称", "Chinese name"),
    "field_label_en": ("英文名称", "English name"),
    "field_names": ("类型名称", "type names"),
    "field_type": ("类型代码", "type key"),
    "field_minutes": ("分钟数", "minutes"),
    "field_clause": ("条文", "clause"),
    "list_separator": ("、", ", "),
    "by_weight": ("（按{w} {share}）", " ({share} by {w})"),
    "complete_line": ("{name}：{shares}", "{name}: {shares}"),
    "no_facility": ("没有规则集所列类型的设施", "no facility of a type the rule set lists"),
}

#: The published site: index page and before/after pages of the run history.
_SITE = {
    "online_basemap": (
        "底图来自互联网（{name}）：无网络时只显示数据，不显示底图",
        "The basemap ({name}) comes from the internet: without a network the page shows the "
        "data without it",
    ),
    "cdn": (
        "页面从互联网加载 Leaflet 脚本（设置 [maps] offline = false），无网络时无法打开",
        "The page loads Leaflet from the internet ([maps] offline = false): it needs a network",
    ),
    "self_contained": (
        "页面自带全部脚本，无网络也可打开",
        "self-contained: the page opens with no network",
    ),
    "run_title": ("第 {run} 次重新计算", "run {run}"),
    "run_time": ("{time}", "{time}"),
    "history": ("历次新建公园前后对比", "Before/after maps of earlier runs"),
}

_NOTEBOOK = {
    "layer": ("图层", "layer"),
    "features": ("要素数", "features"),
    "rule_set": ("规则 / 方法", "rule set / method"),
    "ratio_pct": ("覆盖率(%)", "coverage ratio (%)"),
    "households_pct": ("覆盖户数比例", "households covered"),
    "walk_pct": ("步行覆盖率(%)", "walk ratio (%)"),
    "ratio_before": ("新建前覆盖率", "ratio before"),
    "ratio_after": ("新建后覆盖率", "ratio after"),
    "gain_points": ("提高(个百分点)", "gain (points)"),
    "district_chart": (
        "各片区覆盖率：直线服务半径与步行",
        "Coverage by district: straight line and walk",
    ),
    "blind_spot_map": (
        "{rules}：{ratio} 的居住用地在服务半径内；红色为服务盲区",
        "{rules}: {ratio} of residential land covered; red = blind spots",
    ),
    "signing_chart": ("各更新项目签约进度", "Signing progress by plan"),
    "households_axis": ("户数", "households"),
    "percent_axis": ("%", "%"),
    "before_after_chart": (
        "新建口袋公园前后各片区覆盖率",
        "Coverage by district before and after the new pocket parks",
    ),
    "largest_plans": (
        "户数最多的 {n} 个项目（{names}）：共 {area}，{households} 户",
        "The {n} plans with the most households ({names}): {area}, {households} households",
    ),
    "run": ("运行", "run"),
    "time": ("时间", "time"),
    "gain_area": ("新增覆盖面积", "newly covered"),
    "sheet": ("工作表", "sheet"),
    "headers": ("表头", "headers"),
    "plans_line": (
        "{plans} 个更新项目，{pairs} 个项目–地块对，{rule}",
        "{plans} plans, {pairs} plan–parcel pairs, {rule}",
    ),
    "city_line": ("全市：{before} → {after}", "city: {before} → {after}"),
    "flat": ("统一半径 {radius}", "flat {radius}"),
}

_MAP = {
    "coverage_title": ("公园绿地服务半径覆盖率", "Park service-radius coverage"),
    "coverage_title_network": (
        "公园绿地服务半径覆盖率（步行路网）",
        "Park service-radius coverage (walking network)",
    ),
    "method_buffer": (
        "按公园边界直线服务半径计算",
        "straight-line service radius from the park boundary",
    ),
    "method_network": ("按路网步行距离计算", "walking distance along the street network"),
    "numerator": ("服务半径覆盖的居住用地", "residential land within service"),
    "denominator": ("建成区居住用地总面积", "residential land in the built-up area"),
    "weighted": ("覆盖户数（人口）比例", "share of households (population) covered"),
    "rules": ("规则", "rule set"),
    "parks": ("公园绿地", "parks"),
    "pocket_parks": ("口袋公园", "pocket parks"),
    "pocket_park": ("口袋公园", "pocket park"),
    "service_area": ("服务范围", "service area"),
    "service_areas": ("公园服务范围", "park service areas"),
    "walk_service_areas": (
        "公园步行服务范围（路网）",
        "park walking service areas (street network)",
    ),
    "walk_status": ("步行可达情况", "walk"),
    "residential": ("居住用地（覆盖比例）", "residential land (covered share)"),
    "blind_spots": ("服务盲区（未覆盖的居住用地）", "blind spots (residential land not covered)"),
    "districts": ("各片区覆盖率", "coverage by district"),
    "boundary": ("建成区范围", "built-up area"),
    "id": ("编号", "id"),
    "name": ("名称", "name"),
    "park_class": ("类别", "class"),
    "area": ("面积", "area"),
    "tier": ("服务半径等级", "radius tier"),
    "radius": ("服务半径", "service radius"),
    "counts": ("是否计入", "counts"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "reason": ("说明", "note"),
    "covered_share": ("覆盖比例", "covered share"),
    "covered_area": ("覆盖面积", "covered area"),
    "district": ("所属片区", "district"),
    "households": ("户数", "households"),
    "population": ("人口", "population"),
    "walk_distance": ("步行距离", "walking distance"),
    "nearest_park": ("最近公园", "nearest park"),
    "coverage_ratio": ("覆盖率", "coverage ratio"),
    "residential_area": ("居住用地面积", "residential area"),
    "share_full": ("全部覆盖", "fully covered"),
    "share_high": ("大部分覆盖（50%–100%）", "mostly covered (50–100%)"),
    "share_low": ("少部分覆盖（0–50%）", "partly covered (0–50%)"),
    "share_none": ("未覆盖", "not covered"),
    "no_residential": ("无居住用地", "no residential land"),
    "not_counted": ("不计入（面积或类别不符）", "does not count (area or class)"),
    "plans_title": ("城市更新地块", "Urban renewal plans"),
    "plans": ("更新地块", "renewal plans"),
    "affected_parcels": ("涉及地块（签约进度）", "affected parcels (signing progress)"),
    "plan": ("更新地块", "renewal plan"),
    "plan_type": ("更新类型", "plan type"),
    "status": ("进度", "status"),
    "year": ("年度", "year"),
    "parcel_count": ("涉及地块数", "parcels affected"),
    "households_residential": ("居民户", "residential households"),
    "households_nonresidential": ("非居户", "non-residential households"),
    "households_shops": ("商铺", "shops"),
    "households_total": ("合计户数", "households in all"),
    "households_signed": ("已签约", "signed"),
    "households_unsigned": ("未签约", "not signed"),
    "signing_rate": ("签约率", "signing rate"),
    # the legend of the signing map uses the signing-status wording
    "signing_all": _STATUS["signed"],
    "signing_partial": _STATUS["signing"],
    "signing_none": _STATUS["not_started"],
    "signing_empty": _STATUS["no_households"],
    "signing_unknown": _STATUS["unknown"],
    "signing_status": ("签约进度", "signing progress"),
    "overlap": ("涉及面积", "area affected"),
    "parcel_share": ("地块在更新范围内比例", "share of the parcel inside the plan"),
    "plans_summary": (
        "{plans} 个更新地块，{area}，{households} 户，已签约 {signed} 户",
        "{plans} plans, {area}, {households} households, {signed} signed",
    ),
    "before_after_title": (
        "公园变化前后的服务半径覆盖率",
        "Coverage before and after the park changes",
    ),
    "before": ("变化前", "before"),
    "after": ("变化后", "after"),
    "change": ("变化", "change"),
    "new_parks": ("新建公园", "new parks"),
    "closed_blind_spots": ("新增覆盖（消除的盲区）", "newly covered (blind spots closed)"),
    "remaining_blind_spots": ("剩余服务盲区", "remaining blind spots"),
    "new_service_areas": ("新建公园服务范围", "service areas of the new parks"),
    "service_areas_before": ("原有公园服务范围", "service areas of existing parks"),
    "legend": ("图例", "legend"),
    "index_title": ("公园绿地服务半径覆盖率与城市更新地图", "Park coverage and urban renewal maps"),
    "index_generated": ("生成日期", "generated"),
    "index_maps": ("地图", "maps"),
    "index_tables": ("数据表", "data tables"),
    "index_figures": ("主要指标", "key figures"),
    "map_coverage": ("覆盖率地图（直线服务半径）", "coverage map (straight-line service radius)"),
    "map_coverage_network": ("覆盖率地图（步行路网）", "coverage map (walking network)"),
    "map_plans": ("城市更新地块地图", "renewal plans map"),
    "map_before_after": ("公园变化前后对比地图", "before/after map of the park changes"),
    "basemap": ("底图", "basemap"),
    "offline_note": (
        "离线版：页面不加载任何网络资源",
        "offline edition: the page loads nothing from the network",
    ),
    "park": ("公园", "park"),
    "service_area_of": ("{park}的服务范围", "service area of {park}"),
    "slivers": (
        "另有 {n} 处小于 {threshold} 的碎片（共 {area}）未绘出",
        "{n} slivers under {threshold} ({area} in all) are not drawn",
    ),
    "context": ("现状", "context"),
    "districts_context": ("区镇街道", "districts"),
    "residential_context": ("居住用地", "residential land"),
    "run": ("第 {run} 次重新计算", "run {run}"),
    "walk_readings": ("步行距离", "walk"),
}

#: The life-circle map page 社区生活圈地图 (``map.lc_*``; registered with the ``map`` group).
_LIFE_CIRCLE_MAP = {
    "lc_title": ("社区生活圈", "Community life circles"),
    "lc_map": ("社区生活圈地图", "community life-circle map"),
    "lc_complete": ("完整{minutes}分钟生活圈", "complete {minutes}-minute life circle"),
    "lc_complete_short": ("完整{minutes}分钟", "complete {minutes} min"),
    "lc_incomplete": ("{minutes}分钟生活圈不完整", "{minutes}-minute circle incomplete"),
    "lc_circle": ("{minutes}分钟生活圈", "{minutes}-minute life circle"),
    "lc_straight": ("直线距离", "straight line"),
    "lc_walk_short": ("沿路网步行", "walk along streets"),
    "lc_walk": (
        "沿路网步行 {distances}（各类设施按其距离）",
        "walking {distances} along streets (each type its own distance)",
    ),
    "lc_completeness": ("生活圈完整性（居住用地）", "life-circle completeness (residential land)"),
    "lc_completeness_of": ("生活圈完整性（{method}）", "life-circle completeness ({method})"),
    "lc_best": ("完整生活圈", "complete life circle"),
    "lc_none": ("无", "none"),
    "lc_missing": ("{minutes}分钟生活圈缺", "{minutes}-min circle lacks"),
    "lc_all_reached": ("齐全", "all reached"),
    "lc_facilities": ("公共服务设施", "facilities"),
    "lc_facility": ("设施", "facility"),
    "lc_type": ("设施类型", "type"),
    "lc_circle_of": ("所属生活圈", "life circle"),
    "lc_nearest": ("到最近设施距离", "nearest facility"),
    "lc_required": ("应配建", "required"),
    "lc_optional": ("宜配建", "recommended"),
    "lc_gap": ("缺口：{type}", "gap: {type}"),
    "lc_gaps": ("服务缺口（未达到的居住用地）", "gaps (residential land not reached)"),
    "lc_gap_entry": ("{type} ≤{distance}，可达 {share}", "{type} ≤{distance}, {share} reached"),
    "lc_reach_limit": ("距离要求", "distance"),
    "lc_unconfirmed": (
        "※ 标注的规则取值未能从标准原文核实：{fields}（见规则文件）",
        "※ rule values not confirmed from the standard's text: {fields} (see the rule file)",
    ),
    "lc_field_circle": ("所属生活圈", "circle"),
    "lc_field_radius_m": ("距离", "distance"),
    "lc_field_required": ("是否应配建", "required or not"),
    "lc_field_distance_m": ("生活圈步行距离", "circle distance"),
    "lc_types_n": ("{n} 类设施", "{n} facility types"),
    "lc_rules": ("生活圈规则", "life-circle rules"),
}

#: Notebook 04 社区生活圈 (``notebook.lc_*``; registered with the ``notebook`` group).
_LIFE_CIRCLE_NOTEBOOK = {
    "lc_type": ("设施类型", "facility type"),
    "lc_circle": ("生活圈", "life circle"),
    "lc_minutes": ("{minutes} 分钟", "{minutes} min"),
    "lc_required": ("应配建", "required"),
    "lc_distance": ("距离要求", "distance"),
    "lc_count": ("设施数", "facilities"),
    "lc_straight": ("直线可达比例", "reached, straight line"),
    "lc_walk": ("步行可达比例", "reached, walking"),
    "lc_walk_gap": ("步行比直线少（个百分点）", "walk below straight line (points)"),
    "lc_complete": ("完整生活圈比例", "share in a complete life circle"),
    "lc_method": ("计算方法", "method"),
    "lc_complete_chart": (
        "完整 5/10/15 分钟生活圈的居住用地比例：直线与步行",
        "Residential land in a complete 5/10/15-minute life circle: straight line and walk",
    ),
    "lc_gap_map": (
        "{type}（≤{distance}）：{share} 的居住用地可达；红色为服务缺口",
        "{type} (≤{distance}): {share} of residential land reached; red = gaps",
    ),
}

#: The report a planner hands in (城市体检 indicator sheet, ``gisrenew report``):
#: the printable page, the Word document, the workbook and the coverage picture.
_REPORT = {
    "title": (
        "{city} 城市体检：公园绿地与城市更新指标",
        "{city} city health check: parks and renewal",
    ),
    "computed": ("计算时间 {time}", "computed {time}"),
    "sec_sheet": ("指标与达标判断", "Indicators and targets"),
    "sec_map": ("公园绿地服务半径覆盖图", "Park service-radius coverage"),
    "sec_districts": ("各片区指标", "By district"),
    "sec_renewal": ("城市更新进度", "Urban renewal progress"),
    "sec_old": ("老旧小区改造", "Old-community renovation"),
    "sec_plans": ("更新项目", "Renewal plans"),
    "sec_parks": (
        "最近一批新建口袋公园（第 {run} 次计算，{time}）",
        "Latest pocket parks (run {run}, {time})",
    ),
    "sec_since": ("与第 {run} 次计算（{time}）相比", "Change since run {run} ({time})"),
    "sec_trace": ("数据溯源", "Where the figures come from"),
    "col_indicator": ("指标", "indicator"),
    "col_value": ("数值", "value"),
    "col_basis": ("计算依据", "made of"),
    "col_target": ("目标", "target"),
    "col_source": ("依据", "source"),
    "col_result": ("判断", "result"),
    "col_item": ("项目", "item"),
    "col_figure": ("数值", "figure"),
    "col_district": ("片区", "district"),
    "col_residential_ha": ("居住用地(公顷)", "residential land (ha)"),
    "col_residential_m2": ("居住用地(m²)", "residential land (m²)"),
    "col_numerator": ("分子", "numerator"),
    "col_denominator": ("分母", "denominator"),
    "col_plan_type": ("更新类型", "type"),
    "col_plans": ("更新项目数", "renewal plans"),
    "unit_m2_per_person": ("m²/人", "m²/person"),
    "col_park_id": ("编号", "id"),
    "col_park_name": ("名称", "name"),
    "col_park_area": ("面积(m²)", "area (m²)"),
    "col_park_gain": ("独有新增覆盖(m²)", "own gain (m²)"),
    "col_method": ("计算方法", "method"),
    "col_before": ("新建前", "before"),
    "col_after": ("新建后", "after"),
    "col_change": ("变化", "change"),
    "col_gain_m2": ("新增覆盖居住用地(m²)", "newly covered (m²)"),
    "col_households_gain": ("新增覆盖户数", "households newly covered"),
    "col_then": ("当时", "then"),
    "col_now": ("现在", "now"),
    "passed": ("达标", "met"),
    "failed": ("未达标", "not met"),
    "unknown": ("无法判断", "cannot tell"),
    "no_target": ("无对应目标", "no target"),
    "unconfirmed_note": (
        "* 该目标的来源未经核实，仅供参考",
        "* the source of this target is not confirmed; for reference only",
    ),
    "no_value": ("无法计算：{reason}", "not computed: {reason}"),
    "no_value_plain": ("无法计算", "not computed"),
    "headline_raised": ("{name}提升至 {value}", "{name} rose to {value}"),
    "headline_value": ("{name}为 {value}", "{name}: {value}"),
    "headline_batch": (
        "第 {run} 次计算新建口袋公园 {parks} 处。",
        "Run {run} added {parks} pocket parks.",
    ),
    "built_up": ("建成区", "built-up area: "),
    "blind_spots_closed": ("消除服务盲区 {count} 处，{area}", "{count} blind spots closed, {area}"),
    "no_map": ("没有可绘制的图层", "nothing to draw"),
    "map_alt": ("公园绿地服务半径覆盖图", "map of park service-radius coverage"),
    "map_title": ("{city} 公园绿地服务半径覆盖", "{city}: park service-radius coverage"),
    "legend_boundary": ("范围", "boundary"),
    "legend_parks": ("公园绿地", "parks"),
    "legend_covered": ("服务半径覆盖的居住用地", "residential land covered"),
    "legend_uncovered": ("未覆盖的居住用地（服务盲区）", "residential land not covered"),
    "north": ("北", "N"),
    "trace_rules": ("规则集", "rule set"),
    "trace_targets": ("目标文件", "target files"),
    "trace_inputs": ("输入图层", "input layers"),
    "trace_file": ("文件", "file"),
    "trace_kind": ("图层", "layer"),
    "trace_source": ("来源", "source"),
    "trace_features": ("要素数", "features"),
    "trace_run": ("计算批次", "run"),
    "trace_run_value": ("第 {run} 次计算", "run {run}"),
    "trace_no_run": ("未记入计算历史", "not in the run history"),
    "trace_computed": ("计算时间", "computed"),
    "trace_version": ("gisrenew 版本", "gisrenew version"),
    "trace_current": ("图层自该次计算后未改动", "layers unchanged since that run"),
    "trace_stale": (
        "图层在该次计算后有改动：请重新计算后再出报告",
        "layers changed since that run: compute again before handing this in",
    ),
    "old_communities": ("小区数", "communities"),
    "old_buildings": ("楼栋数", "buildings"),
    "old_parcels": ("涉及地块数", "parcels"),
    "old_households": ("户数", "households"),
    "old_households_residential": ("其中居民户", "of which residential households"),
    "old_floor_area_m2": ("建筑面积(m²)", "floor area (m²)"),
    "old_investment_wan": ("投资(万元)", "investment (10 000 yuan)"),
    "sheet_indicators": ("指标", "indicators"),
    "sheet_districts": ("分区", "districts"),
    "sheet_renewal": ("更新进度", "renewal"),
    "sheet_parks": ("口袋公园", "pocket parks"),
    "sheet_since": ("变化", "change"),
    "sheet_trace": ("溯源", "trace"),
}

#: The what-if page of ``gisrenew serve`` (gisrenew.serve): its panel, buttons and messages.
_SERVE = {
    "title": ("画一个口袋公园，看城市的变化", "Draw a pocket park, see the city change"),
    "draw_hint": (
        "用左侧多边形工具在地图上画公园（单击各顶点，单击起点结束）；单击现有公园将其移除"
        "（如施工关闭），再单击恢复；单击虚线框的候选地块选用它",
        "Draw a park with the polygon tool on the left (click each corner, click the first "
        "to finish); click an existing park to remove it (e.g. closed for works), click it "
        "again to bring it back; click a dashed candidate site to pick it",
    ),
    "ratio": ("覆盖率", "coverage ratio"),
    "before_after": ("现状 → 方案", "now → sketch"),
    "buffer": ("按直线距离", "straight line"),
    "network": ("沿路网步行", "walking along streets"),
    "gain_area": ("新增覆盖居住用地", "residential land newly covered"),
    "gain_households": ("新增覆盖户数", "households newly covered"),
    "districts": ("变化的街道/片区", "districts that change"),
    "parks": ("方案新增的公园（所画与选用）", "parks the sketch adds (drawn and picked)"),
    "qualifies": ("计入", "counts"),
    "not_qualifies": ("不计入", "does not count"),
    "radius": ("服务半径", "service radius"),
    "closed": ("消除的服务盲区", "blind spots closed"),
    "removed": ("移除的公园（仅由它覆盖的用地）", "parks removed (land only they cover)"),
    "opened": ("新出现的服务盲区", "blind spots opened"),
    "actions": ("本方案的操作", "in this sketch"),
    "action_drawn": ("所画多边形", "drawn polygon"),
    "action_removed": ("移除公园", "park removed"),
    "action_picked": ("选用候选地块", "candidate site picked"),
    "sketches": ("方案", "sketches"),
    "sketch": ("方案", "sketch"),
    "new_sketch": ("新方案", "new sketch"),
    "undo": ("撤销上一步", "undo last step"),
    "apply": ("应用到项目…", "apply to the project…"),
    "save_candidate": ("所画多边形存为候选地块", "save drawn polygons as candidate sites"),
    "save_hint": (
        "只保存所画的多边形；移除的公园和选用的候选地块不保存",
        "only drawn polygons are saved; parks removed and sites picked are not",
    ),
    "confirm_apply": (
        "把方案“{name}”写入项目（新增所画和选用的公园，删除移除的公园）并重新计算全部指标"
        "（记入运行记录）？",
        "Write sketch “{name}” into the project (its drawn and picked parks added, its removed "
        "parks deleted) and recompute every indicator (kept in the run history)?",
    ),
    "applied": ("已应用，运行 {run}", "applied as run {run}"),
    "saved": ("已存为候选地块：{ids}", "saved as candidate sites: {ids}"),
    "compare": ("方案对比", "compare sketches"),
    "empty": (
        "方案还是空的：画一个公园、选用候选地块或单击公园移除",
        "the sketch is empty: draw a park, pick a candidate site or click a park to remove it",
    ),
    "working": ("计算中…", "computing…"),
    "error": ("出错", "error"),
    "layer_covered": ("已覆盖的居住用地", "residential land covered"),
    "layer_uncovered": ("未覆盖的居住用地", "residential land not covered"),
    "layer_parks": ("公园", "parks"),
    "layer_candidates": ("候选地块", "candidate sites"),
    "layer_blind": ("服务盲区", "blind spots"),
    "layer_closed": ("将消除的盲区", "blind spots the sketch closes"),
    "read_only": (
        "只读项目：可以试算，不能写入",
        "read-only project: sketches evaluate, nothing is written",
    ),
}

_VOCABULARY: dict[str, tuple[str, str]] = {
    f"{group}.{key}": words
    for group, table in (
        ("unit", _UNITS),
        ("coverage", _COVERAGE),
        ("plans", _PLANS),
        ("status", _STATUS),
        ("sites", _SITES),
        ("recompute", _RECOMPUTE),
        ("history", _HISTORY),
        ("map", _MAP),
        ("map", _LIFE_CIRCLE_MAP),
        ("walk", _WALK),
        ("reason", _REASON),
        ("weight", _WEIGHT),
        ("layer", _LAYER),
        ("plan_type", _PLAN_TYPE),
        ("walk_status", _WALK_STATUS),
        ("demo", _DEMO),
        ("site", _SITE),
        ("notebook", _NOTEBOOK),
        ("lifecircles", _LIFECIRCLES),
        ("notebook", _LIFE_CIRCLE_NOTEBOOK),
        ("report", _REPORT),
        ("serve", _SERVE),
    )
    for key, words in table.items()
}


def check_lang(lang: str) -> str:
    """`lang` if it is ``"zh"`` or ``"en"``; a :class:`ValueError` otherwise."""
    if lang not in LANGS:
        raise ValueError(f"`lang` must be 'zh' or 'en', got {lang!r}")
    return lang


def label(key: str, lang: str) -> str:
    """The wording of `key` in `lang` (``"zh"`` or ``"en"``).

    Raises
    ------
    KeyError
        `key` is not in the vocabulary (the message names the nearest keys).
    ValueError
        `lang` is not ``"zh"`` or ``"en"``.
    """
    index = LANGS.index(check_lang(lang))
    try:
        return _VOCABULARY[key][index]
    except KeyError:
        near = difflib.get_close_matches(key, _VOCABULARY, n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise KeyError(f"no label {key!r} in gisrenew.present.labels{hint}") from None


def keys(group: str | None = None) -> list[str]:
    """Every label key, or those of one group (``"map"`` → ``["map.coverage_title", ...]``)."""
    return [k for k in _VOCABULARY if group is None or k.split(".", 1)[0] == group]


def status_label(code: str, lang: str) -> str:
    """The wording of a signing status code.

    ``"signing"`` → ``"签约中"`` / ``"signing under way"``.
    """
    return label(f"status.{code}", lang)


# --------------------------------------------------------------------------- data values

#: The engines' reasons (English, kept in the data) and the label that words them.
#: Reasons of the indicator sheet, matched by their whole English text.
_SHEET_REASONS = (
    "not_computed", "no_roads", "no_parks_residential", "no_greenspace", "no_greenways",
    "no_facilities", "no_life_circles", "no_land", "no_population",
)  # fmt: skip

_REASON_PATTERNS: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"^area below --min-area (?P<area>\S+) m²$", "below_min_area"),
        (r"^area below (?P<area>\S+) m²$", "area_below"),
        (r"^no tier matches \(area below (?P<area>\S+) m² or class not in a tier\)$", "no_tier"),
        (r"^class (?P<cls>.+) does not count under (?P<rules>.+)$", "class_not_counted"),
        (r"^narrower than (?P<limit>\S+) m \(width (?P<width>\S+) m\)$", "narrow"),
        (
            r"^its service area reaches no residential land that other parks do not already "
            r"cover$",
            "no_new_land",
        ),
        (r"^adds no residential land to the existing coverage$", "adds_no_land"),
        (r"^no park with this id in the project$", "no_such_park"),
        *((f"^{re.escape(_REASON[key][1])}$", key) for key in _SHEET_REASONS),
        (
            r"^already (?P<where>in the project|in this run's files) as park (?P<park>.+) "
            r"\(same geometry\)$",
            "already_in",
        ),
    )
)
_WHERE = {"in the project": "reason.where_project", "in this run's files": "reason.where_run"}


def reason_text(reason, lang: str) -> str:
    """An engine's reason (why a park does not count, why a site adds nothing) in `lang`.

    The engines keep their reasons in English in the data (``reason`` columns); the
    presenters show them through this function. A reason gisrenew does not know (e.g.
    written by a user) is shown as it is.

    Examples
    --------
    >>> reason_text("area below 2000 m²", "zh")
    '面积小于 2000 m²'
    >>> reason_text("area below 2000 m²", "en")
    'area below 2000 m²'
    """
    check_lang(lang)
    text = "" if reason is None or (isinstance(reason, float) and reason != reason) else str(reason)
    if lang == "en" or not text:
        return text
    for pattern, key in _REASON_PATTERNS:
        match = pattern.match(text)
        if match:
            fields = match.groupdict()
            if "where" in fields:
                fields["where"] = label(_WHERE[fields["where"]], lang)
            return label(f"reason.{key}", lang).format(**fields)
    return text


def weight_name(column, lang: str) -> str:
    """A weight column as a planner says it: ``households`` → 户数; other columns as named."""
    key = f"weight.{column}"
    return label(key, lang) if key in _VOCABULARY else str(column)


def plan_type_name(value, lang: str) -> str:
    """A plan type code in `lang` (``old_community`` → 老旧小区改造); other values as written."""
    key = f"plan_type.{value}"
    return label(key, lang) if isinstance(value, str) and key in _VOCABULARY else _plain(value)


def walk_status_name(value, lang: str) -> str:
    """The walk of a residential piece in words (``too_far`` → 超出步行距离)."""
    key = f"walk_status.{value}"
    return label(key, lang) if isinstance(value, str) and key in _VOCABULARY else _plain(value)


def _plain(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value)


# --------------------------------------------------------------------------- headers

#: Chinese headers of result columns in CSV/Excel files (``--headers zh``).
COLUMN_HEADERS_ZH: dict[str, str] = {
    # ids and layer attributes
    "park_id": "公园编号",
    "residential_id": "居住用地编号",
    "parcel_id": "地块编号",
    "plan_id": "更新项目编号",
    "district_id": "区镇街道编号",
    "district_name": "区镇街道名称",
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
    # coverage results
    "covered_m2": "覆盖面积(m²)",
    "covered_share": "覆盖比例",
    "coverage_ratio": "覆盖率",
    "radius_m": "服务半径(m)",
    "tier": "档位",
    "uncovered_m2": "未覆盖面积(m²)",
    "covered_weight": "覆盖权重",
    "weight": "权重",
    "blind_spot_id": "盲区编号",
    "residential_area_m2": "居住用地面积(m²)",
    "residential_area_ha": "居住用地面积(公顷)",
    "residential_area_mu": "居住用地面积(亩)",
    "covered_area_m2": "覆盖面积(m²)",
    "covered_area_ha": "覆盖面积(公顷)",
    "covered_area_mu": "覆盖面积(亩)",
    "weight_total": "权重合计",
    "weight_covered": "覆盖权重合计",
    "weighted_ratio": "覆盖率(按权重)",
    "park_area_m2": "公园面积(m²)",
    "width_m": "宽度(m)",
    "tier_label": "档位说明",
    "qualifies": "计入",
    "reason": "原因",
    "indicator": "指标",
    "indicator_new": "指标(新名称)",
    "method": "方法",
    "rules": "规则",
    "weight_column": "权重字段",
    # renewal plans
    "plan_name": "更新项目名称",
    "parcel_name": "地块名称",
    "plan_status": "项目状态",
    "affected_area_m2": "涉及地块面积(m²)",
    "affected_area_ha": "涉及地块面积(公顷)",
    "affected_area_mu": "涉及地块面积(亩)",
    "parcels_area_m2": "涉及地块总面积(m²)",
    "parcels_area_ha": "涉及地块总面积(公顷)",
    "parcels_area_mu": "涉及地块总面积(亩)",
    "parcel_count": "涉及地块数",
    "shared_parcels": "与其他项目共有地块数",
    "overlap_m2": "重叠面积(m²)",
    "overlap_mu": "重叠面积(亩)",
    "parcel_area_m2": "地块面积(m²)",
    "parcel_share": "地块被涉及比例",
    "plan_share": "占项目面积比例",
    "plan_count": "涉及项目数",
    "plan_ids": "涉及项目编号",
    "shared": "多项目共有",
    "households_total": "合计户数",
    "signed": "已签约",
    "unsigned": "未签约",
    "signing_rate": "签约率",
    "signing_status": "签约进度(代码)",
    "signing_status_zh": "签约进度",
    "household_rule": "户数计法",
    "plans": "项目数",
    "new_covered_m2": "新增覆盖居住用地(m²)",
    "new_covered_ha": "新增覆盖居住用地(公顷)",
    "new_covered_mu": "新增覆盖居住用地(亩)",
    "new_households": "新增覆盖户数",
    "converted_residential_m2": "转为绿地的居住用地(m²)",
    "converted_households": "转为绿地的居住用地户数",
    "affected_share": "地块在更新范围内比例",
    "households_unsigned": "未签约户数",
    # blind spots and the before/after of a change
    "sliver": "碎片(不列出)",
    "blind_before_m2": "变化前盲区面积(m²)",
    "blind_after_m2": "变化后盲区面积(m²)",
    "fully_closed": "完全消除",
    "newly_blind": "新出现的盲区",
    "figure": "指标",
    "before": "变化前",
    "after": "变化后",
    # the walk along streets
    "walk_distance_m": "步行距离(m)",
    "nearest_park_id": "最近公园编号",
    "serving_park_id": "服务公园编号",
    "serving_walk_m": "到服务公园步行距离(m)",
    "connector_m": "到最近道路距离(m)",
    "walk_status": "步行可达情况",
    "covered": "覆盖",
    "walk_limit_m": "步行限值(m)",
    "access": "出入口来源",
    "access_points": "出入口数",
    # each park's unique coverage
    "covered_ha": "覆盖面积(公顷)",
    "covered_mu": "覆盖面积(亩)",
    "unique_covered_m2": "独有覆盖面积(m²)",
    "unique_covered_ha": "独有覆盖面积(公顷)",
    "unique_covered_mu": "独有覆盖面积(亩)",
    "unique_share": "独有比例",
    "unique_weight": "独有覆盖户数",
    "redundant": "无独有覆盖",
    # pocket-park siting
    "rank": "序号",
    "gain_m2": "新增覆盖(m²)",
    "gain_ha": "新增覆盖(公顷)",
    "gain_mu": "新增覆盖(亩)",
    "gain_weight": "新增覆盖户数",
    "standalone_gain_m2": "单独新增覆盖(m²)",
    "standalone_gain_weight": "单独新增覆盖户数",
    "cumulative_gain_m2": "累计新增覆盖(m²)",
    "cumulative_gain_weight": "累计新增覆盖户数",
    "coverage_ratio_after": "选后覆盖率",
}

#: Where a plan table's column means something narrower than the general header.
PLAN_HEADERS_ZH: dict[str, str] = {
    "area_m2": "项目面积(m²)",
    "area_ha": "项目面积(公顷)",
    "area_mu": "项目面积(亩)",
    "qualifies": "计入服务半径",
    "reason": "不计入原因",
}

#: Chinese headers of the life-circle tables 社区生活圈 (``gisrenew lifecircles -o``); the
#: per-circle columns (``complete_15min``) come from :data:`LIFECIRCLE_CIRCLE_HEADERS_ZH`.
LIFECIRCLE_HEADERS_ZH: dict[str, str] = {
    "facility_type": "设施类型代码",
    "label_zh": "设施类型",
    "label_en": "设施类型(英文)",
    "circle_min": "生活圈(分钟)",
    "required": "应配建",
    "limit_m": "服务半径或步行距离(m)",
    "unconfirmed": "未经核实的数值",
    "facilities": "设施数",
    "reached_m2": "可达居住用地面积(m²)",
    "reached_share": "可达比例",
    "reached_weight": "可达权重",
    "reached_weight_share": "可达比例(按权重)",
    "distance_m": "生活圈距离(m)",
    "required_types": "应配建设施类型数",
    "complete_m2": "完整生活圈居住用地面积(m²)",
    "complete_share": "完整生活圈比例",
    "complete_weight": "完整生活圈权重",
    "complete_weight_share": "完整生活圈比例(按权重)",
    "piece": "居住用地片段序号",
    "nearest_facility_id": "最近设施编号",
    "reached": "可达",
}

#: Per-circle columns of the residential layer of a life-circle run (``{m}``: minutes).
LIFECIRCLE_CIRCLE_HEADERS_ZH: dict[str, str] = {
    "required_types_{m}min": "{m}分钟生活圈应配建类型数",
    "types_reached_{m}min": "{m}分钟生活圈可达类型数",
    "missing_{m}min": "{m}分钟生活圈缺少的类型",
    "complete_{m}min": "完整的{m}分钟生活圈",
    "complete_{m}min_m2": "完整的{m}分钟生活圈面积(m²)",
}

_HEADER_SUBJECTS = {
    None: {},
    "coverage": {},
    "plans": PLAN_HEADERS_ZH,
    "lifecircles": LIFECIRCLE_HEADERS_ZH,
}


def column_headers(lang: str, subject: str | None = None) -> dict[str, str]:
    """Column name → header for CSV/Excel tables in `lang`.

    Parameters
    ----------
    lang : {"zh", "en"}
        ``"en"`` gives an empty mapping (English headers are gisrenew's column names).
    subject : {None, "coverage", "plans", "lifecircles"}
        ``"plans"``: plan tables, where ``area_m2`` is the plan's area (项目面积);
        ``"lifecircles"``: the life-circle tables 社区生活圈 (per-circle columns are added
        by :func:`gisrenew.present.lifecircles.life_circle_headers`).

    Returns
    -------
    dict
        Pass it to :func:`gisrenew.io.write_results` as ``labels``.
    """
    if subject not in _HEADER_SUBJECTS:
        raise ValueError(
            f"`subject` must be one of {sorted(map(str, _HEADER_SUBJECTS))}, got {subject!r}"
        )
    if check_lang(lang) == "en":
        return {}
    return {**COLUMN_HEADERS_ZH, **_HEADER_SUBJECTS[subject]}


#: Chinese names of the sheets (and CSV file suffixes stay English) of result tables.
SHEET_NAMES_ZH: dict[str, str] = {
    "coverage_residential": "居住用地覆盖",
    "blind_spots": "服务盲区",
    "service_areas": "服务范围",
    "districts": "各片区覆盖率",
    "parks": "公园",
    "summary": "汇总",
    "park_contribution": "公园独有覆盖",
    "plan_summary": "更新项目",
    "plan_parcel_pairs": "项目涉及地块",
    "affected_parcels": "受影响地块",
    "plan_totals": "合计",
    "plan_coverage_effects": "更新项目新增覆盖",
    "sites": "口袋公园选址",
    "site_service_areas": "选址服务范围",
    "site_newly_covered": "选址新增覆盖",
    "residential": "居住用地覆盖",
    "parcels": "项目涉及地块",
    "figures": "新建前后指标",
    "closed_blind_spots": "消除的服务盲区",
    "lc_types": "生活圈设施类型",
    "lc_circles": "完整生活圈",
    "lc_district_types": "各片区生活圈设施",
    "lc_district_circles": "各片区完整生活圈",
    "lc_residential": "居住用地生活圈",
    "lc_gaps": "生活圈设施缺口",
    "lc_reach": "到各类设施距离",
}
_SHEET_PREFIXES_ZH = {"buffer_": "直线·", "network_": "步行·"}


def sheet_names(keys, lang: str) -> dict[str, str]:
    """Sheet name of each result table key in `lang` (``buffer_``/``network_`` prefixes too).

    Examples
    --------
    >>> sheet_names(["districts", "network_blind_spots", "other"], "zh")
    {'districts': '各片区覆盖率', 'network_blind_spots': '步行·服务盲区', 'other': 'other'}
    >>> sheet_names(["districts"], "en")
    {'districts': 'districts'}
    """
    if check_lang(lang) == "en":
        return {key: key for key in keys}
    out = {}
    for key in keys:
        prefix = next((p for p in _SHEET_PREFIXES_ZH if key.startswith(p)), "")
        base = key[len(prefix) :]
        out[key] = _SHEET_PREFIXES_ZH.get(prefix, "") + SHEET_NAMES_ZH.get(base, base)
    return out


# --------------------------------------------------------------------------- languages

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


def resolve_lang(lang: str | None) -> str | None:
    """Validate a language code (``zh``, ``zh-CN``, ``cn``, ``en``...); ``None`` stays None."""
    if lang is None:
        return lang
    lang = lang.lower()
    if lang.startswith("zh") or lang == "cn":
        return "zh"
    if lang.startswith("en"):
        return "en"
    raise ValueError(f"`lang` must be 'zh' or 'en', got {lang!r}")


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
