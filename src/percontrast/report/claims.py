"""results/claims.md: each headline claim of the paper, this run's evidence, a computed verdict.

A reproduction is judged by one question per claim: does it hold here, and how sure are we? Each
:class:`Claim` holds the paper's number (derived from ``paper_results.yaml``, never typed), this
run's statistic with its bootstrap interval and n (:mod:`percontrast.stats`, over the per-example
scores the result files keep), and a verdict computed from them (:func:`verdict`):

* **holds** — the interval lies entirely on the claimed side of 0;
* **contradicted** — it lies entirely on the other side;
* **inconclusive** — it contains 0 (at this scale the data cannot tell);
* **not run** — a result file it needs does not exist (listed).

Claims whose stage the config runs only at pipeline scale (``report.pipeline_scale``) say so:
their verdict describes this run, not the paper's setting.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from percontrast import config as pc
from percontrast import layout, pir_methods, plan
from percontrast.data import registry
from percontrast.metrics import example_scores
from percontrast.ranking import (
    answer_bootstrap,
    average_precision,
    best_threshold,
    recall_by_group,
    weighted_f1,
)
from percontrast.report import escape
from percontrast.report.arm_claims import (
    control_claims,
    marker_claims,
    reply_shape_claims,
    spc_claims,
)
from percontrast.report.evidence import Evidence, aligned
from percontrast.report.gains import bootstrap_settings, comparison
from percontrast.report.paper_numbers import (
    paper_aloe,
    paper_average_gain,
    paper_cross_task,
    paper_lr_variance,
    paper_pir,
    paper_task_gains,
)
from percontrast.report.results import label
from percontrast.report.verdicts import (  # noqa: F401  (the vocabulary, as claims.* too)
    CONTRADICTED,
    HOLDS,
    INCONCLUSIVE,
    NOT_RUN,
    VERDICTS,
    Claim,
    holm,
    holm_summary,
    p_text,
    two_sided_p,
    verdict,
)
from percontrast.stats import bootstrap

#: PerCE's step time over CE's that still counts as a small extra cost (a 10% budget).
COST_BUDGET = 1.10


# --------------------------------------------------------------------------- our side

def _rel_gain(a, b, axis=-1):
    base = np.mean(a, axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.mean(b, axis=axis) - base) / base


def average_gain_claims(ev: Evidence, metric: str, name: str) -> list[Claim]:
    cfg = ev.cfg
    out = []
    for model in cfg["models"]:
        c = Claim(f"table1_avg_{metric}_{model}", "table1",
                  f"PerCE > CE on average {name} over the tasks ({label(cfg, 'model', model)}, "
                  "best LR per method)", "Table 1", paper_average_gain(metric), "%")
        out.append(c)
        main = cfg["training"]["main_learning_rate"]
        if all(plan.grid_learning_rates(cfg, m) == [main] for m in ("ce", "perce")):
            # one LR: the best is the main run, which has the training seeds
            with ev.claim(c):
                g = ev.gain([(plan.main_run(cfg, model, t, "ce"),
                              plan.main_run(cfg, model, t, "perce"), t) for t in cfg["tasks"]],
                            metric, relative=True)
                if g is not None:
                    c.estimate, c.covers = g.estimate, g.covers
            continue
        with ev.claim(c):
            ce = [ev.best(model, t, "ce") for t in cfg["tasks"]]
            perce = [ev.best(model, t, "perce") for t in cfg["tasks"]]
            comp = comparison(cfg, ce, perce, metric)
            c.estimate = comp.rel if comp else None
        ev.covers_examples(c)
    return out


def _long_task_label(task_type: str) -> str | None:
    """The paper's label of a LongLaMP task type (PAG, PRW, PTW), None for any other."""
    record = registry.task_type(task_type)
    return record.label if record.benchmark == registry.LONGLAMP else None


