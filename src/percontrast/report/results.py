"""Reading results/ for the report: one reader of every result file the tables, figures and
claims use, with the display labels they share.

Every file is found through :mod:`percontrast.layout` and read by :func:`read_result`, which
names the file when it is not valid JSON or holds a NaN/infinite number (a metric that silently
renders as ``nan`` is a wrong table, not a missing one). Files not written yet are ``None``: the
report of a half-finished DAG shows "missing runs" instead of failing.

Every number read here can carry its provenance (:class:`Value`): the scale of the run and
evaluation it comes from (:func:`scale_of`) and its n. One DAG mixes two scales
(``training.pipeline_scale``), so a one-step run's score must never pass for a full-scale result
in a table cell, on a line of a figure or in a heat-map cell: the tables mark it, the figures draw
it hollow or hatched, and both say the setting (:func:`scale_setting`).
"""

from __future__ import annotations

import logging
import math
import os
import statistics
from pathlib import Path
from typing import Any

from percontrast import layout, plan
from percontrast.io import DataError, read_json, read_jsonl

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


#: Scale keys: a full-scale run and evaluation (""), a pipeline-scale training run (and so its
#: evaluations), a full-scale run evaluated at pipeline scale (the first n_test records).
FULL, PIPELINE, PIPELINE_EVAL = "", "pipeline", "pipeline-eval"
#: The mark a table cell of each scale gets (a footnote gives the setting).
SCALE_MARKS = {FULL: "", PIPELINE: "\u2020", PIPELINE_EVAL: "\u2021"}


class Value(float):
    """A number with its provenance: ``n`` (examples its mean is over), its interval
    (``low``, ``high``; None below :data:`percontrast.stats.MIN_EXAMPLES` or without per-example
    scores) and ``scale`` (:data:`FULL`, :data:`PIPELINE`, :data:`PIPELINE_EVAL`). It is a
    float, so sums, means and comparisons treat it as its value; tables and figures read the
    rest."""

    n: int | None
    low: float | None
    high: float | None
    scale: str

    def __new__(cls, value: float, n: int | None = None, low: float | None = None,
                high: float | None = None, scale: str = FULL) -> Value:
        obj = super().__new__(cls, value)
        obj.n, obj.low, obj.high, obj.scale = n, low, high, scale
        return obj

    def scaled(self, factor: float) -> Value:
        """The same number times ``factor`` (x100 tables), interval included."""
        return Value(float(self) * factor, self.n, None if self.low is None else self.low * factor,
                     None if self.high is None else self.high * factor, self.scale)

    def __reduce__(self):
        return (Value, (float(self), self.n, self.low, self.high, self.scale))

    def __repr__(self) -> str:
        return (f"Value({float(self)!r}, n={self.n}, low={self.low}, high={self.high}, "
                f"scale={self.scale!r})")


def scale_of(cfg: dict[str, Any], run: plan.TrainRun, eval_task: str) -> str:
    """The scale of one evaluation: :data:`PIPELINE` when the run trains at pipeline scale
    (:func:`percontrast.plan.is_full_scale`), :data:`PIPELINE_EVAL` when a full-scale run is
    evaluated on only the first test records (:func:`percontrast.plan.evaluation_limit`),
    else :data:`FULL`."""
    if not plan.is_full_scale(cfg, run):
        return PIPELINE
    if plan.evaluation_limit(cfg, run, eval_task) is not None:
        return PIPELINE_EVAL
    return FULL


def _plural(k: Any, word: str) -> str:
    return f"{plan.fmt_num(k)} {word}{'' if k == 1 else 's'}"


def scale_setting(cfg: dict[str, Any], scale: str = PIPELINE) -> str:
    """What ``scale`` means in this config, in words: ``training.pipeline_scale`` spelled out
    (e.g. "1 optimizer step, batch 1, first 4 test examples, 24 new tokens"); a
    :data:`PIPELINE_EVAL` evaluation has only the evaluation part."""
    small = cfg["training"].get("pipeline_scale") or {}
    train = []
    if "max_steps" in small:
        train.append(_plural(small["max_steps"], "optimizer step"))
    if "epochs" in small:
        train.append(_plural(small["epochs"], "epoch"))
    if "batch_size" in small:
        train.append(f"batch {small['batch_size']}")
    evaluate = []
    if "n_test" in small:
        evaluate.append(f"first {_plural(small['n_test'], 'test example')}")
        if "max_new_tokens" in small:
            evaluate.append(f"{small['max_new_tokens']} new tokens")
    parts = evaluate if scale == PIPELINE_EVAL else train + evaluate
    return ", ".join(parts) or "the full training and test settings"


