"""The metrics file: what rule ``score`` writes per run and evaluation task, and how the report
reads it back.

Why a module of its own: the scorers (:mod:`percontrast.generation_metrics` for ROUGE-L /
METEOR, :mod:`percontrast.qa_metrics` for EM / F1) compute numbers; this module owns the one
format every later stage relies on. :func:`summarize` is the scoring script's one call,
:func:`metrics_file` lays its output out as corpus means beside the per-example scores they
average, and :func:`example_scores` / :func:`average_over_seeds` read those scores back so any
comparison can be resampled (:mod:`percontrast.stats`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from percontrast.generation_metrics import meteor, rouge_l, tokenizer_note
from percontrast.qa_metrics import qa_scores

__all__ = [
    "summarize",
    "metrics_file",
    "example_scores",
    "average_over_seeds",
]


def summarize(kind: str, predictions: Sequence[Any], references_or_records: Sequence[Any]) -> dict:
    """One call for the scoring script.

    ``kind="generation"``: references are strings or records (their ``reference`` is used);
    returns ``{"rouge_l", "meteor", "n", "n_empty", "tokenizer", "n_unicode_tokenized"}`` with
    scores in [0, 1] (:func:`percontrast.generation_metrics.tokenizer_note`).
    ``kind="qa"``: records; returns ``{"em", "f1", "n", "n_empty"}`` with scores x 100.
    Both add ``per_example``: ``{metric: [score per example, in input order]}``, the scores the
    means average, kept so that comparisons can be resampled (:mod:`percontrast.stats`).
    """
    if kind == "generation":
        refs = [r if isinstance(r, str) else r.reference for r in references_or_records]
        rouge = rouge_l(predictions, refs)
        met = meteor(predictions, refs)
        return {"rouge_l": rouge.mean, "meteor": met.mean, "n": rouge.n,
                "n_empty": rouge.n_empty, **tokenizer_note(predictions, refs),
                "per_example": {"rouge_l": rouge.per_sample, "meteor": met.per_sample}}
    if kind == "qa":
        return qa_scores(predictions, references_or_records)
    raise ValueError(f"unknown kind {kind!r}: expected 'generation' or 'qa'")


# ----------------------------------------------------------------------------------------------
# The metrics file: corpus means beside the per-example scores they average


def metrics_file(ids: Sequence[str], scores: dict, markers: Sequence[dict] | None = None) -> dict:
    """The body of a metrics file (rule ``score``) from :func:`summarize`'s output.

    Means stay at the top level (``rouge_l``, ``meteor`` / ``em``, ``f1``, ``n``, ``n_empty``);
    ``examples`` keeps one row per test example (``id`` and every per-example score) so any
    comparison can be resampled later (:mod:`percontrast.stats`). With ``markers`` (per-example
    :func:`percontrast.markers.score_markers` rows), their means are added too: ``marker_recall``
    over the ``n_marker_recall`` examples that have a profile-visible marker, ``own_markers`` and
    ``leaked_markers`` per generation. A score undefined for an example is ``null``.
    """
    per_example = dict(scores.get("per_example", {}))
    out = {k: v for k, v in scores.items() if k != "per_example"}
    if markers is not None:
        for key in markers[0] if markers else ():
            per_example[key] = [m[key] for m in markers]
        recall = [v for v in per_example.get("marker_recall", []) if not math.isnan(v)]
        out["marker_recall"] = math.fsum(recall) / len(recall) if recall else None
        out["n_marker_recall"] = len(recall)
        for key in ("own_markers", "leaked_markers"):
            out[key] = math.fsum(per_example[key]) / len(ids)
    for metric, values in per_example.items():
        if len(values) != len(ids):
            raise ValueError(f"{metric}: {len(values)} per-example scores for {len(ids)} ids")
    out["examples"] = [{"id": i, **{m: (None if math.isnan(v[k]) else v[k])
                                    for m, v in per_example.items()}}
                       for k, i in enumerate(ids)]
    return out


def example_scores(result: dict, metric: str, *, source: str = "metrics file"
                   ) -> dict[str, float | None]:
    """``{example id: score}`` of ``metric`` from a metrics file's ``examples``."""
    rows = result.get("examples")
    if not isinstance(rows, list):
        raise ValueError(f"{source}: no per-example scores ('examples'); rerun its score job")
    out = {}
    for k, row in enumerate(rows):
        if not isinstance(row, dict) or "id" not in row or metric not in row:
            raise ValueError(f"{source}: examples[{k}] has no {metric!r}")
        out[row["id"]] = row[metric]
    return out


def average_over_seeds(files: Sequence[dict], *, source: str = "metrics files") -> dict:
    """One metrics body from the metrics files of several training seeds of one run on one
    test set: every mean averaged over the seeds, and each example's score averaged over the
    seeds (``null`` where no seed has one), so a paired bootstrap over these examples compares
    seed-averaged systems (:func:`percontrast.stats.seed_average`). One file is returned as is."""
    from percontrast.stats import seed_average

    if len(files) == 1:
        return files[0]
    first = files[0]
    for f in files:
        if not f.get("examples"):
            raise ValueError(f"{source}: a seed's metrics file has no per-example scores "
                             "('examples'); rerun its score job")
    metrics = [k for k in first["examples"][0] if k != "id"]
    averaged = {}
    for metric in metrics:
        per_seed = [example_scores(f, metric, source=source) for f in files]
        averaged[metric] = seed_average(per_seed)
    out = {k: v for k, v in first.items() if k != "examples"}
    for key, value in first.items():
        values = [f.get(key) for f in files]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and all(
                isinstance(v, (int, float)) for v in values) and key != "seed" and not (
                key == "n" or key.startswith("n_")):
            out[key] = math.fsum(values) / len(values)
    out["n_seeds"] = len(files)
    out["seeds"] = [f.get("seed") for f in files]
    ids = list(averaged[metrics[0]]) if metrics else []
    out["examples"] = [{"id": i, **{m: (None if math.isnan(averaged[m][i]) else averaged[m][i])
                                    for m in metrics}} for i in ids]
    return out
