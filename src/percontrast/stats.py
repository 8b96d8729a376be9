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

Several training seeds: a bootstrap over the test examples of seed-averaged scores covers the
sampling of test examples only; retraining moves the effect more than that interval admits (the
seed is a second source of variation, crossed with the examples: every seed's run is scored on
the same test set). :func:`seed_example_interval` covers both: a random-effects interval from
the crossed two-way decomposition of the seeds x examples gains, with Satterthwaite's degrees
of freedom, so that 3 seeds give the honest, wide t interval a 3-seed resample could not (a
bootstrap over 3 seeds has 10 distinct resamples). :func:`combine_independent` joins such
estimates of independent tasks. See Bouthillier et al. 2021, "Accounting for variance in
machine learning benchmarks".
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
#: The fewest resamples a report may ask for (the schema's floor). A 95% interval's ends are
#: the 2.5% and 97.5% quantiles of the resamples; with 2000 resamples each rests on 50 of them
#: and moves by about 1% of its width between bootstrap seeds, where 1 to 20 resamples gave
#: intervals that excluded 0 in 13 to 100 of 100 comparisons of two equal systems.
MIN_RESAMPLES = 2_000
DEFAULT_CONFIDENCE = 0.95
#: Fewer examples than this get no interval (and so no verdict): a bootstrap over a handful of
#: examples "decides" anything.
MIN_EXAMPLES = 10

