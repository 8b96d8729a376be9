"""The paper's tables (1-7 and 10-12, figure 4 as a table), rendered from results/ only (never
typed in).

Why a module of its own: each builder here reproduces one published table from the runs the
config defines, with the layout the paper uses, so that its companion (:mod:`.compare`) can set
it against the published numbers cell by cell. This project's own tables are
:mod:`.own_tables`; the cells and rows all builders share are :mod:`.table_cells`.
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path
from typing import Any

from percontrast import config as pc
from percontrast import layout, pir_methods, plan
from percontrast.methods import CONTROL_METHODS, LABELS, METHODS, PAPER_METHODS, PERCE
from percontrast.precision import planned as planned_precision
from percontrast.report import results as rs
from percontrast.report.gains import notation
from percontrast.report.results import Results, Value
from percontrast.report.results import label as _label
from percontrast.report.results import mean_or_none as _mean
from percontrast.report.results import point_gain as _gain
from percontrast.report.table_cells import (
    annotated,
    average,
    bootstrap_gain_row,
    gain_cells,
    not_run_row,
    seed_note,
    value,
    worst_scale,
)
from percontrast.report.table_format import Table, not_run


def _add_gain_row(table: Table, prefix: list[Any], per_method: dict[str, list]) -> None:
    """The paper's Gain row from the cells alone (no per-example scores: tables 4, 10):
    PerCE over CE, per column, when both ran."""
    if "ce" in per_method and "perce" in per_method:
        table.rows.append([*prefix, "Gain", *[_gain(p, c) for p, c in zip(
            per_method["perce"], per_method["ce"], strict=True)]])


def _method_rows(cfg, table: Table, models: list[str], tasks: list[str], lookup,
                 scale: float = 1.0, methods: list[str] | None = None,
                 listed: list[str] | None = None) -> None:
    """Per model: one row per method of ROUGE-L and METEOR per task plus their averages, then
    the Gain row (tables 1 and 5). ``lookup(model, task, method)`` returns (run, metrics dict or
    None). ``listed`` methods outside ``methods`` (the ones this config trains) get a "not run"
    row, so a reader sees which the config leaves out."""
    metrics = ["rouge_l", "meteor"] * len(tasks) + ["rouge_l", "meteor"]
    methods = list(methods or cfg["training"]["methods"])
    for model in models:
        files: dict[str, list[list[dict | None]]] = {}
        for method in listed or methods:
            if method not in methods:
                table.rows.append([_label(cfg, "model", model), LABELS[method],
                                   *[not_run(cfg)] * len(metrics)])
                continue
            pairs = [lookup(model, task, method) for task in tasks]
            found = [m for _, m in pairs]
            vals: list[Value | None] = []
            for (run, m), task in zip(pairs, tasks, strict=True):
                vals += [value(cfg, m, "rouge_l", run, task, scale),
                         value(cfg, m, "meteor", run, task, scale)]
            complete = found if None not in found else []
            vals += [average(cfg, vals[0::2], complete, "rouge_l", scale),
                     average(cfg, vals[1::2], complete, "meteor", scale)]
            files[method] = [[m] for m in found for _ in range(2)] + [found, found]
            table.rows.append([_label(cfg, "model", model), LABELS[method], *vals])
        bootstrap_gain_row(cfg, table, [_label(cfg, "model", model)], files, metrics)


def _rouge_meteor_header(cfg, tasks: list[str]) -> list[str]:
    return (["Model", "Method"] + [f"{_label(cfg, 'task', x)} {m}" for x in tasks
                                   for m in ("ROUGE-L", "METEOR")]
            + ["Avg ROUGE-L", "Avg METEOR"])


# --------------------------------------------------------------------------- the tables

@annotated
def table1(cfg, root) -> Table:
    """Every method of the paper (:data:`percontrast.methods.PAPER_METHODS`), those the config
    does not train as "not run", and the controls the config trains."""
    t = Table("table1", "Table 1: ROUGE-L and METEOR per model, method and task "
              "(best learning rate of the grid)", _rouge_meteor_header(cfg, cfg["tasks"]))
    res = Results(cfg, root, missing=t.missing)
    _method_rows(cfg, t, cfg["models"], cfg["tasks"],
                 lambda model, task, method: res.best_lr_run(model, task, method),
                 listed=[*PAPER_METHODS, *[m for m in CONTROL_METHODS
                                           if m in cfg["training"]["methods"]]])
    t.notes.append("Each cell is the run of the learning-rate grid with the best own-task "
                   "ROUGE-L (the paper's table 1 matches the best rows of its table 2).")
    t.notes += seed_note(cfg)
    t.missing = sorted(set(t.missing))
    return t


@annotated
def table2(cfg, root) -> Table:
    tasks = cfg["tasks"]
    t = Table("table2", "Table 2: ROUGE-L across learning rates (mean; variance x1e-4)",
              ["Model", "Method", "LR", *[_label(cfg, "task", x) for x in tasks]])
    res = Results(cfg, root, missing=t.missing)
    tr = cfg["training"]
    for model in cfg["models"]:
        files: dict[str, dict[float, list[dict | None]]] = {}
        for method in [m for m in (PERCE, *[x for x in METHODS if x != PERCE])
                       if m in tr["methods"]
                       and len(plan.grid_learning_rates(cfg, m)) > 1]:
            columns: list[list[float | None]] = [[] for _ in tasks]
            for lr in plan.grid_learning_rates(cfg, method):
                row = []
                found = [res.metrics(plan.TrainRun(model, task, method, lr, *tr["clip"]), task)
                         for task in tasks]
                files.setdefault(method, {})[lr] = found
                for i, (m, task) in enumerate(zip(found, tasks, strict=True)):
                    run = plan.TrainRun(model, task, method, lr, *tr["clip"])
                    row.append(value(cfg, m, "rouge_l", run, task))
                    columns[i].append(row[-1])
                t.rows.append([_label(cfg, "model", model), LABELS[method],
                               plan.fmt_num(lr), *row])
            # over the grid: marked when any of its LRs ran at pipeline scale
            t.rows.append([_label(cfg, "model", model), LABELS[method], "Mean",
                           *[_summary(_mean(c), c) for c in columns]])
            t.rows.append([_label(cfg, "model", model), LABELS[method], "Variance x1e-4",
                           *[_summary(statistics.pvariance(c) * 1e4, c)
                             if c and None not in c and len(c) > 1 else None
                             for c in columns]])
        # PerCE against CE at each learning rate both ran with
        for lr in [x for x in files.get("perce", {}) if x in files.get("ce", {})]:
            t.rows.append([_label(cfg, "model", model), "Gain", plan.fmt_num(lr), *gain_cells(
                cfg, t, [[m] for m in files["ce"][lr]], [[m] for m in files["perce"][lr]],
                ["rouge_l"] * len(tasks))])
    t.notes.append("Variance is the population variance over the grid, scaled by 1e4 as in the "
                   "paper.")
    return t


def _summary(x: float | None, parts: list) -> Value | None:
    """A statistic over several cells (a grid mean or variance): no interval, no n, the worst
    scale of its parts."""
    return None if x is None else Value(x, scale=worst_scale(parts))


@annotated
def table3(cfg, root) -> Table:
    tasks = cfg["tasks"]
    t = Table("table3", "Tables 3 and 8: cross-task transfer (ROUGE-L); rows = source task, "
              "columns = target task",
              ["Model", "Source", "Method", *[_label(cfg, "task", x) for x in tasks]])
    res = Results(cfg, root, missing=t.missing)
    models = cfg["evaluation"].get("cross_task_models", []) if cfg["evaluation"].get(
        "cross_task") else []
    if not models:
        not_run_row(cfg, t, "cross-task evaluation (evaluation.cross_task, cross_task_models)")
    for model in models:
        for src in tasks:
            files = {}
            methods = cfg["evaluation"].get("cross_task_methods", ["ce", "perce"])
            for method in [m for m in methods if m in cfg["training"]["methods"]]:
                run = plan.main_run(cfg, model, src, method)
                found = [res.metrics(run, dst) for dst in tasks]
                files[method] = [[m] for m in found]
                t.rows.append([_label(cfg, "model", model), _label(cfg, "task", src),
                               LABELS[method], *[value(cfg, m, "rouge_l", run, dst)
                                                        for m, dst in zip(found, tasks,
                                                                          strict=True)]])
            bootstrap_gain_row(cfg, t, [_label(cfg, "model", model), _label(cfg, "task", src)],
                               files, ["rouge_l"] * len(tasks))
    t.notes.append("Runs at the main learning rate "
                   f"{plan.fmt_num(cfg['training']['main_learning_rate'])}; the paper's table 8 "
                   "(Llama3-8B) is the second model block.")
    return t


@annotated
def table5(cfg, root) -> Table:
    tasks = cfg["evaluation"].get("lamp_tasks", [])
    t = Table("table5", "Table 5: LaMP short-text tasks (x100)", _rouge_meteor_header(cfg, tasks),
              fmt="{:.2f}")
    res = Results(cfg, root, missing=t.missing)
    models = cfg["evaluation"].get("lamp_models", []) if tasks else []
    if not models or not plan.lamp_methods(cfg):
        not_run_row(cfg, t, "the LaMP tasks (evaluation.lamp_tasks, lamp_models)")
        return t

    def lookup(model, task, method):
        run = plan.main_run(cfg, model, task, method)
        return run, res.metrics(run, task)

    _method_rows(cfg, t, models, tasks, lookup, scale=100, methods=plan.lamp_methods(cfg))
    return t


def table6(cfg, root, data_root: str | os.PathLike = "data") -> Table:
    """Prompt length in tokens with and without persona, from the actual tokenizer."""
    from transformers import AutoTokenizer

    from percontrast.data.records import read_records
    from percontrast.prompts import encode_prompt, record_messages

    tasks = cfg["tasks"]
    model = cfg["models"][0]
    t = Table("table6", f"Table 6: prompt length in tokens ({_label(cfg, 'model', model)} "
              "tokenizer, test split)", ["Setting", *[_label(cfg, "task", x) for x in tasks],
                                         "Average"], fmt="{:.1f}")
    tok = AutoTokenizer.from_pretrained(Path(data_root) / "models" / model)
    kwargs = cfg["model_registry"][model].get("chat_template_kwargs")
    rows = {"w. Persona": [], "w.o. Persona": []}
    for task in tasks:
        path = Path(data_root) / "processed" / task / "test.jsonl"
        if not path.is_file():
            t.missing.append(str(path))
            rows["w. Persona"].append(None)
            rows["w.o. Persona"].append(None)
            continue
        records = read_records(path)
        for label, with_p in (("w. Persona", True), ("w.o. Persona", False)):
            rows[label].append(statistics.fmean(
                len(encode_prompt(tok, record_messages(r, with_persona=with_p), kwargs))
                for r in records))
    for label, vals in rows.items():
        t.rows.append([label, *vals, _mean(vals)])
    return t


def table7(cfg, root) -> Table:
    tr, gen = cfg["training"], cfg["generation"]
    t = Table("table7", "Table 7: hyperparameters of this run (from the config)",
              ["Hyperparameter", "Value"])
    batch = {_label(cfg, "model", m): cfg["model_registry"][m].get("batch_size",
                                                                   tr["batch_size"])
             for m in cfg["models"]}
    t.rows += [["Batch size", ", ".join(f"{k}: {v}" for k, v in batch.items())],
               ["Epoch", plan.fmt_num(tr["epochs"]) + (f" (max_steps {tr['max_steps']})"
                                                   if tr.get("max_steps", -1) > 0 else "")],
               ["Optimizer", "AdamW"],
               ["Learning rate", ", ".join(plan.fmt_num(x) for x in tr["learning_rates"])],
               ["AdamW betas", str(tuple(tr["adam_betas"]))],
               ["Warmup ratio", plan.fmt_num(tr["warmup_ratio"])],
               ["Max length", str(tr["max_length"])],
               ["Clip min / max", f"{plan.fmt_num(tr['clip'][0])} / {plan.fmt_num(tr['clip'][1])}"],
               ["Sampling temperature", plan.fmt_num(gen["temperature"])],
               ["Max new tokens", str(gen["max_new_tokens"])],
               ["Top-k retrieved profile entries", str(cfg["data"]["top_k"])],
               ["Retriever", cfg["data"]["retriever"]],
               ["Training seeds", ", ".join(str(s) for s in dict.fromkeys(
                   [cfg["seed"], *plan.training_seeds(cfg)]))],
               ["Training precision", _precisions_used(cfg, root)],
               ["Generation precision", planned_precision(gen.get("precision"),
                                                          cfg.get("device"))]]
    if tr.get("pipeline_scale"):
        full = ", ".join(LABELS[m] for m in tr.get("full_scale_methods", tr["methods"]))
        smoke = ", ".join(f"{k} {plan.fmt_num(v)}" for k, v in tr["pipeline_scale"].items())
        t.rows.append(["Pipeline-scale runs", f"{smoke} (all runs except the main-LR runs of "
                       f"{full} on the main tasks)"])
    return t


def _precisions_used(cfg, root) -> str:
    """The precisions the finished runs recorded (done.json), else what the config plans."""
    used = set()
    for run in plan.train_runs(cfg):
        done = layout.in_results("run_done", root, run)
        if done.is_file():
            used.add(str(rs.read_result(done).get("precision", "unknown")))
    if used:
        return ", ".join(sorted(used)) + " (as the runs recorded it, done.json)"
    return (planned_precision(cfg["training"].get("precision"), cfg.get("device"))
            + " (planned; no run has finished)")


@annotated
def table11(cfg, root) -> Table:
    qa = cfg["evaluation"].get("general_qa", {})
    tasks = qa.get("tasks", [])
    t = Table("table11", "Table 11: general QA (EM / F1 x100)",
              ["Model", "Train task", "Method", *[f"{_label(cfg, 'task', x)} {m}" for x in tasks
                                                  for m in ("EM", "F1")]], fmt="{:.1f}")
    res = Results(cfg, root, missing=t.missing)
    if not (tasks and qa.get("models") and qa.get("train_tasks") and qa.get("methods")):
        not_run_row(cfg, t, "general QA (evaluation.general_qa)")
    for model in qa.get("models", []):
        for src in qa.get("train_tasks", []):
            files = {}
            for method in qa.get("methods", []):
                run = plan.main_run(cfg, model, src, method)
                vals = []
                found = [res.metrics(run, task) for task in tasks]
                for m, task in zip(found, tasks, strict=True):
                    vals += [value(cfg, m, "em", run, task),  # x100 in the file
                             value(cfg, m, "f1", run, task)]
                files[method] = [[m] for m in found for _ in range(2)]
                t.rows.append([_label(cfg, "model", model), _label(cfg, "task", src),
                               LABELS[method], *vals])
            bootstrap_gain_row(cfg, t, [_label(cfg, "model", model), _label(cfg, "task", src)],
                               files, ["em", "f1"] * len(tasks), percent=False, digits=2)
    if any(row[2] == "Gain" for row in t.rows):
        t.notes.append(notation(cfg, "PerCE - CE in points (x100)"))
    return t


@annotated
def table12(cfg, root) -> Table:
    grid = cfg["training"].get("clip_grid", {})
    highs = grid.get("clip_max", [])
    t = Table("table12", "Table 12: PerCE ROUGE-L across clipping thresholds (rows: clip min, "
              "columns: clip max)", ["Model", "Task", "Clip min",
                                     *[f"max {plan.fmt_num(h)}" for h in highs]])
    res = Results(cfg, root, missing=t.missing)
    lr = grid.get("learning_rate")
    ce_at_lr = "ce" in cfg["training"]["methods"] and lr in plan.grid_learning_rates(cfg, "ce")
    if not (grid.get("models") and highs and grid.get("clip_min")
            and "perce" in cfg["training"]["methods"]):
        not_run_row(cfg, t, "the clipping grid (training.clip_grid)")
    for model in grid.get("models", []):
        for task in plan.clip_grid_tasks(cfg):
            ce = (res.metrics(plan.TrainRun(model, task, "ce", lr, *cfg["training"]["clip"]),
                              task) if ce_at_lr else None)
            for lo in grid.get("clip_min", []):
                runs = [plan.TrainRun(model, task, "perce", lr, lo, hi) for hi in highs]
                found = [res.metrics(run, task) for run in runs]
                lead = [_label(cfg, "model", model), _label(cfg, "task", task)]
                t.rows.append([*lead, plan.fmt_num(lo), *[value(cfg, m, "rouge_l", run, task)
                                                       for m, run in zip(found, runs,
                                                                         strict=True)]])
                if ce_at_lr:  # each clip setting against CE at the same learning rate
                    t.rows.append([*lead, f"Gain vs CE ({plan.fmt_num(lo)})", *gain_cells(
                        cfg, t, [[ce]] * len(highs), [[m] for m in found],
                        ["rouge_l"] * len(highs))])
    t.notes.append(f"Main runs use clip {cfg['training']['clip']}.")
    if ce_at_lr:
        t.notes.append(notation(cfg, f"PerCE at each clip setting over CE at LR "
                                     f"{plan.fmt_num(lr)}, in percent"))
    return t


def table_pir(cfg, root) -> Table:
    """Figure 4 as a table, with what makes its verdict an instrument reading: per method P/R/F1
    at the paper's operating point, threshold-free AP and ROC-AUC, and recall on gold tokens
    whose word is in the persona (verbatim) vs paraphrased; PIR under each counterfactual and
    at the dev-chosen threshold (P/R/F1 on test answers); both word-matching rules."""
    t = Table("table_pir", "PIR benchmark (figure 4): personal-token identification",
              ["Model", "Method", "Precision", "Recall", "F1", "AP", "ROC-AUC",
               "Recall verbatim", "Recall paraphrase", "Tokens"])
    names = {c.name: c.words for c in pir_methods.COUNTERFACTUALS}
    for model in cfg["pir"]["models"]:
        path = Path(root) / "pir" / model / "classification.json"
        if not path.is_file():
            t.missing.append(str(path))
            continue
        cls = json.loads(path.read_text())
        variants, baselines = cls.get("variants", {}), cls.get("baselines", {})
        cf = cls.get("counterfactual", "removed")

        def row(label, m, extra=None, model=model):
            extra = extra or {}
            kind = extra.get("recall_by_kind", {})
            t.rows.append([_label(cfg, "model", model), label, m["precision"], m["recall"],
                           m["f1"], extra.get("average_precision"), extra.get("roc_auc"),
                           kind.get("verbatim", {}).get("recall"),
                           kind.get("paraphrase", {}).get("recall"), str(m["n_tokens"])])

        row(f"PerContrast (PIR > {cls['threshold']:g}, {names.get(cf, cf)})", cls["percontrast"],
            variants.get(cf))
        for v, entry in variants.items():
            if v != cf:
                row(f"PerContrast (PIR > {cls['threshold']:g}, {names.get(v, v)})",
                    entry["at_threshold"], entry)
        for v, entry in variants.items():
            if "test_at_dev_threshold" in entry:
                row(f"PerContrast (PIR > {entry['dev_threshold']:.2f} from dev, "
                    f"{names.get(v, v)}; test answers)", entry["test_at_dev_threshold"])
        for method in pir_methods.BASELINES:
            if cls.get(method.name):
                row(pir_methods.baseline_label(method.name,
                                               with_lemmas="word_matching_lemma" in cls),
                    cls[method.name], baselines.get(method.name))
    if t.rows:
        t.notes.append("AP = average precision (area under the precision-recall curve); "
                       "binary methods are scored as 0/1. Verbatim: gold tokens whose word "
                       "occurs in the persona; paraphrase: the others. Bootstrap intervals of "
                       "every difference: classification.json `differences`, results/claims.md.")
    return t


def _diff(new: float | None, old: float | None) -> str | None:
    return None if new is None or old is None else f"{new - old:+.2f}"


@annotated
def table4(cfg, root) -> Table:
    """ALOE by source task: judge score (1-5) at rounds k = 6..10 and their average."""
    from percontrast.aloe import reported_rounds

    aloe = pc.section_defaults("evaluation.aloe", cfg["evaluation"].get("aloe"))
    ks = [f"k={k}" for k in reported_rounds(aloe["rounds"])]
    t = Table("table4", "Tables 4 and 9: ALOE cross-scenario transfer (judge score 1-5 per "
              "dialogue round)", ["Model", "Source", "Method", *ks, "Average"], fmt="{:.2f}")
    runs, res = plan.aloe_runs(cfg), Results(cfg, root, missing=t.missing)
    if not runs:
        not_run_row(cfg, t, "ALOE (evaluation.aloe)")
    for model in dict.fromkeys(r.model for r in runs):
        for task in dict.fromkeys(r.task for r in runs if r.model == model):
            per_method = {}
            for run in [r for r in runs if r.model == model and r.task == task]:
                found = res.read(res.aloe_path(run), run)
                summary = found and found["summary"]
                n_of = {f"k={r['round']}": r.get("n") for r in (found or {}).get("per_round")
                        or [] if "round" in r}
                scale = rs.scale_of(cfg, run, run.task)
                vals = [None if not summary or summary.get(k) is None else
                        Value(summary[k], n_of.get(k), scale=scale) for k in [*ks, "average"]]
                per_method[run.method] = vals
                t.rows.append([_label(cfg, "model", model), _label(cfg, "task", task),
                               LABELS[run.method], *vals])
            if "ce" in per_method and "perce" in per_method:
                t.rows.append([_label(cfg, "model", model), _label(cfg, "task", task), "Gain",
                               *[_diff(p, c) for p, c in zip(per_method["perce"],
                                                             per_method["ce"], strict=True)]])
    if aloe.get("enabled"):
        judge = cfg.get("llm", {}).get(aloe.get("judge"), {})
        t.notes.append(f"{aloe.get('n_profiles', 20) * aloe.get('n_personalities', 5)} "
                       f"conversations of {aloe.get('rounds', 10)} rounds per run; simulated "
                       f"user {aloe.get('user_simulator')!r}, judge {aloe.get('judge')!r} "
                       f"({judge.get('label', judge.get('model', '?'))}). Gain = PerCE - CE "
                       "(score points), as in the paper. Rounds without a parseable judge "
                       "score are excluded (counted in scores.json).")
    return t


@annotated
def table10(cfg, root) -> Table:
    """LLM-as-judge on the training tasks: personalization and quality, x20."""
    judge = pc.section_defaults("evaluation.llm_judge", cfg["evaluation"].get("llm_judge"))
    runs = plan.judge_runs(cfg)
    tasks = list(dict.fromkeys(r.task for r in runs))
    scale = judge["scale"]
    t = Table("table10", "Table 10: LLM-as-judge personalization and quality (1-5 scores "
              + ("x20)" if scale == "x20" else "mapped to 0-100)"),
              ["Model", "Method", *[f"{_label(cfg, 'task', x)} {m}" for x in tasks
                                    for m in ("Personalization", "Quality")],
               "Avg Personalization", "Avg Quality"], fmt="{:.2f}")
    res = Results(cfg, root, missing=t.missing)
    if not runs:
        not_run_row(cfg, t, "the LLM judge (evaluation.llm_judge)")
    for model in dict.fromkeys(r.model for r in runs):
        per_method = {}
        for method in dict.fromkeys(r.method for r in runs if r.model == model):
            vals = []
            for task in tasks:
                run = plan.main_run(cfg, model, task, method)
                found = res.read(res.judge_path(run), run)
                scale = rs.scale_of(cfg, run, task)
                vals += [None if not found or found.get(k) is None else
                         Value(found[k], found.get("n"), scale=scale)
                         for k in ("personalization", "quality")]
            vals += [_summary(_mean(vals[0::2]), vals[0::2]),
                     _summary(_mean(vals[1::2]), vals[1::2])]
            per_method[method] = vals
            t.rows.append([_label(cfg, "model", model), LABELS[method], *vals])
        _add_gain_row(t, [_label(cfg, "model", model)], per_method)
    if judge.get("enabled"):
        spec = cfg.get("llm", {}).get(judge.get("judge"), {})
        t.notes.append(f"Judge {judge.get('judge')!r} ({spec.get('label', spec.get('model', '?'))})"
                       f", appendix D.1 prompts, G-Eval protocol with {judge.get('samples', 1)} "
                       f"sample(s) per generation, first {judge.get('n', 100)} test generations "
                       "per run. Gain = PerCE over CE, in percent.")
    return t
