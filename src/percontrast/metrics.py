"""Evaluation metrics: ROUGE-L and METEOR for generation, EM/F1 for general QA (HotpotQA, DROP).

Generation (LongLaMP / LaMP tables)
    LongLaMP's own metric code calls Hugging Face ``evaluate``'s ``rouge`` and ``meteor`` with all
    defaults. The exact per-sample scores are reproduced here without ``evaluate``:

    * ROUGE-L: ``rouge_score.rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)`` with
      rouge_score's default tokenizer, F-measure, ``scorer.score(reference, prediction)``.
    * METEOR: ``nltk.translate.meteor_score.single_meteor_score(word_tokenize(reference),
      word_tokenize(prediction), alpha=0.9, beta=3, gamma=0.5)``, with WordNet 3.0 and
      ``word_tokenize`` from :mod:`percontrast.nlp` (offline, no ``nltk.download``).

    Two deliberate differences from ``evaluate``, both so that numbers are reproducible and honest:

    * The corpus score is the plain mean of the per-sample scores. ``evaluate``'s rouge default
      (``use_aggregator=True``) reports the median of an *unseeded* bootstrap over samples, which
      changes from run to run; its mean is what the bootstrap estimates. (``evaluate``'s meteor is
      already a plain mean.)
    * Empty or whitespace-only generations score 0 and are counted in ``n_empty``. LongLaMP drops
      them before scoring, which silently rewards a model for failing to answer.

General QA (paper table 11: does personalization hurt general ability?)
    * HotpotQA: the answer metrics of the official ``hotpot_evaluate_v1.py`` (``normalize_answer``,
      exact match, token F1 with the yes/no/noanswer rule), max over gold answers.
    * DROP: a port of the official ``drop_eval.py`` (allennlp-reading-comprehension): number-aware
      normalisation, multi-span bags aligned by bipartite matching
      (``scipy.optimize.linear_sum_assignment``), F1 rounded to 2 decimals per gold answer, max of
      EM and of F1 (independently) over ``answer`` + ``validated_answers``.

    A prediction string is one answer span, as in the official evaluator; a multi-span prediction
    must be passed as a list of strings (no splitting of "A, B" is attempted, because the official
    metric does not do it either). :func:`qa_scores` reports EM and F1 x 100, as the paper does.
"""

from __future__ import annotations

import functools
import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from percontrast.data.records import QA_TASK_TYPES

__all__ = [
    "MetricResult",
    "rouge_l",
    "meteor",
    "hotpot_normalize_answer",
    "hotpot_em_f1",
    "answer_json_to_strings",
    "get_metrics",
    "drop_em_f1",
    "qa_sample_scores",
    "qa_scores",
    "summarize",
]


@dataclass
class MetricResult:
    """A corpus-level score: the plain mean of ``per_sample`` (each in [0, 1]).

    ``n`` counts every sample, ``n_empty`` those whose generation was empty or whitespace only
    (scored 0, never dropped).
    """

    mean: float
    per_sample: list[float]
    n: int
    n_empty: int


#: Unicode categories that draw nothing: controls, format characters, surrogates, separators.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})
#: Default-ignorable code points that are not format characters (Cf): the combining grapheme
#: joiner, Hangul fillers, variation selectors. They render as nothing.
_IGNORABLE = frozenset("\u034f\u115f\u1160\u3164\uffa0") | frozenset(
    map(chr, [*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)]))


def _is_empty(text: str) -> bool:
    """No visible character after Unicode normalisation (NFKC): whitespace, controls, format
    characters (zero-width space, joiners, BOM, soft hyphen, direction marks) and other
    default-ignorable code points do not count, so ``"\u200b"`` is as empty as ``""``."""
    return all(ch.isspace() or ch in _IGNORABLE
               or unicodedata.category(ch) in _INVISIBLE_CATEGORIES
               for ch in unicodedata.normalize("NFKC", text))


def _check_pairs(predictions: Sequence[Any], references: Sequence[Any], *,
                 what: str = "reference") -> None:
    """Equal, non-zero lengths; every prediction a string; every reference a non-empty string.

    Errors name the index so the caller can report the file and record.
    """
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} {what}s")
    if not predictions:
        raise ValueError("nothing to score: no predictions")
    for i, pred in enumerate(predictions):
        if not isinstance(pred, str):
            raise TypeError(f"prediction {i}: expected a string, got {type(pred).__name__}")
    for i, ref in enumerate(references):
        if not isinstance(ref, str):
            raise TypeError(f"{what} {i}: expected a string, got {type(ref).__name__}")
        if _is_empty(ref):
            raise ValueError(f"{what} {i} is empty (no visible character): an empty reference "
                             "cannot be scored")


