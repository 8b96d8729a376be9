"""The training figures (rule ``figures``): loss, mean token weight and clipped share per step
(:func:`training_curves`), and the online E-step on the demo users' marker tokens
(:func:`estep_markers`).

Why a module of its own: both read the per-step rows of a run's training log (log.jsonl) and
draw them against the optimizer step, one colour per loss; the figures of evaluation scores are
:mod:`.score_figures`. Each function takes already-loaded logs and a path, writes its PNG and
returns its (closed) Figure, so what it drew can be checked on its artists.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from percontrast.report.figure_style import (
    FULL,
    STYLE,
    Nested,
    as_float,
    facet_title,
    figure_legend,
    line_kw,
    method_label,
    method_order,
    no_data,
    no_data_row,
    panels,
    save,
    scale_handles,
    scale_of,
    suptitle,
)

# ----------------------------------------------------------------- training curves

CURVE_PANELS = (("loss", "training loss"), ("weight_mean", "mean token weight"),
                ("clip", "clipped tokens"))


def _as_nested(logs: Mapping[str, Any]) -> Nested:
    """Accept ``{run label: rows}`` too: one facet, each label coloured by the loss it names."""
    if logs and all(isinstance(v, Sequence) for v in logs.values()):
        return {"": {"": logs}}
    return logs


def _training_rows(rows: Sequence[dict] | None) -> list[dict]:
    """Per-step rows only: the trainer's final summary row has ``train_loss``, not ``loss``."""
    return sorted((r for r in rows or () if "loss" in r and "step" in r), key=lambda r: r["step"])


def _plot_run(axes, rows: list[dict], kw: dict[str, Any], scale: str = FULL) -> None:
    steps = [r["step"] for r in rows]
    kw = {**kw, "marker": "o" if len(rows) <= 30 or scale != FULL else None,
          "ms": kw["lw"] + 1.5, "gid": f"scale:{scale}"}
    if scale != FULL:  # another scale: hollow markers, thin line
        kw.update(mfc="none", lw=1.0, alpha=0.8)
    axes[0].plot(steps, [as_float(r["loss"]) for r in rows], **kw)
    axes[1].plot(steps, [as_float(r.get("weight_mean")) for r in rows], **kw)
    axes[2].plot(steps, [as_float(r.get("frac_clip_max")) for r in rows], ls="-", **kw)
    axes[2].plot(steps, [as_float(r.get("frac_clip_min")) for r in rows], ls="--", **kw)


def _curve_row(axes, facet: str, runs: Mapping[str, Sequence[dict]], handles: dict,
               scales: set | None = None) -> None:
    """One (model, task): the three panels, one line per run coloured by its loss."""
    for ax, (_, name) in zip(axes, CURVE_PANELS, strict=True):
        ax.set_title(f"{facet}: {name}" if facet else name, fontsize=9)
    missing = []
    for i, (label, rows) in enumerate(runs.items()):
        scale = scale_of(rows)
        rows = _training_rows(rows)
        if not rows:
            missing.append(method_label(label))
            continue
        kw = line_kw(label, i)
        _plot_run(axes, rows, kw, scale)
        if scales is not None:
            scales.add(scale)
        handles.setdefault(method_label(label),
                           Line2D([], [], color=kw["color"], lw=2, label=method_label(label)))
    if len(missing) == len(runs):
        for ax in axes:
            no_data(ax)
        return
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_ylabel("loss")
    axes[1].set_ylabel("mean weight w")
    axes[2].set_ylabel("share of response tokens")
    axes[2].yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    axes[2].set_ylim(bottom=0)
    if missing:
        axes[0].text(0.98, 0.97, f"no log yet: {', '.join(missing)}", transform=axes[0].transAxes,
                     ha="right", va="top", fontsize=7, color="#777777")


def training_curves(logs: Mapping[str, Any], path: str | os.PathLike, *,
                    title: str = "", scale_labels: Mapping[str, str] | None = None):
    """Training loss, mean PerCE token weight and share of clipped tokens against step.

    ``logs``: model label -> task label -> run label (a method key: ce, perce, ...) -> the rows of
    the run's log.jsonl (empty or None while it has not run); a flat ``{run label: rows}`` works
    too. One row of panels per (model, task), one line per run coloured by its loss; in the clip
    panel solid lines are tokens clipped at the upper bound M, dashed at the lower bound m. The
    weight and clip panels show whether PerCE reweights at all (CE stays at w = 1, 0 % clipped).
    A run whose rows carry another ``scale`` (:class:`percontrast.report.results.Rows`) is drawn
    with hollow markers; ``scale_labels`` names the scales in the legend. Returns the Figure.
    """
    nested = _as_nested(logs)
    facets = [(facet_title(model, task, len(nested) > 1), runs)
              for model, per_task in nested.items() for task, runs in per_task.items()]
    with plt.rc_context(STYLE):
        fig, axes = panels(max(len(facets), 1), 3, 3.6, 2.5)
        handles: dict[str, Line2D] = {}
        scales: set[str] = set()
        for row, (facet, runs) in zip(axes, facets, strict=False):
            _curve_row(row, facet, runs or {}, handles, scales)
        if not facets:
            no_data_row(axes[0], [name for _, name in CURVE_PANELS])
        for ax in axes[-1]:
            ax.set_xlabel("optimizer step")
        styles = [Line2D([], [], color="k", ls="-", label="clipped at max M"),
                  Line2D([], [], color="k", ls="--", label="clipped at min m")]
        methods = [handles[k] for k in method_order(handles)]
        figure_legend(fig, [*methods, *styles, *scale_handles(scales, scale_labels)]
                       if handles else [])
        suptitle(fig, title)
        save(fig, path)
    return fig


