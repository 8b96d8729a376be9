"""The PIR benchmark's figures (rule ``pir_figures``): figure 2 (tokens coloured by PIR), figure 4
(precision / recall / F1 and the precision-recall curves) and figure 5 (PIR distribution).

Why a module of its own: these draw one model's token classification (classification.json and
the token rows of :mod:`percontrast.pir_benchmark`), not training runs, so they share only the
style (:mod:`.figure_style`) with the run figures. Each function takes already-loaded results
and a path, writes its PNG and returns its (closed) Figure, so what it drew can be checked on
its artists.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib import colors as mcolors

from percontrast import pir_methods
from percontrast.report.figure_style import STYLE, save


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
        save(fig, path)
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
        save(fig, path)
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
        save(fig, path)
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
        save(fig, path)
    return fig
