"""Figures (matplotlib, PNG), one function per figure, one consistent style.

Each function takes already-loaded results (dicts / lists from results/) and a path, so it can
be called from the pipeline's figure rules or from a notebook.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: figures are files
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402

METHOD_LABELS = {"percontrast": "PerContrast (PIR)", "word_matching": "Word matching",
                 "llm_judge": "LLM-as-judge"}
METHOD_COLORS = {"percontrast": "#d1495b", "word_matching": "#8d99ae", "llm_judge": "#00798c"}
STYLE = {"figure.dpi": 150, "savefig.dpi": 150, "axes.spines.top": False,
         "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "font.size": 10}


def _save(fig, path: str | os.PathLike) -> None:
    """Write atomically: a killed job never leaves a truncated PNG."""
    from percontrast.io import atomic_open

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", bbox_inches="tight")
    plt.close(fig)


def pir_classification_bars(results: dict[str, dict], path: str | os.PathLike) -> None:
    """Figure 4: precision / recall / F1 of the three methods, one panel per PIR model.

    ``results``: model name -> classification.json content.
    """
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.4),
                                 squeeze=False)
        for ax, (model, cls) in zip(axes[0], results.items(), strict=True):
            methods = [m for m in METHOD_LABELS if cls.get(m)]
            width = 0.8 / len(methods)
            for i, method in enumerate(methods):
                vals = [cls[method][k] for k in ("precision", "recall", "f1")]
                xs = [x + (i - (len(methods) - 1) / 2) * width for x in range(3)]
                bars = ax.bar(xs, vals, width, label=METHOD_LABELS[method],
                              color=METHOD_COLORS[method])
                ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
            ax.set_xticks(range(3), ["Precision", "Recall", "F1"])
            ax.set_ylim(0, 1.08)
            ax.set_title(f"{model}: personal-token identification\n"
                         f"(PIR > {cls.get('threshold', 1)}, {cls['percontrast']['n_tokens']} "
                         "tokens)", fontsize=9)
        axes[0][0].legend(fontsize=8, loc="upper left")
        _save(fig, path)


PIR_BINS = (float("-inf"), -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 5.0, float("inf"))


def _bin_label(lo: float, hi: float) -> str:
    if lo == float("-inf"):
        return f"≤{hi:g}"
    if hi == float("inf"):
        return f">{lo:g}"
    return f"({lo:g}, {hi:g}]"


def pir_histogram(tokens: Sequence[dict], threshold: float, path: str | os.PathLike,
                  title: str = "") -> None:
    """Figure 5: tokens per PIR range, split into correctly and incorrectly classified.

    A token is correctly classified when (PIR > threshold) equals its gold label.
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


def pir_heatmap(answers: Sequence[Sequence[dict]], path: str | os.PathLike,
                title: str = "", vmax: float = 4.0) -> None:
    """Figure 2 style: answers as rows of tokens coloured by PIR; gold keywords underlined.

    ``answers``: per answer, its token dicts (token, pir, gold) in order.
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
