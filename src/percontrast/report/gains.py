"""Gain cells with their uncertainty: PerCE against CE on the same test examples.

Every Gain is a paired bootstrap (:mod:`percontrast.stats`) over the per-example scores that the
metrics files keep, because a bare percentage cannot say whether a gain exceeds the sampling
noise of the test examples. A cell reads ``+6.60% [-2.1, +15.0]`` — the relative gain with its
95% interval, in percent — and is starred when the interval excludes 0. CSV files get the
interval and p-value as separate columns (:meth:`percontrast.report.table_format.Table.to_csv`).

A Gain is a statement about the examples both runs were scored on. When the two metrics files
cover different examples (a full-scale evaluation beside one on the first ``n_test`` records), the
paired bootstrap is over their common examples only and can disagree with the cells' own means;
such a Gain carries ``common`` (how many examples it is over) and renders with a mark
(:data:`PARTIAL`) so it never passes silently for the difference of the cells shown.

Main cells get an interval too (:func:`mean_value`): the bootstrap of the mean of a run's
per-example scores, same seed and resamples; none below
:data:`percontrast.stats.MIN_EXAMPLES` examples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from percontrast.metrics import example_scores
from percontrast.stats import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    MIN_EXAMPLES,
    Comparison,
    Estimate,
    bootstrap,
    bootstrap_distribution,
    combine,
    compare,
    paired_scores,
)

#: Marks a Gain whose interval excludes 0.
DECIDED = "*"
#: Marks a Gain computed on fewer examples than its cells' means (partly overlapping files).
PARTIAL = "\u00a7"


@dataclass(frozen=True)
class Gain:
    """A Gain cell: relative gain in percent (``percent=True``) or a plain difference."""

    estimate: Estimate
    percent: bool = True
    digits: int = 3  # decimals of a plain difference (value and interval alike)
    #: examples the Gain is over when fewer than behind its cells (partly overlapping files)
    common: int | None = None

    @property
    def unit(self) -> str:
        return "%" if self.percent else ""

    @property
    def scale(self) -> float:
        return 100.0 if self.percent else 1.0

    @property
    def value(self) -> float:
        return self.estimate.value * self.scale

    @property
    def low(self) -> float | None:
        return None if self.estimate.low is None else self.estimate.low * self.scale

    @property
    def high(self) -> float | None:
        return None if self.estimate.high is None else self.estimate.high * self.scale

    def __str__(self) -> str:
        head = f"{self.value:+.2f}%" if self.percent else f"{self.value:+.{self.digits}f}"
        tail = "" if self.common is None else f" {PARTIAL}({self.common} common)"
        if self.low is None:
            return head + tail
        bounds = ".1f" if self.percent else f".{self.digits}f"
        return (f"{head} [{self.low:+{bounds}}, {self.high:+{bounds}}]"
                + (DECIDED if self.estimate.decided else "") + tail)

    #: the CSV columns :meth:`csv_fields` fills, after the value's own
    CSV_COLUMNS = ("Gain CI low", "Gain CI high", "Gain p", "Gain n", "Gain on common examples")

    def csv_fields(self) -> list[Any]:
        """Value, CI low, CI high, one-sided p (for PerCE > CE), n, and 1 when it is over the
        common examples of partly overlapping files only (0 otherwise) — the CSV's columns."""
        return [round(self.value, 6), _round(self.low), _round(self.high),
                _round(self.estimate.p_value), self.estimate.n, int(self.common is not None)]


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def bootstrap_settings(cfg: dict[str, Any]) -> dict[str, Any]:
    """Resamples, confidence and seed of every bootstrap in the report (config ``report``)."""
    boot = cfg.get("report", {}).get("bootstrap", {})
    return {"n_resamples": boot.get("n_resamples", DEFAULT_RESAMPLES),
            "confidence": boot.get("confidence", DEFAULT_CONFIDENCE), "seed": cfg["seed"]}


def notation(cfg: dict[str, Any], what: str = "PerCE over CE, in percent") -> str:
    """The table note that explains a Gain cell."""
    b = bootstrap_settings(cfg)
    return (f"Gain = {what}, with its {b['confidence']:.0%} paired-bootstrap interval over the "
            f"same test examples ({b['n_resamples']} resamples, seed {b['seed']}); "
            f"{DECIDED} = the interval excludes 0.")


def paired_arrays(baseline: Sequence[dict | None], system: Sequence[dict | None], metric: str
                  ) -> tuple[list[float], list[float], list[str]] | None:
    """Per-example scores of both systems over one or more metrics files (one per task), paired
    by example id, with each example's file as its group; None when a file is missing."""
    if not baseline or any(m is None for m in [*baseline, *system]):
        return None
    a: list[float] = []
    b: list[float] = []
    groups: list[str] = []
    for k, (base, new) in enumerate(zip(baseline, system, strict=True)):
        _, xa, xb = paired_scores(example_scores(base, metric, source=_source(base)),
                                  example_scores(new, metric, source=_source(new)),
                                  what=f"{metric} of {_source(base)} and {_source(new)}")
        a += xa
        b += xb
        groups += [str(k)] * len(xa)
    return a, b, groups


