"""Token classification and ranking metrics, and the bootstrap over answers they are built for.

A method that marks answer tokens as personal is scored against gold labels either as a binary
prediction (:func:`prf`, :func:`weighted_f1`, :func:`recall_by_group`) or, when it gives every
token a score (PIR), without a threshold (:func:`average_precision`, :func:`roc_auc`,
:func:`pr_curve`) or at the threshold that does best on other tokens (:func:`best_threshold`).

The uncertainty of a difference between two methods comes from the sampling of answers, not of
tokens (the tokens of one answer are not independent), so :func:`answer_bootstrap` resamples
whole answers: a resample gives each token its answer's multiplicity as weight. The metrics
therefore take rows of per-token weights and score every row at once: a bootstrap of 10^4
resamples is a few matrix operations, where scikit-learn's metrics (the tests' oracle, with
``sample_weight``) would take one call per resample.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: Resamples scored at once in :func:`answer_bootstrap` (bounds memory: chunk x tokens floats).
_CHUNK = 500

__all__ = ["prf", "weighted_f1", "recall_by_group", "average_precision", "roc_auc", "pr_curve",
           "best_threshold", "answer_bootstrap"]


def prf(predicted: Sequence[bool], gold: Sequence[bool]) -> dict[str, float]:
    """Token precision / recall / F1 (0 where undefined) and counts."""
    tp = sum(p and g for p, g in zip(predicted, gold, strict=True))
    n_pred, n_gold = sum(predicted), sum(gold)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n_tokens": len(gold),
            "n_gold": n_gold, "n_predicted": n_pred, "n_correct": tp}


def weighted_f1(predicted, gold, weights) -> np.ndarray:
    """Token F1 of a binary prediction under per-token weights (rows of ``weights``)."""
    predicted, gold = np.asarray(predicted, bool), np.asarray(gold, bool)
    w = np.asarray(weights, dtype=float)
    tp = w @ (predicted & gold)
    wrong = w @ (predicted ^ gold)  # false positives + false negatives
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(2 * tp + wrong > 0, 2 * tp / (2 * tp + wrong), 0.0)


def recall_by_group(predicted: np.ndarray, gold: np.ndarray, groups: np.ndarray,
                    labels: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per label: recall of ``predicted`` on the gold tokens whose group is that label (None
    when there is none) and how many gold tokens that is."""
    out = {}
    for label in labels:
        mask = gold & (groups == label)
        out[label] = {"recall": float(predicted[mask].mean()) if mask.any() else None,
                      "n_gold": int(mask.sum())}
    return out


def _ranked(scores: np.ndarray, gold: np.ndarray, weights: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative weighted true / false positives at each distinct score, highest first:
    ``(tp [..., G], fp [..., G], thresholds [G])``; tied scores enter together."""
    order = np.argsort(-scores, kind="mergesort")
    s, g, w = scores[order], gold[order], weights[..., order]
    ends = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tp = np.cumsum(w * g, axis=-1)[..., ends]
    fp = np.cumsum(w * ~g, axis=-1)[..., ends]
    return tp, fp, s[ends]


def _weights(scores, gold, weights):
    scores = np.asarray(scores, dtype=float)
    gold = np.asarray(gold, dtype=bool)
    w = np.ones(scores.shape) if weights is None else np.asarray(weights, dtype=float)
    if scores.ndim != 1 or scores.shape != gold.shape or w.shape[-1] != scores.size:
        raise ValueError("scores, gold and weights must have one entry per token")
    return scores, gold, w


def average_precision(scores, gold, weights=None) -> np.ndarray:
    """Average precision (area under the PR curve, step-wise, as scikit-learn's
    ``average_precision_score``): sum over thresholds of (R_k - R_k-1) * P_k.
    NaN when there is no positive."""
    tp, fp, _ = _ranked(*_weights(scores, gold, weights))
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(tp / (tp + fp))
        recall = tp / tp[..., -1:]
    steps = np.diff(recall, axis=-1, prepend=0.0)
    return np.sum(steps * precision, axis=-1)


def roc_auc(scores, gold, weights=None) -> np.ndarray:
    """Area under the ROC curve (trapezoids, ties as one step, as scikit-learn's
    ``roc_auc_score``); NaN without positives or negatives."""
    tp, fp, _ = _ranked(*_weights(scores, gold, weights))
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = tp / tp[..., -1:]
        fpr = fp / fp[..., -1:]
    tpr = np.concatenate([np.zeros(tpr.shape[:-1] + (1,)), tpr], axis=-1)
    fpr = np.concatenate([np.zeros(fpr.shape[:-1] + (1,)), fpr], axis=-1)
    return np.sum(np.diff(fpr, axis=-1) * (tpr[..., 1:] + tpr[..., :-1]) / 2, axis=-1)


def pr_curve(scores, gold) -> dict[str, list[float]]:
    """Precision and recall of "score >= t" at every distinct score t, highest first."""
    tp, fp, thresholds = _ranked(*_weights(scores, gold, None))
    return {"precision": (tp / (tp + fp)).tolist(), "recall": (tp / max(tp[-1], 1)).tolist(),
            "threshold": thresholds.tolist()}


def best_threshold(scores, gold) -> float:
    """The score threshold with the best F1 on these tokens (ties: the higher threshold),
    placed halfway between neighbouring scores so it transfers to unseen tokens as
    "score > t"."""
    scores, gold, w = _weights(scores, gold, None)
    if not gold.any():
        raise ValueError("no gold personal token to choose a threshold on")
    tp, fp, s = _ranked(scores, gold, w)
    f1 = 2 * tp / (tp + fp + gold.sum())
    k = int(np.argmax(f1))  # first maximum = highest threshold
    lower = s[k + 1] if k + 1 < s.size else s[k] - 1.0
    return float((s[k] + lower) / 2)


def answer_bootstrap(answer_of_token: np.ndarray, answers: np.ndarray,
                     statistic: Callable[[np.ndarray], np.ndarray], boot: dict[str, Any]):
    """:func:`percontrast.stats.bootstrap` over answers: each resample of ``answers`` (answer
    indices) weights every token by its answer's multiplicity, and ``statistic`` maps those
    weights ``[n_resamples, n_tokens]`` to one value per resample. Paired by construction:
    every method is scored on the same resampled answers."""
    from percontrast.stats import bootstrap

    answer_of_token = np.asarray(answer_of_token, dtype=int)
    n_answers = int(answer_of_token.max()) + 1

    def resampled(idx, axis=-1):
        idx = np.asarray(idx).astype(int)
        flat = idx.reshape(-1, idx.shape[-1])
        out = np.empty(len(flat))
        for start in range(0, len(flat), _CHUNK):
            chunk = flat[start:start + _CHUNK]
            counts = np.zeros((len(chunk), n_answers))
            np.add.at(counts, (np.arange(len(chunk))[:, None], chunk), 1.0)
            out[start:start + _CHUNK] = statistic(counts[:, answer_of_token])
        return out.reshape(idx.shape[:-1])

    return bootstrap([np.asarray(answers, dtype=float)], resampled, **boot)