def scale_label(cfg: dict[str, Any], scale: str) -> str:
    """A short label of a scale for a legend, a footnote or a CSV cell."""
    if scale == FULL:
        return "full scale"
    if scale == PIPELINE_EVAL:
        return f"full-scale run, pipeline-scale evaluation ({scale_setting(cfg, scale)})"
    return f"pipeline scale ({scale_setting(cfg, scale)})"


def scale_labels(cfg: dict[str, Any]) -> dict[str, str]:
    """:func:`scale_label` of every scale (what the figures' legends say)."""
    return {s: scale_label(cfg, s) for s in SCALE_MARKS}


def scale_notes(cfg: dict[str, Any], scales) -> list[str]:
    """The footnotes of the marks of ``scales`` (those other than full scale that occur)."""
    notes = []
    if PIPELINE in scales:
        notes.append(f"{SCALE_MARKS[PIPELINE]} pipeline scale: {scale_setting(cfg, PIPELINE)} "
                     "(training.pipeline_scale; the run exists to exercise this table, its "
                     "number is not a result at the config's scale). Unmarked cells are full "
                     "scale.")
    if PIPELINE_EVAL in scales:
        notes.append(f"{SCALE_MARKS[PIPELINE_EVAL]} full-scale run evaluated at pipeline scale: "
                     f"{scale_setting(cfg, PIPELINE_EVAL)} (training.pipeline_scale).")
    return notes


def not_run_config(cfg: dict[str, Any]) -> str:
    """The config that runs what this one leaves out (``report.not_run_config``)."""
    return (cfg.get("report") or {}).get("not_run_config", "configs/cpu-full.yaml")


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
    """Reads metrics files of the config's runs under a results root, remembering misses in
    :attr:`missing` (the runs and files not written yet, in reading order); a table passes its
    own list to collect them."""

    def __init__(self, cfg: dict[str, Any], root: str | os.PathLike = "results",
                 missing: list[str] | None = None):
        self.cfg, self.root = cfg, Path(root)
        self.missing: list[str] = [] if missing is None else missing

    def _json(self, path: Path) -> dict | None:
        return read_result(path)

    def aloe_path(self, run: plan.TrainRun) -> Path:
        return layout.in_results("aloe_scores", self.root, run)

    def judge_path(self, run: plan.TrainRun) -> Path:
        return layout.in_results("judge", self.root, run)

    def metrics_path(self, run: plan.TrainRun, eval_task: str) -> Path:
        return layout.in_results("metrics", self.root, run, eval_task=eval_task)

    def read(self, path: Path, run: plan.TrainRun) -> dict | None:
        """A per-run results file, or None with the run listed in :attr:`missing`."""
        found = self._json(path)
        if found is None:
            self.missing.append(run.path)
        return found

    def metrics(self, run: plan.TrainRun, eval_task: str) -> dict | None:
        """A run's metrics on ``eval_task``; for a main run with several training seeds
        (``training.seeds``) on its own task, the seeds' files averaged (per example too)."""
        from percontrast.metrics import average_over_seeds

        runs = plan.seed_runs(self.cfg, run) if eval_task == run.task else [run]
        found = []
        for each in runs:
            found.append(self._json(self.metrics_path(each, eval_task)))
            if found[-1] is None:
                self.missing.append(f"{each.path}/{eval_task}")
        if any(f is None for f in found):
            return None
        return average_over_seeds(found, source=str(self.metrics_path(run, eval_task).parent))

    def best_lr_run(self, model: str, task: str, method: str
                    ) -> tuple[plan.TrainRun | None, dict | None]:
        """The grid LR with the best own-task ROUGE-L (how the paper's table 1 was filled),
        among the full-scale runs when the config has pipeline-scale ones (a one-step run at
        another LR is no candidate for the headline table)."""
        tr = self.cfg["training"]
        best = (None, None)
        grid = [plan.TrainRun(model, task, method, lr, *tr["clip"])
                for lr in plan.grid_learning_rates(self.cfg, method)]
        for run in [r for r in grid if plan.is_full_scale(self.cfg, r)] or grid:
            m = self.metrics(run, task)
            if m is not None and (best[1] is None or m["rouge_l"] > best[1]["rouge_l"]):
                best = (run, m)
        return best


