"""The coverage map of the report as a picture (公园绿地服务半径覆盖图, PNG).

Drawn on matplotlib's Agg canvas explicitly (:class:`FigureCanvasAgg`: no display, no
pyplot state, the backend of a notebook left alone) from
:attr:`Checkup.map_layers <gisrenew.checkup.Checkup.map_layers>`: the boundary, the
parks, the residential land covered and not covered, with a legend, a scale bar and a
north arrow worded in the report's language. Each layer is one compound path built from
the polygons' coordinate arrays at once (:func:`shapely.to_ragged_array`), so 100 000
parcels draw as fast as ten.

Chinese text needs a font with Chinese glyphs: :func:`cjk_font` finds Noto Sans CJK
(Debian's fonts-noto-cjk) or another font of :data:`gisrenew.present.CHART_FONTS`
through matplotlib's font manager; with none installed it logs a warning (the picture's
words would show as boxes) instead of drawing them silently. Only this module of
gisrenew imports matplotlib.
"""

from __future__ import annotations

import io
import logging
import math
from functools import cache

import geopandas as gpd
import matplotlib
import numpy as np
import shapely
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.path import Path
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

from gisrenew.checkup import Checkup
from gisrenew.geometry import polygonal_part
from gisrenew.present.charts import CHART_FONTS
from gisrenew.present.labels import label

__all__ = ["CJK_FONTS", "cjk_font", "coverage_png", "layer_path"]

log = logging.getLogger(__name__)

#: Fonts tried for Chinese text, first found wins: Noto Sans CJK (fonts-noto-cjk names
#: its collection SC or JP depending on the matplotlib version), then the chart fonts.
CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    *(f for f in CHART_FONTS if f != "DejaVu Sans"),
)

#: How each layer is drawn: (face colour, edge colour, line width, z order).
_STYLE = {
    "uncovered": ("#f4a582", "none", 0.0, 1),
    "covered": ("#92c5de", "none", 0.0, 2),
    "parks": ("#1b7837", "#0b4020", 0.2, 3),
    "boundary": ("none", "#333333", 1.2, 4),
}
_LEGEND = {
    "boundary": "report.legend_boundary",
    "parks": "report.legend_parks",
    "covered": "report.legend_covered",
    "uncovered": "report.legend_uncovered",
}


@cache
def cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None (warned once)."""
    for family in CJK_FONTS:
        try:
            font_manager.findfont(
                font_manager.FontProperties(family=family), fallback_to_default=False
            )
        except ValueError:
            continue
        return family
    log.warning(
        "no font with Chinese glyphs found (tried %s): the words of the report's map may "
        "show as boxes. Fix: install one, e.g. `apt-get install fonts-noto-cjk`.",
        ", ".join(CJK_FONTS),
    )
    return None


def layer_path(frame: gpd.GeoDataFrame) -> Path | None:
    """Every polygon ring of `frame` as one matplotlib path (holes stay holes).

    Multi-part polygons are drawn part by part.
    Rings are oriented consistently (:func:`shapely.normalize`), so matplotlib's
    non-zero fill leaves holes empty; built from the coordinate arrays at once.
    """
    geoms = polygonal_part(np.asarray(frame.geometry.to_numpy()))
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(geoms) == 0:
        return None
    parts = shapely.get_parts(geoms)  # get_rings reads Polygons only: MultiPolygons split
    rings = shapely.get_rings(shapely.normalize(parts))
    coords = shapely.get_coordinates(rings)
    offsets = np.concatenate([[0], np.cumsum(shapely.get_num_coordinates(rings))])
    codes = np.full(len(coords), Path.LINETO, dtype=np.uint8)
    codes[offsets[:-1]] = Path.MOVETO
    codes[offsets[1:] - 1] = Path.CLOSEPOLY
    return Path(coords, codes)


def _scale_length(width_m: float) -> float:
    """A round length (1, 2 or 5 × 10ⁿ m) near a fifth of the map's width."""
    target = max(width_m / 5.0, 1.0)
    power = 10.0 ** math.floor(math.log10(target))
    return max(step * power for step in (1.0, 2.0, 5.0) if step * power <= target)


def _scale_text(metres: float, lang: str) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} {label('unit.m', lang)}"


def _decorate(ax, extent: tuple[float, float, float, float], lang: str, handles) -> None:
    """Legend, scale bar and north arrow."""
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    length = _scale_length(extent[2] - extent[0])
    bar = AnchoredSizeBar(
        ax.transData,
        length,
        _scale_text(length, lang),
        "lower right",
        pad=0.6,
        borderpad=0.8,
        sep=4,
        frameon=True,
        size_vertical=0,
        fontproperties=font_manager.FontProperties(size=8),
    )
    ax.add_artist(bar)
    ax.annotate(
        label("report.north", lang),
        xy=(0.95, 0.97),
        xytext=(0.95, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=10,
        arrowprops={"arrowstyle": "-|>", "color": "#222222", "lw": 1.5},
    )


def coverage_png(checkup: Checkup, lang: str = "zh", *, dpi: int = 150) -> bytes:
    """The coverage map of `checkup` as PNG bytes (about 16 × 16 cm).

    Parameters
    ----------
    checkup : Checkup
        Its ``map_layers`` (``boundary``, ``parks``, ``covered``, ``uncovered``, in the
        working CRS, metres) are drawn; missing or empty layers are left out.
    lang : {"zh", "en"}
    dpi : int
        Resolution of the picture.
    """
    font = cjk_font()
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with matplotlib.rc_context({"font.family": families, "axes.unicode_minus": False}):
        figure = Figure(figsize=(6.3, 6.3), dpi=dpi)
        FigureCanvasAgg(figure)
        ax = figure.add_axes((0.02, 0.11, 0.96, 0.81))  # the legend below
        ax.set_axis_off()
        ax.set_aspect("equal")
        handles, bounds = [], []
        for key in ("uncovered", "covered", "parks", "boundary"):
            frame = checkup.map_layers.get(key)
            path = layer_path(frame) if frame is not None and len(frame) else None
            if path is None:
                continue
            face, edge, width, order = _STYLE[key]
            drawn = PathCollection(
                [path], facecolors=face, edgecolors=edge, linewidths=width, zorder=order
            )
            ax.add_collection(drawn, autolim=False)  # limits from the extents below, at once
            handles.append(
                Patch(
                    facecolor=face,
                    edgecolor=edge if edge != "none" else face,
                    label=label(_LEGEND[key], lang),
                )
            )
            bounds.append(path.get_extents().bounds)
        figure.suptitle(
            label("report.map_title", lang).format(city=checkup.city), fontsize=12, wrap=True
        )
        if bounds:
            extent = _extent(bounds)
            ax.set_xlim(extent[0], extent[2])
            ax.set_ylim(extent[1], extent[3])
            _decorate(ax, extent, lang, handles)
        else:
            ax.text(0.5, 0.5, label("report.no_map", lang), ha="center", transform=ax.transAxes)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _extent(bounds: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    """The layers' extent with a margin, as (xmin, ymin, xmax, ymax)."""
    b = np.asarray(bounds)  # x0, y0, width, height
    x0, y0 = b[:, 0].min(), b[:, 1].min()
    x1, y1 = (b[:, 0] + b[:, 2]).max(), (b[:, 1] + b[:, 3]).max()
    pad = 0.04 * max(x1 - x0, y1 - y0, 1.0)
    return (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