def _score_pairs(predictions: Sequence[str], references: Sequence[str],
                 score: Callable[[str, str], float]) -> MetricResult:
    """``score(prediction, reference)`` per pair; empty generations score 0 and are counted
    (the one place that rule lives: LongLaMP's own code silently drops them instead)."""
    _check_pairs(predictions, references)
    scores: list[float] = []
    n_empty = 0
    for pred, ref in zip(predictions, references, strict=True):
        if _is_empty(pred):
            n_empty += 1
            scores.append(0.0)
        else:
            scores.append(float(score(pred, ref)))
    return _mean_result(scores, n_empty)


def _mean_result(scores: list[float], n_empty: int) -> MetricResult:
    # math.fsum: an exact sum, so the mean does not depend on summation order.
    return MetricResult(mean=math.fsum(scores) / len(scores), per_sample=scores, n=len(scores),
                        n_empty=n_empty)


# ----------------------------------------------------------------------------------------------
# ROUGE-L and METEOR


# Tokenization. rouge_score's default tokenizer keeps only ASCII letters and digits: a reply
# identical to its Chinese or Russian reference scores 0, and "caf na ve" matches "café naïve".
# A pair of texts that has a character the default would drop (a non-ASCII letter, mark or
# digit, or an emoji) is tokenized Unicode-aware instead; every other pair, English text with
# curly quotes and dashes included, keeps the default, so its scores are the ones LongLaMP's
# evaluation computes, unchanged.

#: Scripts written without spaces between words (CJK ideographs, kana, Thai, Lao, Myanmar,
#: Khmer): each character is a token, as Chinese ROUGE implementations do.
_NO_SPACE_SCRIPTS = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0003134f]")
#: Emoji and pictographs: each one a token.
_EMOJI = re.compile("[\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]")
#: What the metrics file says about the tokenizers (``tokenizer``).
DEFAULT_TOKENIZER = "rouge_score default / nltk word_tokenize (ASCII letters and digits)"
UNICODE_TOKENIZER = ("unicode: NFKC, lower case; words of letters, marks and digits of any "
                     "script; each CJK / kana / Thai character and each emoji a token")


def _char_kind(ch: str) -> str | None:
    """``"w"``: part of a word; ``"s"``: a token on its own; None: a separator."""
    if ch < "\x80":
        return "w" if ch.isalnum() else None
    if _NO_SPACE_SCRIPTS.match(ch) or _EMOJI.match(ch):
        return "s"
    return "w" if unicodedata.category(ch)[0] in "LMN" else None


def needs_unicode_tokens(*texts: str) -> bool:
    """Whether rouge_score's default tokenizer would drop part of the words of ``texts``: any
    non-ASCII letter, mark or digit, or emoji (punctuation such as ’ — “ does not count)."""
    return any(ch >= "\x80" and _char_kind(ch) is not None for text in texts for ch in text)


def unicode_tokenize(text: str) -> list[str]:
    """ROUGE tokens of any script. On ASCII text, exactly rouge_score's default tokens (lower
    case, runs of ``[a-z0-9]``); beyond, words of letters, marks and digits of every script,
    with each CJK / kana / Thai character and each emoji a token of its own."""
    tokens: list[str] = []
    word: list[str] = []
    for ch in unicodedata.normalize("NFKC", text).lower():
        kind = _char_kind(ch)
        if kind == "w":
            word.append(ch)
            continue
        if word:
            tokens.append("".join(word))
            word = []
        if kind == "s":
            tokens.append(ch)
    if word:
        tokens.append("".join(word))
    return tokens


def _split_unicode(tokens: list[str]) -> list[str]:
    """``word_tokenize`` tokens with each CJK / kana / Thai character and emoji split off (they
    come out of it glued to their neighbours: Chinese has no spaces)."""
    out: list[str] = []
    for token in tokens:
        part = ""
        for ch in token:
            if _NO_SPACE_SCRIPTS.match(ch) or _EMOJI.match(ch):
                if part:
                    out.append(part)
                out.append(ch)
                part = ""
            else:
                part += ch
        if part:
            out.append(part)
    return out