def task_gain_claims(ev: Evidence) -> list[Claim]:
    """Larger gains on PRW/PTW than on PAG: mean of their relative ROUGE-L gains minus PAG's."""
    cfg = ev.cfg
    by_label = {_long_task_label(cfg["task_registry"][t]["type"]): t for t in cfg["tasks"]}
    out = []
    for model in cfg["models"]:
        c = Claim(f"table1_prw_ptw_over_pag_{model}", "table1",
                  "PerCE's gain over CE is larger on PRW and PTW than on PAG (ROUGE-L, "
                  f"{label(cfg, 'model', model)})", "Table 1", paper_task_gains(), "pts")
        out.append(c)
        if not all(k in by_label for k in ("PAG", "PRW", "PTW")):
            c.note = "needs the three LongLaMP-type tasks (PAG, PRW, PTW) in `tasks`"
            continue
        with ev.claim(c):
            files = [(ev.best(model, by_label[x], "ce"), ev.best(model, by_label[x], "perce"))
                     for x in ("PRW", "PTW", "PAG")]
            if all(ce is not None and perce is not None for ce, perce in files):
                parts = [ev.distribution(aligned([example_scores(ce, "rouge_l"),
                                                   example_scores(perce, "rouge_l")]), _rel_gain)
                         for ce, perce in files]
                c.estimate = ev.combine(parts, lambda v: (v[0] + v[1]) / 2 - v[2])
        ev.covers_examples(c, "test examples of the three tasks (each resampled on its own)")
    return out


def lr_variance_claims(ev: Evidence) -> list[Claim]:
    """PerCE less sensitive to the LR: CE's variance over the grid minus PerCE's, task mean."""
    cfg = ev.cfg
    tr = cfg["training"]
    lrs = [lr for lr in plan.grid_learning_rates(cfg, "ce")
           if lr in plan.grid_learning_rates(cfg, "perce")]
    out = []
    for model in cfg["models"]:
        c = Claim(f"table2_lr_variance_{model}", "table2",
                  "PerCE is less sensitive to the learning rate than CE: CE's ROUGE-L variance "
                  f"over the LR grid minus PerCE's, x1e-4, mean over tasks "
                  f"({label(cfg, 'model', model)}, {len(lrs)} LRs)", "Table 2",
                  paper_lr_variance(), "x1e-4")
        out.append(c)
        if len(lrs) < 2:
            c.note = "needs at least two learning rates run by both CE and PerCE"
            continue
        k = len(lrs)

        def var_gap(*arrays, axis=-1, k=k):
            means = np.stack([np.mean(a, axis=axis) for a in arrays])
            return (np.var(means[:k], axis=0) - np.var(means[k:], axis=0)) * 1e4

        with ev.claim(c):
            maps = {task: [ev.scores(plan.TrainRun(model, task, method, lr, *tr["clip"]), task,
                                     "rouge_l") for method in ("ce", "perce") for lr in lrs]
                    for task in cfg["tasks"]}
            if all(m is not None for ms in maps.values() for m in ms):
                parts = [ev.distribution(aligned(ms), var_gap) for ms in maps.values()]
                c.estimate = ev.combine(parts, lambda v: np.mean(v, axis=0))
        ev.covers_examples(c, "test examples per task (every LR's run on the same ones)")
    return out


