"""Intervals that survive retraining: on simulated two-level data (training seeds crossed with
test examples) where the seed effect dominates, the seeds x examples interval reaches its
nominal coverage and the example-only interval of seed-averaged scores falls well short."""

from __future__ import annotations

import numpy as np
import pytest

from percontrast.stats import combine_independent, compare, seed_example_interval

TRUE_GAIN = 0.5


def simulate(rng, k, n, seed_sd=1.0, example_sd=0.3, noise_sd=0.5):
    """CE and PerCE scores of k seeds on n shared examples: per example a difficulty (shared by
    both systems and every seed), per run a seed effect, per cell noise."""
    difficulty = rng.normal(0, 1, n)
    ce = difficulty + rng.normal(0, seed_sd, (k, 1)) + rng.normal(0, noise_sd, (k, n))
    example_gain = rng.normal(0, example_sd, n)
    perce = (difficulty + TRUE_GAIN + example_gain + rng.normal(0, seed_sd, (k, 1))
             + rng.normal(0, noise_sd, (k, n)))
    return ce, perce


def coverage(k, n_sims=200, n=60, seed=0):
    rng = np.random.default_rng(seed)
    seeds_hit = examples_hit = 0
    for _ in range(n_sims):
        ce, perce = simulate(rng, k, n)
        est = seed_example_interval(ce, perce)
        seeds_hit += est.low <= TRUE_GAIN <= est.high
        only = compare(ce.mean(axis=0), perce.mean(axis=0), n_resamples=300, seed=1).diff
        examples_hit += only.low <= TRUE_GAIN <= only.high
    return seeds_hit / n_sims, examples_hit / n_sims


@pytest.mark.parametrize("k", [3, 5])
def test_the_seed_covering_interval_reaches_its_nominal_coverage(k):
    seeds, examples = coverage(k)
    assert seeds >= 0.90, f"seeds x examples interval covered {seeds:.0%} with {k} seeds"
    assert examples <= 0.60, f"example-only interval covered {examples:.0%} (expected far short)"


def test_without_a_seed_effect_the_interval_is_close_to_the_example_bootstrap():
    rng = np.random.default_rng(4)
    ce, perce = simulate(rng, 4, 200, seed_sd=0.0)
    est = seed_example_interval(ce, perce)
    boot = compare(ce.mean(axis=0), perce.mean(axis=0), n_resamples=2000, seed=0).diff
    assert (est.high - est.low) == pytest.approx(boot.high - boot.low, rel=0.25)
    assert est.n_seeds == 4 and est.interval == "seeds x examples" and est.df > 3


def test_a_known_matrix_gives_the_textbook_numbers():
    """2 seeds x 3 examples, gains with a pure seed effect: the mean, the per-seed SD and the
    t(1) interval follow by hand."""
    ce = np.zeros((2, 12))
    perce = np.array([[1.0] * 12, [3.0] * 12])  # seed gains 1 and 3, no example variation
    est = seed_example_interval(ce, perce)
    assert est.value == pytest.approx(2.0) and est.seed_sd == pytest.approx(np.sqrt(2))
    # Var(mean) = s2_seed / k = 2 / 2 = 1, df = k - 1 = 1: 2 +- 12.706
    assert est.df == pytest.approx(1.0)
    assert (est.low, est.high) == pytest.approx((2 - 12.7062, 2 + 12.7062), abs=1e-3)


def test_relative_gains_and_their_refusals():
    rng = np.random.default_rng(2)
    ce, perce = simulate(rng, 3, 80, seed_sd=0.05)
    ce, perce = ce + 10, perce + 10
    est = seed_example_interval(ce, perce, relative=True)
    assert est.value == pytest.approx(perce.mean() / ce.mean() - 1)
    assert est.low < est.value < est.high
    with pytest.raises(ValueError, match="at least 2 training seeds"):
        seed_example_interval(ce[:1], perce[:1])
    ce[1, 5] = np.inf
    with pytest.raises(ValueError, match="example 5"):
        seed_example_interval(ce, perce)


def test_independent_tasks_combine_into_a_mean_with_added_variances():
    rng = np.random.default_rng(3)
    parts = [seed_example_interval(*simulate(rng, 3, 60)) for _ in range(2)]
    both = combine_independent(parts)
    assert both.value == pytest.approx(np.mean([p.value for p in parts]))
    widths = [p.high - p.low for p in parts]
    assert both.high - both.low < max(widths)  # averaging two independent tasks narrows it
    assert both.n == sum(p.n for p in parts) and both.n_seeds == 3


def test_an_infinite_score_is_refused_naming_the_example():
    with pytest.raises(ValueError, match="example 19"):
        compare([0.5] * 19 + [np.inf], [0.6] * 20)


def test_a_report_cannot_ask_for_fewer_resamples_than_the_floor(repo):
    from percontrast import config as pc
    from percontrast.stats import MIN_RESAMPLES

    cfg = pc.load_config(repo / "configs/tiny.yaml")
    cfg.setdefault("report", {})["bootstrap"] = {"n_resamples": 1}
    with pytest.raises(pc.ConfigError, match="n_resamples"):
        pc.validate_schema(cfg)
    cfg["report"]["bootstrap"] = {"n_resamples": MIN_RESAMPLES}
    pc.validate_schema(cfg)


def test_seed_power_grows_with_seeds_and_matches_a_simulation():
    from percontrast.stats import seed_power

    pilot = [1.33, 0.35]  # persona words per reply, PerCE - CE at seeds 42 and 43
    powers = [seed_power(pilot, k) for k in (3, 5, 8)]
    assert powers == sorted(powers) and powers[0] < 0.5 < powers[-1]
    # the t test's rejection rate on simulated seed gains with the pilot's mean and SD
    rng = np.random.default_rng(0)
    mean, sd = np.mean(pilot), np.std(pilot, ddof=1)
    from scipy import stats as sps

    hits = 0
    for _ in range(4000):
        g = rng.normal(mean, sd, 5)
        t = g.mean() / (g.std(ddof=1) / np.sqrt(5))
        hits += abs(t) > sps.t.ppf(0.975, 4)
    assert hits / 4000 == pytest.approx(seed_power(pilot, 5), abs=0.03)
