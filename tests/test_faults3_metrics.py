"""Issue 31, item 3: ROUGE-L and METEOR of text that is not English.

rouge_score's default tokenizer keeps only ASCII letters and digits, so a reply identical to its
Chinese or Russian reference scored 0 and "caf na ve" scored 1.0 against "café naïve"; METEOR gave
0.5 to an identical Chinese sentence (one token). A pair with non-ASCII letters, marks, digits or
emoji is now tokenized Unicode-aware, and the metrics file says so. English pairs keep their
scores to the last bit (the values below were computed with the code before this change).
"""

from __future__ import annotations

import random
import string

import pytest

from percontrast import generation_metrics as M
from percontrast.metrics import summarize

#: English pairs (curly quotes, dashes, ellipses included) and their scores before the change.
ENGLISH = [
    ("The cat sat on the mat.", "A cat was sitting on the mat."),
    ("I didn’t like the ending — it felt rushed.", "The ending felt rushed; I didn't like it."),
    ("“Great product,” she said. 5/5 stars!", "Great product: five stars, would buy again."),
    ("Running runners ran quickly", "the runner runs quick"),
    ("snake_case and CamelCase words", "snake case and camelcase words"),
    ("Prices rose 3.5% in Q2 2023…", "In Q2 2023 prices rose by 3.5 percent."),
    ("We propose a novel method for token-level personalization.",
     "This paper proposes token level personalisation methods."),
    ("hello", "hello"),
]
ENGLISH_ROUGE_L = [0.6153846153846153, 0.5555555555555556, 0.42857142857142855, 0.0, 1.0, 0.5,
                   0.25, 1.0]
ENGLISH_METEOR = [0.7454289732770746, 0.5686936936936937, 0.36831683168316837, 0.25,
                  0.600907029478458, 0.5068181818181817, 0.1851851851851852, 0.5]


def test_english_scores_are_unchanged_to_the_bit():
    preds, refs = [p for p, _ in ENGLISH], [r for _, r in ENGLISH]
    assert M.rouge_l(preds, refs).per_sample == ENGLISH_ROUGE_L
    assert M.meteor(preds, refs).per_sample == ENGLISH_METEOR
    out = summarize("generation", preds, refs)
    assert out["n_unicode_tokenized"] == 0 and out["tokenizer"] == M.DEFAULT_TOKENIZER


def test_unicode_tokens_of_ascii_text_are_rouge_scores_own():
    from rouge_score import tokenizers

    default = tokenizers.DefaultTokenizer(use_stemmer=False)
    rng = random.Random(0)
    alphabet = string.printable + "’“”—…"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        assert M.unicode_tokenize(text) == default.tokenize(text), text


@pytest.mark.parametrize("text", ["我喜欢在周末去公园散步。", "Привет, как твои дела сегодня?",
                                  "🍕🍕🎉", "नमस्ते दुनिया", "こんにちは、世界"])
def test_a_reply_identical_to_a_non_english_reference_scores_high(text):
    assert M.rouge_l([text], [text]).per_sample == [1.0]
    assert M.meteor([text], [text]).per_sample[0] > 0.9


def test_non_ascii_letters_are_not_dropped():
    assert M.rouge_l(["caf na ve"], ["café naïve"]).per_sample == [0.0]
    assert M.rouge_l(["café naïve"], ["café naïve"]).per_sample == [1.0]
    # 3 of the 5 characters, in order: P = 1, R = 0.6, F = 0.75
    assert M.rouge_l(["我喜欢"], ["我喜欢公园"]).per_sample == pytest.approx([0.75])
    assert M.meteor(["你好世界"], ["你好世界"]).per_sample == [pytest.approx(1 - 0.5 / 64)]
    assert M.unicode_tokenize("我爱北京 Hello-World café 🍕x") == [
        "我", "爱", "北", "京", "hello", "world", "café", "🍕", "x"]


def test_the_metrics_file_says_which_tokenizer():
    out = summarize("generation", ["你好", "hi", ""], ["你好", "hi there", "世界"])
    assert out["n_unicode_tokenized"] == 1  # the empty generation scores 0 untokenized
    assert M.UNICODE_TOKENIZER in out["tokenizer"] and M.DEFAULT_TOKENIZER in out["tokenizer"]
    out = summarize("generation", ["你好"], ["你好"])
    assert out["tokenizer"] == M.UNICODE_TOKENIZER and out["rouge_l"] == 1.0
