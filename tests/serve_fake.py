"""A stand-in for :class:`gisrenew.whatif.WhatIfSession` in the server's tests.

It has the session's methods and answers in the session's JSON shape, with figures a
reader can check by hand: each drawn park's and each picked candidate site's ``gain_m2``
is its own area in the project's CRS, each removed park's ``loss_m2`` is its own area, and
the ratio moves by gain minus loss over a residential area of 1 000 000 m². It records
every call, so the tests see what reached the session.
"""

from __future__ import annotations

import geopandas as gpd
import shapely.geometry

from gisrenew.errors import SketchError

RESIDENTIAL_M2 = 1_000_000.0
RATIO = 0.5


class FakeSession:
    """The what-if session's API on a real project, answering with hand-checkable figures."""

    def __init__(self, project):
        self.project = project
        self.crs = str(project.working_crs)
        self.calls: list[tuple[str, dict]] = []
        self.fail: Exception | None = None  # raised by the next evaluate

    def state(self) -> dict:
        return {
            "city": self.project.config.name,
            "ratio": RATIO,
            "network_ratio": None,
            "covered_m2": RATIO * RESIDENTIAL_M2,
            "residential_m2": RESIDENTIAL_M2,
            "districts": [{"district_id": "D1", "name": "城厢镇", "ratio": RATIO}],
            "rules": {"name": "tijian-2021", "version": "1", "tiers": []},
            "parks": 3,
            "blind_spots": {"count": 2, "area_m2": 1000.0},
            "run_id": None,
        }

    def areas(self, sketch: dict) -> list[float]:
        """The area (m², project CRS) of each drawn park."""
        shapes = [shapely.geometry.shape(f["geometry"]) for f in sketch.get("add", [])]
        series = gpd.GeoSeries(shapes, crs="EPSG:4326").to_crs(self.crs)
        return [float(a) for a in series.area]

    def layer_areas(self, kind: str, key: str, ids: list[str]) -> dict[str, float]:
        """The area (m², project CRS) of the `kind` features with `key` in `ids`."""
        frame = self.project.read(kind)
        chosen = frame[frame[key].astype(str).isin(ids)]
        return dict(zip(chosen[key].astype(str), chosen.area.astype(float), strict=True))

    def evaluate(self, sketch: dict) -> dict:
        self.calls.append(("evaluate", sketch))
        if self.fail is not None:
            error, self.fail = self.fail, None
            raise error
        if "P404" in sketch.get("remove", []):
            raise SketchError("no park P404 in the project: remove only parks it has")
        areas = self.areas(sketch)
        picked = self.layer_areas("candidates", "candidate_id", sketch.get("candidates", []))
        lost = self.layer_areas("parks", "park_id", sketch.get("remove", []))
        gain = sum(areas) + sum(picked.values()) - sum(lost.values())
        after = RATIO + gain / RESIDENTIAL_M2
        figures = {
            "ratio_before": RATIO, "ratio_after": after, "gain_m2": gain,
            "gain_ha": gain / 1e4, "gain_mu": gain / (1e4 / 15),
            "households_before": 100.0, "households_after": 100.0 + gain / 100,
            "households_gain": gain / 100,
        }  # fmt: skip
        parks = [
            {
                "index": i,
                "name": f["properties"].get("name", ""),
                "area_m2": area,
                "qualifies": area >= 400,
                "radius_m": 300.0 if area >= 400 else 0.0,
                "reason": "" if area >= 400 else "area below 400 m²",
                "gain_m2": area,
            }
            for i, (f, area) in enumerate(zip(sketch.get("add", []), areas, strict=True))
        ]
        parks += [
            {
                "index": len(parks) + i, "candidate_id": cid, "name": cid, "area_m2": area,
                "qualifies": True, "radius_m": 300.0, "reason": "", "gain_m2": area,
            }
            for i, (cid, area) in enumerate(picked.items())
        ]  # fmt: skip
        return {
            "buffer": figures,
            "network": None,
            "districts": [
                {"district_id": "D1", "name": "城厢镇", "ratio_before": RATIO, "ratio_after": after}
            ],
            "blind_spots_closed": {
                "count": 1,
                "area_m2": gain,
                "geojson": {"type": "FeatureCollection", "features": sketch.get("add", [])},
            },
            "parks": parks,
            "removed": [
                {"park_id": p, "loss_m2": lost.get(p, 0.0)} for p in sketch.get("remove", [])
            ],
            "elapsed_ms": 1.0,
        }

    def apply(self, sketch: dict, *, note: str = "") -> dict:
        self.calls.append(("apply", {**sketch, "note": note}))
        return {"run_id": 7, "state": self.state()}

    def save_candidate(self, sketch: dict) -> dict:
        self.calls.append(("save_candidate", sketch))
        return {"candidate_ids": [f"C{90 + i}" for i in range(len(sketch.get("add", [])))]}
