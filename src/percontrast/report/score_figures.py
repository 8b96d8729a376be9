"""The figures of evaluation scores (rule ``figures``): ROUGE-L across learning rates
(:func:`lr_robustness`, table 2 as a plot), cross-task heat-maps (:func:`cross_task_heatmap`,
tables 3 / 8) and the ALOE judge score by dialogue round (:func:`aloe_by_round`).

Why a module of its own: each plots the scores of finished evaluations over one axis of the
grid (learning rate, source x target task, conversation round), never the training logs
(:mod:`.training_figures`). Each function takes already-loaded scores and a path, writes its PNG
and returns its (closed) Figure, so what it drew can be checked on its artists. A point or cell
of another scale is hollow or hatched and never joined to full-scale ones.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from percontrast.report.figure_style import (
    FULL,
    HATCH,
    NO_DATA,
    OTHER_SCALE,
    STYLE,
    Nested,
    as_float,
    facet_title,
    figure_legend,
    line_kw,
    method_label,
    method_linestyle,
    method_order,
    no_data,
    panels,
    save,
    scale_handles,
    scale_of,
    suptitle,
)

TASK_COLORS = ("#264653", "#e76f51", "#2a9d8f", "#8338ec", "#e9c46a", "#6a994e", "#3a86ff")
DASH_CELL = "—"
_MISSING = "#eeeeee"


# ----------------------------------------------------------------- learning-rate robustness

def _lr_panel(ax, per_method: Mapping[str, Mapping[float, Any]], handles: dict,
              main_lr: float | None, scales: set | None = None) -> None:
    """ROUGE-L against LR for each method; LRs without a result are gaps, not zeros. One line
    per (method, scale): a line joins only neighbouring LRs of one scale, other-scale points
    are hollow. A one-LR panel spans a decade around its point (log axis)."""
    lrs = sorted({float(lr) for series in per_method.values() for lr in (series or {})})
    drawn = False
    for i, method in enumerate(method_order(per_method)):
        raw = {float(k): v for k, v in (per_method[method] or {}).items()}
        series = {lr: as_float(v) for lr, v in raw.items()}
        kw, label = line_kw(method, i), method_label(method)
        point_scales = {lr: scale_of(v) for lr, v in raw.items() if not math.isnan(series[lr])}
        for scale in sorted(set(point_scales.values())):  # "" (full scale) first
            ys = [series[lr] if point_scales.get(lr) == scale else math.nan for lr in lrs]
            style = {"mfc": "none", "lw": 1.0, "alpha": 0.85} if scale != FULL else {}
            ax.plot(lrs, ys, marker="o", ms=kw["lw"] + 2, ls=method_linestyle(method),
                    gid=f"{method}|scale:{scale}", **{**kw, **style})
            if scales is not None:
                scales.add(scale)
            drawn = True
        if point_scales:
            handles.setdefault(label, Line2D([], [], color=kw["color"], marker="o", ms=4,
                                             ls=method_linestyle(method), label=label))
    if not drawn:
        no_data(ax)
        return
    ax.set_xscale("log")
    if len(lrs) == 1:  # one point: a decade around it, not matplotlib's +-5 %
        ax.set_xlim(lrs[0] / math.sqrt(10), lrs[0] * math.sqrt(10))
    ax.set_xticks(lrs, [f"{lr:g}" for lr in lrs], fontsize=7, rotation=30)
    ax.minorticks_off()
    if main_lr is not None and lrs and min(lrs) <= main_lr <= max(lrs):
        ax.axvline(main_lr, color="#999999", ls=":", lw=1)
        ax.text(main_lr, 0.99, " main LR", transform=ax.get_xaxis_transform(), fontsize=7,
                color="#777777", va="top")


def lr_robustness(scores: Nested, path: str | os.PathLike, *, main_lr: float | None = None,
                  metric: str = "ROUGE-L", empty_text: str = NO_DATA, title: str = "",
                  scale_labels: Mapping[str, str] | None = None):
    """Table 2 as a plot: the metric against learning rate (log scale), one line per method.

    ``scores``: model label -> task label -> method key -> {learning rate: score or None}. One
    panel per (model, task). A flat line means the method is robust to the LR choice, which is
    the paper's claim for PerCE. Scores with another ``scale`` (e.g. one-step runs at the
    non-main LRs) are hollow and never joined to the others; ``scale_labels`` (scale -> words,
    :func:`percontrast.report.results.scale_labels`) names them in the legend. Returns the
    Figure.
    """
    models = list(scores)
    tasks = list(dict.fromkeys(t for m in models for t in scores[m]))
    with plt.rc_context(STYLE):
        fig, axes = panels(max(len(models), 1), max(len(tasks), 1), 3.3, 2.7)
        handles: dict[str, Line2D] = {}
        scales: set[str] = set()
        for r, model in enumerate(models):
            for c, task in enumerate(tasks):
                ax = axes[r][c]
                ax.set_title(facet_title(model, task, len(models) > 1), fontsize=9)
                _lr_panel(ax, scores[model].get(task) or {}, handles, main_lr, scales)
                if c == 0:
                    ax.set_ylabel(metric)
                if r == len(models) - 1:
                    ax.set_xlabel("learning rate")
        if not models:
            no_data(axes[0][0], empty_text)
        figure_legend(fig, [*[handles[k] for k in method_order(handles)],
                             *scale_handles(scales, scale_labels)])
        suptitle(fig, title or f"{metric} across learning rates")
        save(fig, path)
    return fig


# ----------------------------------------------------------------- cross-task heat-maps

def _matrix(per_source: Mapping[str, Mapping[str, Any]], method: str, sources: list[str],
            targets: list[str]) -> np.ndarray:
    """Source x target scores of one method; NaN where the evaluation has not run."""
    return np.array([[as_float(((per_source.get(src) or {}).get(method) or {}).get(dst))
                      for dst in targets] for src in sources], dtype=float)


def _scales(per_source: Mapping[str, Mapping[str, Any]], method: str, sources: list[str],
            targets: list[str]) -> np.ndarray:
    """Source x target scale of each score of one method ("" = full scale)."""
    return np.array([[scale_of(((per_source.get(src) or {}).get(method) or {}).get(dst))
                      for dst in targets] for src in sources], dtype=object)


def _text_color(rgba) -> str:
    r, g, b = rgba[:3]
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"


def _cell_text(v: float, signed: bool) -> str:
    if math.isnan(v):
        return DASH_CELL
    if v == 0:
        return "0"
    return format(v, "+.2g" if signed else ".3g")


def _heatmap(ax, mat: np.ndarray, sources: list[str], targets: list[str], cmap, norm,
             signed: bool = False, other: np.ndarray | None = None) -> Any:
    """Cells coloured and annotated; grey with a dash where missing; in-task cells in bold.
    ``other`` (bool, like ``mat``): cells at another scale, left uncoloured and hatched, their
    number in grey with a dagger (they are no result of the config's scale)."""
    other = np.zeros(mat.shape, bool) if other is None else other
    cmap = plt.get_cmap(cmap).with_extremes(bad=_MISSING)
    im = ax.imshow(np.ma.masked_invalid(np.where(other, np.nan, mat)), cmap=cmap, norm=norm,
                   aspect="auto")
    ax.grid(False)
    ax.set_xticks(range(len(targets)), targets, fontsize=8)
    ax.set_yticks(range(len(sources)), sources, fontsize=8)
    ax.tick_params(length=0)
    for i, src in enumerate(sources):
        for j, dst in enumerate(targets):
            v = mat[i, j]
            if other[i, j] and not math.isnan(v):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=OTHER_SCALE,
                                       edgecolor="#aaaaaa", hatch=HATCH, lw=0,
                                       gid="other-scale"))
                ax.text(j, i, _cell_text(v, signed) + "\u2020", ha="center", va="center",
                        fontsize=7, color="#555555", style="italic",
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                              "alpha": 0.8})
                continue
            color = "#777777" if math.isnan(v) else _text_color(cmap(norm(v)))
            ax.text(j, i, _cell_text(v, signed), ha="center", va="center", fontsize=8,
                    color=color, fontweight="bold" if src == dst else "normal")
    return im



