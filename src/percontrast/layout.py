"""Where every artefact of the pipeline lives: the one home of the on-disk layout.

The Snakemake rules declare their outputs with :func:`pattern` (wildcard templates), and the
report, the scripts and the tests find the same files with :func:`path` and the helpers below,
so moving an artefact is a one-line change here. Paths are relative to the working directory the
workflow runs in; ``data/`` and ``results/`` can be re-rooted (the report's ``--results``).

A training run's files all hang off its folder ``results/train/{model}/{task}/{method}/{run}``
(``percontrast.config.TrainRun.path`` is the ``{model}/{task}/{method}/{run}`` part).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DATA = "data"
RESULTS = "results"

#: name -> (root, template under that root). Wildcards: {model} {task} {method} {run}
#: {eval_task} {split} {table} {ext} {figure}.
TEMPLATES: dict[str, tuple[str, str]] = {
    "model": (DATA, "models/{model}"),
    "interim": (DATA, "interim/{task}/{split}.jsonl"),
    "processed": (DATA, "processed/{task}/{split}.jsonl"),
    "persona_qa": (DATA, "synthetic/persona_qa.jsonl"),
    "aloe_conversations": (DATA, "processed/aloe/conversations.jsonl"),
    "run_done": (RESULTS, "train/{model}/{task}/{method}/{run}/done.json"),
    "run_log": (RESULTS, "train/{model}/{task}/{method}/{run}/log.jsonl"),
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
