"""Token classification and ranking metrics (weighted, vectorised over resamples) and the
bootstrap over answers."""

from __future__ import annotations

import numpy as np
import pytest

from percontrast.ranking import (
    answer_bootstrap,
    average_precision,
    best_threshold,
    pr_curve,
    prf,
    recall_by_group,
    roc_auc,
    weighted_f1,
)


def test_prf_by_hand():
    assert prf([True, True, False, False], [True, False, True, False]) == {
        "precision": 0.5, "recall": 0.5, "f1": 0.5, "n_tokens": 4, "n_gold": 2,
        "n_predicted": 2, "n_correct": 1}
    assert prf([False, False], [True, False])["f1"] == 0.0


def test_recall_by_group_counts_gold_tokens_of_each_label():
    pred = np.array([True, False, True, True, False])
    gold = np.array([True, True, True, False, False])
    groups = np.array(["a", "a", "b", "a", ""])
    assert recall_by_group(pred, gold, groups, ("a", "b", "c")) == {
        "a": {"recall": 0.5, "n_gold": 2}, "b": {"recall": 1.0, "n_gold": 1},
        "c": {"recall": None, "n_gold": 0}}


# --------------------------------------------------------------------------- threshold-free metrics

SCORES = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
GOLD = [True, False, True, False, False, True]


def test_average_precision_and_roc_auc_by_hand():
    # positives at ranks 1, 3, 6: precision 1, 2/3, 3/6 there
    assert float(average_precision(SCORES, GOLD)) == pytest.approx((1 + 2 / 3 + 1 / 2) / 3)
    # positive-negative pairs ranked right: 3 (0.9) + 2 (0.7) + 0 (0.4) of 9
    assert float(roc_auc(SCORES, GOLD)) == pytest.approx(5 / 9)
    # ties enter together: one PR point at 1 (P 1/2, R 1/2), one at 0 (P 2/4, R 1)
    assert float(average_precision([1, 1, 0, 0], [True, False, True, False])) == 0.5
    assert float(roc_auc([1, 1, 0, 0], [True, False, True, False])) == 0.5
    assert float(roc_auc([3, 2, 1], [True, True, False])) == 1.0
    assert np.isnan(average_precision([1, 0], [False, False]))


def test_weights_count_tokens_as_repeated_and_batch_rows_are_independent():
    w = np.array([[2, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]], dtype=float)
    repeated = ([0.9] + SCORES, [True] + GOLD)
    assert average_precision(SCORES, GOLD, w)[0] == pytest.approx(
        float(average_precision(*repeated)))
    assert average_precision(SCORES, GOLD, w)[0] == pytest.approx(0.5 + 0.25 * 0.75
                                                                   + 0.25 * 4 / 7)
    assert roc_auc(SCORES, GOLD, w)[1] == pytest.approx(5 / 9)
    # row 3 drops the first two tokens: ranks 0.7+ 0.6- 0.5- 0.4+
    assert average_precision(SCORES, GOLD, w)[2] == pytest.approx((1 + 2 / 4) / 2)
    assert roc_auc(SCORES, GOLD, w)[2] == pytest.approx(2 / 4)


def test_ranking_metrics_agree_with_scikit_learn_on_random_weighted_data():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    scores = np.round(rng.normal(size=300), 1)  # many ties
    gold = rng.random(300) < 0.3
    weights = rng.integers(0, 4, size=300).astype(float)
    assert average_precision(scores, gold, weights) == pytest.approx(
        metrics.average_precision_score(gold, scores, sample_weight=weights))
    assert roc_auc(scores, gold, weights) == pytest.approx(
        metrics.roc_auc_score(gold, scores, sample_weight=weights))


def test_pr_curve_points_by_hand():
    curve = pr_curve(SCORES, GOLD)
    assert curve["threshold"] == SCORES
    assert curve["recall"] == pytest.approx([1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 1])
    assert curve["precision"] == pytest.approx([1, 1 / 2, 2 / 3, 2 / 4, 2 / 5, 3 / 6])


def test_best_threshold_maximises_f1_and_sits_between_scores():
    # F1 when cutting after each rank: 0.5, 0.8, 0.667, 0.857, 0.75 -> after the 4th (0.5)
    assert best_threshold([3, 2, 1.5, 0.5, 0.2], [True, True, False, True, False]) == \
        pytest.approx(0.35)
    assert best_threshold([2.0, 1.0], [True, False]) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="no gold"):
        best_threshold([1.0], [False])


def test_weighted_f1_matches_prf():
    pred, gold = [True, True, False, False], [True, False, True, False]
    assert weighted_f1(pred, gold, np.ones((1, 4)))[0] == prf(pred, gold)["f1"] == 0.5


def test_answer_bootstrap_resamples_whole_answers_paired():
    # 12 answers of 3 tokens: method B finds every gold token, method A none -> F1 diff 1, no
    # spread; a statistic reading the weights sees whole answers (token weights come in threes)
    answer_of = np.repeat(np.arange(12), 3)
    gold = np.tile([True, False, False], 12)
    est = answer_bootstrap(answer_of, np.arange(12),
                           lambda w: weighted_f1(gold, gold, w) - weighted_f1(~gold & gold, gold,
                                                                                w),
                           {"n_resamples": 200, "seed": 0})
    assert (est.value, est.low, est.high, est.n) == (1.0, 1.0, 1.0, 12)
    seen = []

    def total_weight(w):
        seen.append(w)
        return w.sum(axis=-1)

    answer_bootstrap(answer_of, np.arange(12), total_weight, {"n_resamples": 50, "seed": 0})
    w = np.concatenate(seen)
    sums = w.sum(axis=-1)  # 12 answers x 3 tokens per resample; BCa's jackknife leaves one out
    assert set(sums) == {33.0, 36.0} and np.count_nonzero(sums == 36) >= 50
    assert np.all(w.reshape(len(w), 12, 3) == w.reshape(len(w), 12, 3)[..., :1])