__all__ = ["Estimate", "Comparison", "bootstrap", "bootstrap_distribution", "combine", "compare",
           "paired_scores", "aligned_scores", "seed_average", "seed_example_interval",
           "combine_independent", "seed_power", "DEFAULT_RESAMPLES", "MIN_RESAMPLES",
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
    #: training seeds the interval covers (1: test examples only)
    n_seeds: int = 1
    #: the standard deviation of the per-seed estimates (None for one seed)
    seed_sd: float | None = None
    #: how the interval was made: "bootstrap" (over examples) or "seeds x examples"
    interval: str = "bootstrap"
    #: the t interval's degrees of freedom (seeds x examples only)
    df: float | None = None

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


def _check_finite(arrays: Sequence[np.ndarray]) -> None:
    """NaN means "no score" and is dropped; an infinite score is an error naming the example."""
    for k, a in enumerate(arrays):
        bad = np.flatnonzero(np.isinf(a))
        if bad.size:
            raise ValueError(f"sample {k}, example {int(bad[0])}: the score is {a[bad[0]]} "
                             f"({bad.size} infinite score(s)): a mean over it is not a number "
                             "to compare; fix the metric or drop the example")


def _as_arrays(samples: Sequence[Sequence[float]]) -> list[np.ndarray]:
    arrays = [np.asarray(s, dtype=float) for s in samples]
    if not arrays or any(a.ndim != 1 for a in arrays):
        raise ValueError("bootstrap needs one or more 1-D per-example arrays")
    _check_finite(arrays)
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
        _check_finite(arrays)
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
    for k, m in enumerate(maps):
        for i in ids:
            if m[i] is not None and math.isinf(float(m[i])):
                raise ValueError(f"{what}: example {i!r} of system {k} has the score {m[i]}: "
                                 "an infinite score cannot be averaged or compared")
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


# --------------------------------------------------------------------------- seeds x examples

def _crossed_variance(z: np.ndarray) -> tuple[float, float]:
    """Variance of the grand mean of a seeds x examples matrix with crossed random effects
    (seed, example, residual), and its Satterthwaite degrees of freedom.

    Two-way decomposition without replication: with k seeds and n examples,
    E[MS_seed] = s2_r + n s2_s, E[MS_ex] = s2_r + k s2_e, E[MS_res] = s2_r, and
    Var(mean) = s2_s / k + s2_e / n + s2_r / (k n). Components are truncated at 0."""
    k, n = z.shape
    grand = z.mean()
    rows, cols = z.mean(axis=1), z.mean(axis=0)
    ms_s = n * np.sum((rows - grand) ** 2) / (k - 1)
    ms_e = k * np.sum((cols - grand) ** 2) / (n - 1) if n > 1 else 0.0
    resid = z - rows[:, None] - cols[None, :] + grand
    df_r = (k - 1) * (n - 1)
    ms_r = np.sum(resid ** 2) / df_r if df_r else 0.0
    s2_s = max(0.0, (ms_s - ms_r) / n)
    s2_e = max(0.0, (ms_e - ms_r) / k) if n > 1 else 0.0
    var = s2_s / k + s2_e / n + ms_r / (k * n)
    # the same variance as a combination of mean squares, for Satterthwaite's df
    terms = [(ms_s / (k * n), k - 1)] if s2_s > 0 else []
    if s2_e > 0:
        terms.append((ms_e / (k * n), n - 1))
    rest = ms_r / (k * n) - (ms_r / (k * n) if s2_s > 0 else 0) - (ms_r / (k * n) if s2_e > 0
                                                                     else 0)
    if df_r and rest != 0:
        terms.append((rest, df_r))
    denom = sum(t * t / d for t, d in terms if d > 0)
    df = var * var / denom if denom > 0 else float(max(df_r, 1))
    return float(var), float(max(df, 1.0))


def _t_estimate(value: float, var: float, df: float, n: int, n_seeds: int, seed_sd: float,
                confidence: float) -> Estimate:
    se = math.sqrt(max(var, 0.0))
    if se == 0:
        p = 0.5 if value == 0 else (0.0 if value > 0 else 1.0)
        return Estimate(value, value, value, p, n, 0, confidence, n_seeds, seed_sd,
                        "seeds x examples", df)
    q = float(sps.t.ppf(0.5 + confidence / 2, df))
    p = float(sps.t.cdf(-value / se, df))  # P(statistic <= 0), as the bootstrap's p
    return Estimate(value, value - q * se, value + q * se, p, n, 0, confidence, n_seeds,
                    seed_sd, "seeds x examples", df)


def seed_example_interval(baseline: Sequence[Sequence[float]], system: Sequence[Sequence[float]],
                          *, relative: bool = False, confidence: float = DEFAULT_CONFIDENCE,
                          min_n: int = MIN_EXAMPLES) -> Estimate:
    """System B minus baseline A (or (B - A) / A with ``relative``) when both were trained
    with several seeds and scored on the same test examples: ``baseline[s][i]`` is seed ``s``'s
    score on example ``i`` (seed ``s`` of A is paired with seed ``s`` of B only for
    bookkeeping; seeds are independent runs).

    The interval covers both sources of variation, training seeds and test examples: the gains
    ``B[s, i] - A[s, i]`` form a seeds x examples matrix with crossed random effects, the
    variance of its mean comes from the two-way decomposition (:func:`_crossed_variance`) and
    the interval is Student's t with Satterthwaite's degrees of freedom (at most k - 1 when the
    seed effect dominates: 3 seeds give t(2), a wide interval, as they should). The relative
    gain is linearised (the delta method: ``z = (B - (1 + r) A) / mean(A)``). Examples where any
    seed of either system has no score are dropped. ``seed_sd`` is the standard deviation of
    the per-seed estimates.
    """
    a, b = (np.asarray(x, dtype=float) for x in (baseline, system))
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"seeds x examples matrices of one shape needed, got {a.shape} and "
                         f"{b.shape}")
    for name, m in (("baseline", a), ("system", b)):
        bad = np.argwhere(np.isinf(m))
        if bad.size:
            seed, example = (int(x) for x in bad[0])
            raise ValueError(f"{name}, seed {seed}, example {example}: the score is "
                             f"{m[seed, example]}: an infinite score cannot be averaged")
    keep = ~(np.isnan(a).any(axis=0) | np.isnan(b).any(axis=0))
    a, b = a[:, keep], b[:, keep]
    k, n = a.shape
    if k < 2:
        raise ValueError("an interval over seeds needs at least 2 training seeds")
    if n == 0:
        raise ValueError("no examples left to compare (all NaN or empty)")
    base = float(a.mean())
    if relative:
        if base == 0:
            raise ValueError("the baseline's mean is 0: no relative gain")
        value = float(b.mean()) / base - 1
        z = (b - (1 + value) * a) / base
        per_seed = b.mean(axis=1) / a.mean(axis=1) - 1
    else:
        value = float((b - a).mean())
        z = b - a
        per_seed = (b - a).mean(axis=1)
    seed_sd = float(np.std(per_seed, ddof=1))
    if n < min_n:
        return Estimate(value, None, None, None, n, 0, confidence, k, seed_sd,
                        "seeds x examples")
    var, df = _crossed_variance(z)
    return _t_estimate(value, var, df, n, k, seed_sd, confidence)


