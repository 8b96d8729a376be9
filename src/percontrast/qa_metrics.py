"""General-QA metrics (paper table 11: does personalization hurt general ability?): EM and F1.

Why a module of its own: each is a port of an official evaluator, kept line for line so that
its numbers are the benchmark's; nothing else belongs beside them.

* HotpotQA: the answer metrics of the official ``hotpot_evaluate_v1.py`` (``normalize_answer``,
  exact match, token F1 with the yes/no/noanswer rule), max over gold answers.
* DROP: a port of the official ``drop_eval.py`` (allennlp-reading-comprehension): number-aware
  normalisation, multi-span bags aligned by bipartite matching
  (``scipy.optimize.linear_sum_assignment``), F1 rounded to 2 decimals per gold answer, max of
  EM and of F1 (independently) over ``answer`` + ``validated_answers``.

A prediction string is one answer span, as in the official evaluator; a multi-span prediction
must be passed as a list of strings (no splitting of "A, B" is attempted, because the official
metric does not do it either). An empty prediction (no visible character,
:func:`percontrast.generation_metrics.is_empty`) scores 0. :func:`qa_scores` reports EM and F1
x 100, as the paper does.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

from percontrast.data.records import QA_TASK_TYPES
from percontrast.generation_metrics import is_empty

__all__ = [
    "hotpot_normalize_answer",
    "hotpot_em_f1",
    "answer_json_to_strings",
    "get_metrics",
    "drop_em_f1",
    "qa_sample_scores",
    "qa_scores",
]


# ----------------------------------------------------------------------------------------------
# HotpotQA: hotpot_evaluate_v1.py


def hotpot_normalize_answer(s: str) -> str:
    """Official HotpotQA/SQuAD normalisation: lower, drop punctuation, drop a/an/the, fix spaces."""

    def remove_articles(text: str) -> str:
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text: str) -> str:
        return " ".join(text.split())

    def remove_punc(text: str) -> str:
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def _hotpot_f1(prediction: str, ground_truth: str) -> float:
    """Official ``f1_score``: token F1, except that a yes/no/noanswer mismatch scores 0."""
    normalized_prediction = hotpot_normalize_answer(prediction)
    normalized_ground_truth = hotpot_normalize_answer(ground_truth)
    special = ("yes", "no", "noanswer")
    if normalized_prediction in special and normalized_prediction != normalized_ground_truth:
        return 0.0
    if normalized_ground_truth in special and normalized_prediction != normalized_ground_truth:
        return 0.0
    prediction_tokens = normalized_prediction.split()
    ground_truth_tokens = normalized_ground_truth.split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(prediction_tokens)
    recall = num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def hotpot_em_f1(prediction: str, gold_answers: Sequence[str]) -> tuple[float, float]:
    """(EM, F1) in [0, 1], each the max over ``gold_answers`` (HotpotQA has one gold answer; the
    max is the usual SQuAD-style extension and equals the official score for one)."""
    if isinstance(gold_answers, str):
        gold_answers = [gold_answers]
    if not gold_answers:
        raise ValueError("no gold answers")
    em = max(float(hotpot_normalize_answer(prediction) == hotpot_normalize_answer(g))
             for g in gold_answers)
    f1 = max(_hotpot_f1(prediction, g) for g in gold_answers)
    return em, f1


# ----------------------------------------------------------------------------------------------
# DROP: drop_eval.py (allennlp-reading-comprehension / allenai DROP), ported faithfully.


def _remove_articles(text: str) -> str:
    regex = re.compile(r"\b(a|an|the)\b", re.UNICODE)
    return re.sub(regex, " ", text)


def _white_space_fix(text: str) -> str:
    return " ".join(text.split())


EXCLUDE = set(string.punctuation)


def _remove_punc(text: str) -> str:
    if not _is_number(text):
        return "".join(ch for ch in text if ch not in EXCLUDE)
    return text


def _lower(text: str) -> str:
    return text.lower()


def _tokenize(text: str) -> list[str]:
    return re.split(" |-", text)


def _normalize_answer(text: str) -> str:
    """Lower text and remove punctuation, articles and extra whitespace, token by token (split
    on spaces and hyphens); numbers keep their punctuation and become ``str(float(x))``."""
    parts = [
        _white_space_fix(_remove_articles(_normalize_number(_remove_punc(_lower(token)))))
        for token in _tokenize(text)
    ]
    parts = [part for part in parts if part.strip()]
    return " ".join(parts).strip()


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _normalize_number(text: str) -> str:
    if _is_number(text):
        return str(float(text))
    return text


def _answer_to_bags(answer: str | Sequence[str]) -> tuple[list[str], list[set[str]]]:
    """Normalised spans and, per span, its set of tokens."""
    raw_spans = list(answer) if isinstance(answer, (list, tuple)) else [answer]
    normalized_spans: list[str] = []
    token_bags: list[set[str]] = []
    for raw_span in raw_spans:
        normalized_span = _normalize_answer(raw_span)
        normalized_spans.append(normalized_span)
        token_bags.append(set(normalized_span.split()))
    return normalized_spans, token_bags


def _align_bags(predicted: list[set[str]], gold: list[set[str]]):
    """Optimal 1-1 alignment of predicted and gold bags (Hungarian algorithm on F1), then the F1
    of each aligned pair; unaligned bags (length mismatch) score 0."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    scores = np.zeros([len(gold), len(predicted)])
    for gold_index, gold_item in enumerate(gold):
        for pred_index, pred_item in enumerate(predicted):
            if _match_numbers_if_present(gold_item, pred_item):
                scores[gold_index, pred_index] = _compute_f1(pred_item, gold_item)
    row_ind, col_ind = linear_sum_assignment(-scores)

    max_scores = np.zeros([max(len(gold), len(predicted))])
    for row, column in zip(row_ind, col_ind, strict=True):
        max_scores[row] = max(max_scores[row], scores[row, column])
    return max_scores


