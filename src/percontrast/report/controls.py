"""Tables of the question "is it the tokens?": PerCE against its controls (table_controls) and
the shape of the replies behind ROUGE-L (table_reply_shape).

* ``table_controls``: per arm (each real-dialogue task; the demo tasks) and method (CE, PerCE,
  PerCE-shuffled, PerCE-normalized, whichever the config trains there), the arm's persona metric
  (persona words per reply on SPC, marker recall on the demo tasks) and ROUGE-L, each with its
  interval, and the training logs' mean token weight and the shares of response tokens whose
  weight sat at the clip's lower and upper bound. PerCE-shuffled has PerCE's weights in another
  order, so the same mean; PerCE-normalized has mean 1, as CE.
* ``table_reply_shape``: per arm and method, reply length in tokens, the share of replies that
  ran to ``max_new_tokens``, the share that repeats a persona sentence, ROUGE-L precision and
  recall apart, and ROUGE-L with each reply cut to its reference's length
  (:mod:`percontrast.reply_shape`).

Main runs (main LR and clip) on their own task; cells average the training seeds (each example's
score over the seeds, then its mean). The claims that decide these comparisons, with intervals
over seeds x examples, are in ``claims.md`` (:mod:`percontrast.report.arm_claims`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from percontrast import layout, plan
from percontrast.config import section_defaults
from percontrast.methods import LABELS, METHODS
from percontrast.report.results import Results, label
from percontrast.report.table_cells import annotated, seed_note, value
from percontrast.report.table_format import Table

#: A method's training-log statistics: (column header, log key).
WEIGHT_COLUMNS = (("mean weight", "weight_mean"), ("at clip min", "frac_clip_min"),
                  ("at clip max", "frac_clip_max"))
CONTROL_ARM_METHODS = ("ce", "perce", "perce_shuffled", "perce_normalized")


def arms(cfg: dict[str, Any]) -> list[tuple[str, str, list[str], list[str], str, str]]:
    """(model, arm label, tasks, methods, persona metric, its header) of each arm: every
    real-dialogue task, then the demo tasks together (those with marker ground truth)."""
    out = []
    dialogue = section_defaults("evaluation.dialogue", cfg["evaluation"].get("dialogue"))
    for model in dict.fromkeys(r.model for r in plan.dialogue_runs(cfg)):
        for task in dialogue["tasks"]:
            methods = [m for m in METHODS if m in dialogue["methods"]]
            out.append((model, label(cfg, "task", task), [task], methods, "persona_words",
                        "persona words"))
    demo = [t for t in cfg["tasks"] if cfg["task_registry"][t].get("source") == "demo"]
    for model in cfg["models"]:
        for task in demo:
            methods = [m for m in METHODS if m in cfg["training"]["methods"]]
            out.append((model, label(cfg, "task", task), [task], methods, "marker_recall",
                        "marker recall"))
    return out


def log_means(root: Path, runs: list[plan.TrainRun]) -> dict[str, float]:
    """The :data:`WEIGHT_COLUMNS` of the runs' training logs: token-weighted means over every
    logged step of every run (``response_tokens`` per row)."""
    from percontrast.io import read_jsonl

    sums = {key: 0.0 for _, key in WEIGHT_COLUMNS}
    tokens = 0.0
    for run in runs:
        path = layout.in_results("run_log", root, run)
        if not path.is_file():
            return {}
        for row in read_jsonl(path):
            n = row.get("response_tokens")
            if not n or any(not isinstance(row.get(k), (int, float)) for k in sums):
                continue
            tokens += n
            for key in sums:
                sums[key] += row[key] * n
    return {k: v / tokens for k, v in sums.items()} if tokens else {}


@annotated
def table_controls(cfg, root) -> Table:
    """PerCE against its controls, per arm (see the module docstring)."""
    t = Table("table_controls", "Is it the tokens? PerCE against PerCE-shuffled (its weights, "
              "permuted) and PerCE-normalized (its selection at CE's step size)",
              ["Model", "Arm", "Method", "n", "persona metric", "value", "ROUGE-L",
               *[h for h, _ in WEIGHT_COLUMNS]], fmt="{:.3f}", n_in_cells=False)
    res = Results(cfg, root, missing=t.missing)
    shown = 0
    for model, arm, tasks, methods, metric, header in arms(cfg):
        present = [m for m in CONTROL_ARM_METHODS if m in methods]
        if not any(m in present for m in ("perce_shuffled", "perce_normalized")):
            continue
        for method in present:
            run = plan.main_run(cfg, model, tasks[0], method)
            m = res.metrics(run, tasks[0])
            logs = log_means(Path(root), plan.seed_runs(cfg, run))
            t.rows.append([label(cfg, "model", model), arm, LABELS[method], m and m.get("n"),
                           header, value(cfg, m, metric, run, tasks[0]),
                           value(cfg, m, "rouge_l", run, tasks[0]),
                           *[logs.get(key) for _, key in WEIGHT_COLUMNS]])
            shown += 1
    if not shown:
        t.rows.append(["not run", *[""] * (len(t.header) - 1)])
        t.notes.append("Not run in this config: PerCE's controls (perce_shuffled, "
                       "perce_normalized in training.methods or evaluation.dialogue.methods).")
    t.notes.append("Mean weight and the shares at the clip bounds are token-weighted means over "
                   "every logged training step (log.jsonl) of every seed; a weight is at a bound "
                   "when within 1e-6 of it. PerCE-normalized's weights are rescaled after the "
                   "clip, so they rarely sit at its bounds.")
    t.notes += seed_note(cfg)
    t.missing = sorted(set(t.missing))
    return t


def _shape_means(root: Path, cfg, run: plan.TrainRun, task: str, records, missing
                 ) -> dict[str, float] | None:
    """Each reply-shape key's mean over the seeds' generations (None if one is missing)."""
    from percontrast.reply_shape import KEYS, seed_shape_scores

    seeds = seed_shape_scores(cfg, root, run, task, records, missing)
    if seeds is None:
        return None
    shapes = [shape for by_id in seeds for shape in by_id.values()]
    if not shapes:
        return {"n": 0}
    return {k: math.fsum(s[k] for s in shapes) / len(shapes) for k in KEYS} | {
        "n": len(shapes)}


@annotated
def table_reply_shape(cfg, root) -> Table:
    """Reply length, capped replies, persona repetition, ROUGE-L's precision / recall and
    length-matched ROUGE-L per arm and method (see the module docstring)."""
    from percontrast.data.records import read_records
    from percontrast.reply_shape import KEYS

    t = Table("table_reply_shape", "The shape of the replies: longer, or worse?",
              ["Model", "Arm", "Method", "n", "length (tokens)", "at max_new_tokens",
               "repeats a persona sentence", "ROUGE-L P", "ROUGE-L R",
               "ROUGE-L length-matched"], fmt="{:.3f}", n_in_cells=False)
    for model, arm, tasks, methods, _, _ in arms(cfg):
        path = layout.path("processed", task=tasks[0], split="test")
        if not path.is_file():
            t.missing.append(str(path))
            continue
        records = read_records(path)
        for method in methods:
            run = plan.main_run(cfg, model, tasks[0], method)
            means = _shape_means(Path(root), cfg, run, tasks[0], records, [])
            if means is None:
                t.missing.append(f"{run.path}/{tasks[0]}")
            t.rows.append([label(cfg, "model", model), arm, LABELS[method],
                           means and means["n"], *[means and means.get(k) for k in KEYS]])
    t.notes.append("Length: new tokens including the stop token. A reply repeats a persona "
                   "sentence when it holds at least 80% of one persona sentence's words (of 4 "
                   "or more) in order (ROUGE-L recall). Length-matched: ROUGE-L F of the reply "
                   "cut to its reference's length in words. Means over every seed's replies; "
                   "the intervals of the PerCE - CE comparison are in claims.md.")
    t.notes += seed_note(cfg)
    t.missing = sorted(set(t.missing))
    return t


def figure_controls(cfg, results, path):
    """Each arm's persona metric per method with its interval (table_controls as bars): is
    PerCE above PerCE-shuffled (the selection matters), and PerCE-normalized above CE (the
    selection alone helps)? Returns the Figure; ``fig.plotted`` holds what was drawn:
    ``{arm: {method label: (mean, low, high)}}``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from percontrast.methods import registry
    from percontrast.report.figure_style import STYLE, save

    table = table_controls(cfg, results)
    plotted: dict[str, dict[str, tuple]] = {}
    for row in table.rows:
        if row[0] == "not run":
            continue
        v = row[5]
        if v is None:
            continue
        arm = f"{row[1]} ({row[4]})"
        plotted.setdefault(arm, {})[row[2]] = (float(v), v.low, v.high)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, max(len(plotted), 1), figsize=(4.2 * max(len(plotted), 1),
                                                                    3.4), squeeze=False)
        by_label = {m.label: m for m in registry()}
        for ax, (arm, bars) in zip(axes[0], plotted.items(), strict=False):
            names = list(bars)
            means = [bars[n][0] for n in names]
            err = [[m - (lo if lo is not None else m) for m, (_, lo, _) in
                    zip(means, bars.values(), strict=True)],
                   [(hi if hi is not None else m) - m for m, (_, _, hi) in
                    zip(means, bars.values(), strict=True)]]
            ax.bar(range(len(names)), means, yerr=err, capsize=3,
                   color=[by_label[n].color for n in names])
            ax.set_xticks(range(len(names)), names, rotation=20, ha="right")
            ax.set_title(arm)
        if not plotted:
            axes[0][0].text(0.5, 0.5, "not run in this config", ha="center", va="center")
            axes[0][0].set_axis_off()
        fig.suptitle("PerCE against its controls (bars: mean over seeds and examples; "
                     "whiskers: 95% interval over examples)", fontsize=9)
        fig.tight_layout()
        fig.plotted = plotted
        save(fig, path)
    return fig

