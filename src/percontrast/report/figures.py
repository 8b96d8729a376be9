"""Figures (matplotlib, PNG), one function per figure, one consistent style.

Each function takes already-loaded results (dicts / lists from results/) and a path, so it can
be called from the pipeline's figure rules or from a notebook. Each writes its PNG and returns
its (closed) Figure, so what it drew can be checked on its artists: which numbers each labelled
series carries, not only that a picture came out.

One DAG mixes scales (``training.pipeline_scale``): a point of the run figures may come from a
one-step run or a four-example evaluation. Scores that carry a ``scale`` attribute
(:class:`percontrast.report.results.Value`, :class:`~percontrast.report.results.Rows`) are drawn
as what they are: a line never joins points of different scales, other-scale points are hollow
and the legend says the setting, and the cross-task heat-map hatches other-scale cells instead of
colouring them as results. Plain numbers are taken as full scale.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: figures are files
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402
from matplotlib.ticker import MaxNLocator, PercentFormatter  # noqa: E402

from percontrast import pir_methods  # noqa: E402
from percontrast.methods import LABELS  # noqa: E402
from percontrast.methods import method as registered  # noqa: E402

STYLE = {"figure.dpi": 150, "savefig.dpi": 150, "axes.spines.top": False,
         "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "font.size": 10}


def _save(fig, path: str | os.PathLike) -> None:
    """Write atomically: a killed job never leaves a truncated PNG."""
    from percontrast.io import atomic_open

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", bbox_inches="tight")
    plt.close(fig)


def pir_classification_bars(results: dict[str, dict], path: str | os.PathLike):
    """Figure 4: precision / recall / F1 of the three methods, one panel per PIR model.

    ``results``: model name -> classification.json content. A method the benchmark did not
    score (no LLM judge configured) has no bars. Returns the Figure.
    """
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.4),
                                 squeeze=False)
        for ax, (model, cls) in zip(axes[0], results.items(), strict=True):
            methods = [m for m in pir_methods.PAPER_METHODS if cls.get(m.name)]
            width = 0.8 / len(methods)
            for i, method in enumerate(methods):
                vals = [cls[method.name][k] for k in ("precision", "recall", "f1")]
                xs = [x + (i - (len(methods) - 1) / 2) * width for x in range(3)]
                bars = ax.bar(xs, vals, width, label=method.label, color=method.color)
                ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
            ax.set_xticks(range(3), ["Precision", "Recall", "F1"])
            ax.set_ylim(0, 1.08)
            ax.set_title(f"{model}: personal-token identification\n"
                         f"(PIR > {cls['threshold']:g}, {cls['percontrast']['n_tokens']} "
                         "tokens)", fontsize=9)
        axes[0][0].legend(fontsize=8, loc="upper left")
        _save(fig, path)
    return fig


def pir_pr_curves(results: dict[str, dict], path: str | os.PathLike):
    """Per PIR model: precision-recall curve of PIR under each counterfactual (AP in the
    legend; o = PIR > the paper's threshold, x = PIR > the dev-chosen threshold) and the single
    operating points of the binary methods; the dashed line is the share of gold tokens (a
    random ranking's precision). ``results``: model name -> classification.json content.
    Returns the Figure."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(results), figsize=(5.6 * len(results), 4.6),
                                 squeeze=False)
        for ax, (model, cls) in zip(axes[0], results.items(), strict=True):
            variants, baselines = cls["variants"], cls["baselines"]
            for name, v in variants.items():
                style = pir_methods.COUNTERFACTUAL_BY_NAME.get(name)
                color, line = (style.color, style.linestyle) if style else ("#555555", "-")
                curve = v["pr_curve"]
                ax.step([0.0, *curve["recall"]], [1.0, *curve["precision"]], where="pre",
                        color=color, linestyle=line,
                        label=f"{style.label if style else name} "
                              f"(AP {v['average_precision']:.2f})")
                at = v["at_threshold"]
                ax.plot(at["recall"], at["precision"], "o", color=color, markersize=6)
                if "test_at_dev_threshold" in v:
                    dev = v["test_at_dev_threshold"]
                    ax.plot(dev["recall"], dev["precision"], "x", color=color, markersize=7)
            for name, b in baselines.items():
                method = pir_methods.BY_NAME.get(name)
                label, color, marker = ((pir_methods.baseline_label(name, with_lemmas=True),
                                         method.point_color, method.marker) if method
                                        else (name, "#333333", "s"))
                at = b["at_threshold"]
                ax.plot(at["recall"], at["precision"], marker, color=color, markersize=8,
                        markeredgecolor="black", label=f"{label} (F1 {at['f1']:.2f})")
            first = next(iter(variants.values()))["at_threshold"]
            ax.axhline(first["n_gold"] / max(first["n_tokens"], 1), color="grey",
                       linestyle="--", linewidth=0.8)
            ax.set_xlim(0, 1.02)
            ax.set_ylim(0, 1.05)
            ax.set_xlabel("recall (personal tokens found)")
            ax.set_ylabel("precision")
            ax.set_title(f"{model}: PIR as a token classifier ({cls['n_answers']} "
                         f"answers)\no PIR > {cls['threshold']:g}, x dev-chosen threshold "
                         "(test answers)", fontsize=9)
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1)
        _save(fig, path)
    return fig