def _compute_f1(predicted_bag: set[str], gold_bag: set[str]) -> float:
    intersection = len(gold_bag.intersection(predicted_bag))
    precision = 1.0 if not predicted_bag else intersection / float(len(predicted_bag))
    recall = 1.0 if not gold_bag else intersection / float(len(gold_bag))
    if precision == 0.0 and recall == 0.0:
        return 0.0
    return (2 * precision * recall) / (precision + recall)


def _match_numbers_if_present(gold_bag: set[str], predicted_bag: set[str]) -> bool:
    """A pair can only score if, when the gold bag holds numbers, the prediction shares one."""
    gold_numbers = {word for word in gold_bag if _is_number(word)}
    predicted_numbers = {word for word in predicted_bag if _is_number(word)}
    return (not gold_numbers) or bool(gold_numbers.intersection(predicted_numbers))


def get_metrics(predicted: str | Sequence[str],
                gold: str | Sequence[str]) -> tuple[float, float]:
    """Official DROP (EM, F1) of one prediction against one gold answer (strings or span lists).

    EM: the normalised spans are equal as sets (and in number). F1: mean over the aligned bags,
    rounded to 2 decimals as the official code does.
    """
    import numpy as np

    predicted_bags = _answer_to_bags(predicted)
    gold_bags = _answer_to_bags(gold)
    if (set(predicted_bags[0]) == set(gold_bags[0])
            and len(predicted_bags[0]) == len(gold_bags[0])):
        exact_match = 1.0
    else:
        exact_match = 0.0
    f1_per_bag = _align_bags(predicted_bags[1], gold_bags[1])
    f1 = round(float(np.mean(f1_per_bag)), 2)
    return exact_match, f1


