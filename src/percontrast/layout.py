"""Where every artefact of the pipeline lives: the one home of the on-disk layout.

The Snakemake rules declare their outputs with :func:`pattern` (wildcard templates), and the
report, the scripts and the tests find the same files with :func:`path` and the helpers below,
so moving an artefact is a one-line change here. Paths are relative to the working directory the
workflow runs in; ``data/`` and ``results/`` can be re-rooted (the report's ``--results``).

A training run's files all hang off its folder ``results/train/{model}/{task}/{method}/{run}``
(``percontrast.plan.TrainRun.path`` is the ``{model}/{task}/{method}/{run}`` part); its members
are named in :data:`RUN_MEMBERS`, so the trainer, the rules and the evaluation scripts agree.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DATA = "data"
RESULTS = "results"
RUN_DIR = "train/{model}/{task}/{method}/{run}"

#: The members of a training run's folder, written in this order by
#: :func:`percontrast.training.run_training`; ``done.json`` comes last, so its presence means the
#: run is complete.
RUN_MEMBERS: dict[str, str] = {
    "log": "log.jsonl",  # one row per logged step, appended while training
    "checkpoints": "checkpoints",  # resumable Trainer checkpoints (removed after a clean finish)
    "tensorboard": "tensorboard",  # TensorBoard event files (training.report_to)
    "mlflow": "mlruns",  # MLflow's file store (training.report_to)
    "staging": ".model.staging",  # the trained model while it is being written
    "model": "model",  # the trained model: a prepared-model folder (models.load_prepared)
    "done": "done.json",  # the run's summary, written last
    "lock": ".lock",  # held (flock) by the one process training in the folder
}

#: name -> (root, template under that root). Wildcards: {model} {task} {method} {run}
#: {eval_task} {split} {table} {ext} {figure}.
TEMPLATES: dict[str, tuple[str, str]] = {
    "models_dir": (DATA, "models"),
    "model": (DATA, "models/{model}"),
    "interim": (DATA, "interim/{task}/{split}.jsonl"),
    "processed": (DATA, "processed/{task}/{split}.jsonl"),
    "persona_qa": (DATA, "synthetic/persona_qa.jsonl"),
    "aloe_conversations": (DATA, "processed/aloe/conversations.jsonl"),
    "run_dir": (RESULTS, RUN_DIR),
    "run_done": (RESULTS, f"{RUN_DIR}/{RUN_MEMBERS['done']}"),
    "run_log": (RESULTS, f"{RUN_DIR}/{RUN_MEMBERS['log']}"),
    "generations": (RESULTS, "generations/{model}/{task}/{method}/{run}/{eval_task}.jsonl"),
    "metrics": (RESULTS, "metrics/{model}/{task}/{method}/{run}/{eval_task}.json"),
    "aloe_scores": (RESULTS, "aloe/{model}/{task}/{method}/{run}/scores.json"),
    "aloe_transcripts": (RESULTS, "aloe/{model}/{task}/{method}/{run}/conversations.jsonl"),
    "judge": (RESULTS, "judge/{model}/{task}/{method}/{run}.json"),
    "judge_items": (RESULTS, "judge/{model}/{task}/{method}/{run}.items.jsonl"),
    "pir_dir": (RESULTS, "pir/{model}"),
    "pir_scores": (RESULTS, "pir/{model}/scores.jsonl"),
    "pir_classification": (RESULTS, "pir/{model}/classification.json"),
    "table": (RESULTS, "tables/{table}.{ext}"),
    "figure": (RESULTS, "figures/{figure}.png"),
    "claims_md": (RESULTS, "claims.md"),
    "claims_json": (RESULTS, "claims.json"),
    "index": (RESULTS, "index.md"),
    "bench_step": (RESULTS, "bench/step.json"),
    "bench_step_lora": (RESULTS, "bench/step_lora.json"),
    "bench_generate": (RESULTS, "bench/generate.json"),
    "llm_cache": (RESULTS, "llm_cache"),  # replies of served / API LLMs (percontrast.llm)
}


def pattern(name: str) -> str:
    """The wildcard template of an artefact relative to the working directory, for a rule's
    ``output:`` (``pattern("metrics")`` -> ``results/metrics/{model}/.../{eval_task}.json``)."""
    root, template = TEMPLATES[name]
    return f"{root}/{template}"


def path(name: str, run: Any = None, *, data: str | os.PathLike = DATA,
         results: str | os.PathLike = RESULTS, **fields: str) -> Path:
    """One artefact's path. ``run`` (a ``TrainRun``) fills {model} {task} {method} {run};
    ``data`` / ``results`` re-root the two trees (e.g. a copy of results/ elsewhere)."""
    root, template = TEMPLATES[name]
    if run is not None:
        fields = {**run.wildcards, **fields}
    base = Path(data if root == DATA else results)
    return base / template.format(**fields)


def in_results(name: str, results: str | os.PathLike, run: Any = None, **fields: str) -> Path:
    """:func:`path` under a results root (the report's ``--results`` folder)."""
    return path(name, run, results=results, **fields)


def run_member(run_dir: str | os.PathLike, member: str) -> Path:
    """A member of a training run's folder (:data:`RUN_MEMBERS`): ``run_member(d, "done")``."""
    return Path(run_dir) / RUN_MEMBERS[member]


def trained_model(folder: str | os.PathLike) -> Path:
    """The model to load from ``folder``: a run folder's ``model/`` member, or ``folder`` itself
    when it is already a prepared-model folder (``data/models/{model}``, an untrained baseline)."""
    model = run_member(folder, "model")
    return model if model.is_dir() else Path(folder)
