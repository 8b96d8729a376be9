"""The pipeline config: its JSON schema with the defaults, and the checks a schema cannot make.

The JSON schema (percontrast/schemas/config.schema.yaml, linked from workflow/schemas/) checks
shapes and types and is the one home of every default (:func:`section_defaults`,
:func:`schema_default`) but a data source's own, which its record in
:mod:`percontrast.data.registry` holds (the loader gets them; the config's entry is left as
written). :func:`check_config` adds what a schema cannot say (a model named in ``models`` must
exist in ``model_registry``, the main learning rate must be in the grid, a ``task_registry``
entry must suit its source's record...), one checker per section. Both run before any job
starts, and both name the offending key. Which runs a valid config asks for is
:mod:`percontrast.plan`'s.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from percontrast.config_error import ConfigError
from percontrast.data import registry
from percontrast.data.tasks import (  # noqa: F401
    split_overlap_problem,
    task_data_files,
    task_data_fingerprint,
)
from percontrast.io import file_sha256, folder_fingerprint  # noqa: F401
from percontrast.methods import METHODS  # noqa: F401  (re-exported: pc.METHODS)

# task_data_files, task_data_fingerprint, file_sha256, folder_fingerprint: re-exported for the
# workflow (the files a job reads, whose change reruns it), whose planning path imports only the
# light modules (tests/test_artefacts.py); so are the task splits below
#: The splits a task can have: the workflow's {split} wildcard (percontrast.data.registry).
SPLITS = registry.SPLITS

# Package data, so an installed wheel validates configs too; workflow/schemas/ links to it (the
# Snakemake workflows' convention) and the workflow validates against this same file.
SCHEMA_PATH = Path(__file__).resolve().with_name("schemas") / "config.schema.yaml"


#: Why ``generation.backend: vllm`` fails validation, and what to use instead.
VLLM_REFUSED = (
    "generation.backend: vllm is not supported. It cannot be verified here: vLLM's wheels and the "
    "CUDA torch they pin are far larger than what can be carried to the GPU machines this "
    "project is checked on, which reach no package registry; a backend that was never run would "
    "be a setting that lies. Use backend: transformers (the default): on a GPU it generates in "
    "bf16 with SDPA attention, length-sorted batches and a static KV cache; set device: cuda, "
    "and generation.batch_size / generation.model_batch_size to the largest batch that fits "
    "(scripts/gpu_check.sh measures its tokens/s)")


# --------------------------------------------------------------------------- loading

def load_schema() -> dict[str, Any]:
    """The config schema, a fresh copy the caller may change."""
    return copy.deepcopy(_schema())


@functools.cache
def _schema() -> dict[str, Any]:
    """The schema as read once per process (planning reads defaults from it many times);
    never handed out to be changed."""
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
    sub = _schema()
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

    schema = _schema()  # read only: the validator fills defaults into ``filled`` (deep copies)
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


def duplicate_key_problem(text: str, source: str | os.PathLike = "<config>") -> str | None:
    """The first mapping key written twice in the YAML ``text``, as ``"key.path: message"``
    naming ``source`` and both lines, or None. YAML keeps the last of two equal keys without a
    word (a ``seed: 7`` appended to a config would change every job's seed), so a config file
    with one is refused. Keys merged in with ``<<: *anchor`` may be overridden, as YAML means."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None  # the parser itself reports malformed YAML, with its line
    from percontrast.config_values import key_path

    visited: set[int] = set()
    stack: list[tuple[Any, list[Any]]] = [(root, [])] if root is not None else []
    while stack:
        node, path = stack.pop()
        if id(node) in visited:  # an alias: walked where its anchor is (no alias bomb here)
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], Any] = {}
            children = []
            for key_node, value_node in node.value:
                name = str(getattr(key_node, "value", key_node))
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                mark = key_node.start_mark
                ident = (key_node.tag, name) if isinstance(key_node, yaml.ScalarNode) \
                    else (key_node.tag, str(id(key_node)))
                if ident in seen:
                    first = seen[ident]
                    where = (f"lines {first.line + 1} and {mark.line + 1}"
                             if first.line != mark.line else
                             f"line {mark.line + 1}, columns {first.column + 1} and "
                             f"{mark.column + 1}")
                    return (f"{key_path([*path, name])}: duplicate key in {source}, {where} "
                            "(YAML would silently keep the last one); remove one of them")
                seen[ident] = mark
                children.append((value_node, [*path, name]))
            stack.extend(reversed(children))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, [*path, i]) for i, item in
                         reversed(list(enumerate(node.value))))
    return None


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """A YAML config file as a mapping; a duplicate key, malformed YAML or a top level that is
    not a mapping is a ConfigError naming the file (and the key and lines)."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except UnicodeDecodeError as err:
        raise ConfigError(f"<top level>: {path} is not UTF-8 text ({err.reason} at byte "
                          f"{err.start})") from err
    problem = duplicate_key_problem(text, path)
    if problem is not None:
        raise ConfigError(problem)
    try:
        cfg = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"<top level>: {path} is not valid YAML ({err})") from err
    if cfg is None:
        return {}
    if not isinstance(cfg, dict):
        raise ConfigError(f"<top level>: {path} holds a YAML {type(cfg).__name__}; a config is "
                          "a mapping of keys (run_name:, seed:, models:, ...)")
    return cfg


def load_config(path: str | os.PathLike, overrides: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    """Read a YAML config, apply top-level ``overrides``, validate and cross-check it."""
    cfg = read_config_file(path)
    cfg.update(overrides or {})
    validate_schema(cfg)
    check_config(cfg)
    return cfg


def task_splits(entry: dict[str, Any]) -> tuple[str, ...]:
    """The splits of ``task_registry`` entry ``entry``, in order (general QA is test-only):
    the processed files the workflow makes for it."""
    return registry.task_type(entry["type"]).splits


def config_hash(cfg: dict[str, Any]) -> str:
    """A short stable hash of the config, recorded in every metrics file."""
    blob = json.dumps(cfg, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


# --------------------------------------------------------------------------- cross checks

def _need(cond: bool, path: str, message: str) -> None:
    if not cond:
        raise ConfigError(f"{path}: {message}")


class _Names:
    """Checks that names used in one part of a config are defined in another: models in
    ``model_registry``, tasks in ``task_registry`` (of the right types), llm entries in
    ``llm``, methods in ``training.methods`` and tasks in ``tasks``."""

    def __init__(self, cfg: dict[str, Any]):
        self.cfg = cfg
        self.models, self.tasks = cfg["model_registry"], cfg["task_registry"]
        self.llms = cfg.get("llm", {})

    def model(self, names, path: str) -> None:
        for i, name in enumerate(names):
            _need(name in self.models, f"{path}[{i}]",
                  f"model {name!r} is not in model_registry ({', '.join(self.models)})")

    def task(self, names, path: str, types: Sequence[str] | None = None) -> None:
        for i, name in enumerate(names):
            _need(name in self.tasks, f"{path}[{i}]",
                  f"task {name!r} is not in task_registry ({', '.join(self.tasks)})")
            if types:
                kind = self.tasks[name]["type"]
                _need(kind in types, f"{path}[{i}]",
                      f"task {name!r} has type {kind!r}; expected one of {tuple(types)}")

    def llm(self, name: str | None, path: str) -> None:
        if name is not None:
            _need(name in self.llms, path,
                  f"llm {name!r} is not defined under llm ({', '.join(self.llms)})")

    def trained_task(self, names, path: str) -> None:
        for i, task in enumerate(names):
            _need(task in self.cfg["tasks"], f"{path}[{i}]",
                  f"{task!r} is not in tasks {self.cfg['tasks']}")

    def method(self, names, path: str) -> None:
        methods = self.cfg["training"]["methods"]
        for i, method in enumerate(names):
            _need(method in methods, f"{path}[{i}]",
                  f"{method!r} is not in training.methods {methods}")


def _check_run_grid(cfg: dict[str, Any], names: _Names) -> None:
    """``models`` and ``tasks``: the models trained and the tasks they are trained on."""
    names.model(cfg["models"], "models")
    names.task(cfg["tasks"], "tasks", registry.TRAINABLE_TASK_TYPES)


def _check_pir(cfg: dict[str, Any], names: _Names) -> None:
    _need(bool(cfg["pir"]["models"]), "pir.models",
          "needs at least one model: the PIR benchmark (figures 2, 4, 5, table_pir and its claim) "
          "is part of every run")
    names.model(cfg["pir"]["models"], "pir.models")
    names.llm(cfg["pir"].get("judge"), "pir.judge")


def _check_training(cfg: dict[str, Any], names: _Names) -> None:
    tr = cfg["training"]
    _need(tr["main_learning_rate"] in tr["learning_rates"], "training.main_learning_rate",
          f"{tr['main_learning_rate']} is not in training.learning_rates {tr['learning_rates']}")
    m, big_m = tr["clip"]
    _need(m <= big_m, "training.clip", f"clip min {m} > clip max {big_m}")
    grid = tr.get("clip_grid", {})
    names.model(grid.get("models", []), "training.clip_grid.models")
    names.trained_task(grid.get("tasks", []), "training.clip_grid.tasks")
    names.trained_task(tr.get("full_scale_tasks", []), "training.full_scale_tasks")
    names.method(tr.get("lr_grid_methods", []), "training.lr_grid_methods")
    names.method(tr.get("full_scale_methods", []), "training.full_scale_methods")
    names.method(cfg["evaluation"].get("llm_judge", {}).get("methods", []),
                 "evaluation.llm_judge.methods")
    names.method(cfg["evaluation"].get("lamp_methods", []), "evaluation.lamp_methods")
    if grid.get("models"):
        _need("learning_rate" in grid, "training.clip_grid.learning_rate",
              "required when clip_grid.models is not empty")
        for lo in grid.get("clip_min", []):
            for hi in grid.get("clip_max", []):
                _need(lo <= hi, "training.clip_grid", f"clip min {lo} > clip max {hi}")
    _need(tr["batch_size"] % tr["per_device_batch_size"] == 0, "training.batch_size",
          f"{tr['batch_size']} is not a multiple of per_device_batch_size "
          f"{tr['per_device_batch_size']}")


def _check_aloe(aloe: dict[str, Any], names: _Names) -> None:
    if not aloe.get("enabled"):
        return
    names.model(aloe.get("models", []), "evaluation.aloe.models")
    names.trained_task(aloe.get("tasks", []), "evaluation.aloe.tasks")
    for role in ("user_simulator", "judge"):
        _need(not aloe.get("models") or aloe.get(role) is not None,
              f"evaluation.aloe.{role}", "required when aloe is enabled (name an llm entry)")
        names.llm(aloe.get(role), f"evaluation.aloe.{role}")
    if aloe.get("source") == "files":
        for key in ("profile_path", "personality_path"):
            _need(key in aloe, f"evaluation.aloe.{key}", "required when source is files")


def _check_evaluation(cfg: dict[str, Any], names: _Names) -> None:
    """``evaluation``: cross-task, LaMP, ALOE, general QA and the LLM judge (the real-data arm
    is checked last: :func:`_check_dialogue_arm`)."""
    ev = cfg["evaluation"]
    names.model(ev.get("cross_task_models", []), "evaluation.cross_task_models")
    names.task(ev.get("lamp_tasks", []), "evaluation.lamp_tasks",
               registry.types_of(registry.LAMP))
    names.model(ev.get("lamp_models", []), "evaluation.lamp_models")
    _check_aloe(ev.get("aloe", {}), names)
    qa = ev.get("general_qa", {})
    names.task(qa.get("tasks", []), "evaluation.general_qa.tasks", registry.QA_TASK_TYPES)
    names.model(qa.get("models", []), "evaluation.general_qa.models")
    names.task(qa.get("train_tasks", []), "evaluation.general_qa.train_tasks")
    judge = ev.get("llm_judge", {})
    if judge.get("enabled"):
        _need(not judge.get("models") or judge.get("judge") is not None,
              "evaluation.llm_judge.judge",
              "required when llm_judge is enabled (name an llm entry)")
        names.llm(judge.get("judge"), "evaluation.llm_judge.judge")
        names.model(judge.get("models", []), "evaluation.llm_judge.models")


def _check_persona_qa(cfg: dict[str, Any], names: _Names) -> None:
    pqa = cfg.get("persona_qa", {})
    if pqa.get("source") == "synthetic":
        _need("spc_csv" in pqa, "persona_qa.spc_csv", "required when source is synthetic")
        _need("generator" in pqa, "persona_qa.generator", "required when source is synthetic")
        names.llm(pqa["generator"], "persona_qa.generator")


def _check_llms(cfg: dict[str, Any], names: _Names) -> None:
    for name, spec in names.llms.items():
        if spec["backend"] == "transformers":
            _need(spec["model"] in names.models, f"llm.{name}.model",
                  f"transformers backend needs a model_registry name, got {spec['model']!r}")


def task_entry_problem(name: str, spec: dict[str, Any]) -> str | None:
    """What is wrong with ``task_registry`` entry ``name`` for its source
    (:mod:`percontrast.data.registry`), as ``"key.path: message"``, or None: a type the source
    does not give, a key it requires that is missing, the bundled copy with a path or hub id,
    another source's own option, or train and test splits that would read the same data."""
    src, typ, path = registry.source(spec["source"]), spec["type"], f"task_registry.{name}"
    gives = src.types()
    if src.benchmark is not None and typ not in gives:
        return (f"{path}.type: source {src.name} gives type {gives[0]}" if len(gives) == 1
                else f"{path}.type: {src.name} has no {typ!r} task")
    for key, message in src.required.items():
        if key not in spec:
            return f"{path}.{key}: {message}"
    if src.bundled(spec) and ("path" in spec or "hub_id" in spec):
        return f"{path}.bundled: the bundled copy excludes path and hub_id: choose one"
    for other in registry.sources():
        for key in other.refused_elsewhere if other is not src else ():
            if key in spec:
                return f"{path}.{key}: applies to source {other.name} only"
    if "train" in registry.task_type(typ).splits:  # test-only tasks cannot overlap
        return split_overlap_problem(name, spec)
    return None