def cross_task_claims(ev: Evidence) -> list[Claim]:
    """PerCE >= CE off the diagonal: mean over target tasks of the mean PerCE - CE ROUGE-L over
    the other source tasks, resampling each target's test examples."""
    cfg = ev.cfg
    evaluation = cfg["evaluation"]
    models = evaluation.get("cross_task_models", []) if evaluation.get("cross_task") else []
    out = []

    def off_diag(*arrays, axis=-1):
        diffs = [np.mean(arrays[i + 1], axis=axis) - np.mean(arrays[i], axis=axis)
                 for i in range(0, len(arrays), 2)]
        return np.mean(diffs, axis=0)

    for model in models or cfg["models"][:1]:
        c = Claim(f"table3_off_diagonal_{model}", "table3",
                  "PerCE >= CE when trained on one task and evaluated on another (ROUGE-L "
                  f"difference off the diagonal, {label(cfg, 'model', model)})",
                  "Tables 3 and 8", paper_cross_task(), "ROUGE-L")
        out.append(c)
        if not models or len(cfg["tasks"]) < 2:
            c.note = "cross-task evaluation is off in this config"
            continue
        with ev.claim(c):
            maps = {dst: [ev.scores(plan.main_run(cfg, model, src, m), dst, "rouge_l")
                          for src in cfg["tasks"] if src != dst for m in ("ce", "perce")]
                    for dst in cfg["tasks"]}
            if all(m is not None for ms in maps.values() for m in ms):
                parts = [ev.distribution(aligned(ms), off_diag) for ms in maps.values()]
                c.estimate = ev.combine(parts, lambda v: np.mean(v, axis=0))
        ev.covers_examples(c, "test examples per target task")
    return out


def _conversation_scores(transcripts: list[dict], rounds: int) -> dict[str, float]:
    """Per conversation: mean judge score over the reported rounds (missing scores left out)."""
    from percontrast.aloe import reported_rounds

    shown = set(reported_rounds(rounds))
    out = {}
    for t in transcripts:
        vals = [turn["score"] for turn in t["turns"] if turn["round"] in shown
                and turn["score"] is not None]
        out[t["id"]] = sum(vals) / len(vals) if vals else math.nan
    return out


def aloe_claims(ev: Evidence) -> list[Claim]:
    cfg = ev.cfg
    aloe = pc.section_defaults("evaluation.aloe", cfg["evaluation"].get("aloe"))
    runs = plan.aloe_runs(cfg)
    out = []
    for model in dict.fromkeys([r.model for r in runs] or cfg["models"][:1]):
        c = Claim(f"table4_aloe_{model}", "table4",
                  "PerCE > CE in ALOE multi-turn conversations (judge score 1-5, rounds "
                  f"k=6..10, {label(cfg, 'model', model)})", "Tables 4 and 9", paper_aloe(),
                  "score")
        out.append(c)
        if not runs:
            c.note = "ALOE is off in this config"
            continue
        with ev.claim(c):
            maps = {}
            for task in dict.fromkeys(r.task for r in runs if r.model == model):
                for method in ("ce", "perce"):
                    run = plan.main_run(cfg, model, task, method)
                    ev._note_scale(run, task)
                    rows = ev.jsonl_file(layout.in_results("aloe_transcripts", ev.root, run))
                    maps.setdefault(task, []).append(
                        None if rows is None else _conversation_scores(rows,
                                                                       aloe["rounds"]))
            if all(m is not None for ms in maps.values() for m in ms):
                diff = lambda x, y, axis=-1: np.mean(y, axis=axis) - np.mean(x, axis=axis)  # noqa: E731
                parts = [ev.distribution(aligned(ms), diff) for ms in maps.values()]
                c.estimate = ev.combine(parts, lambda v: np.mean(v, axis=0))
        ev.covers_examples(c, "ALOE conversations")
    return out


