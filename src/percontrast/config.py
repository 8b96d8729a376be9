"""Typed view of the validated pipeline config, and the run grid every stage derives from it.

The JSON schema (percontrast/schemas/config.schema.yaml, linked from workflow/schemas/) checks
shapes and types; :func:`check_config` adds what a schema cannot say (a model named in
``models`` must exist in ``model_registry``, the main learning rate must be in the grid...).
Both run before any job starts, and both name the offending key.

Which training runs exist, and which checkpoint is evaluated on which task, is decided here and
only here: the Snakefile, the scripts and the report all call :func:`train_runs` /
:func:`evaluations`, so a table can never ask for a run the DAG does not make.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from percontrast.data.records import QA_TASK_TYPES
from percontrast.methods import METHODS  # noqa: F401  (re-exported: pc.METHODS)

# Package data, so an installed wheel validates configs too; workflow/schemas/ links to it (the
# Snakemake workflows' convention) and the workflow validates against this same file.
SCHEMA_PATH = Path(__file__).resolve().with_name("schemas") / "config.schema.yaml"
LONGLAMP_TYPES = ("abstract_generation", "product_review", "topic_writing")
LAMP_TYPES = ("news_headline", "scholarly_title", "tweet_paraphrase")
#: task_registry keys that only the Synthetic-Persona-Chat loader reads.
SPC_KEYS = ("bundled", "speakers", "first_turns", "grounded_only", "turns_per_conversation")


#: Why ``generation.backend: vllm`` fails validation, and what to use instead.
VLLM_REFUSED = (
    "generation.backend: vllm is not supported. It cannot be verified here: vLLM's wheels and the "
    "CUDA torch they pin are far larger than what can be carried to the GPU machines this "
    "project is checked on, which reach no package registry; a backend that was never run would "
    "be a setting that lies. Use backend: transformers (the default): on a GPU it generates in "
    "bf16 with SDPA attention, length-sorted batches and a static KV cache; set device: cuda, "
    "and generation.batch_size / generation.model_batch_size to the largest batch that fits "
    "(scripts/gpu_check.sh measures its tokens/s)")


class ConfigError(ValueError):
    """An invalid config; the message starts with the key path, e.g. ``training.clip``."""


# --------------------------------------------------------------------------- loading

def load_schema() -> dict[str, Any]:
    with open(SCHEMA_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def validate_schema(cfg: dict[str, Any], *, set_defaults: bool = True) -> dict[str, Any]:
    """Validate against the JSON schema (filling defaults), raising ConfigError with the path.

    Snakemake's ``validate()`` does the same inside the workflow; this is for library users and
    tests, and gives the same key path in its message.
    """
    import jsonschema

    from percontrast.config_values import value_problem

    problem = value_problem(cfg)  # first: an alias bomb must not reach the validator or a copy
    if problem is not None:
        raise ConfigError(problem)
    backend = (cfg.get("generation") or {}).get("backend") if isinstance(cfg, dict) else None
    if backend == "vllm":
        raise ConfigError(VLLM_REFUSED)
    schema = load_schema()
    validator_cls = jsonschema.validators.validator_for(schema)
    if set_defaults:
        validator_cls = _with_defaults(validator_cls)
    errors = sorted(validator_cls(schema).iter_errors(cfg), key=lambda e: list(e.absolute_path))
    # validators quote the value they reject: a key written as api_key_env, or in a base_url,
    # must be refused without being shown (and before it reaches a job's params or logs)
    from percontrast.llm import llm_config_problem, scrub_config_message

    if errors:
        err = errors[0]
        path = ".".join(str(p) for p in err.absolute_path) or "<top level>"
        raise ConfigError(f"{path}: {scrub_config_message(cfg, err.absolute_path, err.message)}")
    problem = llm_config_problem(cfg)
    if problem is not None:
        raise ConfigError(problem)
    return cfg


def _with_defaults(validator_cls):
    """A validator that fills ``default`` values in, as Snakemake's validate(set_default=True)."""
    import jsonschema

    validate_properties = validator_cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_cls, {"properties": set_defaults})


