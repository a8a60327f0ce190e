"""gisrenew — GIS toolkit for urban-renewal planners.

Park green-space service-radius coverage (公园绿地服务半径覆盖率) under versioned rule
sets, real ten-minute walks along streets (城市公园绿地十分钟服务圈), renewal plans and
the parcels they touch (更新地块, 亩, households, signing), batch recompute after new
pocket parks (口袋公园), and folium web maps for Chinese basemaps.
"""

from __future__ import annotations

import logging

from gisrenew.errors import (
    AnalysisError,
    CRSError,
    GisrenewError,
    InputError,
    ProjectError,
    SchemaError,
    ValidationError,
)
from gisrenew.io import conform, read_layer, write_results
from gisrenew.project import Project
from gisrenew.rules import RuleSet, available_rules, flat_rules, get_rules

__version__ = "0.1.0"

__all__ = [
    "AnalysisError",
    "CRSError",
    "GisrenewError",
    "InputError",
    "Project",
    "ProjectError",
    "RuleSet",
    "SchemaError",
    "ValidationError",
    "__version__",
    "available_rules",
    "conform",
    "flat_rules",
    "get_rules",
    "read_layer",
    "write_results",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
