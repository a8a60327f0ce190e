"""Charts in a planner's language: fonts that show Chinese on Windows, macOS and Linux.

Matplotlib falls back to a font without Chinese glyphs (boxes instead of 字) unless it
is told which fonts to try. :data:`CHART_FONTS` lists the Chinese fonts each system
ships — Windows (Microsoft YaHei 微软雅黑, SimHei 黑体), macOS (PingFang SC 苹方, Heiti
SC 黑体-简), Linux (Noto Sans CJK SC / Source Han Sans SC 思源黑体, WenQuanYi 文泉驿) —
the first one installed wins. :func:`chart_style` is the ``matplotlib.rcParams`` update
the notebooks apply (``plt.rcParams.update(chart_style())``); gisrenew itself does not
import matplotlib.
"""

from __future__ import annotations

__all__ = ["CHART_FONTS", "chart_style"]

#: Chinese fonts by system, the first installed one is used; DejaVu Sans last (Latin).
CHART_FONTS: tuple[str, ...] = (
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "DejaVu Sans",
)


def chart_style() -> dict[str, object]:
    """``matplotlib.rcParams`` for charts with Chinese text (and a minus sign that shows)."""
    return {
        "font.family": "sans-serif",
        "font.sans-serif": list(CHART_FONTS),
        "axes.unicode_minus": False,
    }
