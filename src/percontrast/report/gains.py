"""Gain cells with their uncertainty: PerCE against CE on the same test examples.

A table's Gain row used to be a bare percentage. Here every Gain is a paired bootstrap
(:mod:`percontrast.stats`) over the per-example scores that the metrics files keep, so a cell
reads ``+6.60% [-2.1, +15.0]`` — the relative gain with its 95% interval, in percent — and is
starred when the interval excludes 0. CSV files get the interval and p-value as separate columns
(:meth:`percontrast.report.tables.Table.to_csv`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from percontrast.metrics import example_scores
from percontrast.stats import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    Comparison,
    Estimate,
    compare,
    paired_scores,
)

#: Marks a Gain whose interval excludes 0.
DECIDED = "*"


@dataclass(frozen=True)
class Gain:
    """A Gain cell: relative gain in percent (``percent=True``) or a plain difference."""

    estimate: Estimate
    percent: bool = True
    digits: int = 3  # decimals of a plain difference (value and interval alike)

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
        if self.low is None:
            return head
        bounds = ".1f" if self.percent else f".{self.digits}f"
        return (f"{head} [{self.low:+{bounds}}, {self.high:+{bounds}}]"
                + (DECIDED if self.estimate.decided else ""))

    def csv_fields(self) -> list[Any]:
        """Value, CI low, CI high, one-sided p (for PerCE > CE) — the CSV's columns."""
        return [round(self.value, 6), _round(self.low), _round(self.high),
                _round(self.estimate.p_value)]


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
    return None if est is None else Gain(est, percent, digits)