# ----------------------------------------------------------------- online E-step on markers

ESTEP_PANELS = (("pir", "mean PIR"), ("weight", "mean token weight"))
ESTEP_GROUPS = (("marker", "-", "marker tokens"), ("other", "--", "other response tokens"))


def _estep_rows(rows: Sequence[dict] | None) -> list[dict]:
    """Per-step rows that carry marker statistics: the trainer logs them only for batches with
    marker ground truth (the demo users), so runs on other data draw nothing here."""
    keys = {f"{k}_{g}_mean" for k, _ in ESTEP_PANELS for g, _, _ in ESTEP_GROUPS}
    return [r for r in _training_rows(rows) if keys & r.keys()]


def _plot_estep_run(axes, rows: list[dict], kw: dict[str, Any]) -> bool:
    """Marker (solid) and other-token (dashed) means of one run; False if nothing was drawn."""
    steps = [r["step"] for r in rows]
    kw = {**kw, "marker": "o" if len(rows) <= 30 else None, "ms": kw["lw"] + 1.5}
    drawn = False
    for ax, (key, _) in zip(axes, ESTEP_PANELS, strict=True):
        for group, ls, _ in ESTEP_GROUPS:
            ys = [as_float(r.get(f"{key}_{group}_mean")) for r in rows]
            if not all(math.isnan(y) for y in ys):
                ax.plot(steps, ys, ls=ls, **kw)
                drawn = True
    return drawn


def _estep_row(axes, facet: str, runs: Mapping[str, Sequence[dict]], handles: dict,
               clip: tuple[float, float] | None) -> None:
    """One (model, task): PIR and weight panels, one colour per run's loss."""
    for ax, (_, name) in zip(axes, ESTEP_PANELS, strict=True):
        ax.set_title(f"{facet}: {name}" if facet else name, fontsize=9)
    missing, drawn = [], False
    for i, (label, rows) in enumerate(runs.items()):
        kw = line_kw(label, i)
        if not _plot_estep_run(axes, _estep_rows(rows), kw):
            missing.append(method_label(label))
            continue
        drawn = True
        handles.setdefault(method_label(label),
                           Line2D([], [], color=kw["color"], lw=2, label=method_label(label)))
    if not drawn:
        for ax in axes:
            no_data(ax)
        return
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].axhline(0.0, color="#999999", lw=0.8, zorder=1)
    axes[0].set_ylabel("PIR (nats)")
    axes[1].set_ylabel("mean weight w")
    if clip is not None:
        axes[1].axhspan(clip[0], clip[1], color="#999999", alpha=0.12, lw=0, zorder=0)
    if missing:
        axes[0].text(0.98, 0.97, f"no marker stats: {', '.join(missing)}",
                     transform=axes[0].transAxes, ha="right", va="top", fontsize=7,
                     color="#777777", bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1})


def estep_markers(logs: Mapping[str, Any], path: str | os.PathLike, *,
                  title: str | None = None, clip: tuple[float, float] | None = None):
    """The online E-step on ground-truth personal tokens: mean PIR and mean token weight of the
    users' marker tokens (solid) against the other response tokens (dashed), over training.

    ``logs``: as for :func:`training_curves` (model label -> task label -> run label -> log.jsonl
    rows, or a flat ``{run label: rows}``); the rows' ``pir_marker_mean``, ``pir_other_mean``,
    ``weight_marker_mean`` and ``weight_other_mean`` are drawn, one colour per run's loss. PerCE
    works as the paper says when the solid PIR line sits above the dashed one, and its weights
    follow; the baselines' PIR (logged with ``track_pir``) shows how far plain training gets there
    without using it. ``clip = (m, M)`` shades the weight range PerCE clips to. Runs without
    marker statistics draw nothing; a figure with none says "no data yet". Returns the Figure.
    """
    nested = _as_nested(logs)
    facets = [(facet_title(model, task, len(nested) > 1), runs)
              for model, per_task in nested.items() for task, runs in per_task.items()]
    with plt.rc_context(STYLE):
        fig, axes = panels(max(len(facets), 1), len(ESTEP_PANELS), 3.8, 2.6)
        handles: dict[str, Line2D] = {}
        for row, (facet, runs) in zip(axes, facets, strict=False):
            _estep_row(row, facet, runs or {}, handles, clip)
        if not facets:
            no_data_row(axes[0], [name for _, name in ESTEP_PANELS])
        for ax in axes.flat:  # steps are whole numbers, also for a one-step run
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        for ax in axes[-1]:
            ax.set_xlabel("optimizer step")
        styles = [Line2D([], [], color="k", ls=ls, label=label) for _, ls, label in ESTEP_GROUPS]
        if clip is not None:
            styles.append(Patch(color="#999999", alpha=0.25,
                                label=f"clip range [{clip[0]:g}, {clip[1]:g}]"))
        methods = [handles[k] for k in method_order(handles)]
        figure_legend(fig, [*methods, *styles] if handles else [])
        suptitle(fig, "Online E-step: PIR and weights on the users' marker tokens"
                  if title is None else title)
        save(fig, path)
    return fig
