"""Reading results/ for the report: one reader of every result file the tables, figures and
claims use, with the display labels they share.

Every file is found through :mod:`percontrast.layout` and read by :func:`read_result`, which
names the file when it is not valid JSON or holds a NaN/infinite number (a metric that silently
renders as ``nan`` is a wrong table, not a missing one). Files not written yet are ``None``: the
report of a half-finished DAG shows "missing runs" instead of failing.
"""

from __future__ import annotations

import logging
import math
import os
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

from percontrast import config as pc
from percontrast import layout
from percontrast.io import DataError, read_json, read_jsonl

if TYPE_CHECKING:  # tables imports this module
    from percontrast.report.tables import Table

log = logging.getLogger(__name__)


def _non_finite(obj: Any, where: str = "") -> str | None:
    """The key path of the first NaN or infinite number in ``obj``, if any."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return where or "(top level)"
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, list):
        items = enumerate(obj)
    else:
        return None
    for key, value in items:
        found = _non_finite(value, f"{where}.{key}" if where else str(key))
        if found:
            return found
    return None


def read_result(path: str | os.PathLike) -> Any:
    """A result file's content, or None while it does not exist. Raises DataError naming the
    file for invalid JSON and for a NaN or infinite number (naming its key)."""
    path = Path(path)
    if not path.is_file():
        return None
    found = read_json(path)
    bad = _non_finite(found)
    if bad:
        raise DataError(path, f"{bad} is not a finite number; rerun the job that wrote it")
    return found


def label(cfg, kind: str, name: str) -> str:
    """The display name of a model or task (its registry ``label``, else its key)."""
    registry = cfg["model_registry"] if kind == "model" else cfg["task_registry"]
    return registry.get(name, {}).get("label", name)


def point_gain(new: float | None, old: float | None) -> str | None:
    """A relative gain without an interval (``+3.10%``), for cells with no per-example scores
    (judge scores); None when either side is missing or the baseline is 0."""
    if new is None or old is None or old == 0:
        return None
    return f"{(new - old) / old * 100:+.2f}%"


def mean_or_none(values: list[float | None]) -> float | None:
    """The mean of complete values; None if any is missing (a partial mean would mislead)."""
    return statistics.fmean(values) if values and all(v is not None for v in values) else None


class Results:
    """Reads metrics files of the config's runs under a results root, remembering misses."""

    def __init__(self, cfg: dict[str, Any], root: str | os.PathLike = "results"):
        self.cfg, self.root = cfg, Path(root)

    def _json(self, path: Path) -> dict | None:
        return read_result(path)

    def aloe_path(self, run: pc.TrainRun) -> Path:
        return layout.in_results("aloe_scores", self.root, run)

    def judge_path(self, run: pc.TrainRun) -> Path:
        return layout.in_results("judge", self.root, run)

    def metrics_path(self, run: pc.TrainRun, eval_task: str) -> Path:
        return layout.in_results("metrics", self.root, run, eval_task=eval_task)

    def read(self, path: Path, run: pc.TrainRun, table: Table) -> dict | None:
        """A per-run results file, or None with the run listed as missing in ``table``."""
        found = self._json(path)
        if found is None:
            table.missing.append(run.path)
        return found

    def metrics(self, run: pc.TrainRun, eval_task: str, table: Table) -> dict | None:
        """A run's metrics on ``eval_task``; for a main run with several training seeds
        (``training.seeds``) on its own task, the seeds' files averaged (per example too)."""
        from percontrast.metrics import average_over_seeds

        runs = pc.seed_runs(self.cfg, run) if eval_task == run.task else [run]
        found = []
        for each in runs:
            found.append(self._json(self.metrics_path(each, eval_task)))
            if found[-1] is None:
                table.missing.append(f"{each.path}/{eval_task}")
        if any(f is None for f in found):
            return None
        return average_over_seeds(found, source=str(self.metrics_path(run, eval_task).parent))

    def best_lr_run(self, model: str, task: str, method: str, table: Table
                    ) -> tuple[pc.TrainRun | None, dict | None]:
        """The grid LR with the best own-task ROUGE-L (how the paper's table 1 was filled),
        among the full-scale runs when the config has pipeline-scale ones (a one-step run at
        another LR is no candidate for the headline table)."""
        tr = self.cfg["training"]
        best = (None, None)
        grid = [pc.TrainRun(model, task, method, lr, *tr["clip"])
                for lr in pc.grid_learning_rates(self.cfg, method)]
        for run in [r for r in grid if pc.is_full_scale(self.cfg, r)] or grid:
            m = self.metrics(run, task, table)
            if m is not None and (best[1] is None or m["rouge_l"] > best[1]["rouge_l"]):
                best = (run, m)
        return best


