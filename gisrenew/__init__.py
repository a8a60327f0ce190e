"""gisrenew — GIS toolkit for urban-renewal planners.

Park green-space service-radius coverage (公园绿地服务半径覆盖率) under versioned rule
sets, real ten-minute walks along streets (城市公园绿地十分钟服务圈), renewal plans and
the parcels they touch (更新地块, 亩, households, signing), batch recompute after new
pocket parks (口袋公园), and folium web maps for Chinese basemaps.
"""

from __future__ import annotations

import importlib
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

__version__ = "0.1.0"

#: Names of the package root that live in modules importing geopandas (~0.4 s): loaded
#: on first use (PEP 562), so ``gisrenew --help`` and the command line start quickly.
_LAZY = {
    "conform": "gisrenew.io",
    "read_layer": "gisrenew.io",
    "write_results": "gisrenew.io",
    "Project": "gisrenew.project",
    "RuleSet": "gisrenew.rules",
    "available_rules": "gisrenew.rules",
    "flat_rules": "gisrenew.rules",
    "get_rules": "gisrenew.rules",
}

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


def __getattr__(name: str):
    """``gisrenew.read_layer`` and the other names of :data:`_LAZY`, imported on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'gisrenew' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
