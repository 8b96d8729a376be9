"""The run grid every stage derives from a validated config (:mod:`percontrast.config`).

Which training runs exist, and which checkpoint is evaluated on which task, is decided here and
only here: the Snakefile, the scripts and the report all call :func:`train_runs` /
:func:`evaluations`, so a table can never ask for a run the DAG does not make.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from percontrast.config import section_defaults
from percontrast.precision import planned as planned_precision


def fmt_num(x: float) -> str:
    """Compact, path-safe number that reads back as exactly ``x``: 2e-05, 0.8, 5, and all the
    digits a number needs (1.23456789e-04 stays itself; ``%g``'s six digits would train it at
    0.000123457 and fold 1e-3 and 1.0000001e-3 into one run folder)."""
    short = f"{x:g}"
    return short if float(short) == float(x) else repr(float(x))


@dataclass(frozen=True)
class TrainRun:
    """One fine-tuning run; its folder is ``results/train/{model}/{task}/{method}/{run_id}``.

    ``seed`` is None for a run trained with the config's ``seed``; the other seeds of
    ``training.seeds`` make sibling runs whose id ends in ``_seed{N}`` (:func:`seed_runs`).
    """

    model: str
    task: str
    method: str
    lr: float
    clip_min: float
    clip_max: float
    seed: int | None = None

    @property
    def run_id(self) -> str:
        base = f"lr{fmt_num(self.lr)}_clip{fmt_num(self.clip_min)}-{fmt_num(self.clip_max)}"
        return base if self.seed is None else f"{base}_seed{self.seed}"

    @classmethod
    def parse(cls, model: str, task: str, method: str, run_id: str) -> TrainRun:
        """The run of a folder name (inverse of :attr:`run_id`)."""
        return cls(model, task, method, *parse_run_id(run_id), seed=parse_run_seed(run_id))

    def sort_key(self) -> tuple:
        return (self.model, self.task, self.method, self.lr, self.clip_min, self.clip_max,
                -1 if self.seed is None else self.seed)

    @property
    def path(self) -> str:
        return f"{self.model}/{self.task}/{self.method}/{self.run_id}"

    @property
    def wildcards(self) -> dict[str, str]:
        return {"model": self.model, "task": self.task, "method": self.method,
                "run": self.run_id}


#: What :attr:`TrainRun.run_id` can produce, as a regular expression: the workflow's ``{run}``
#: wildcard constraint (a folder name of any other shape is not a run).
RUN_ID_PATTERN = r"lr[0-9.e+-]+_clip[0-9.e+-]+-[0-9.e+-]+(_seed[0-9]+)?"


def parse_run_seed(run_id: str) -> int | None:
    """The ``_seed{N}`` suffix of a run id, or None (the config's seed)."""
    head, sep, tail = run_id.rpartition("_seed")
    return int(tail) if sep and tail.isdigit() else None


def parse_run_id(run_id: str) -> tuple[float, float, float]:
    """Inverse of :attr:`TrainRun.run_id` without the seed: ``lr2e-05_clip0.8-5`` ->
    (2e-05, 0.8, 5.0)."""
    if parse_run_seed(run_id) is not None:
        run_id = run_id.rpartition("_seed")[0]
    try:
        lr_part, clip_part = run_id.split("_clip")
        lo, hi = clip_part.split("-", 1) if not clip_part.startswith("-") else ("", "")
        return float(lr_part.removeprefix("lr")), float(lo), float(hi)
    except ValueError:
        raise ValueError(f"not a run id: {run_id!r} (expected lr<lr>_clip<min>-<max>)") from None


def _lamp_tasks(cfg) -> list[str]:
    return list(cfg["evaluation"].get("lamp_tasks", []))


def grid_learning_rates(cfg: dict[str, Any], method: str) -> list[float]:
    """The learning rates ``method`` is trained at: the whole grid for ``lr_grid_methods``
    (default: every method), otherwise only the main one."""
    tr = cfg["training"]
    if method in tr.get("lr_grid_methods", tr["methods"]):
        return list(tr["learning_rates"])
    return [tr["main_learning_rate"]]


def lamp_methods(cfg: dict[str, Any]) -> list[str]:
    """Methods trained on the LaMP tasks (table 5); default: every training method."""
    methods = cfg["training"]["methods"]
    return [m for m in cfg["evaluation"].get("lamp_methods", methods) if m in methods]


def clip_grid_tasks(cfg: dict[str, Any]) -> list[str]:
    """Tasks of the clipping grid (table 12); default: every task."""
    return list(cfg["training"].get("clip_grid", {}).get("tasks", cfg["tasks"]))


def train_runs(cfg: dict[str, Any]) -> list[TrainRun]:
    """Every training run of the config, without duplicates, in a stable order.

    * main grid: models x tasks x methods x learning rates at the main clip (tables 1, 2, 3);
      methods outside ``lr_grid_methods`` run at the main LR only;
    * LaMP: lamp_models x lamp_tasks x lamp_methods at the main LR (table 5);
    * the clip grid: PerCE, clip_grid.models x clip_grid.tasks x clip_min x clip_max (table 12).
    """
    tr = cfg["training"]
    lo, hi = tr["clip"]
    runs: set[TrainRun] = set()
    for model in cfg["models"]:
        for task in cfg["tasks"]:
            for method in tr["methods"]:
                for lr in grid_learning_rates(cfg, method):
                    runs.add(TrainRun(model, task, method, lr, lo, hi))
    for model in cfg["evaluation"].get("lamp_models", []):
        for task in _lamp_tasks(cfg):
            for method in lamp_methods(cfg):
                runs.add(TrainRun(model, task, method, tr["main_learning_rate"], lo, hi))
    grid = tr.get("clip_grid", {})
    if "perce" in tr["methods"]:
        for model in grid.get("models", []):
            for task in clip_grid_tasks(cfg):
                for cmin in grid.get("clip_min", []):
                    for cmax in grid.get("clip_max", []):
                        runs.add(TrainRun(model, task, "perce", grid["learning_rate"], cmin, cmax))
    runs.update(dialogue_runs(cfg))
    for run in list(runs):
        runs.update(seed_runs(cfg, run))
    return sorted(runs, key=TrainRun.sort_key)


def dialogue_tasks(cfg: dict[str, Any]) -> list[str]:
    """The real-data arm's tasks (``evaluation.dialogue.tasks``)."""
    return list(cfg["evaluation"].get("dialogue", {}).get("tasks", []))


def dialogue_runs(cfg: dict[str, Any]) -> list[TrainRun]:
    """The real-data arm (``evaluation.dialogue``, table_spc): the main run (main LR and clip)
    of each model x dialogue task x method. These always train and evaluate at full scale: they
    exist to decide the real-data claims, never only to render a table."""
    arm = section_defaults("evaluation.dialogue", cfg["evaluation"].get("dialogue"))
    return [main_run(cfg, model, task, method) for model in arm["models"]
            for task in arm["tasks"] for method in arm["methods"]]


#: Keys of ``training`` that choose which runs exist, not what one run computes.
RUN_SELECTION_KEYS = ("methods", "learning_rates", "main_learning_rate", "lr_grid_methods",
                      "clip", "clip_grid", "full_scale_methods", "full_scale_tasks",
                      "pipeline_scale", "seeds")
#: Keys of an evaluation section (``evaluation.aloe``, ``evaluation.llm_judge``) that choose
#: which runs it evaluates, not what one evaluation computes.
EVALUATION_SELECTION_KEYS = ("models", "methods", "tasks", "enabled")


def is_full_scale(cfg: dict[str, Any], run: TrainRun) -> bool:
    """Whether ``run`` trains with the ``training`` section as written.

    With ``training.pipeline_scale`` set, only the runs the headline comparisons rest on train
    at full scale: the main runs (main LR, main clip) of ``full_scale_methods`` (default: every
    method) on ``full_scale_tasks`` (default: ``tasks``). The others — other learning rates,
    the clip grid, LaMP tasks, methods left out — exist to exercise their tables and train with
    ``pipeline_scale``'s overrides (e.g. one optimizer step). Without ``pipeline_scale`` every
    run is full scale.
    """
    tr = cfg["training"]
    if not tr.get("pipeline_scale"):
        return True
    run = dataclasses.replace(run, seed=None)
    if run in dialogue_runs(cfg):
        return True
    return (run == main_run(cfg, run.model, run.task, run.method)
            and run.task in tr.get("full_scale_tasks", cfg["tasks"])
            and run.method in tr.get("full_scale_methods", tr["methods"]))


def run_training_spec(cfg: dict[str, Any], run: TrainRun) -> dict[str, Any]:
    """The training settings that determine ``run``'s output, and only those: the ``training``
    section without the keys that pick runs (so adding a learning rate or a method never
    changes a finished run's spec), with ``pipeline_scale`` applied when the run is not full
    scale (:func:`is_full_scale`).

    ``report_to`` (experiment tracking) is in the spec only when it names an integration: absent
    or ``none``, default runs keep their spec and are not retrained. Tracking does not change the
    weights, yet turning it on changes the spec, so Snakemake retrains those runs (and reruns
    their evaluations). That is accepted: a finished run has no curves to send, retraining is
    what produces them, and a run killed before the switch still resumes from its checkpoint
    (the checkpoints' identity leaves ``report_to`` out, :func:`percontrast.training.run_training`).
    Passing it to the train job apart from the spec would not avoid reruns: the new argument in
    the rule's shell command changes every train job's code, which retrains every finished run,
    tracked or not. To keep finished runs, use ``--rerun-triggers mtime input``."""
    tr = cfg["training"]
    spec = {k: v for k, v in tr.items() if k not in RUN_SELECTION_KEYS}
    if spec.get("report_to", "none") == "none":  # no tracking: absent, as before the key existed
        spec.pop("report_to", None)
    if not is_full_scale(cfg, run):
        spec.update({k: v for k, v in tr["pipeline_scale"].items()
                     if k in ("max_steps", "epochs")})
    counterfactual = section_defaults("pir", cfg["pir"])["counterfactual"]
    if counterfactual != "removed":  # absent = the paper's, so default runs keep their spec
        spec["counterfactual"] = counterfactual
    # on a CPU, auto is resolved now (fp32 or bf16 for this chip), so a run made in one
    # precision is never reused as the other; a GPU's is resolved by the job (done.json)
    spec["precision"] = planned_precision(spec.get("precision"), cfg.get("device"))
    return spec


def run_batch_size(cfg: dict[str, Any], run: TrainRun) -> int:
    """The global batch of ``run``: ``pipeline_scale.batch_size`` for a pipeline-scale run when
    set, else the model's ``batch_size``, else ``training.batch_size``."""
    tr = cfg["training"]
    small = tr.get("pipeline_scale", {})
    if "batch_size" in small and not is_full_scale(cfg, run):
        return small["batch_size"]
    return cfg["model_registry"][run.model].get(
        "batch_size", section_defaults("training", tr)["batch_size"])


def evaluation_generation(cfg: dict[str, Any], run: TrainRun, eval_task: str
                          ) -> dict[str, Any]:
    """The ``generation`` settings of one evaluation: a pipeline-scale evaluation (see
    :func:`evaluation_limit`) takes ``training.pipeline_scale.max_new_tokens`` when set."""
    gen = dict(cfg["generation"])
    gen["precision"] = planned_precision(gen.get("precision"), cfg.get("device"))
    per_model = gen.pop("model_batch_size", {})  # only this model's entry reaches its jobs
    if run.model in per_model:
        gen["batch_size"] = per_model[run.model]
    if "max_new_tokens" in cfg["task_registry"][eval_task]:
        gen["max_new_tokens"] = cfg["task_registry"][eval_task]["max_new_tokens"]
    small = cfg["training"].get("pipeline_scale", {})
    if "max_new_tokens" in small and evaluation_limit(cfg, run, eval_task) is not None:
        gen["max_new_tokens"] = small["max_new_tokens"]
    return gen


def evaluation_spec(cfg: dict[str, Any], run: TrainRun, eval_task: str) -> dict[str, Any]:
    """Everything that determines one evaluation's generations and scores: the checkpoint's own
    training spec and model, the evaluation task and its data settings, the generation settings
    and the number of test records. Its hash is the provenance a metrics file records (rather
    than the whole config's, which would make every edit anywhere rerun every evaluation)."""
    return {"run": run.path, "training": run_training_spec(cfg, run),
            "batch_size": run_batch_size(cfg, run), "model": cfg["model_registry"][run.model],
            "task": cfg["task_registry"][eval_task], "data": task_data(cfg, eval_task),
            "generation": evaluation_generation(cfg, run, eval_task),
            "limit": evaluation_limit(cfg, run, eval_task), "seed": cfg["seed"]}


def used_llm_entries(cfg: dict[str, Any]) -> list[str]:
    """The ``llm`` entries some stage of this config uses (judges, user simulator, generator)."""
    ev = cfg.get("evaluation", {})
    names = [cfg.get("pir", {}).get("judge"), cfg.get("persona_qa", {}).get("generator"),
             ev.get("aloe", {}).get("user_simulator"), ev.get("aloe", {}).get("judge"),
             ev.get("llm_judge", {}).get("judge")]
    return [n for n in dict.fromkeys(names) if n and n in cfg.get("llm", {})]


def report_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """The config the report jobs (tables, figures, claims, index) receive: all of it except
    ``llm`` entries no stage uses, so declaring a new endpoint reruns nothing."""
    used = set(used_llm_entries(cfg))
    out = dict(cfg)
    if "llm" in cfg:
        out["llm"] = {name: spec for name, spec in cfg["llm"].items() if name in used}
    return out


def evaluation_limit(cfg: dict[str, Any], run: TrainRun, eval_task: str) -> int | None:
    """How many test records (the first ones of the test file) an evaluation generates for:
    all (None) when the run is full scale and evaluated on its own task, else
    ``training.pipeline_scale.n_test`` when set (cross-task, general-QA and pipeline-scale runs'
    evaluations only exercise their tables)."""
    limit = cfg["training"].get("pipeline_scale", {}).get("n_test")
    if limit is None or (is_full_scale(cfg, run) and eval_task == run.task):
        return None
    return limit


def training_seeds(cfg: dict[str, Any]) -> list[int]:
    """``training.seeds`` (default: the config's ``seed`` alone)."""
    return list(cfg["training"].get("seeds", [cfg["seed"]]))


def seed_runs(cfg: dict[str, Any], run: TrainRun) -> list[TrainRun]:
    """The runs whose average a table cell of ``run`` shows: for a main run (main LR and clip)
    on a task of ``tasks``, one per training seed (the config's own seed is ``run`` itself);
    any other run stands alone. Extra seeds are evaluated on their own task only."""
    run = dataclasses.replace(run, seed=None)
    if run != main_run(cfg, run.model, run.task, run.method) or (
            run.task not in cfg["tasks"] and run not in dialogue_runs(cfg)):
        return [run]
    return [run if s == cfg["seed"] else dataclasses.replace(run, seed=s)
            for s in dict.fromkeys([cfg["seed"], *training_seeds(cfg)])]


def run_seed(cfg: dict[str, Any], run: TrainRun) -> int:
    """The seed a run trains with."""
    return cfg["seed"] if run.seed is None else run.seed


def main_run(cfg: dict[str, Any], model: str, task: str, method: str) -> TrainRun:
    """The run at the main LR and clip, whose checkpoint feeds the transfer evaluations."""
    tr = cfg["training"]
    return TrainRun(model, task, method, tr["main_learning_rate"], *tr["clip"])


def evaluations(cfg: dict[str, Any]) -> dict[TrainRun, list[str]]:
    """Which tasks each trained checkpoint generates for (``{run: [eval_task, ...]}``).

    Every run is evaluated on its own task; main runs of cross_task_models with
    cross_task_methods (CE and PerCE, as in the paper) on every task in ``tasks`` (tables 3/8);
    main runs of general_qa models, trained on general_qa.train_tasks, on the QA tasks
    (table 11).
    """
    ev = cfg["evaluation"]
    out: dict[TrainRun, list[str]] = {run: [run.task] for run in train_runs(cfg)}

    def add(run: TrainRun, task: str) -> None:
        if run in out and task not in out[run]:
            out[run].append(task)

    if ev.get("cross_task"):
        methods = [m for m in section_defaults("evaluation", ev)["cross_task_methods"]
                   if m in cfg["training"]["methods"]]
        for model in ev.get("cross_task_models", []):
            for src in cfg["tasks"]:
                for method in methods:
                    for dst in cfg["tasks"]:
                        add(main_run(cfg, model, src, method), dst)
    qa = ev.get("general_qa", {})
    for model in qa.get("models", []):
        for src in qa.get("train_tasks", []):
            for method in qa.get("methods", []):
                for dst in qa.get("tasks", []):
                    add(main_run(cfg, model, src, method), dst)
    return out


def aloe_runs(cfg: dict[str, Any]) -> list[TrainRun]:
    """Main runs evaluated on ALOE (tables 4/9): aloe.models x aloe.tasks x aloe.methods."""
    aloe = cfg["evaluation"].get("aloe", {})
    if not aloe.get("enabled"):
        return []
    methods = [m for m in aloe.get("methods", []) if m in cfg["training"]["methods"]]
    return [main_run(cfg, model, task, method) for model in aloe.get("models", [])
            for task in aloe.get("tasks", cfg["tasks"]) for method in methods]


def judge_runs(cfg: dict[str, Any]) -> list[TrainRun]:
    """Main runs scored by the LLM judge on their own task (table 10)."""
    judge = cfg["evaluation"].get("llm_judge", {})
    if not judge.get("enabled"):
        return []
    methods = [m for m in judge.get("methods", cfg["training"]["methods"])
               if m in cfg["training"]["methods"]]
    return [main_run(cfg, model, task, method) for model in judge.get("models", [])
            for task in cfg["tasks"] for method in methods]


def task_data(cfg: dict[str, Any], task: str) -> dict[str, Any]:
    """The ``data`` settings of ``task``: ``data`` with the task entry's own ``n_train``,
    ``n_test`` and ``top_k`` where it sets them (real dialogue needs more test turns and the
    whole persona; the demo tasks keep the shared settings)."""
    spec = cfg["task_registry"][task]
    return {**cfg["data"], **{k: spec[k] for k in ("n_train", "n_test", "top_k") if k in spec}}


def all_tasks(cfg: dict[str, Any]) -> list[str]:
    """Every task whose data the DAG prepares."""
    names = list(cfg["tasks"]) + _lamp_tasks(cfg) + dialogue_tasks(cfg)
    names += cfg["evaluation"].get("general_qa", {}).get("tasks", [])
    return list(dict.fromkeys(names))


def all_models(cfg: dict[str, Any]) -> list[str]:
    """Every registry model some rule loads (trained, PIR-benchmarked, or an in-process LLM)."""
    names = {run.model for run in train_runs(cfg)} | set(cfg["pir"]["models"])
    if cfg.get("bench", {}).get("enabled"):
        names.add(cfg["bench"]["model"])
    for spec in cfg.get("llm", {}).values():
        if spec["backend"] == "transformers":
            names.add(spec["model"])
    return sorted(names)