class _UnicodeTokenizer:
    """rouge_score's tokenizer interface (``tokenize(text)``) over :func:`unicode_tokenize`."""

    def tokenize(self, text: str) -> list[str]:
        return unicode_tokenize(text)


@functools.cache
def _rouge_scorer(unicode: bool = False):
    from rouge_score import rouge_scorer

    if unicode:
        return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False,
                                        tokenizer=_UnicodeTokenizer())
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def rouge_l(predictions: Sequence[str], references: Sequence[str]) -> MetricResult:
    """Mean per-sample ROUGE-L F-measure, as ``evaluate.load("rouge")`` computes per sample.

    ``RougeScorer(["rougeL"], use_stemmer=False)`` with rouge_score's default tokenizer (lower
    case, non-alphanumerics to spaces); a pair with non-ASCII letters, digits or emoji
    (:func:`needs_unicode_tokens`) is tokenized by :func:`unicode_tokenize` instead. The corpus
    score is the plain mean, not ``evaluate``'s unseeded bootstrap median, so it is
    deterministic. Empty/whitespace generations score 0 and are counted in ``n_empty``.
    """

    def score(pred: str, ref: str) -> float:
        scorer = _rouge_scorer(needs_unicode_tokens(pred, ref))
        return scorer.score(ref, pred)["rougeL"].fmeasure

    return _score_pairs(predictions, references, score)


def meteor(predictions: Sequence[str], references: Sequence[str]) -> MetricResult:
    """Mean per-sample METEOR, as ``evaluate.load("meteor")`` computes it (nltk >= 3.6.5 path).

    ``single_meteor_score(word_tokenize(ref), word_tokenize(pred), alpha=0.9, beta=3,
    gamma=0.5)`` with nltk's defaults otherwise (lower-casing, Porter stemmer) and WordNet 3.0
    synonym matching from :func:`percontrast.nlp.wordnet` (offline). A pair with non-ASCII
    letters, digits or emoji (:func:`needs_unicode_tokens`) is NFKC-normalised and has each
    CJK / kana / Thai character and emoji split into a token of its own (else an identical
    Chinese sentence is one token, and scores 0.5). Plain mean over samples (deterministic);
    empty/whitespace generations score 0 and are counted in ``n_empty``.
    """
    from nltk.translate.meteor_score import single_meteor_score

    from percontrast import nlp

    wn = nlp.wordnet()

    def tokens(text: str, unicode: bool) -> list[str]:
        if not unicode:
            return nlp.word_tokenize(text)
        return _split_unicode(nlp.word_tokenize(unicodedata.normalize("NFKC", text)))

    def score(pred: str, ref: str) -> float:
        unicode = needs_unicode_tokens(pred, ref)
        return single_meteor_score(tokens(ref, unicode), tokens(pred, unicode), wordnet=wn,
                                   alpha=0.9, beta=3, gamma=0.5)

    return _score_pairs(predictions, references, score)


def tokenizer_note(predictions: Sequence[str], references: Sequence[str]) -> dict[str, Any]:
    """What the metrics file says about tokenization: ``n_unicode_tokenized`` (the scored pairs
    that :func:`needs_unicode_tokens`) and ``tokenizer`` (which tokenizers were used)."""
    n = sum(1 for pred, ref in zip(predictions, references, strict=True)
            if not _is_empty(pred) and needs_unicode_tokens(pred, ref))
    if n == 0:
        note = DEFAULT_TOKENIZER
    elif n == len(predictions):
        note = UNICODE_TOKENIZER
    else:
        note = (f"{UNICODE_TOKENIZER} for the {n} pairs with non-ASCII letters, digits or "
                f"emoji; {DEFAULT_TOKENIZER} for the others")
    return {"tokenizer": note, "n_unicode_tokenized": n}


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
# Corpus-level QA and the scoring script's entry point


def _prediction_is_empty(prediction: Any) -> bool:
    if isinstance(prediction, str):
        return _is_empty(prediction)
    if isinstance(prediction, (list, tuple)):
        return all(isinstance(p, str) and _is_empty(p) for p in prediction)
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


def summarize(kind: str, predictions: Sequence[Any], references_or_records: Sequence[Any]) -> dict:
    """One call for the scoring script.

    ``kind="generation"``: references are strings or records (their ``reference`` is used);
    returns ``{"rouge_l", "meteor", "n", "n_empty", "tokenizer", "n_unicode_tokenized"}`` with
    scores in [0, 1] (:func:`tokenizer_note`).
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