def _shared_norm(vals: np.ndarray) -> mcolors.Normalize:
    """One colour scale for all method panels of a model, so equal colours mean equal scores."""
    lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 1.0)
    if hi - lo < 1e-12:  # every cell equal (e.g. a random-init model scoring 0 everywhere)
        pad = 0.05 * abs(hi) or 0.05
        lo, hi = lo - pad, hi + pad
    return mcolors.Normalize(lo, hi)


def _finite(*mats: np.ndarray) -> np.ndarray:
    vals = np.concatenate([m.ravel() for m in mats]) if mats else np.array([])
    return vals[np.isfinite(vals)]


def _cross_task_row(fig, axes, model: str, per_source: Mapping[str, Any], methods: list[str],
                    diff: tuple[str, str] | None, several: bool, metric: str,
                    scales: set | None = None) -> None:
    sources = list(per_source)
    targets = list(dict.fromkeys(sources + [d for src in sources for m in methods
                                            for d in ((per_source[src] or {}).get(m) or {})]))
    mats = {m: _matrix(per_source, m, sources, targets) for m in methods}
    others = {m: _scales(per_source, m, sources, targets) != FULL for m in methods}
    if scales is not None:
        scales.update(s for m in methods for s in _scales(per_source, m, sources, targets).flat
                      if s != FULL)
    # the colour scale spans the full-scale cells (all cells when there are none)
    full = _finite(*[np.where(others[m], np.nan, mats[m]) for m in methods])
    norm = _shared_norm(full if full.size else _finite(*mats.values()))
    prefix = f"{model}: " if several and model else ""
    images = []
    for ax, method in zip(axes, methods, strict=False):
        ax.set_title(f"{prefix}{method_label(method)}", fontsize=9)
        if not np.isfinite(mats[method]).any():
            no_data(ax)
            continue
        images.append(_heatmap(ax, mats[method], sources, targets, "viridis", norm,
                               other=others[method]))
    if images:
        fig.colorbar(images[0], ax=list(axes[:len(methods)]), shrink=0.85, label=metric)
    if diff:
        _diff_panel(fig, axes[len(methods)], mats[diff[0]] - mats[diff[1]], sources, targets,
                    f"{prefix}{method_label(diff[0])} − {method_label(diff[1])}", metric,
                    others[diff[0]] | others[diff[1]])
    for ax in axes:
        ax.set_xlabel("target task", fontsize=8)
    axes[0].set_ylabel("source task (trained on)", fontsize=8)


