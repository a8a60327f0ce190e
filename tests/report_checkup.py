"""A hand-built indicator sheet (Checkup) for the report tests: every figure written here.

The sheet holds what a report must survive: a park and a district named with a script
tag and a formula, an indicator without a value (no population), an unconfirmed
target, 40 districts (so tables run over pages), long SHA-256 checksums and long paths.
"""

from __future__ import annotations

import geopandas as gpd
import shapely

from gisrenew.checkup import (
    Check,
    Checkup,
    DistrictRow,
    IndicatorRow,
    InputTrace,
    ParkBatch,
    RenewalProgress,
    SinceRun,
)

GK = "EPSG:4549"
X0, Y0 = 604_000.0, 3_481_000.0

HOSTILE = "<script>window.__xss=1</script>东园"
FORMULA = '=HYPERLINK("http://x","点我")'
SHA_A = "a3f1" * 16
SHA_B = "0b9e" * 16


def _box(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def map_layers(parcels: int = 6) -> dict[str, gpd.GeoDataFrame]:
    """A 1 km square city: two parks, `parcels` residential blocks half covered."""
    side = max(int(parcels**0.5), 1)
    step = 1000.0 / side
    blocks = [
        _box(i % side * step, i // side * step, step * 0.8, step * 0.8) for i in range(parcels)
    ]
    half = len(blocks) // 2
    with_hole = shapely.Polygon(
        [(X0 + 400, Y0 + 400), (X0 + 600, Y0 + 400), (X0 + 600, Y0 + 600), (X0 + 400, Y0 + 600)],
        [[(X0 + 450, Y0 + 450), (X0 + 550, Y0 + 450), (X0 + 550, Y0 + 550), (X0 + 450, Y0 + 550)]],
    )
    return {
        "boundary": gpd.GeoDataFrame(geometry=[_box(0, 0, 1000, 1000)], crs=GK),
        "parks": gpd.GeoDataFrame(geometry=[with_hole, _box(50, 850, 80, 80)], crs=GK),
        "covered": gpd.GeoDataFrame(geometry=blocks[:half], crs=GK),
        "uncovered": gpd.GeoDataFrame(geometry=blocks[half:], crs=GK),
    }


COVERAGE_CHECKS = (
    Check("gb55014-coverage", "> 80%", ">", 0.8, "GB 55014-2021 园林绿化工程项目规范",
          "第2.1.3条", True),
    Check("gbt51346-coverage", "> 90%", ">", 0.9, "GB/T 51346-2019 城市绿地规划标准",
          "第4.1.2条", False),
    Check("local-coverage", "≥ 85%", ">=", 0.85, "某市“十四五”园林绿化规划", "", True,
          confirmed=False, note="本地目标"),
)  # fmt: skip


def indicators() -> tuple[IndicatorRow, ...]:
    return (
        IndicatorRow(
            "park_coverage_buffer", "公园绿地服务半径覆盖率", "park service-radius coverage",
            0.8618, "ratio", 430_900.0, 500_000.0, "覆盖居住用地面积 (m²)", "居住用地面积 (m²)",
            "buffer", COVERAGE_CHECKS, inputs=("parks", "residential"),
        ),
        IndicatorRow(
            "park_coverage_network", "公园绿地服务半径覆盖率（步行）",
            "park service-radius coverage (walk)", 0.6123, "ratio", 306_150.0, 500_000.0,
            "覆盖居住用地面积 (m²)", "居住用地面积 (m²)", "network",
            (Check("gb55014-coverage", "> 80%", ">", 0.8, "GB 55014-2021", "第2.1.3条", False),),
        ),
        IndicatorRow(
            "park_area_per_capita", "人均公园绿地面积", "park green space per capita", None,
            "m2_per_person", None, None, "", "",
            checks=(Check("gb55014-per-capita", "≥ 8.0 m²/人", ">=", 8.0, "GB 55014-2021",
                          "第2.1.3条", None),),
            reason="no population",
        ),
        IndicatorRow(
            "community_park_per_capita", "人均社区公园面积", "community park per capita", 3.456,
            "m2_per_person", 120_960.0, 35_000.0, "社区公园面积 (m²)", "人口",
            checks=(Check("gb55014-community", "> 3.0 m²/人", ">", 3.0, "GB 55014-2021",
                          "第2.1.3条", True),),
        ),
    )  # fmt: skip


def districts(n: int = 40) -> tuple[DistrictRow, ...]:
    rows = []
    for i in range(n):
        name = HOSTILE if i == 0 else (FORMULA if i == 1 else f"第{i + 1}片区（城厢镇·新区）")
        rows.append(
            DistrictRow(
                f"D{i + 1:02d}", name, 10_000.0 * (i + 1),
                {"park_coverage_buffer": round((i % 10) / 10 + 0.05, 4), "park_coverage_network":
                 None if i == 2 else (i % 7) / 10, "park_area_per_capita": 5.0 + i / 4},
            )
        )  # fmt: skip
    return tuple(rows)


def renewal() -> RenewalProgress:
    return RenewalProgress(
        renewal={
            "plans": 3, "parcel_count": 12, "shared_parcels": 1, "area_m2": 80_000.0,
            "area_ha": 8.0, "area_mu": 120.0, "affected_area_mu": 96.5,
            "households_residential": 520, "households_nonresidential": 14,
            "households_shops": 31, "households_total": 565, "signed": 339, "unsigned": 226,
            "signing_rate": 0.6, "signing_status": "signing",
        },
        old_communities={"communities": 4, "buildings": 37, "households": 1_208,
                         "floor_area_m2": 96_400.0, "investment_wan": 5_230.5},
        plans=[
            {"plan_id": "PL01", "name": HOSTILE, "plan_type": "old_community",
             "area_mu": 60.0, "parcel_count": 5, "households_total": 300, "signed": 210,
             "signing_rate": 0.7, "signing_status": "signing"},
            {"plan_id": "PL02", "name": FORMULA, "plan_type": "old_community",
             "area_mu": 40.0, "parcel_count": 4, "households_total": 165, "signed": 129,
             "signing_rate": 129 / 165, "signing_status": "signing"},
            {"plan_id": "PL03", "name": "化肥厂地块", "plan_type": "industrial",
             "area_mu": 20.0, "parcel_count": 3, "households_total": 100, "signed": 0,
             "signing_rate": 0.0, "signing_status": "not_started"},
        ],
    )  # fmt: skip


def latest_parks() -> ParkBatch:
    return ParkBatch(
        run_id=3,
        time_utc="2026-11-20T02:30:00+00:00",
        parks=[
            {"park_id": "NP1", "name": HOSTILE, "area_m2": 2_400.0, "gain_m2": 12_500.0},
            {"park_id": "NP2", "name": "口袋公园·西街", "area_m2": 3_100.0, "gain_m2": 8_450.0},
        ],
        before={"park_coverage_buffer": 0.8203, "park_coverage_network": 0.5988},
        after={"park_coverage_buffer": 0.8618, "park_coverage_network": 0.6123},
        gain_m2={"park_coverage_buffer": 20_750.0, "park_coverage_network": 6_750.0},
        households_gain={"park_coverage_buffer": 412.0, "park_coverage_network": 150.0},
        blind_spots_closed={"count": 3, "area_m2": 5_600.0},
    )


def since() -> SinceRun:
    return SinceRun(
        run_id=1,
        time_utc="2025-12-01T01:00:00+00:00",
        then={"park_coverage_buffer": 0.7815, "park_coverage_network": None,
              "community_park_per_capita": 3.1},
        now={"park_coverage_buffer": 0.8618, "park_coverage_network": 0.6123,
             "community_park_per_capita": 3.456},
        districts=[{"district_id": "D01", "name": HOSTILE, "then": 0.5, "now": 0.55},
                   {"district_id": "D02", "name": "城东", "then": 0.7, "now": 0.65}],
    )  # fmt: skip


def checkup(*, n_districts: int = 40, parcels: int = 6, **changes) -> Checkup:
    """The full sheet; `changes` replace fields (``latest_parks=None`` ...)."""
    fields = dict(
        city="太仓市",
        computed_utc="2026-12-03T08:15:00+00:00",
        gisrenew_version="0.1.0",
        rules={"name": "tijian-2021", "version": "2021.1", "title": "城市体检 公园绿地服务半径",
               "source": "住房和城乡建设部 城市体检指标体系 2021"},
        targets={"files": [{"path": "/home/规划局/一个很长很长的文件夹名/目标/"
                            "gisrenew-targets-local-2026-final-v2.toml", "sha256": SHA_A}],
                 "count": 5},
        indicators=indicators(),
        districts=districts(n_districts),
        renewal=renewal(),
        latest_parks=latest_parks(),
        since=since(),
        inputs=(
            InputTrace("parks", "project.gpkg::parks", 128, SHA_A),
            InputTrace("residential", "project.gpkg::residential", 4_512, SHA_B),
            InputTrace("districts", f"/data/{HOSTILE}.gpkg::districts", 40, SHA_B),
        ),
        run_id=4,
        results_current=True,
        map_layers=map_layers(parcels),
    )  # fmt: skip
    fields.update(changes)
    return Checkup(**fields)