PIR_BINS = (float("-inf"), -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 5.0, float("inf"))


def _bin_label(lo: float, hi: float) -> str:
    if lo == float("-inf"):
        return f"≤{hi:g}"
    if hi == float("inf"):
        return f">{lo:g}"
    return f"({lo:g}, {hi:g}]"


def pir_histogram(tokens: Sequence[dict], threshold: float, path: str | os.PathLike,
                  title: str = ""):
    """Figure 5: tokens per PIR range, split into correctly and incorrectly classified.

    A token is correctly classified when (PIR > threshold) equals its gold label. Returns the
    Figure.
    """
    bins = list(zip(PIR_BINS[:-1], PIR_BINS[1:], strict=True))
    correct = [0] * len(bins)
    wrong = [0] * len(bins)
    for t in tokens:
        for i, (lo, hi) in enumerate(bins):
            if lo < t["pir"] <= hi:
                ok = (t["pir"] > threshold) == bool(t["gold"])
                (correct if ok else wrong)[i] += 1
                break
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7, 3.4))
        xs = range(len(bins))
        ax.bar(xs, correct, color="#2a9d8f", label="correctly classified")
        ax.bar(xs, wrong, bottom=correct, color="#e76f51", label="incorrectly classified")
        for x, c, w in zip(xs, correct, wrong, strict=True):
            if c + w:
                ax.text(x, c + w, f"{c / (c + w):.0%}", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(list(xs), [_bin_label(lo, hi) for lo, hi in bins], fontsize=8)
        ax.set_xlabel("PIR range (labels above bars: share correctly classified)")
        ax.set_ylabel("tokens")
        split = next((i for i, (lo, _) in enumerate(bins) if lo >= threshold), len(bins)) - 0.5
        ax.axvline(split, color="k", ls="--", lw=1)
        ax.text(split + 0.05, ax.get_ylim()[1] * 0.95, f"threshold {threshold:g}", fontsize=8,
                va="top")
        ax.set_title(title or "Distribution of PIR over answer tokens", fontsize=10)
        ax.legend(fontsize=8)
        _save(fig, path)
    return fig


def pir_heatmap(answers: Sequence[Sequence[dict]], path: str | os.PathLike,
                title: str = "", vmax: float = 4.0):
    """Figure 2 style: answers as rows of tokens coloured by PIR; gold keywords underlined.

    ``answers``: per answer, its token dicts (token, pir, gold) in order. Returns the Figure.
    """
    cmap = plt.get_cmap("RdBu_r")
    norm = mcolors.TwoSlopeNorm(vmin=-vmax, vcenter=0.0, vmax=vmax)
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(10, 0.45 * len(answers) + 0.9))
        ax.set_xlim(0, 1)
        ax.set_ylim(len(answers), -0.6)
        ax.axis("off")
        renderer = fig.canvas.get_renderer()
        for row, tokens in enumerate(answers):
            x = 0.0
            for tok in tokens:
                text = tok["token"].strip() or "·"
                color = cmap(norm(max(-vmax, min(vmax, tok["pir"]))))
                t = ax.text(x, row, text, fontsize=9, va="center", ha="left", family="monospace",
                            bbox={"boxstyle": "square,pad=0.15", "fc": color, "ec": "none"},
                            color="white" if abs(tok["pir"]) > 0.6 * vmax else "black")
                bb = t.get_window_extent(renderer=renderer).transformed(ax.transData.inverted())
                if tok.get("gold"):
                    ax.plot([bb.x0, bb.x1], [row + 0.32, row + 0.32], color="k", lw=1.2)
                x = bb.x1 + 0.006
        sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        fig.colorbar(sm, ax=ax, orientation="horizontal", fraction=0.05, pad=0.02,
                     label="PIR = log p(token | persona) − log p(token | no persona); "
                           "underlined: gold persona keyword")
        ax.set_title(title or "Per-token PIR", fontsize=10)
        _save(fig, path)
    return fig