def _diff_panel(fig, ax, mat: np.ndarray, sources, targets, title: str, metric: str,
                other: np.ndarray | None = None) -> None:
    """Diverging colours centred at 0: blue where the first method beats the second; a
    difference with either side at another scale is hatched, not coloured."""
    ax.set_title(title, fontsize=9)
    vals = _finite(mat)
    if not vals.size:
        no_data(ax)
        return
    full = _finite(np.where(other, np.nan, mat)) if other is not None else vals
    lim = float(np.abs(full if full.size else vals).max()) or 1e-3
    norm = mcolors.TwoSlopeNorm(vmin=-lim, vcenter=0.0, vmax=lim)
    im = _heatmap(ax, mat, sources, targets, "RdBu", norm, signed=True, other=other)
    fig.colorbar(im, ax=ax, shrink=0.85, label=f"Δ {metric}")


def cross_task_heatmap(scores: Nested, path: str | os.PathLike, *,
                       diff: tuple[str, str] | None = ("perce", "ce"), metric: str = "ROUGE-L",
                       empty_text: str = NO_DATA, title: str = "",
                       scale_labels: Mapping[str, str] | None = None):
    """Tables 3/8 as heat-maps: source task (rows) x target task (columns).

    ``scores``: model label -> source task label -> method key -> {target task label: score or
    None}. One row of panels per model: one heat-map per method on a shared colour scale, then
    ``diff[0] − diff[1]`` (PerCE − CE) on a diverging scale centred at 0, so transfer gains read
    as blue cells. Bold numbers (the diagonal) are in-task evaluation. Scores with another
    ``scale`` (e.g. transfer evaluations on the first test records only) are hatched and
    daggered instead of coloured, and the legend says the setting (``scale_labels``). Returns
    the Figure.
    """
    models = list(scores)
    methods_of = {m: method_order(k for src in (scores[m] or {}).values()
                                   for k in (src or {})) for m in models}
    ncols = max([len(ms) + bool(diff and set(diff) <= set(ms)) for ms in methods_of.values()]
                or [1])
    ntasks = max([len(scores[m] or {}) for m in models] or [1])
    with plt.rc_context(STYLE):
        fig, axes = panels(max(len(models), 1), ncols, max(2.8, 1.0 + 0.85 * ntasks),
                            max(2.2, 0.7 + 0.7 * ntasks))
        scales: set[str] = set()
        for row, model in zip(axes, models, strict=False):
            ms = methods_of[model]
            use_diff = diff if diff and set(diff) <= set(ms) else None
            if not ms:
                no_data(row[0])
            else:
                _cross_task_row(fig, row, model, scores[model], ms, use_diff,
                                len(models) > 1, metric, scales)
            for ax in row[len(ms) + bool(use_diff):]:
                ax.set_visible(False)
        if not models:
            no_data(axes[0][0], empty_text)
        figure_legend(fig, scale_handles(scales, scale_labels, kind="hatched"))
        suptitle(fig, title or f"Cross-task transfer ({metric}); bold: in-task")
        save(fig, path)
    return fig


