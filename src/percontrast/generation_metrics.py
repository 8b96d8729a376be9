"""Generation metrics: ROUGE-L and METEOR per sample, as LongLaMP / LaMP score a generation.

Why a module of its own: these are the numbers of the paper's main tables, and every rule that
makes them (tokenizers, the empty-generation rule, the corpus mean) must live in one place
whose only job is scoring a generated text against its reference. The QA metrics are
:mod:`percontrast.qa_metrics`; the metrics file both feed is :mod:`percontrast.metrics`.

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
* Empty or whitespace-only generations score 0 and are counted in ``n_empty``
  (:func:`is_empty`). LongLaMP drops them before scoring, which silently rewards a model for
  failing to answer.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MetricResult",
    "is_empty",
    "rouge_l",
    "meteor",
    "tokenizer_note",
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


def is_empty(text: str) -> bool:
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
        if is_empty(ref):
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
        if is_empty(pred):
            n_empty += 1
            scores.append(0.0)
        else:
            scores.append(float(score(pred, ref)))
    return _mean_result(scores, n_empty)


def _mean_result(scores: list[float], n_empty: int) -> MetricResult:
    # math.fsum: an exact sum, so the mean does not depend on summation order.
    return MetricResult(mean=math.fsum(scores) / len(scores), per_sample=scores, n=len(scores),
                        n_empty=n_empty)


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
            if not is_empty(pred) and needs_unicode_tokens(pred, ref))
    if n == 0:
        note = DEFAULT_TOKENIZER
    elif n == len(predictions):
        note = UNICODE_TOKENIZER
    else:
        note = (f"{UNICODE_TOKENIZER} for the {n} pairs with non-ASCII letters, digits or "
                f"emoji; {DEFAULT_TOKENIZER} for the others")
    return {"tokenizer": note, "n_unicode_tokenized": n}
