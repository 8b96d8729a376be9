"""Paired bootstrap with known answers (percontrast.stats)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from percontrast.stats import (
    bootstrap,
    bootstrap_distribution,
    combine,
    compare,
    paired_scores,
    seed_average,
)


def test_identical_systems_give_zero_with_p_one_half():
    a = np.random.default_rng(1).uniform(0, 1, 40)
    c = compare(a, a, n_resamples=2000, seed=3)
    assert c.diff.value == 0 and c.diff.low == 0 and c.diff.high == 0
    assert c.diff.p_value == 0.5 and c.rel.p_value == 0.5
    assert not c.diff.decided and c.diff.direction() == 0


def test_exchangeable_systems_contain_zero():
    """Two systems drawn from one distribution: the interval contains 0 and p is far from 0
    and 1 (the seeds are fixed, so this is deterministic)."""
    rng = np.random.default_rng(7)
    a, b = rng.normal(0.3, 0.1, 64), rng.normal(0.3, 0.1, 64)
    c = compare(a, b, n_resamples=4000, seed=0)
    assert c.diff.low < 0 < c.diff.high
    assert 0.05 < c.diff.p_value < 0.95


def test_constant_shift_gives_a_tight_interval_around_it():
    a = np.random.default_rng(2).uniform(0.2, 0.6, 50)
    c = compare(a, a + 0.05, n_resamples=2000)
    assert c.diff.value == pytest.approx(0.05)
    assert c.diff.low == pytest.approx(0.05, abs=1e-9) and c.diff.high == pytest.approx(0.05,
                                                                                        abs=1e-9)
    assert c.diff.p_value == 0 and c.diff.decided and c.diff.direction() == 1
    assert c.rel.value == pytest.approx(0.05 / a.mean())
    # the relative gain still varies with the resampled baseline mean
    assert c.rel.low < c.rel.value < c.rel.high


def test_interval_covers_a_known_effect_and_shrinks_with_n():
    rng = np.random.default_rng(11)
    widths = []
    for n in (30, 480):
        a = rng.normal(0.5, 0.2, n)
        b = a + 0.03 + rng.normal(0, 0.1, n)
        c = compare(a, b, n_resamples=3000, seed=1)
        assert c.diff.low < 0.03 + 3 * 0.1 / math.sqrt(n) and c.diff.high > 0.03 - 0.1
        widths.append(c.diff.high - c.diff.low)
    assert widths[1] < widths[0] / 3  # ~ 1/sqrt(n): 4x narrower for 16x the examples


def test_unpaired_samples_resample_separately():
    rng = np.random.default_rng(4)
    ce, perce = rng.normal(8.7, 0.2, 20), rng.normal(9.2, 0.2, 16)
    est = bootstrap([ce, perce], lambda a, b, axis=-1: np.median(b, axis) / np.median(a, axis)
                    - 1.10, paired=False, n_resamples=2000)
    assert est.n == 36 and est.high < 0 and est.p_value > 0.99  # ratio ~1.06, below 1.10


def test_a_loss_is_contradicted():
    a = np.linspace(0.4, 0.6, 30)
    c = compare(a, a - 0.1 + np.linspace(-0.01, 0.01, 30), n_resamples=2000)
    assert c.diff.direction() == -1 and c.diff.p_value == 1.0


def test_groups_weigh_tasks_equally_and_resample_within_each():
    """Task x: 10 examples gaining exactly 1; task y: 200 gaining exactly 0. The average over
    tasks gains 0.5, and a stratified bootstrap knows it exactly (no resample changes a task's
    size), where pooled resampling would have smeared it over [0.2, 0.7]."""
    a = [0.0] * 210
    b = [1.0] * 10 + [0.0] * 200
    groups = ["x"] * 10 + ["y"] * 200
    c = compare(a, b, groups=groups, n_resamples=500)
    assert c.baseline == 0 and c.system == pytest.approx(0.5)
    assert c.diff.value == pytest.approx(0.5) and c.diff.low == c.diff.high == pytest.approx(0.5)
    assert c.rel is None  # baseline 0
    # examples without a score leave their task's weight intact (the mean of what is left)
    a2 = [0.2] * 10 + [math.nan] * 5 + [0.4] * 10
    b2 = [0.3] * 10 + [0.9] * 5 + [0.4] * 10
    c2 = compare(a2, b2, groups=["x"] * 15 + ["y"] * 10, n_resamples=500)
    assert c2.baseline == pytest.approx(0.3) and c2.system == pytest.approx(0.35)


def test_nan_examples_are_dropped_from_both_systems():
    a = [0.1, math.nan, 0.3, 0.5] * 5
    b = [0.2, 0.9, math.nan, 0.6] * 5
    c = compare(a, b, n_resamples=500)
    assert c.n == 10 and c.baseline == pytest.approx(0.3) and c.system == pytest.approx(0.4)
    with pytest.raises(ValueError, match="no examples"):
        compare([math.nan], [1.0])


def test_too_few_examples_have_no_interval():
    """Two examples that both gain 0.01 would "decide" with a [0.01, 0.01] interval."""
    c = compare([0.30, 0.20], [0.31, 0.21])
    assert c.diff.value == pytest.approx(0.01) and c.diff.low is None
    assert not c.diff.decided and c.diff.direction() == 0
    g = compare([0.3] * 12 + [0.2] * 3, [0.4] * 12 + [0.3] * 3, groups=["x"] * 12 + ["y"] * 3)
    assert g.diff.value == pytest.approx(0.1) and g.diff.low is None  # a task under the minimum
    z = compare([0.0] * 15, [0.1] * 15, groups=["x"] * 12 + ["y"] * 3)  # zero baseline
    assert z.rel is None and z.diff.value == pytest.approx(0.1)


def test_statistics_of_several_arrays_and_independent_sets():
    rng = np.random.default_rng(5)
    tp, fp, fn = (rng.integers(0, 4, 30).astype(float) for _ in range(3))
    f1 = lambda t, p, n, axis=-1: 2 * t.sum(axis) / (2 * t.sum(axis) + p.sum(axis)  # noqa: E731
                                                      + n.sum(axis))
    est = bootstrap([tp, fp, fn], f1, n_resamples=1000)
    assert est.value == pytest.approx(2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum()))
    assert est.low < est.value < est.high
    # two independent test sets combine element-wise: the difference of two shifted means
    x = bootstrap_distribution([rng.normal(1.0, 0.1, 40)], lambda v, axis=-1: v.mean(axis),
                               seed=[0, 1])
    y = bootstrap_distribution([rng.normal(0.5, 0.1, 40)], lambda v, axis=-1: v.mean(axis),
                               seed=[0, 2])
    d = combine([x, y], lambda v: v[0] - v[1])
    assert d.value == pytest.approx(x[0] - y[0]) and d.n == 80
    assert 0.4 < d.low < d.value < d.high < 0.6 and d.p_value == 0
    # independent streams: one data set twice gives uncorrelated resamples, so the difference
    # of a set with itself still has the width of two independent sets
    z = rng.normal(0, 1, 40)
    z1 = bootstrap_distribution([z], lambda v, axis=-1: v.mean(axis), seed=[0, 1])
    z2 = bootstrap_distribution([z], lambda v, axis=-1: v.mean(axis), seed=[0, 2])
    assert abs(np.corrcoef(z1[1], z2[1])[0, 1]) < 0.1
    w = combine([z1, z2], lambda v: v[0] - v[1])
    assert w.value == 0 and w.low < -0.2 and w.high > 0.2


def test_paired_scores_and_seed_average():
    ids, a, b = paired_scores({"u": 0.1, "v": None}, {"v": 0.4, "u": 0.2})
    assert ids == ["u", "v"] and a[0] == 0.1 and math.isnan(a[1]) and b == [0.2, 0.4]
    # a prefix evaluation against a full one: the common examples
    assert paired_scores({"u": 1.0}, {"u": 1.0, "w": 2.0})[0] == ["u"]
    with pytest.raises(ValueError, match="share no scored example"):
        paired_scores({"u": 1.0}, {"w": 2.0})
    assert seed_average([{"u": 0.2, "v": None}, {"u": 0.4, "v": 0.5}]) == {
        "u": pytest.approx(0.3), "v": 0.5}
    with pytest.raises(ValueError, match="seed 1"):
        seed_average([{"u": 1.0}, {"w": 1.0}])