# ----------------------------------------------------------------- ALOE by round

def _round_means(per_round: Sequence[dict] | None) -> dict[int, float]:
    return {int(r["round"]): as_float(r.get("mean")) for r in per_round or () if "round" in r}


def _aloe_panel(ax, per_task: Mapping[str, Mapping[str, Any]], tasks: list[str], rounds: int,
                handles: dict, summary_from: int) -> None:
    """One line per (source task, method): colour = task, line style = method."""
    missing = []
    for task in per_task:
        color = TASK_COLORS[tasks.index(task) % len(TASK_COLORS)]
        for method in method_order(per_task[task] or {}):
            means = _round_means(per_task[task][method])
            ys = [means.get(k, math.nan) for k in range(1, rounds + 1)]
            if all(math.isnan(y) for y in ys):
                missing.append(f"{task} {method_label(method)}")
                continue
            ax.plot(range(1, rounds + 1), ys, color=color, ls=method_linestyle(method),
                    marker="o", ms=3.5, lw=1.5)
            handles["task"].setdefault(task, Line2D([], [], color=color, lw=2, label=task))
            handles["method"].setdefault(method, Line2D(
                [], [], color="k", ls=method_linestyle(method), label=method_label(method)))
    if not any(ax.get_lines()):
        no_data(ax)
        return
    ax.set_xlim(0.5, rounds + 0.5)
    ax.set_xticks(range(1, rounds + 1))
    ax.set_ylim(0.8, 5.2)
    ax.set_yticks(range(1, 6))
    if rounds >= summary_from:
        ax.axvspan(summary_from - 0.5, rounds + 0.5, color="#999999", alpha=0.1, lw=0)
        ax.text(summary_from - 0.4, 5.15, f"k={summary_from}..{rounds}: tables 4/9",
                fontsize=7, color="#777777", va="top")
    if missing:
        ax.text(0.98, 0.03, "no scores yet: " + ", ".join(missing), transform=ax.transAxes,
                ha="right", va="bottom", fontsize=7, color="#777777")


def aloe_by_round(scores: Nested, path: str | os.PathLike, *, rounds: int | None = None,
                  summary_from: int = 6, empty_text: str = NO_DATA, title: str = ""):
    """ALOE judge score (1-5) per conversation round, one panel per model.

    ``scores``: model label -> source task label -> method key -> the ``per_round`` list of the
    run's aloe scores.json (``[{"round": 1, "mean": 2.5, ...}]``, ``mean`` None when no judge
    reply parsed) or None while it has not run. PerCE solid, CE dashed, colour = training task:
    the paper's point is that the PerCE lines climb with more rounds of evidence about the user.
    Returns the Figure.
    """
    models = list(scores)
    tasks = list(dict.fromkeys(t for m in models for t in (scores[m] or {})))
    rounds = rounds or max([k for m in models for t in (scores[m] or {}).values()
                            for pr in (t or {}).values() for k in _round_means(pr)] or [1])
    with plt.rc_context(STYLE):
        fig, axes = panels(1, max(len(models), 1), 4.8, 3.2, sharey=True)
        handles: dict[str, dict] = {"task": {}, "method": {}}
        for ax, model in zip(axes[0], models, strict=False):
            ax.set_title(model, fontsize=9)
            _aloe_panel(ax, scores[model] or {}, tasks, rounds, handles, summary_from)
            ax.set_xlabel("round k")
        if not models:
            no_data(axes[0][0], empty_text)
        axes[0][0].set_ylabel("judge score (1-5)")
        methods = [handles["method"][k] for k in method_order(handles["method"])]
        figure_legend(fig, [*handles["task"].values(), *methods])
        suptitle(fig, title or "ALOE: alignment score by conversation round")
        save(fig, path)
    return fig