def pir_claims(ev: Evidence) -> list[Claim]:
    """PerContrast finds personal tokens better than the paper's word matching (exact content
    words shared with the persona): token F1 at the run's threshold, F1 at a threshold chosen on
    dev answers (test answers only), and threshold-free average precision. Each a paired
    bootstrap over answers (:func:`claim_estimates`)."""
    cfg = ev.cfg
    cf = pc.section_defaults("pir", cfg["pir"])["counterfactual"]
    out = []
    for model in cfg["pir"]["models"]:
        where = f"persona {cf} in the counterfactual, {label(cfg, 'model', model)}"
        claims = {
            "f1": Claim(f"figure4_pir_f1_{model}", "figure4",
                        "PerContrast identifies personal tokens better than word matching "
                        f"(token F1 of PIR > {cfg['pir']['threshold']:g} minus the paper's word "
                        f"matching, {where})", "Figure 4 (appendix A)", paper_pir(), "F1"),
            "f1_dev": Claim(f"figure4_pir_f1_dev_{model}", "figure4",
                            "... also at a PIR threshold chosen on dev answers (token F1 on the "
                            f"other answers minus word matching's, {where})",
                            "Figure 4 (appendix A)", paper_pir(), "F1"),
            "ap": Claim(f"figure4_pir_ap_{model}", "figure4",
                        "... and without a threshold (average precision of PIR minus that of "
                        f"word matching as a 0/1 score, {where})", "Figure 4 (appendix A)",
                        "— (the paper reports P/R/F1 at PIR > 1 only)", "AP"),
        }
        out += claims.values()
        found: dict[str, Any] = {}
        for key, c in claims.items():
            with ev.claim(c):
                tokens = ev.jsonl_file(layout.in_results("pir_scores", ev.root, model=model))
                if not tokens:
                    continue
                found = found or claim_estimates(tokens, counterfactual=cf, boot=ev.boot)
                c.estimate = found[key]
                if c.estimate is not None:
                    c.covers = (f"{c.estimate.n} persona-QA answers resampled (paired, both "
                                "methods); no training (the prepared model scores them)")
                if c.estimate is None:
                    c.note = ("no threshold to choose: the dev answers hold no gold token, or "
                              "no answer is in the test split")
                elif key == "f1":
                    r = found["recall"]
                    c.note = ("recall on gold tokens whose word is in the persona / paraphrased: "
                              + "; ".join(f"{x.prose} {_share(r[x.name]['verbatim'])} / "
                                          f"{_share(r[x.name]['paraphrase'])}"
                                          for x in (pir_methods.PERCONTRAST,
                                                    pir_methods.WORD_MATCHING))
                              + f" (n = {r['percontrast']['verbatim']['n_gold']} / "
                                f"{r['percontrast']['paraphrase']['n_gold']})")
    return out


def claim_estimates(tokens: Sequence[dict], *, counterfactual: str, boot: dict[str, Any]
                    ) -> dict[str, Any]:
    """What :func:`pir_claims` says about PerContrast vs the paper's word matching, from the
    benchmark's token rows (``scores.jsonl``, :func:`percontrast.pir_benchmark.run_benchmark`),
    each a paired bootstrap over answers (:func:`percontrast.ranking.answer_bootstrap`):

    * ``f1``     — F1 of the ``percontrast`` labels (PIR > the run's threshold) minus F1 of
                   ``word_matching``, all answers;
    * ``f1_dev`` — the same with PIR's threshold chosen on the dev answers, test answers only;
                   None when the dev answers hold no gold token or no answer is a test answer;
    * ``ap``     — average precision of PIR minus that of word matching as a 0/1 score;
    * ``recall`` — per method, recall on verbatim and on paraphrased gold tokens.
    """
    from percontrast.pir_benchmark import KINDS  # the token rows' gold kinds

    ids = list(dict.fromkeys(t["id"] for t in tokens))
    index = {i: k for k, i in enumerate(ids)}
    answer_of = np.array([index[t["id"]] for t in tokens])
    gold = np.array([bool(t["gold"]) for t in tokens])
    labelled = np.array([bool(t["percontrast"]) for t in tokens])
    wm = np.array([bool(t["word_matching"]) for t in tokens])
    everyone = np.arange(len(ids))
    out: dict[str, Any] = {
        "f1": answer_bootstrap(
            answer_of, everyone,
            lambda w: weighted_f1(labelled, gold, w) - weighted_f1(wm, gold, w), boot),
        "f1_dev": None}
    pir = np.array([t[f"pir_{counterfactual}"] for t in tokens], dtype=float)
    test = np.array([t["split"] == "test" for t in tokens])
    if (~test).any() and gold[~test].any() and test.any():
        dev_pred = pir > best_threshold(pir[~test], gold[~test])
        out["f1_dev"] = answer_bootstrap(
            answer_of, np.unique(answer_of[test]),
            lambda w: weighted_f1(dev_pred, gold, w) - weighted_f1(wm, gold, w), boot)
    out["ap"] = answer_bootstrap(
        answer_of, everyone,
        lambda w: average_precision(pir, gold, w) - average_precision(wm.astype(float), gold, w),
        boot)
    kinds = np.array([t["kind"] or "" for t in tokens])
    out["recall"] = {"percontrast": recall_by_group(labelled, gold, kinds, KINDS),
                     "word_matching": recall_by_group(wm, gold, kinds, KINDS)}
    return out