# --------------------------------------------------------------------------- run figures
#
# The five figures of the `figures` rule. Their inputs share one nesting, model -> task -> method
# -> data, with display labels for models and tasks and method keys (ce, lossce, entce, perce)
# for methods, so a notebook can build them by hand. A run that has not finished yet is simply
# absent (or None / empty): the figure draws what exists and says "no data yet" where nothing does,
# so the report can be rendered at any point of a long pipeline.

def _style(name: str) -> str | tuple:
    """A method's line style from the registry (:mod:`percontrast.methods`); "-" otherwise."""
    key = _method_key(name)
    return registered(key).linestyle if key else "-"
TASK_COLORS = ("#264653", "#e76f51", "#2a9d8f", "#8338ec", "#e9c46a", "#6a994e", "#3a86ff")
OTHER_COLORS = ("#6c757d", "#9c6644", "#118ab2", "#ef476f", "#06d6a0", "#7209b7")
NO_DATA = "no data yet"
DASH_CELL = "—"
_MISSING = "#eeeeee"

Nested = Mapping[str, Mapping[str, Mapping[str, Any]]]
FULL = ""  # the scale of plain numbers (percontrast.report.results.FULL)
HATCH = "////"
_OTHER_SCALE = "#f4f4f4"


def scale_of(value: Any) -> str:
    """The scale a plotted value carries ("" = full scale; plain numbers are full scale)."""
    return getattr(value, "scale", FULL) or FULL


def _scale_label(scale: str, labels: Mapping[str, str] | None) -> str:
    return (labels or {}).get(scale) or f"{scale} scale"


def _scale_handles(scales, labels: Mapping[str, str] | None, kind: str = "hollow") -> list:
    """Legend entries saying what the hollow (or hatched) marks of the other scales are."""
    out = []
    for scale in sorted(set(scales) - {FULL}):
        text = f"{kind}: {_scale_label(scale, labels)}"
        if kind == "hatched":
            out.append(Patch(facecolor=_OTHER_SCALE, edgecolor="#888888", hatch=HATCH,
                             label=text))
        else:
            out.append(Line2D([], [], color="#555555", marker="o", mfc="none", ls="none",
                              label=text))
    return out


