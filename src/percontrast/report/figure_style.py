"""The report's figure style: what every drawing function shares, so that one colour, line or
hollow mark means the same thing in every figure.

Why a module of its own: the drawing functions (:mod:`.pir_figures`, :mod:`.training_figures`,
:mod:`.score_figures`, :mod:`.controls`) each draw one kind of result; the rc style, the atomic
PNG writer, a method's colour and line style (from :mod:`percontrast.methods`), the panel grid,
the one legend above the panels and the "no data yet" mark live here once. Importing it makes
matplotlib headless (Agg) before any figure exists.

The run figures' inputs share one nesting, model -> task -> method -> data (:data:`Nested`),
with display labels for models and tasks and method keys (ce, lossce, entce, perce) for methods,
so a notebook can build them by hand. A run that has not finished yet is simply absent (or None /
empty): a figure draws what exists and says "no data yet" (:func:`no_data`) where nothing does,
so the report can be rendered at any point of a long pipeline.

One DAG mixes scales (``training.pipeline_scale``): a point may come from a one-step run or a
four-example evaluation. Scores that carry a ``scale`` attribute
(:class:`percontrast.report.results.Value`, :class:`~percontrast.report.results.Rows`) are drawn
as what they are (:func:`scale_of`, :func:`scale_handles`); plain numbers are taken as full
scale.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: figures are files
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from percontrast.methods import LABELS  # noqa: E402
from percontrast.methods import method as registered  # noqa: E402

STYLE = {"figure.dpi": 150, "savefig.dpi": 150, "axes.spines.top": False,
         "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "font.size": 10}
#: Colours of run labels that name no registered method.
OTHER_COLORS = ("#6c757d", "#9c6644", "#118ab2", "#ef476f", "#06d6a0", "#7209b7")
NO_DATA = "no data yet"

Nested = Mapping[str, Mapping[str, Mapping[str, Any]]]
FULL = ""  # the scale of plain numbers (percontrast.report.results.FULL)
HATCH = "////"
OTHER_SCALE = "#f4f4f4"


def save(fig, path: str | os.PathLike) -> None:
    """Write atomically: a killed job never leaves a truncated PNG."""
    from percontrast.io import atomic_open

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", bbox_inches="tight")
    plt.close(fig)


def method_key(name: str) -> str | None:
    """The loss behind a run label ('perce', 'Qwen3-4B/PAG/PerCE/lr2e-05' ...), if any."""
    for token in re.split(r"[^0-9a-z_]+", name.lower()):
        if token in LABELS:
            return token
    return None


def method_label(name: str) -> str:
    key = method_key(name)
    return LABELS[key] if key and name.lower() == key else name


def method_color(name: str, fallback: int = 0) -> str:
    key = method_key(name)
    return registered(key).color if key else OTHER_COLORS[fallback % len(OTHER_COLORS)]


def method_linestyle(name: str) -> str | tuple:
    """A method's line style from the registry (:mod:`percontrast.methods`); "-" otherwise."""
    key = method_key(name)
    return registered(key).linestyle if key else "-"


def line_kw(name: str, fallback: int = 0) -> dict[str, Any]:
    """Colour by loss; CE widest and at the bottom, PerCE thinnest on top, so identical curves
    (CE, LossCE and EntCE all sit at w = 1, 0 % clipped) still show as nested bands."""
    key = method_key(name)
    rank = list(LABELS).index(key) if key else len(LABELS)
    lw = 1.4 + 0.5 * max(len(LABELS) - 1 - rank, 0)
    return {"color": method_color(name, fallback), "lw": lw, "zorder": 2 + rank}


def method_order(names) -> list[str]:
    """Methods in the paper's order (CE, LossCE, EntCE, PerCE), unknown ones after."""
    names = list(dict.fromkeys(names))
    rank = {m: i for i, m in enumerate(LABELS)}
    return sorted(names, key=lambda n: (rank.get(n.lower(), len(rank)), names.index(n)))


def scale_of(value: Any) -> str:
    """The scale a plotted value carries ("" = full scale; plain numbers are full scale)."""
    return getattr(value, "scale", FULL) or FULL


def _scale_label(scale: str, labels: Mapping[str, str] | None) -> str:
    return (labels or {}).get(scale) or f"{scale} scale"


def scale_handles(scales, labels: Mapping[str, str] | None, kind: str = "hollow") -> list:
    """Legend entries saying what the hollow (or hatched) marks of the other scales are."""
    out = []
    for scale in sorted(set(scales) - {FULL}):
        text = f"{kind}: {_scale_label(scale, labels)}"
        if kind == "hatched":
            out.append(Patch(facecolor=OTHER_SCALE, edgecolor="#888888", hatch=HATCH,
                             label=text))
        else:
            out.append(Line2D([], [], color="#555555", marker="o", mfc="none", ls="none",
                              label=text))
    return out


def no_data(ax, text: str = NO_DATA) -> None:
    """Mark an empty panel plainly, so a half-finished run grid still reads correctly."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=11,
            color="#777777", style="italic", wrap=True,
            bbox={"boxstyle": "round,pad=0.4", "fc": "#f6f6f6", "ec": "#cccccc"})


def no_data_row(row, titles) -> None:
    """A figure with no facet yet: its one row of panels, each titled and marked empty."""
    for ax, title in zip(row, titles, strict=True):
        ax.set_title(title, fontsize=9)
        no_data(ax)


def facet_title(model: str, task: str, several_models: bool) -> str:
    return " · ".join(x for x in (model if several_models else "", task) if x)


def as_float(value: Any) -> float:
    """A plottable float: None and non-numbers become NaN (a gap in the line)."""
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def panels(nrows: int, ncols: int, width: float, height: float, **kw):
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                        layout="constrained", **kw)


def figure_legend(fig, handles: list, title: str = "") -> None:
    """One compact legend above all panels: the same colours mean the same thing everywhere."""
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 6),
                   fontsize=8, frameon=False, title=title or None, title_fontsize=8)


def suptitle(fig, title: str) -> None:
    if title:
        fig.suptitle(title, fontsize=11)
