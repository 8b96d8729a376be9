"""Training curves, the E-step on marker tokens, LR robustness, cross-task heat-maps and ALOE by
round (rule figures).

Reads only results/ files of runs in the config's grid (percontrast.config), so a figure can never
show a run the DAG does not make; runs that have not finished yet are drawn as "no data yet".
"""

import argparse
import logging
from pathlib import Path
from typing import Any

from percontrast import config as pc
from percontrast.cli import json_arg, run, setup
from percontrast.io import DataError, read_json, read_jsonl
from percontrast.report import figures
from percontrast.report.tables import Results, _label

log = logging.getLogger("make_figures")


def _json(path: Path) -> Any:
    """A results file, or None while its run has not produced it (or it is unreadable)."""
    if not path.is_file():
        return None
    try:
        return read_json(path)
    except DataError as err:
        log.warning("skipping %s", err)
        return None


def _rouge_l(root: Path, run: pc.TrainRun, eval_task: str) -> float | None:
    metrics = _json(root / "metrics" / run.path / f"{eval_task}.json")
    return metrics.get("rouge_l") if metrics else None


def _log_rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    try:
        return read_jsonl(path)
    except DataError as err:  # e.g. a log still being written, read from a notebook
        log.warning("skipping %s", err)
        return []


def training_logs(cfg, root: Path) -> dict:
    """model -> task -> method -> log rows, at the main LR and clip only (readable curves).

    The LaMP and clip-grid runs are left out: they would triple the panels for runs that tables 5
    and 12 already summarise.
    """
    tr = cfg["training"]
    out: dict = {}
    for model in cfg["models"]:
        for task in cfg["tasks"]:
            per_method = out.setdefault(_label(cfg, "model", model), {}).setdefault(
                _label(cfg, "task", task), {})
            for method in tr["methods"]:
                run_ = pc.main_run(cfg, model, task, method)
                per_method[method] = _log_rows(root / "train" / run_.path / "log.jsonl")
    return out


def lr_scores(cfg, root: Path) -> dict:
    """model -> task -> method -> {lr: own-task ROUGE-L}, at the main clip (table 2).

    Each method at the learning rates it is trained at (pc.grid_learning_rates): a method
    outside ``lr_grid_methods`` is one point at the main LR, not a row of missing runs.
    """
    tr = cfg["training"]
    return {_label(cfg, "model", model): {
        _label(cfg, "task", task): {
            method: {lr: _rouge_l(root, pc.TrainRun(model, task, method, lr, *tr["clip"]), task)
                     for lr in pc.grid_learning_rates(cfg, method)}
            for method in tr["methods"]}
        for task in cfg["tasks"]}
        for model in cfg["models"]}


def cross_task_scores(cfg, root: Path) -> dict:
    """model -> source task -> method -> {target task: ROUGE-L} (tables 3/8)."""
    ev = cfg["evaluation"]
    if not ev.get("cross_task"):
        return {}
    methods = [m for m in ev.get("cross_task_methods", ["ce", "perce"])
               if m in cfg["training"]["methods"]]
    return {_label(cfg, "model", model): {
        _label(cfg, "task", src): {
            method: {_label(cfg, "task", dst): _rouge_l(root, pc.main_run(cfg, model, src, method),
                                                        dst)
                     for dst in cfg["tasks"]}
            for method in methods}
        for src in cfg["tasks"]}
        for model in ev.get("cross_task_models", [])}


def aloe_scores(cfg, root: Path) -> dict:
    """model -> source task -> method -> per_round list of results/aloe/{run}/scores.json."""
    out: dict = {}
    for run_ in pc.aloe_runs(cfg):
        scores = _json(Results(cfg, root).aloe_path(run_))
        out.setdefault(_label(cfg, "model", run_.model), {}).setdefault(
            _label(cfg, "task", run_.task), {})[run_.method] = (scores or {}).get("per_round")
    return out


def _count(nested: dict, present) -> tuple[int, int]:
    """(runs with data, runs expected) over a model -> task -> method nesting."""
    leaves = [v for per_task in nested.values() for per_method in per_task.values()
              for v in per_method.values()]
    return sum(1 for v in leaves if present(v)), len(leaves)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=json_arg, required=True, help="the pipeline config (JSON)")
    parser.add_argument("--results", default="results", help="results root to read")
    parser.add_argument("--out", required=True, help="figures folder")
    args = parser.parse_args()
    setup("make_figures")
    cfg = pc.validate_schema(args.config)
    pc.check_config(cfg)
    root, out = Path(args.results), Path(args.out)
    tr, ev = cfg["training"], cfg["evaluation"]
    main_lr, (lo, hi) = tr["main_learning_rate"], tr["clip"]

    logs = training_logs(cfg, root)
    figures.training_curves(logs, out / "training_curves.png", title=(
        f"Training at LR {pc.fmt_num(main_lr)}, clip [{pc.fmt_num(lo)}, {pc.fmt_num(hi)}]"))
    log.info("training_curves: %d/%d runs with a log", *_count(logs, bool))

    lrs = lr_scores(cfg, root)
    figures.lr_robustness(lrs, out / "lr_robustness.png", main_lr=main_lr)
    log.info("lr_robustness: %d/%d (model, task, method) LR series complete", *_count(
        lrs, lambda series: all(v is not None for v in series.values())))

    cross = cross_task_scores(cfg, root)
    figures.cross_task_heatmap(cross, out / "cross_task_heatmap.png",
                               empty_text="cross-task evaluation is off in this config")
    log.info("cross_task_heatmap: %d/%d (model, source, method) rows complete", *_count(
        cross, lambda row: all(v is not None for v in row.values())))

    figures.estep_markers(logs, out / "estep_markers.png", clip=(lo, hi), title=(
        f"Online E-step on the demo users' personal markers (LR {pc.fmt_num(main_lr)})"))
    log.info("estep_markers: %d/%d runs log marker-token statistics", *_count(
        logs, lambda rows: any("n_marker_tokens" in r for r in rows or [])))

    aloe = aloe_scores(cfg, root)
    figures.aloe_by_round(aloe, out / "aloe_by_round.png",
                          rounds=ev.get("aloe", {}).get("rounds"),
                          empty_text="ALOE evaluation is off in this config")
    log.info("aloe_by_round: %d/%d runs scored", *_count(aloe, bool))
    log.info("wrote 5 figures to %s", out)


if __name__ == "__main__":
    run(main)