def combine_independent(parts: Sequence[Estimate], how: str = "mean", *,
                        confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
    """The mean of seed-covering estimates of independent test sets (e.g. one per task, each
    trained on its own): variances add (divided by the count squared), and the degrees of
    freedom are Satterthwaite's over the parts. ``how`` is "mean" (the only one needed)."""
    if how != "mean" or not parts:
        raise ValueError("combine_independent averages one or more estimates")
    if any(p.low is None for p in parts):
        return Estimate(float(np.mean([p.value for p in parts])), None, None, None,
                        sum(p.n for p in parts), 0, confidence, min(p.n_seeds for p in parts),
                        None, "seeds x examples")
    m = len(parts)
    variances, dfs = [], []
    for p in parts:
        df = p.df or 1.0
        q = float(sps.t.ppf(0.5 + p.confidence / 2, df))
        se = (p.high - p.low) / (2 * q)
        variances.append(se * se / (m * m))
        dfs.append(df)
    var = sum(variances)
    denom = sum(v * v / d for v, d in zip(variances, dfs, strict=True))
    df = var * var / denom if denom > 0 else 1.0
    value = float(np.mean([p.value for p in parts]))
    sds = [p.seed_sd for p in parts if p.seed_sd is not None]
    # the seed-to-seed SD of the mean over parts, the parts' seeds being independent
    seed_sd = float(math.sqrt(sum(x * x for x in sds)) / m) if len(sds) == m else None
    return _t_estimate(value, var, max(df, 1.0), sum(p.n for p in parts),
                       min(p.n_seeds for p in parts), seed_sd, confidence)


def seed_power(seed_gains: Sequence[float], n_seeds: int, *,
               confidence: float = DEFAULT_CONFIDENCE) -> float:
    """The chance that a seeds x examples interval over ``n_seeds`` seeds excludes 0, when the
    true gain and its seed-to-seed SD are those of ``seed_gains`` (one gain per seed of a pilot
    run): the two-sided t test's power, from the noncentral t with ``n_seeds - 1`` degrees of
    freedom (the seed effect dominating, as it does here). How the number of seeds is chosen."""
    gains = np.asarray(seed_gains, dtype=float)
    if gains.size < 2 or n_seeds < 2:
        raise ValueError("a power calculation needs at least 2 pilot seeds and 2 planned seeds")
    sd = float(np.std(gains, ddof=1))
    if sd == 0:
        return 1.0
    df = n_seeds - 1
    nc = float(np.mean(gains)) / (sd / math.sqrt(n_seeds))
    q = float(sps.t.ppf(0.5 + confidence / 2, df))
    power = float(sps.nct.sf(q, df, nc) + sps.nct.cdf(-q, df, nc))
    if not math.isfinite(power):  # scipy's noncentral t fails far in the tail: power ~ 1
        power = float(sps.norm.sf(q - abs(nc)))
    return min(max(power, 0.0), 1.0)