# --------------------------------------------------------------------------- figure inputs

def _run_log(root: Path, run: pc.TrainRun) -> list[dict]:
    """A run's training log rows; [] while it does not exist. A log that does not parse (still
    being written, read from a notebook) is skipped with a warning: curves are best effort."""
    path = layout.in_results("run_log", root, run)
    if not path.is_file():
        return []
    try:
        return read_jsonl(path)
    except DataError as err:
        log.warning("skipping %s", err)
        return []


def _rouge_l(root: Path, run: pc.TrainRun, eval_task: str) -> float | None:
    metrics = read_result(layout.in_results("metrics", root, run, eval_task=eval_task))
    return metrics.get("rouge_l") if metrics else None


def training_logs(cfg: dict[str, Any], root: str | os.PathLike) -> dict:
    """model -> task -> method -> log rows, at the main LR and clip only (readable curves).

    The LaMP and clip-grid runs are left out: they would triple the panels for runs that tables 5
    and 12 already summarise.
    """
    out: dict = {}
    for model in cfg["models"]:
        for task in cfg["tasks"]:
            per_method = out.setdefault(label(cfg, "model", model), {}).setdefault(
                label(cfg, "task", task), {})
            for method in cfg["training"]["methods"]:
                per_method[method] = _run_log(Path(root), pc.main_run(cfg, model, task, method))
    return out


def lr_scores(cfg: dict[str, Any], root: str | os.PathLike) -> dict:
    """model -> task -> method -> {lr: own-task ROUGE-L}, at the main clip (table 2).

    Each method at the learning rates it is trained at (pc.grid_learning_rates): a method
    outside ``lr_grid_methods`` is one point at the main LR, not a row of missing runs.
    """
    tr, root = cfg["training"], Path(root)
    return {label(cfg, "model", model): {
        label(cfg, "task", task): {
            method: {lr: _rouge_l(root, pc.TrainRun(model, task, method, lr, *tr["clip"]), task)
                     for lr in pc.grid_learning_rates(cfg, method)}
            for method in tr["methods"]}
        for task in cfg["tasks"]}
        for model in cfg["models"]}


def cross_task_scores(cfg: dict[str, Any], root: str | os.PathLike) -> dict:
    """model -> source task -> method -> {target task: ROUGE-L} (tables 3/8)."""
    ev, root = cfg["evaluation"], Path(root)
    if not ev.get("cross_task"):
        return {}
    methods = [m for m in ev.get("cross_task_methods", ["ce", "perce"])
               if m in cfg["training"]["methods"]]
    return {label(cfg, "model", model): {
        label(cfg, "task", src): {
            method: {label(cfg, "task", dst): _rouge_l(root, pc.main_run(cfg, model, src, method),
                                                       dst)
                     for dst in cfg["tasks"]}
            for method in methods}
        for src in cfg["tasks"]}
        for model in ev.get("cross_task_models", [])}


def aloe_scores(cfg: dict[str, Any], root: str | os.PathLike) -> dict:
    """model -> source task -> method -> per_round list of the run's ALOE scores file."""
    out: dict = {}
    for run in pc.aloe_runs(cfg):
        scores = read_result(layout.in_results("aloe_scores", root, run))
        out.setdefault(label(cfg, "model", run.model), {}).setdefault(
            label(cfg, "task", run.task), {})[run.method] = (scores or {}).get("per_round")
    return out


def count_present(nested: dict, present) -> tuple[int, int]:
    """(runs with data, runs expected) over a model -> task -> method nesting."""
    leaves = [v for per_task in nested.values() for per_method in per_task.values()
              for v in per_method.values()]
    return sum(1 for v in leaves if present(v)), len(leaves)