def _no_data(ax, text: str = NO_DATA) -> None:
    """Mark an empty panel plainly, so a half-finished run grid still reads correctly."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=11,
            color="#777777", style="italic", wrap=True,
            bbox={"boxstyle": "round,pad=0.4", "fc": "#f6f6f6", "ec": "#cccccc"})


def _method_key(name: str) -> str | None:
    """The loss behind a run label ('perce', 'Qwen3-4B/PAG/PerCE/lr2e-05' ...), if any."""
    for token in re.split(r"[^0-9a-z_]+", name.lower()):
        if token in LABELS:
            return token
    return None


def _method_label(name: str) -> str:
    key = _method_key(name)
    return LABELS[key] if key and name.lower() == key else name


def _method_color(name: str, fallback: int = 0) -> str:
    key = _method_key(name)
    return registered(key).color if key else OTHER_COLORS[fallback % len(OTHER_COLORS)]


def _line_kw(name: str, fallback: int = 0) -> dict[str, Any]:
    """Colour by loss; CE widest and at the bottom, PerCE thinnest on top, so identical curves
    (CE, LossCE and EntCE all sit at w = 1, 0 % clipped) still show as nested bands."""
    key = _method_key(name)
    rank = list(LABELS).index(key) if key else len(LABELS)
    lw = 1.4 + 0.5 * max(len(LABELS) - 1 - rank, 0)
    return {"color": _method_color(name, fallback), "lw": lw, "zorder": 2 + rank}


def _method_order(names) -> list[str]:
    """Methods in the paper's order (CE, LossCE, EntCE, PerCE), unknown ones after."""
    names = list(dict.fromkeys(names))
    rank = {m: i for i, m in enumerate(LABELS)}
    return sorted(names, key=lambda n: (rank.get(n.lower(), len(rank)), names.index(n)))


def _facet(model: str, task: str, several_models: bool) -> str:
    return " · ".join(x for x in (model if several_models else "", task) if x)


def _num(value: Any) -> float:
    """A plottable float: None and non-numbers become NaN (a gap in the line)."""
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def _panels(nrows: int, ncols: int, width: float, height: float, **kw):
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                        layout="constrained", **kw)


def _figure_legend(fig, handles: list, title: str = "") -> None:
    """One compact legend above all panels: the same colours mean the same thing everywhere."""
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 6),
                   fontsize=8, frameon=False, title=title or None, title_fontsize=8)


def _suptitle(fig, title: str) -> None:
    if title:
        fig.suptitle(title, fontsize=11)


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
    axes[0].plot(steps, [_num(r["loss"]) for r in rows], **kw)
    axes[1].plot(steps, [_num(r.get("weight_mean")) for r in rows], **kw)
    axes[2].plot(steps, [_num(r.get("frac_clip_max")) for r in rows], ls="-", **kw)
    axes[2].plot(steps, [_num(r.get("frac_clip_min")) for r in rows], ls="--", **kw)


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
            missing.append(_method_label(label))
            continue
        kw = _line_kw(label, i)
        _plot_run(axes, rows, kw, scale)
        if scales is not None:
            scales.add(scale)
        handles.setdefault(_method_label(label),
                           Line2D([], [], color=kw["color"], lw=2, label=_method_label(label)))
    if len(missing) == len(runs):
        for ax in axes:
            _no_data(ax)
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
    facets = [(_facet(model, task, len(nested) > 1), runs)
              for model, per_task in nested.items() for task, runs in per_task.items()]
    with plt.rc_context(STYLE):
        fig, axes = _panels(max(len(facets), 1), 3, 3.6, 2.5)
        handles: dict[str, Line2D] = {}
        scales: set[str] = set()
        for row, (facet, runs) in zip(axes, facets, strict=False):
            _curve_row(row, facet, runs or {}, handles, scales)
        if not facets:
            for ax, (_, name) in zip(axes[0], CURVE_PANELS, strict=True):
                ax.set_title(name, fontsize=9)
                _no_data(ax)
        for ax in axes[-1]:
            ax.set_xlabel("optimizer step")
        styles = [Line2D([], [], color="k", ls="-", label="clipped at max M"),
                  Line2D([], [], color="k", ls="--", label="clipped at min m")]
        methods = [handles[k] for k in _method_order(handles)]
        _figure_legend(fig, [*methods, *styles, *_scale_handles(scales, scale_labels)]
                       if handles else [])
        _suptitle(fig, title)
        _save(fig, path)
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
            ys = [_num(r.get(f"{key}_{group}_mean")) for r in rows]
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
        kw = _line_kw(label, i)
        if not _plot_estep_run(axes, _estep_rows(rows), kw):
            missing.append(_method_label(label))
            continue
        drawn = True
        handles.setdefault(_method_label(label),
                           Line2D([], [], color=kw["color"], lw=2, label=_method_label(label)))
    if not drawn:
        for ax in axes:
            _no_data(ax)
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
    facets = [(_facet(model, task, len(nested) > 1), runs)
              for model, per_task in nested.items() for task, runs in per_task.items()]
    with plt.rc_context(STYLE):
        fig, axes = _panels(max(len(facets), 1), len(ESTEP_PANELS), 3.8, 2.6)
        handles: dict[str, Line2D] = {}
        for row, (facet, runs) in zip(axes, facets, strict=False):
            _estep_row(row, facet, runs or {}, handles, clip)
        if not facets:
            for ax, (_, name) in zip(axes[0], ESTEP_PANELS, strict=True):
                ax.set_title(name, fontsize=9)
                _no_data(ax)
        for ax in axes.flat:  # steps are whole numbers, also for a one-step run
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        for ax in axes[-1]:
            ax.set_xlabel("optimizer step")
        styles = [Line2D([], [], color="k", ls=ls, label=label) for _, ls, label in ESTEP_GROUPS]
        if clip is not None:
            styles.append(Patch(color="#999999", alpha=0.25,
                                label=f"clip range [{clip[0]:g}, {clip[1]:g}]"))
        methods = [handles[k] for k in _method_order(handles)]
        _figure_legend(fig, [*methods, *styles] if handles else [])
        _suptitle(fig, "Online E-step: PIR and weights on the users' marker tokens"
                  if title is None else title)
        _save(fig, path)
    return fig