def _check_task_registry(cfg: dict[str, Any], names: _Names) -> None:
    for name, spec in names.tasks.items():
        problem = task_entry_problem(name, spec)
        if problem is not None:
            raise ConfigError(problem)


def _check_bench(cfg: dict[str, Any], names: _Names) -> None:
    bench = cfg.get("bench", {})
    if bench.get("enabled"):
        _need("model" in bench, "bench.model", "required when bench is enabled (a model name)")
        names.model([bench["model"]], "bench.model")
        _need(bench["steps"] > bench["warmup"], "bench.steps",
              f"{bench['steps']} must exceed bench.warmup {bench['warmup']} (a measured step)")


def _check_generation(cfg: dict[str, Any], names: _Names) -> None:
    gen = cfg["generation"]
    _need(gen.get("backend", "transformers") == "transformers", "generation.backend",
          VLLM_REFUSED.partition(": ")[2])
    for name in gen.get("model_batch_size", {}):
        _need(name in names.models, f"generation.model_batch_size.{name}",
              f"model {name!r} is not in model_registry ({', '.join(names.models)})")


def _check_dialogue_arm(cfg: dict[str, Any], names: _Names) -> None:
    arm = cfg["evaluation"].get("dialogue", {})
    names.task(arm.get("tasks", []), "evaluation.dialogue.tasks",
               registry.types_of(registry.PERSONA_CHAT))
    names.model(arm.get("models", []), "evaluation.dialogue.models")


#: The checks of :func:`check_config`, one per section, in the order they run (the first
#: problem found is the one reported).
_SECTION_CHECKS = (_check_run_grid, _check_pir, _check_training, _check_evaluation,
                   _check_persona_qa, _check_llms, _check_task_registry, _check_bench,
                   _check_generation, _check_dialogue_arm)


def check_config(cfg: dict[str, Any]) -> None:
    """Cross-reference checks the schema cannot express, section by section; the first
    problem is a ConfigError naming its key."""
    names = _Names(cfg)
    for check in _SECTION_CHECKS:
        check(cfg, names)


# --------------------------------------------------------------------------- the run grid