def answer_json_to_strings(answer: dict[str, Any]) -> tuple[tuple[str, ...], str]:
    """A DROP answer dict -> (strings, type): the number, else the spans, else the date as
    ``"day month year"`` (official format; missing date parts read as "" instead of raising)."""
    if "number" in answer and answer["number"]:
        return (str(answer["number"]),), "number"
    if "spans" in answer and answer["spans"]:
        return tuple(answer["spans"]), "span" if len(answer["spans"]) == 1 else "spans"
    if "date" in answer:
        date = answer["date"] or {}
        return ("{} {} {}".format(date.get("day", ""), date.get("month", ""),
                                  date.get("year", "")),), "date"
    raise ValueError("Answer type not found, should be one of number, spans or date at: "
                     f"{answer!r}")


def drop_em_f1(prediction: str | Sequence[str],
               gold_answers: Sequence[dict[str, Any]]) -> tuple[float, float]:
    """(EM, F1) in [0, 1] of one DROP prediction, as the official ``evaluate_json`` does per
    question: max of EM and, independently, of F1 over the gold answer dicts (``answer`` +
    ``validated_answers``), skipping golds whose first string is blank.

    ``prediction`` is a string (one span) or a list of span strings.
    """
    if isinstance(gold_answers, dict):
        gold_answers = [gold_answers]
    if not gold_answers:
        raise ValueError("no gold answers")
    if isinstance(prediction, tuple):
        prediction = list(prediction)
    max_em = max_f1 = 0.0
    for answer in gold_answers:
        gold, _ = answer_json_to_strings(answer)
        em, f1 = get_metrics(prediction, gold)
        if gold[0].strip() != "":
            max_em = max(max_em, em)
            max_f1 = max(max_f1, f1)
    return max_em, max_f1


# ----------------------------------------------------------------------------------------------
# Corpus-level QA


def _prediction_is_empty(prediction: Any) -> bool:
    if isinstance(prediction, str):
        return is_empty(prediction)
    if isinstance(prediction, (list, tuple)):
        return all(isinstance(p, str) and is_empty(p) for p in prediction)
    raise TypeError(f"expected a string or a list of strings, got {type(prediction).__name__}")


def qa_sample_scores(predictions: Sequence[str | Sequence[str]],
                     records: Sequence[Any]) -> list[tuple[float, float]]:
    """Per-sample (EM, F1) in [0, 1]; ``record.task`` picks the metric, gold answers come from
    ``record.meta["answers"]``. Empty predictions score (0, 0)."""
    if len(predictions) != len(records):
        raise ValueError(f"{len(predictions)} predictions but {len(records)} records")
    if not predictions:
        raise ValueError("nothing to score: no predictions")
    out: list[tuple[float, float]] = []
    for i, (pred, rec) in enumerate(zip(predictions, records, strict=True)):
        task = getattr(rec, "task", None)
        answers = (getattr(rec, "meta", None) or {}).get("answers")
        rid = getattr(rec, "id", "?")
        if task not in QA_TASK_TYPES:
            raise ValueError(f"record {i} ({rid}): task {task!r} is not a QA task {QA_TASK_TYPES}")
        if not answers:
            raise ValueError(f"record {i} ({rid}): no gold answers in meta['answers']")
        if _prediction_is_empty(pred):
            out.append((0.0, 0.0))
        elif task == "hotpotqa":
            if not isinstance(pred, str):
                raise TypeError(f"prediction {i}: HotpotQA predictions are strings")
            out.append(hotpot_em_f1(pred, answers))
        else:
            out.append(drop_em_f1(pred, answers))
    return out


def qa_scores(predictions: Sequence[str | Sequence[str]], records: Sequence[Any]) -> dict:
    """Mean EM and F1 x 100 (the paper's scale: HotpotQA 74.5 ...), with ``n``, ``n_empty`` and
    the per-example scores (x 100) under ``per_example``."""
    pairs = qa_sample_scores(predictions, records)
    n = len(pairs)
    return {
        "em": 100.0 * math.fsum(em for em, _ in pairs) / n,
        "f1": 100.0 * math.fsum(f1 for _, f1 in pairs) / n,
        "n": n,
        "n_empty": sum(_prediction_is_empty(p) for p in predictions),
        "per_example": {"em": [100.0 * em for em, _ in pairs],
                        "f1": [100.0 * f1 for _, f1 in pairs]},
    }