# ----------------------------------------------------------------- learning-rate robustness

def _lr_panel(ax, per_method: Mapping[str, Mapping[float, Any]], handles: dict,
              main_lr: float | None, scales: set | None = None) -> None:
    """ROUGE-L against LR for each method; LRs without a result are gaps, not zeros. One line
    per (method, scale): a line joins only neighbouring LRs of one scale, other-scale points
    are hollow. A one-LR panel spans a decade around its point (log axis)."""
    lrs = sorted({float(lr) for series in per_method.values() for lr in (series or {})})
    drawn = False
    for i, method in enumerate(_method_order(per_method)):
        raw = {float(k): v for k, v in (per_method[method] or {}).items()}
        series = {lr: _num(v) for lr, v in raw.items()}
        kw, label = _line_kw(method, i), _method_label(method)
        point_scales = {lr: scale_of(v) for lr, v in raw.items() if not math.isnan(series[lr])}
        for scale in sorted(set(point_scales.values())):  # "" (full scale) first
            ys = [series[lr] if point_scales.get(lr) == scale else math.nan for lr in lrs]
            style = {"mfc": "none", "lw": 1.0, "alpha": 0.85} if scale != FULL else {}
            ax.plot(lrs, ys, marker="o", ms=kw["lw"] + 2, ls=_style(method),
                    gid=f"{method}|scale:{scale}", **{**kw, **style})
            if scales is not None:
                scales.add(scale)
            drawn = True
        if point_scales:
            handles.setdefault(label, Line2D([], [], color=kw["color"], marker="o", ms=4,
                                             ls=_style(method), label=label))
    if not drawn:
        _no_data(ax)
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
        fig, axes = _panels(max(len(models), 1), max(len(tasks), 1), 3.3, 2.7)
        handles: dict[str, Line2D] = {}
        scales: set[str] = set()
        for r, model in enumerate(models):
            for c, task in enumerate(tasks):
                ax = axes[r][c]
                ax.set_title(_facet(model, task, len(models) > 1), fontsize=9)
                _lr_panel(ax, scores[model].get(task) or {}, handles, main_lr, scales)
                if c == 0:
                    ax.set_ylabel(metric)
                if r == len(models) - 1:
                    ax.set_xlabel("learning rate")
        if not models:
            _no_data(axes[0][0], empty_text)
        _figure_legend(fig, [*[handles[k] for k in _method_order(handles)],
                             *_scale_handles(scales, scale_labels)])
        _suptitle(fig, title or f"{metric} across learning rates")
        _save(fig, path)
    return fig


# ----------------------------------------------------------------- cross-task heat-maps

