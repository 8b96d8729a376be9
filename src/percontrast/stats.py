"""Paired bootstrap comparisons: how sure are we that system B beats system A on the same examples?

Every Gain this project publishes is a statement about two systems scored on the *same* test
examples, so the uncertainty that matters is the sampling of those examples: resample example
indices with replacement, apply the same indices to both systems (a paired bootstrap, Koehn 2004;
Efron & Tibshirani ch. 16), and read the spread of the statistic. The resampling and the BCa
interval are ``scipy.stats.bootstrap(..., paired=True)``; this module only says *what* is
resampled and turns the result into something a table can print.

* :func:`bootstrap` — any statistic of several paired per-example arrays (differences of means,
  relative gains, F1 from per-answer counts, variances over a learning-rate grid ...).
* :func:`compare` — the common case: mean of B minus mean of A, and the relative gain
  (B - A) / A, with optional per-example weights (equal weight per task gives the paper's
  "average over tasks" column).
* The p-value is one-sided for the claimed direction (B > A): the bootstrap probability that the
  statistic is at most 0, ties counted half (mid-p). Two identical systems therefore give exactly
  0.5, a clear win gives a p near 0, a clear loss a p near 1.

Several training seeds: average each example's score over seeds first (:func:`seed_average`),
then bootstrap over examples. The interval then covers the sampling of test examples for
seed-averaged systems; seed-to-seed variation enters through the averaged scores (each example's
mean over seeds), not as a separate resampling level.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

DEFAULT_RESAMPLES = 10_000
DEFAULT_CONFIDENCE = 0.95
#: Fewer examples than this get no interval (and so no verdict): a bootstrap over a handful of
#: examples "decides" anything.
MIN_EXAMPLES = 10

__all__ = ["Estimate", "Comparison", "bootstrap", "bootstrap_distribution", "combine", "compare",
           "paired_scores", "aligned_scores", "seed_average", "DEFAULT_RESAMPLES",
           "DEFAULT_CONFIDENCE", "MIN_EXAMPLES"]


@dataclass(frozen=True)
class Estimate:
    """A statistic with its bootstrap interval and one-sided p-value (for "statistic > 0")."""

    value: float
    low: float | None
    high: float | None
    p_value: float | None
    n: int
    n_resamples: int
    confidence: float

    @property
    def decided(self) -> bool:
        """True when the interval excludes 0 (in either direction)."""
        return self.low is not None and (self.low > 0 or self.high < 0)

    def direction(self) -> int:
        """+1 when the interval lies above 0, -1 below, 0 when it contains 0 (or is unknown)."""
        if self.low is None:
            return 0
        return 1 if self.low > 0 else -1 if self.high < 0 else 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    """System B against baseline A on the same examples: means, difference, relative gain."""

    baseline: float
    system: float
    diff: Estimate
    rel: Estimate | None  # None when the baseline mean is 0

    @property
    def n(self) -> int:
        return self.diff.n

    @property
    def p_value(self) -> float | None:
        return self.diff.p_value

    def to_dict(self) -> dict:
        return {"baseline": self.baseline, "system": self.system, "diff": self.diff.to_dict(),
                "rel": self.rel.to_dict() if self.rel else None}


def _as_arrays(samples: Sequence[Sequence[float]]) -> list[np.ndarray]:
    arrays = [np.asarray(s, dtype=float) for s in samples]
    if not arrays or any(a.ndim != 1 for a in arrays):
        raise ValueError("bootstrap needs one or more 1-D per-example arrays")
    if len({len(a) for a in arrays}) != 1:
        raise ValueError(f"paired samples must have equal lengths, got {[len(a) for a in arrays]}")
    return arrays


def _rng(seed: int | Sequence[int]) -> np.random.Generator:
    return np.random.default_rng(list(seed) if isinstance(seed, (list, tuple)) else seed)


def _drop_nan(arrays: list[np.ndarray]) -> list[np.ndarray]:
    keep = ~np.any([np.isnan(a) for a in arrays], axis=0)
    return [a[keep] for a in arrays]


def _p_value(dist: np.ndarray) -> float:
    """One-sided bootstrap p for "statistic > 0": the share of resamples at or below 0, ties
    counted half (mid-p)."""
    return float((np.count_nonzero(dist < 0) + 0.5 * np.count_nonzero(dist == 0)) / dist.size)


def _from_distribution(value: float, dist: np.ndarray, n: int, n_resamples: int,
                       confidence: float, interval: tuple[float, float] | None = None
                       ) -> Estimate:
    """An Estimate from a bootstrap distribution: ``interval`` when given and finite (BCa),
    else the percentile interval of the finite resamples."""
    dist = dist[np.isfinite(dist)]
    if dist.size == 0:
        return Estimate(value, None, None, None, n, n_resamples, confidence)
    if np.ptp(dist) == 0:  # every resample gives the same value: no sampling uncertainty
        low = high = float(dist[0])
    elif interval is not None and all(np.isfinite(interval)):
        low, high = (float(x) for x in interval)
    else:
        alpha = (1 - confidence) / 2
        low, high = (float(x) for x in np.quantile(dist, [alpha, 1 - alpha]))
    return Estimate(value, low, high, _p_value(dist), n, n_resamples, confidence)


def bootstrap(samples: Sequence[Sequence[float]], statistic: Callable[..., np.ndarray], *,
              n_resamples: int = DEFAULT_RESAMPLES, seed: int | Sequence[int] = 0,
              confidence: float = DEFAULT_CONFIDENCE, paired: bool = True,
              min_n: int = MIN_EXAMPLES) -> Estimate:
    """Bootstrap of ``statistic(*samples, axis=-1)`` over examples (the arrays' index).

    ``statistic`` must be vectorised: it receives arrays whose last axis is the example axis
    (and leading batch axes for the resamples) and returns one value per resample. Paired (the
    default): examples where any sample is NaN are dropped from every sample alike, and one
    resampled index set serves all samples. ``paired=False`` resamples each sample on its own
    (e.g. step times of two benchmark runs). The interval is BCa; where BCa is undefined (a
    degenerate distribution) it is the percentile interval. Below ``min_n`` examples there is
    no interval (a 2-example bootstrap "decides" anything).
    """
    arrays = [np.asarray(a, dtype=float) for a in samples]
    if paired:
        arrays = _drop_nan(_as_arrays(arrays))
    else:
        arrays = [a[~np.isnan(a)] for a in arrays]
    n = min(len(a) for a in arrays)
    if n == 0:
        raise ValueError("no examples left to compare (all NaN or empty)")
    value = float(statistic(*arrays, axis=-1))
    if n < min_n:
        return Estimate(value, None, None, None, n, 0, confidence)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate distributions: handled below
        res = sps.bootstrap(arrays, statistic, n_resamples=n_resamples, paired=paired,
                            vectorized=True, confidence_level=confidence, method="BCa",
                            rng=_rng(seed))
    ci = res.confidence_interval
    return _from_distribution(value, np.asarray(res.bootstrap_distribution, dtype=float),
                              sum(len(a) for a in arrays) if not paired else n, n_resamples,
                              confidence, (ci.low, ci.high))


def bootstrap_distribution(samples: Sequence[Sequence[float]],
                           statistic: Callable[..., np.ndarray], *,
                           n_resamples: int = DEFAULT_RESAMPLES, seed: int | Sequence[int] = 0,
                           min_n: int = MIN_EXAMPLES) -> tuple[float, np.ndarray, int]:
    """(statistic on the sample, its paired-bootstrap distribution, n) — for statistics that
    combine *independent* test sets (:func:`combine`), which one paired resampling cannot.
    Give each test set its own ``seed`` (e.g. ``[seed, k]``): equal seeds would draw the same
    index sets for sets of equal size. ``statistic`` may return several values (leading axis)."""
    arrays = _drop_nan(_as_arrays(samples))
    n = len(arrays[0])
    if n < min_n:
        raise ValueError(f"{n} examples: at least {min_n} are needed for an interval")
    res = sps.bootstrap(arrays, statistic, n_resamples=n_resamples, paired=True,
                        vectorized=True, method="percentile", rng=_rng(seed))
    return (statistic(*arrays, axis=-1), np.asarray(res.bootstrap_distribution, float), n)


def combine(parts: Sequence[tuple[Any, np.ndarray, int]],
            how: Callable[[np.ndarray], np.ndarray], *,
            confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
    """A statistic of several independent test sets (e.g. one per task): ``how`` maps the
    stacked per-set values (axis 0) to one value; resamples of different sets are independent
    draws, so their distributions combine element-wise (a stratified bootstrap). Percentile
    interval."""
    values = np.stack([np.asarray(v, dtype=float) for v, _, _ in parts])
    dists = np.stack([d for _, d, _ in parts])
    value = float(how(values))
    with np.errstate(divide="ignore", invalid="ignore"):
        dist = np.asarray(how(dists), dtype=float)
    return _from_distribution(value, dist, sum(k for _, _, k in parts), dists.shape[-1],
                              confidence)


def _means(a, b, axis=-1):
    return np.stack([np.mean(a, axis=axis), np.mean(b, axis=axis)])


def compare(baseline: Sequence[float], system: Sequence[float], *,
            groups: Sequence[str] | None = None, n_resamples: int = DEFAULT_RESAMPLES,
            seed: int = 0, confidence: float = DEFAULT_CONFIDENCE,
            min_n: int = MIN_EXAMPLES) -> Comparison:
    """Paired comparison of per-example scores: B - A and (B - A) / A of the means.

    With ``groups`` (e.g. the task of each example) the means are the mean of the per-group
    means — each task counts equally, as the paper's "average" columns — and the bootstrap
    resamples within each group independently (stratified), so every resample keeps each
    task's size. Examples where either system has no score (NaN) are dropped first.
    """
    a, b = _as_arrays([baseline, system])
    g = np.asarray(["."] * len(a) if groups is None else list(groups), dtype=object)
    if len(g) != len(a):
        raise ValueError(f"{len(g)} group labels for {len(a)} examples")
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b, g = a[keep], b[keep], g[keep]
    if a.size == 0:
        raise ValueError("no examples left to compare (all NaN or empty)")
    labels = list(dict.fromkeys(g))
    kw = {"n_resamples": n_resamples, "confidence": confidence, "min_n": min_n}
    if len(labels) == 1:
        mean_a, mean_b = float(np.mean(a)), float(np.mean(b))
        d = bootstrap([a, b], lambda x, y, axis=-1: np.mean(y, axis) - np.mean(x, axis),
                      seed=seed, **kw)
        r = bootstrap([a, b], _relative, seed=seed, **kw) if mean_a != 0 else None
        return Comparison(mean_a, mean_b, d, r)
    parts = [(_means(a[g == k], b[g == k]), None, int(np.sum(g == k))) for k in labels]
    mean_a, mean_b = (float(x) for x in np.mean([v for v, _, _ in parts], axis=0))
    n = int(a.size)
    if min(k for _, _, k in parts) < min_n:
        none = Estimate(mean_b - mean_a, None, None, None, n, 0, confidence)
        rel = (Estimate((mean_b - mean_a) / mean_a, None, None, None, n, 0, confidence)
               if mean_a != 0 else None)
        return Comparison(mean_a, mean_b, none, rel)
    dists = [bootstrap_distribution([a[g == k], b[g == k]], _means, n_resamples=n_resamples,
                                    seed=[seed, j], min_n=min_n) for j, k in enumerate(labels)]
    d = combine(dists, lambda v: np.mean(v[:, 1] - v[:, 0], axis=0), confidence=confidence)
    r = (combine(dists, lambda v: np.mean(v[:, 1] - v[:, 0], axis=0) / np.mean(v[:, 0], axis=0),
                 confidence=confidence) if mean_a != 0 else None)
    return Comparison(mean_a, mean_b, d, r)


def _relative(a, b, axis=-1):
    base = np.mean(a, axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.mean(b, axis=axis) - base) / base


def paired_scores(a: Mapping[str, float | None], b: Mapping[str, float | None], *,
                  what: str = "scores") -> tuple[list[str], list[float], list[float]]:
    """Align two ``{example id: score}`` maps on the examples both were scored on, in A's order
    (``None`` becomes NaN). Evaluations of different scale cover different prefixes of one test
    file (``training.pipeline_scale.n_test``), so the comparison is over their common examples
    and its ``n`` says how many; two maps with no example in common are an error."""
    ids, (xa, xb) = aligned_scores([a, b], what=what)
    return ids, xa, xb


def aligned_scores(maps: Sequence[Mapping[str, float | None]], *, what: str = "scores"
                   ) -> tuple[list[str], list[list[float]]]:
    """Several systems' ``{example id: score}`` on one test set, over the examples all of them
    were scored on, in the first map's order (``None`` becomes NaN); none in common is an error."""
    ids = [i for i in maps[0] if all(i in m for m in maps[1:])]
    if not ids:
        raise ValueError(f"{what}: the systems share no scored example "
                         f"({', '.join(str(len(m)) for m in maps)} examples)")
    return ids, [[_nan(m[i]) for i in ids] for m in maps]


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def seed_average(per_seed: Sequence[Mapping[str, float | None]]) -> dict[str, float]:
    """``{id: score}`` of several training seeds -> ``{id: mean over seeds}`` (NaN-aware)."""
    if not per_seed:
        raise ValueError("no seeds to average")
    ids = list(per_seed[0])
    for k, scores in enumerate(per_seed[1:], 1):
        if set(scores) != set(ids):
            raise ValueError(f"seed {k} was scored on other examples than seed 0")
    out = {}
    for i in ids:
        vals = [_nan(s[i]) for s in per_seed]
        finite = [v for v in vals if not math.isnan(v)]
        out[i] = math.fsum(finite) / len(finite) if finite else math.nan
    return out