# --------------------------------------------------------------------------- figure inputs

def _run_log(root: Path, run: plan.TrainRun) -> list[dict]:
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


def _rouge_l(cfg: dict[str, Any], root: Path, run: plan.TrainRun, eval_task: str
             ) -> Value | None:
    """A run's ROUGE-L on ``eval_task`` with its n and scale (:class:`Value`), None while its
    metrics file does not exist: a figure draws each point as what it is."""
    metrics = read_result(layout.in_results("metrics", root, run, eval_task=eval_task))
    if not metrics or metrics.get("rouge_l") is None:
        return None
    return Value(metrics["rouge_l"], metrics.get("n"), scale=scale_of(cfg, run, eval_task))


class Rows(list):
    """A run's log rows with the run's ``scale`` (:func:`scale_of` on its own task)."""

    scale: str

    def __init__(self, rows=(), scale: str = FULL):
        super().__init__(rows)
        self.scale = scale


def training_logs(cfg: dict[str, Any], root: str | os.PathLike) -> dict:
    """model -> task -> method -> log rows (:class:`Rows`, with the run's scale), at the main
    LR and clip only (readable curves).

    The LaMP and clip-grid runs are left out: they would triple the panels for runs that tables 5
    and 12 already summarise.
    """
    out: dict = {}
    for model in cfg["models"]:
        for task in cfg["tasks"]:
            per_method = out.setdefault(label(cfg, "model", model), {}).setdefault(
                label(cfg, "task", task), {})
            for method in cfg["training"]["methods"]:
                run = plan.main_run(cfg, model, task, method)
                per_method[method] = Rows(_run_log(Path(root), run), scale_of(cfg, run, task))
    return out


def lr_scores(cfg: dict[str, Any], root: str | os.PathLike) -> dict:
    """model -> task -> method -> {lr: own-task ROUGE-L}, at the main clip (table 2); each
    score a :class:`Value` that carries its scale (a one-step run at one LR is no point on a
    line through the 16-step run at another).

    Each method at the learning rates it is trained at (plan.grid_learning_rates): a method
    outside ``lr_grid_methods`` is one point at the main LR, not a row of missing runs.
    """
    tr, root = cfg["training"], Path(root)
    return {label(cfg, "model", model): {
        label(cfg, "task", task): {
            method: {lr: _rouge_l(cfg, root, plan.TrainRun(model, task, method, lr, *tr["clip"]),
                                  task)
                     for lr in plan.grid_learning_rates(cfg, method)}
            for method in tr["methods"]}
        for task in cfg["tasks"]}
        for model in cfg["models"]}


def cross_task_scores(cfg: dict[str, Any], root: str | os.PathLike) -> dict:
    """model -> source task -> method -> {target task: ROUGE-L} (tables 3/8), each score a
    :class:`Value` with its scale (transfer evaluations may run on the first test records
    only: the heat-map hatches them)."""
    ev, root = cfg["evaluation"], Path(root)
    if not ev.get("cross_task"):
        return {}
    methods = [m for m in ev.get("cross_task_methods", ["ce", "perce"])
               if m in cfg["training"]["methods"]]
    return {label(cfg, "model", model): {
        label(cfg, "task", src): {
            method: {label(cfg, "task", dst): _rouge_l(cfg, root,
                                                       plan.main_run(cfg, model, src, method), dst)
                     for dst in cfg["tasks"]}
            for method in methods}
        for src in cfg["tasks"]}
        for model in ev.get("cross_task_models", [])}


def aloe_scores(cfg: dict[str, Any], root: str | os.PathLike) -> dict:
    """model -> source task -> method -> per_round list of the run's ALOE scores file."""
    out: dict = {}
    for run in plan.aloe_runs(cfg):
        scores = read_result(layout.in_results("aloe_scores", root, run))
        out.setdefault(label(cfg, "model", run.model), {}).setdefault(
            label(cfg, "task", run.task), {})[run.method] = (scores or {}).get("per_round")
    return out


def count_present(nested: dict, present) -> tuple[int, int]:
    """(runs with data, runs expected) over a model -> task -> method nesting."""
    leaves = [v for per_task in nested.values() for per_method in per_task.values()
              for v in per_method.values()]
    return sum(1 for v in leaves if present(v)), len(leaves)