def _matrix(per_source: Mapping[str, Mapping[str, Any]], method: str, sources: list[str],
            targets: list[str]) -> np.ndarray:
    """Source x target scores of one method; NaN where the evaluation has not run."""
    return np.array([[_num(((per_source.get(src) or {}).get(method) or {}).get(dst))
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
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=_OTHER_SCALE,
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
        ax.set_title(f"{prefix}{_method_label(method)}", fontsize=9)
        if not np.isfinite(mats[method]).any():
            _no_data(ax)
            continue
        images.append(_heatmap(ax, mats[method], sources, targets, "viridis", norm,
                               other=others[method]))
    if images:
        fig.colorbar(images[0], ax=list(axes[:len(methods)]), shrink=0.85, label=metric)
    if diff:
        _diff_panel(fig, axes[len(methods)], mats[diff[0]] - mats[diff[1]], sources, targets,
                    f"{prefix}{_method_label(diff[0])} − {_method_label(diff[1])}", metric,
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
        _no_data(ax)
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
    methods_of = {m: _method_order(k for src in (scores[m] or {}).values()
                                   for k in (src or {})) for m in models}
    ncols = max([len(ms) + bool(diff and set(diff) <= set(ms)) for ms in methods_of.values()]
                or [1])
    ntasks = max([len(scores[m] or {}) for m in models] or [1])
    with plt.rc_context(STYLE):
        fig, axes = _panels(max(len(models), 1), ncols, max(2.8, 1.0 + 0.85 * ntasks),
                            max(2.2, 0.7 + 0.7 * ntasks))
        scales: set[str] = set()
        for row, model in zip(axes, models, strict=False):
            ms = methods_of[model]
            use_diff = diff if diff and set(diff) <= set(ms) else None
            if not ms:
                _no_data(row[0])
            else:
                _cross_task_row(fig, row, model, scores[model], ms, use_diff,
                                len(models) > 1, metric, scales)
            for ax in row[len(ms) + bool(use_diff):]:
                ax.set_visible(False)
        if not models:
            _no_data(axes[0][0], empty_text)
        _figure_legend(fig, _scale_handles(scales, scale_labels, kind="hatched"))
        _suptitle(fig, title or f"Cross-task transfer ({metric}); bold: in-task")
        _save(fig, path)
    return fig


# ----------------------------------------------------------------- ALOE by round

def _round_means(per_round: Sequence[dict] | None) -> dict[int, float]:
    return {int(r["round"]): _num(r.get("mean")) for r in per_round or () if "round" in r}


def _aloe_panel(ax, per_task: Mapping[str, Mapping[str, Any]], tasks: list[str], rounds: int,
                handles: dict, summary_from: int) -> None:
    """One line per (source task, method): colour = task, line style = method."""
    missing = []
    for task in per_task:
        color = TASK_COLORS[tasks.index(task) % len(TASK_COLORS)]
        for method in _method_order(per_task[task] or {}):
            means = _round_means(per_task[task][method])
            ys = [means.get(k, math.nan) for k in range(1, rounds + 1)]
            if all(math.isnan(y) for y in ys):
                missing.append(f"{task} {_method_label(method)}")
                continue
            ax.plot(range(1, rounds + 1), ys, color=color, ls=_style(method),
                    marker="o", ms=3.5, lw=1.5)
            handles["task"].setdefault(task, Line2D([], [], color=color, lw=2, label=task))
            handles["method"].setdefault(method, Line2D(
                [], [], color="k", ls=_style(method), label=_method_label(method)))
    if not any(ax.get_lines()):
        _no_data(ax)
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
        fig, axes = _panels(1, max(len(models), 1), 4.8, 3.2, sharey=True)
        handles: dict[str, dict] = {"task": {}, "method": {}}
        for ax, model in zip(axes[0], models, strict=False):
            ax.set_title(model, fontsize=9)
            _aloe_panel(ax, scores[model] or {}, tasks, rounds, handles, summary_from)
            ax.set_xlabel("round k")
        if not models:
            _no_data(axes[0][0], empty_text)
        axes[0][0].set_ylabel("judge score (1-5)")
        methods = [handles["method"][k] for k in _method_order(handles["method"])]
        _figure_legend(fig, [*handles["task"].values(), *methods])
        _suptitle(fig, title or "ALOE: alignment score by conversation round")
        _save(fig, path)
    return fig