def _source(result: dict) -> str:
    return str(result.get("generations") or result.get("run") or "metrics file")


def partial_note(cfg: dict[str, Any] | None = None) -> str:
    """The table note that explains a :data:`PARTIAL` mark."""
    return (f"{PARTIAL}(k common): this Gain is over the k test examples both runs were scored "
            "on, fewer than behind its cells' means (one file covers more examples, e.g. a "
            "full-scale evaluation beside a pipeline-scale one); it need not equal the "
            "difference of the cells shown.")


def _scored_ids(result: dict, metric: str) -> set:
    return {i for i, v in example_scores(result, metric, source=_source(result)).items()
            if v is not None and not (isinstance(v, float) and math.isnan(v))}


def common_examples(baseline: Sequence[dict | None], system: Sequence[dict | None],
                    metric: str) -> int | None:
    """How many examples a Gain of ``metric`` is over, when fewer than either side's cells are
    (the files only partly overlap); None when every file pair covers the same examples (or a
    file is missing or lacks per-example scores)."""
    if not baseline or any(m is None for m in [*baseline, *system]):
        return None
    try:
        pairs = [(_scored_ids(a, metric), _scored_ids(b, metric))
                 for a, b in zip(baseline, system, strict=True)]
    except ValueError:
        return None
    if all(a == b for a, b in pairs):
        return None
    return sum(len(a & b) for a, b in pairs)


def comparison(cfg: dict[str, Any], baseline: Sequence[dict | None],
               system: Sequence[dict | None], metric: str) -> Comparison | None:
    """The paired comparison of ``metric``; over several files (tasks) the mean of the per-task
    means, resampled within each task. None when a file is missing or no example has a score."""
    arrays = paired_arrays(baseline, system, metric)
    if arrays is None:
        return None
    a, b, groups = arrays
    if all(math.isnan(x) or math.isnan(y) for x, y in zip(a, b, strict=True)):
        return None
    return compare(a, b, groups=groups, **bootstrap_settings(cfg))


def gain(cfg: dict[str, Any], baseline: Sequence[dict | None], system: Sequence[dict | None],
         metric: str, *, percent: bool = True, digits: int = 3) -> Gain | None:
    """The Gain cell of ``metric``: relative (percent) or plain difference of the means."""
    comp = comparison(cfg, baseline, system, metric)
    if comp is None:
        return None
    est = comp.rel if percent else comp.diff
    if est is None:
        return None
    return Gain(est, percent, digits, common_examples(baseline, system, metric))


def _scores(result: dict, metric: str) -> list[float] | None:
    """The finite per-example scores of ``metric``; None without per-example scores."""
    try:
        found = example_scores(result, metric, source=_source(result))
    except ValueError:
        return None
    return [float(v) for v in found.values()
            if v is not None and not (isinstance(v, float) and math.isnan(v))]


def mean_interval(cfg: dict[str, Any], results: Sequence[dict], metric: str
                  ) -> tuple[int | None, float | None, float | None]:
    """(n, CI low, CI high) of the mean of ``metric`` over one metrics file, or of the mean of
    the per-file means over several (an average over tasks, each task resampled on its own: a
    stratified bootstrap). n is the number of scored examples; the interval is None below
    :data:`~percontrast.stats.MIN_EXAMPLES` examples in any file, or without per-example scores
    (n is then the files' ``n``)."""
    b = bootstrap_settings(cfg)
    per_file = [_scores(r, metric) for r in results]
    if any(s is None for s in per_file):
        ns = [r.get(f"n_{metric}", r.get("n")) for r in results]
        return (sum(ns) if all(isinstance(k, int) for k in ns) else None), None, None
    n = sum(len(s) for s in per_file)
    if not per_file or min(len(s) for s in per_file) < MIN_EXAMPLES:
        return n, None, None
    if len(per_file) == 1:
        est = bootstrap([per_file[0]], lambda x, axis=-1: np.mean(x, axis=axis),
                        n_resamples=b["n_resamples"], seed=b["seed"],
                        confidence=b["confidence"])
    else:
        parts = [bootstrap_distribution([s], lambda x, axis=-1: np.mean(x, axis=axis),
                                        n_resamples=b["n_resamples"], seed=[b["seed"], k])
                 for k, s in enumerate(per_file)]
        est = combine(parts, lambda v: np.mean(v, axis=0), confidence=b["confidence"])
    return n, est.low, est.high