def schema_default(key: str) -> Any:
    """The schema's default of one key (``"pir.dev_fraction"``), e.g. for a script's argparse
    default, so that no script restates it; KeyError when the schema gives the key none."""
    sub = load_schema()
    for part in key.split("."):
        sub = sub["properties"][part]
    if "default" not in sub:
        raise KeyError(f"{key}: the config schema gives no default")
    return copy.deepcopy(sub["default"])


def section_defaults(section: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """One config section (``"pir"``, ``"evaluation.aloe"``...) with the schema's defaults
    filled in, validated against that section's schema: a copy of ``values``.

    The schema is the one home of every default. A rule passes a script its section as the
    workflow filled it; a script called by hand, or library code given part of a section, reads
    the missing keys from here rather than restating the default."""
    import jsonschema

    schema = load_schema()
    sub = schema
    for key in section.split("."):
        sub = sub["properties"][key]
    wrapped = {**sub, "$defs": schema.get("$defs", {})}  # the section's $refs resolve as before
    filled = copy.deepcopy(values) if values is not None else {}
    validator = _with_defaults(jsonschema.validators.validator_for(schema))(wrapped)
    errors = sorted(validator.iter_errors(filled), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = ".".join([section, *(str(p) for p in err.absolute_path)])
        raise ConfigError(f"{where}: {err.message}")
    return filled


def load_config(path: str | os.PathLike, overrides: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    """Read a YAML config, apply top-level ``overrides``, validate and cross-check it."""
    with open(path, encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh) or {}
    cfg.update(overrides or {})
    validate_schema(cfg)
    check_config(cfg)
    return cfg


def config_hash(cfg: dict[str, Any]) -> str:
    """A short stable hash of the config, recorded in every metrics file."""
    blob = json.dumps(cfg, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


# --------------------------------------------------------------------------- cross checks

def _need(cond: bool, path: str, message: str) -> None:
    if not cond:
        raise ConfigError(f"{path}: {message}")


def check_config(cfg: dict[str, Any]) -> None:
    """Cross-reference checks the schema cannot express."""
    models, tasks, llms = cfg["model_registry"], cfg["task_registry"], cfg.get("llm", {})

    def model_names(names, path):
        for i, name in enumerate(names):
            _need(name in models, f"{path}[{i}]",
                  f"model {name!r} is not in model_registry ({', '.join(models)})")

    def task_names(names, path, types=None):
        for i, name in enumerate(names):
            _need(name in tasks, f"{path}[{i}]",
                  f"task {name!r} is not in task_registry ({', '.join(tasks)})")
            if types:
                _need(tasks[name]["type"] in types, f"{path}[{i}]",
                      f"task {name!r} has type {tasks[name]['type']!r}; expected one of {types}")

    def llm_name(name, path):
        if name is not None:
            _need(name in llms, path, f"llm {name!r} is not defined under llm ({', '.join(llms)})")

    model_names(cfg["models"], "models")
    task_names(cfg["tasks"], "tasks", LONGLAMP_TYPES + LAMP_TYPES + ("dialogue",))
    _need(bool(cfg["pir"]["models"]), "pir.models",
          "needs at least one model: the PIR benchmark (figures 2, 4, 5, table_pir and its claim) "
          "is part of every run")
    model_names(cfg["pir"]["models"], "pir.models")
    llm_name(cfg["pir"].get("judge"), "pir.judge")

    tr = cfg["training"]
    _need(tr["main_learning_rate"] in tr["learning_rates"], "training.main_learning_rate",
          f"{tr['main_learning_rate']} is not in training.learning_rates {tr['learning_rates']}")
    m, big_m = tr["clip"]
    _need(m <= big_m, "training.clip", f"clip min {m} > clip max {big_m}")
    grid = tr.get("clip_grid", {})
    model_names(grid.get("models", []), "training.clip_grid.models")
    for key in ("clip_grid.tasks", "full_scale_tasks"):
        section = grid if key.startswith("clip_grid") else tr
        for i, task in enumerate(section.get(key.rpartition(".")[2], [])):
            _need(task in cfg["tasks"], f"training.{key}[{i}]",
                  f"{task!r} is not in tasks {cfg['tasks']}")
    for key, values in (("training.lr_grid_methods", tr.get("lr_grid_methods", [])),
                        ("training.full_scale_methods", tr.get("full_scale_methods", [])),
                        ("evaluation.llm_judge.methods",
                         cfg["evaluation"].get("llm_judge", {}).get("methods", [])),
                        ("evaluation.lamp_methods", cfg["evaluation"].get("lamp_methods", []))):
        for i, method in enumerate(values):
            _need(method in tr["methods"], f"{key}[{i}]",
                  f"{method!r} is not in training.methods {tr['methods']}")
    if grid.get("models"):
        _need("learning_rate" in grid, "training.clip_grid.learning_rate",
              "required when clip_grid.models is not empty")
        for lo in grid.get("clip_min", []):
            for hi in grid.get("clip_max", []):
                _need(lo <= hi, "training.clip_grid", f"clip min {lo} > clip max {hi}")
    _need(tr["batch_size"] % tr["per_device_batch_size"] == 0, "training.batch_size",
          f"{tr['batch_size']} is not a multiple of per_device_batch_size "
          f"{tr['per_device_batch_size']}")

    ev = cfg["evaluation"]
    model_names(ev.get("cross_task_models", []), "evaluation.cross_task_models")
    task_names(ev.get("lamp_tasks", []), "evaluation.lamp_tasks", LAMP_TYPES)
    model_names(ev.get("lamp_models", []), "evaluation.lamp_models")
    aloe = ev.get("aloe", {})
    if aloe.get("enabled"):
        model_names(aloe.get("models", []), "evaluation.aloe.models")
        for i, task in enumerate(aloe.get("tasks", [])):
            _need(task in cfg["tasks"], f"evaluation.aloe.tasks[{i}]",
                  f"{task!r} is not in tasks {cfg['tasks']}")
        for role in ("user_simulator", "judge"):
            _need(not aloe.get("models") or aloe.get(role) is not None,
                  f"evaluation.aloe.{role}", "required when aloe is enabled (name an llm entry)")
            llm_name(aloe.get(role), f"evaluation.aloe.{role}")
        if aloe.get("source") == "files":
            for key in ("profile_path", "personality_path"):
                _need(key in aloe, f"evaluation.aloe.{key}", "required when source is files")
    qa = ev.get("general_qa", {})
    task_names(qa.get("tasks", []), "evaluation.general_qa.tasks", QA_TASK_TYPES)
    model_names(qa.get("models", []), "evaluation.general_qa.models")
    task_names(qa.get("train_tasks", []), "evaluation.general_qa.train_tasks")
    judge = ev.get("llm_judge", {})
    if judge.get("enabled"):
        _need(not judge.get("models") or judge.get("judge") is not None,
              "evaluation.llm_judge.judge",
              "required when llm_judge is enabled (name an llm entry)")
        llm_name(judge.get("judge"), "evaluation.llm_judge.judge")
        model_names(judge.get("models", []), "evaluation.llm_judge.models")

    pqa = cfg.get("persona_qa", {})
    if pqa.get("source") == "synthetic":
        _need("spc_csv" in pqa, "persona_qa.spc_csv", "required when source is synthetic")
        _need("generator" in pqa, "persona_qa.generator", "required when source is synthetic")
        llm_name(pqa["generator"], "persona_qa.generator")

    for name, spec in llms.items():
        if spec["backend"] == "transformers":
            _need(spec["model"] in models, f"llm.{name}.model",
                  f"transformers backend needs a model_registry name, got {spec['model']!r}")

    for name, spec in tasks.items():
        src, typ = spec["source"], spec["type"]
        path = f"task_registry.{name}"
        if src == "longlamp":
            _need(typ in LONGLAMP_TYPES, f"{path}.type", f"longlamp has no {typ!r} task")
        if src == "lamp":
            _need(typ in LAMP_TYPES, f"{path}.type", f"lamp has no {typ!r} task")
            _need("files" in spec, f"{path}.files", "LaMP needs files.train/test")
        if src in ("hotpotqa", "drop"):
            _need(typ == src, f"{path}.type", f"source {src} gives type {src}")
            _need("path" in spec, f"{path}.path", f"{src} needs a local path")
        if src == "spc":
            _need(typ == "dialogue", f"{path}.type", "source spc gives type dialogue")
            _need(not (spec.get("bundled") and ("path" in spec or "hub_id" in spec)),
                  f"{path}.bundled", "the bundled copy excludes path and hub_id: choose one")
        else:
            for key in SPC_KEYS:
                _need(key not in spec, f"{path}.{key}", "applies to source spc only")
    bench = cfg.get("bench", {})
    if bench.get("enabled"):
        _need("model" in bench, "bench.model", "required when bench is enabled (a model name)")
        model_names([bench["model"]], "bench.model")
        _need(bench["steps"] > bench["warmup"], "bench.steps",
              f"{bench['steps']} must exceed bench.warmup {bench['warmup']} (a measured step)")
    gen = cfg["generation"]
    _need(gen.get("backend", "transformers") == "transformers", "generation.backend",
          VLLM_REFUSED.partition(": ")[2])
    for name in gen.get("model_batch_size", {}):
        _need(name in models, f"generation.model_batch_size.{name}",
              f"model {name!r} is not in model_registry ({', '.join(models)})")
    arm = cfg["evaluation"].get("dialogue", {})
    task_names(arm.get("tasks", []), "evaluation.dialogue.tasks", ("dialogue",))
    model_names(arm.get("models", []), "evaluation.dialogue.models")


# --------------------------------------------------------------------------- the run grid

def fmt_num(x: float) -> str:
    """Compact, path-safe, round-trippable number: 2e-05, 0.8, 5."""
    return f"{x:g}"


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
    arm = cfg["evaluation"].get("dialogue", {})
    return [main_run(cfg, model, task, method) for model in arm.get("models", [])
            for task in arm.get("tasks", []) for method in arm.get("methods", ["ce", "perce"])]


#: Keys of ``training`` that choose which runs exist, not what one run computes.
RUN_SELECTION_KEYS = ("methods", "learning_rates", "main_learning_rate", "lr_grid_methods",
                      "clip", "clip_grid", "full_scale_methods", "full_scale_tasks",
                      "pipeline_scale", "seeds")


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
    return spec


def run_batch_size(cfg: dict[str, Any], run: TrainRun) -> int:
    """The global batch of ``run``: ``pipeline_scale.batch_size`` for a pipeline-scale run when
    set, else the model's ``batch_size``, else ``training.batch_size``."""
    tr = cfg["training"]
    small = tr.get("pipeline_scale", {})
    if "batch_size" in small and not is_full_scale(cfg, run):
        return small["batch_size"]
    return cfg["model_registry"][run.model].get("batch_size", tr.get("batch_size", 8))


def evaluation_generation(cfg: dict[str, Any], run: TrainRun, eval_task: str
                          ) -> dict[str, Any]:
    """The ``generation`` settings of one evaluation: a pipeline-scale evaluation (see
    :func:`evaluation_limit`) takes ``training.pipeline_scale.max_new_tokens`` when set."""
    gen = dict(cfg["generation"])
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
        methods = [m for m in ev.get("cross_task_methods", ["ce", "perce"])
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