def _share(kind: dict) -> str:
    return "—" if kind["recall"] is None else f"{kind['recall']:.0%}"


def cost_claims(ev: Evidence) -> list[Claim]:
    """PerCE's extra step cost is small: PerCE's mean step time over CE's within COST_BUDGET.

    ``bench_step`` trains both methods on the same batches in the same order, so step ``i`` of
    one method and step ``i`` of the other process the same examples. Their step times vary
    with the examples' lengths far more than between the methods, so the steps are resampled
    *paired* (the same resampled steps for both). A file whose methods measured different step
    counts falls back to resampling each method's steps on its own, with medians."""
    c = Claim("bench_step_cost", "bench",
              f"PerCE's extra cost per training step is small (PerCE / CE mean step time on the "
              f"same batches below {COST_BUDGET:.2f}; shown: the ratio minus {COST_BUDGET:.2f})",
              "Section 4 (Training Efficiency), table 6",
              "one extra grad-free forward on the persona-free prompt (96 vs 1364 prompt "
              "tokens, table 6)", "ratio", direction=-1)
    with ev.claim(c):
        bench = ev.json_file(layout.in_results("bench_step", ev.root))
        if bench is None:
            c.note = ("the rule bench_step writes it (`bench.enabled`), or run "
                      "`python scripts/bench_step.py --methods ce perce`")
        else:
            ce, perce = (measured_steps(bench, m) for m in ("ce", "perce"))
            if len(ce) == len(perce):
                c.covers = (f"{len(ce)} measured steps (warm-up left out) resampled paired: "
                            "the same batches for both methods; one benchmark run")
                c.estimate = bootstrap(
                    [ce, perce], lambda a, b, axis=-1: np.mean(b, axis=axis)
                    / np.mean(a, axis=axis) - COST_BUDGET, paired=True, **ev.boot)
            else:
                c.covers = (f"{len(ce)} CE and {len(perce)} PerCE measured steps (warm-up left "
                            "out), resampled independently; one benchmark run")
                c.estimate = bootstrap(
                    [ce, perce], lambda a, b, axis=-1: np.median(b, axis=axis)
                    / np.median(a, axis=axis) - COST_BUDGET, paired=False, **ev.boot)
            ratio = c.estimate.value + COST_BUDGET
            c.note = (f"{bench.get('model')} on {bench['methods']['ce'].get('device', '?')}, "
                      f"PerCE / CE = {ratio:.3f}")
    return [c]


def measured_steps(bench: dict, method: str) -> list[float]:
    """A method's step times after each repeat's warm-up (``measured_step_times_s``, as
    ``scripts/bench_step.py`` writes them)."""
    return list(bench["methods"][method]["measured_step_times_s"])


