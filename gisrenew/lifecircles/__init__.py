"""Community life circles 社区生活圈: which homes reach which services (GB 50180-2018).

The 5-, 10- and 15-minute life circles 五分钟/十分钟/十五分钟生活圈 of GB 50180-2018
城市居住区规划设计标准 (and TD/T 1062-2021 社区生活圈规划技术指南) measured with the park
coverage's two engines, for every facility type of a rule set at once:

* :mod:`~gisrenew.lifecircles.rules` — life-circle rule sets as data (TOML presets in
  ``gisrenew/rulesets/lifecircle-*.toml`` and user files): circles, facility types, their
  radius or walking distance, required or not, the clause each value comes from;
* :mod:`~gisrenew.lifecircles.straight` — straight-line reach per type (the overlay
  kernel of :mod:`gisrenew.coverage`);
* :mod:`~gisrenew.lifecircles.walk` — the walk along streets per type (one walk graph,
  one multi-source pass per type; :mod:`gisrenew.network`), imported only for a walk;
* :mod:`~gisrenew.lifecircles.analysis` — :func:`life_circles`, completeness per circle;
* :mod:`~gisrenew.lifecircles.result` — :class:`LifeCircleResult` and its tables;
* :mod:`~gisrenew.lifecircles.siting` — :func:`rank_facility_sites`, where to put the
  next facility of a type (the pocket-park siting of :mod:`gisrenew.siting`).

An engine: it never reads settings or prints; the orchestrator
(:func:`gisrenew.indicators.compute_indicators`) calls it with the run's layers.
"""

from __future__ import annotations

from gisrenew.lifecircles.analysis import METHODS, life_circles
from gisrenew.lifecircles.result import LifeCircleResult
from gisrenew.lifecircles.rules import (
    DEFAULT_LIFE_CIRCLE_RULES,
    Circle,
    FacilityRule,
    LifeCircleRules,
    available_life_circle_rules,
    facility_types,
    get_life_circle_rules,
    parse_life_circle_rules,
)
from gisrenew.lifecircles.siting import facility_type_key, rank_facility_sites

__all__ = [
    "DEFAULT_LIFE_CIRCLE_RULES",
    "METHODS",
    "Circle",
    "FacilityRule",
    "LifeCircleResult",
    "LifeCircleRules",
    "available_life_circle_rules",
    "facility_type_key",
    "facility_types",
    "get_life_circle_rules",
    "life_circles",
    "parse_life_circle_rules",
    "rank_facility_sites",
]