def build_claims(cfg: dict[str, Any], root: str | os.PathLike = "results") -> list[Claim]:
    """Every claim the config can speak to, in the order of the paper."""
    ev = Evidence(cfg, root)
    claims = [*average_gain_claims(ev, "rouge_l", "ROUGE-L"),
              *average_gain_claims(ev, "meteor", "METEOR"), *task_gain_claims(ev),
              *lr_variance_claims(ev), *cross_task_claims(ev), *aloe_claims(ev),
              *pir_claims(ev), *cost_claims(ev), *spc_claims(ev), *marker_claims(ev),
              *control_claims(ev), *reply_shape_claims(ev)]
    small = set(cfg.get("report", {}).get("pipeline_scale", []))
    for c in claims:
        c.pipeline_scale = c.pipeline_scale or c.stage in small
    holm(claims, confidence=ev.boot["confidence"])
    return claims


# --------------------------------------------------------------------------- rendering

def _cell(text: str) -> str:
    return escape.markdown(text)


def render_markdown(cfg: dict[str, Any], claims: Sequence[Claim]) -> str:
    b = bootstrap_settings(cfg)
    counts = {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
    lines = [f"# Claims: does the paper hold here? ({cfg['run_name']})", "",
             f"Config `{cfg['run_name']}`: "
             f"{escape.markdown(' '.join(cfg.get('description', '').split()))}", "",
             "Verdicts are computed from the result files by `percontrast.report.claims`: "
             f"**holds** when the {b['confidence']:.0%} paired-bootstrap interval "
             f"({b['n_resamples']} resamples over the same test examples, seed {b['seed']}) "
             "lies on the claimed side of 0, **contradicted** when it lies on the other side, "
             "**inconclusive** when it contains 0, **not run** when a result is missing.", "",
             "Summary: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n), "",
             f"Holm: {holm_summary(claims, b['confidence'])}", "",
             "| # | Claim | Source | Paper | This run [95% CI] | n | Interval covers | Verdict "
             "| Holm-adjusted |",
             "|---|---|---|---|---|---|---|---|---|"]
    for i, c in enumerate(claims, 1):
        scale = " (pipeline scale)" if c.pipeline_scale else ""
        n = str(c.estimate.n) if c.estimate else "—"
        unit = {"%": "relative", "pts": "points x100"}.get(c.unit, c.unit)
        adjusted = ("—" if c.holm_verdict is None
                    else f"{c.holm_verdict} (p {p_text(c.holm_p, b['n_resamples'])})")
        lines.append(f"| {i} | {_cell(c.statement)} | {c.source} | {_cell(c.paper)} | "
                     f"{c.ours()} ({unit}) | {n} | {_cell(c.covers) or '—'} | "
                     f"**{c.verdict}**{scale} | {adjusted} |")
    notes = [(i, c) for i, c in enumerate(claims, 1) if c.note or c.missing]
    if notes:
        lines += ["", "Notes:", ""]
        for i, c in notes:
            text = c.note
            if c.missing:
                shown = ", ".join(f"`{m}`" for m in c.missing[:4])
                text += ("; " if text else "") + f"missing {len(c.missing)}: {shown}" + (
                    " ..." if len(c.missing) > 4 else "")
            lines.append(f"- {i}: {escape.one_line(text)}")
    if any(c.pipeline_scale for c in claims):
        lines += ["", "(pipeline scale): the config runs this stage only to exercise the "
                  "pipeline (see `report.pipeline_scale`); its verdict describes this run, "
                  "not the paper's setting."]
    return "\n".join(lines) + "\n"


def write_claims(cfg: dict[str, Any], root: str | os.PathLike, md_path: str | os.PathLike,
                 json_path: str | os.PathLike) -> list[Claim]:
    """Build the claims and write ``claims.md`` and ``claims.json`` (each atomically)."""
    from percontrast.io import write_json, write_text

    claims = build_claims(cfg, root)
    write_json(json_path, {"run_name": cfg["run_name"], "bootstrap": bootstrap_settings(cfg),
                           "claims": [c.to_dict() for c in claims]})
    write_text(md_path, render_markdown(cfg, claims))
    return claims
