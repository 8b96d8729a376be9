"""percontrast.generation_metrics: ROUGE-L / METEOR as LongLaMP's `evaluate` computes them per
sample; percontrast.qa_metrics: the official HotpotQA / DROP answer metrics on their edge cases
(expected values by hand); percontrast.metrics.summarize over both."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from percontrast import generation_metrics as G
from percontrast import metrics as M
from percontrast import qa_metrics as QA
from percontrast.data.records import Record

DROP_SAMPLE = Path("/work/shared/data/drop/drop_dataset_dev_sample.jsonl")
HOTPOT_SAMPLE = Path("/work/shared/data/hotpotqa/hotpot_dev_distractor_v1_first103.jsonl")

PAIRS = [  # (prediction, reference)
    ("the cat on the mat", "the cat sat on the mat"),
    ("A quick brown fox jumps over the lazy dog.", "The quick brown dog jumps on the log!"),
    ("Personalised text about hiking in the Alps", "I love hiking; the Alps are my favourite."),
    ("completely unrelated words", "nothing shared here"),
]


# ---------------------------------------------------------------------------------------------
# ROUGE-L


def test_rouge_l_matches_rouge_score_called_directly():
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    direct = [scorer.score(ref, pred)["rougeL"].fmeasure for pred, ref in PAIRS]
    res = G.rouge_l([p for p, _ in PAIRS], [r for _, r in PAIRS])
    assert res.per_sample == direct
    assert res.mean == math.fsum(direct) / len(direct)
    assert (res.n, res.n_empty) == (4, 0)


def test_rouge_l_hand_computed_lcs():
    # LCS("the cat on the mat", "the cat sat on the mat") = 5 tokens; P = 5/5, R = 5/6.
    p, r = 5 / 5, 5 / 6
    res = G.rouge_l(["the cat on the mat"], ["the cat sat on the mat"])
    assert res.mean == pytest.approx(2 * p * r / (p + r), abs=1e-12)  # = 10/11
    assert res.mean == pytest.approx(10 / 11, abs=1e-12)
    # No stemming (evaluate's default): "cats" does not match "cat".
    assert G.rouge_l(["cats"], ["cat"]).mean == 0.0


# ---------------------------------------------------------------------------------------------
# METEOR


def test_meteor_matches_nltk_called_directly():
    from nltk.translate.meteor_score import single_meteor_score

    from percontrast import nlp

    wn = nlp.wordnet()
    direct = [single_meteor_score(nlp.word_tokenize(ref), nlp.word_tokenize(pred), wordnet=wn,
                                  alpha=0.9, beta=3, gamma=0.5) for pred, ref in PAIRS]
    res = G.meteor([p for p, _ in PAIRS], [r for _, r in PAIRS])
    assert res.per_sample == direct
    assert res.mean == math.fsum(direct) / len(direct)


def test_meteor_properties_and_offline_wordnet_synonyms():
    same = "the cat is happy"
    assert G.meteor([same], [same]).mean > 0.9
    # 4 exact matches in one chunk: Fmean 1, penalty 0.5 * (1/4)^3.
    assert G.meteor([same], [same]).mean == pytest.approx(1 - 0.5 / 64)
    assert G.meteor(["dog runs fast"], [same]).mean == 0.0
    # WordNet synonyms (car/auto share car.n.01). nltk hands *Porter stems* of the words left
    # unmatched to the synonym stage, so pairs whose stem changes (happy -> "happi") never match
    # as synonyms; evaluate's numbers carry that quirk too, so it is kept.
    ref = ["he bought a new car"]
    synonym = G.meteor(["he bought a new auto"], ref).mean
    unrelated = G.meteor(["he bought a new tree"], ref).mean
    assert synonym > unrelated
    assert synonym == pytest.approx(G.meteor(ref, ref).mean)


# ---------------------------------------------------------------------------------------------
# Empty generations, determinism, input errors


def test_empty_generation_scores_zero_and_is_counted():
    preds = ["the cat sat", "", "   \n", "the cat sat"]
    refs = ["the cat sat", "some reference", "another one", "the cat sat"]
    for fn in (G.rouge_l, G.meteor):
        res = fn(preds, refs)
        assert res.n == 4 and res.n_empty == 2
        assert res.per_sample[1] == res.per_sample[2] == 0.0
        assert res.mean == pytest.approx((res.per_sample[0] + res.per_sample[3]) / 4)
        assert res.per_sample[0] > 0.9


def test_deterministic():
    preds, refs = [p for p, _ in PAIRS], [r for _, r in PAIRS]
    assert G.rouge_l(preds, refs) == G.rouge_l(preds, refs)
    assert G.meteor(preds, refs) == G.meteor(preds, refs)
    assert M.summarize("generation", preds, refs) == M.summarize("generation", preds, refs)


def test_input_errors():
    with pytest.raises(ValueError, match="2 predictions but 1"):
        G.rouge_l(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="reference 1 is empty"):
        G.meteor(["a", "b"], ["a", "  "])
    with pytest.raises(ValueError, match="no predictions"):
        G.rouge_l([], [])
    with pytest.raises(ValueError, match="unknown kind"):
        M.summarize("bleu", ["a"], ["a"])


# ---------------------------------------------------------------------------------------------
# HotpotQA (hotpot_evaluate_v1.py)


def test_hotpot_normalisation_and_em():
    assert QA.hotpot_normalize_answer("The  Eiffel-Tower, Paris!") == "eiffeltower paris"
    assert QA.hotpot_em_f1("the Eiffel Tower.", ["Eiffel Tower"]) == (1.0, 1.0)
    assert QA.hotpot_em_f1("An apple", ["apple"]) == (1.0, 1.0)


def test_hotpot_f1():
    # P = 2/3, R = 1 -> F1 = 0.8
    em, f1 = QA.hotpot_em_f1("Barack Obama president", ["Barack Obama"])
    assert em == 0.0 and f1 == pytest.approx(0.8)
    # Counter intersection counts duplicates once per gold occurrence: P = 2/3, R = 1.
    assert QA.hotpot_em_f1("cat cat dog", ["cat dog"])[1] == pytest.approx(0.8)
    assert QA.hotpot_em_f1("nothing", ["something else"]) == (0.0, 0.0)
    # max over golds
    assert QA.hotpot_em_f1("Obama", ["Barack Obama", "Obama"]) == (1.0, 1.0)


def test_hotpot_yes_no_special_case():
    assert QA.hotpot_em_f1("yes", ["no"]) == (0.0, 0.0)
    assert QA.hotpot_em_f1("Yes.", ["yes"]) == (1.0, 1.0)
    # Plain token F1 would be 2/3; the official rule zeroes any mismatch with a yes/no gold.
    assert QA.hotpot_em_f1("yes indeed", ["yes"]) == (0.0, 0.0)
    assert QA.hotpot_em_f1("no", ["no way"]) == (0.0, 0.0)


# ---------------------------------------------------------------------------------------------
# DROP (drop_eval.py)


def _num(n):
    return {"number": n, "date": {"day": "", "month": "", "year": ""}, "spans": []}


def _spans(*s):
    return {"number": "", "date": {"day": "", "month": "", "year": ""}, "spans": list(s)}


def _date(day, month, year):
    return {"number": "", "date": {"day": day, "month": month, "year": year}, "spans": []}


def test_drop_normalisation():
    assert QA._normalize_answer("The Raiders.") == "raiders"
    assert QA._normalize_answer("5.0") == QA._normalize_answer("5") == "5.0"
    assert QA._normalize_answer("80-yard") == "80.0 yard"  # hyphens split tokens
    assert QA._normalize_answer("1,000") == "1000.0"  # not a float -> punctuation removed
    assert QA.drop_em_f1("5.0", [_num("5")]) == (1.0, 1.0)
    assert QA.drop_em_f1("the Raiders", [_spans("Raiders")]) == (1.0, 1.0)
    assert QA.drop_em_f1("1,000", [_num("1000")]) == (1.0, 1.0)


def test_drop_numbers_must_match():
    # Without _match_numbers_if_present token F1 would be 0.5; a wrong number scores 0.
    assert QA.drop_em_f1("touchdown 12", [_spans("touchdown 13")]) == (0.0, 0.0)
    assert QA.drop_em_f1("12 yards", [_num("13")]) == (0.0, 0.0)
    # A gold without numbers is matched on tokens alone: P = 1/2, R = 1 -> 0.67.
    assert QA.drop_em_f1("Raiders 12", [_spans("Raiders")]) == (0.0, 0.67)


def test_drop_multi_span_bipartite():
    gold = [_spans("Smith", "Jones")]
    assert QA.drop_em_f1(["Jones", "Smith"], gold) == (1.0, 1.0)  # order-independent
    # One of two spans right: aligned F1s (1, 0) -> 0.5.
    assert QA.drop_em_f1(["Jones", "Brown"], gold) == (0.0, 0.5)
    # Partial spans: felix jones ~ jones (P 1/2, R 1) and owens ~ terrell owens (P 1, R 1/2),
    # 2/3 each -> mean 0.666... rounded to 0.67.
    partial = [_spans("Jones", "Terrell Owens")]
    assert QA.drop_em_f1(["Felix Jones", "Owens"], partial) == (0.0, 0.67)
    # One string against two gold spans: {smith, and, jones} aligns with one of them
    # (P 1/3, R 1 -> 0.5), the other gold span is unaligned (0): mean 0.25.
    assert QA.drop_em_f1("Smith and Jones", gold) == (0.0, 0.25)
    # An extra predicted span is penalised: the mean runs over max(#gold, #pred) = 3 slots,
    # (1 + 1 + 0) / 3 -> 0.67.
    assert QA.drop_em_f1(["Smith", "Jones", "Brown"], gold) == (0.0, 0.67)


def test_drop_date_answers():
    assert QA.answer_json_to_strings(_date("5", "November", "1994")) == (("5 November 1994",),
                                                                        "date")
    assert QA.drop_em_f1("5 November 1994", [_date("5", "November", "1994")]) == (1.0, 1.0)
    # Same bag of tokens, other order: the official EM compares normalised strings -> 0.
    assert QA.drop_em_f1("November 5, 1994", [_date("5", "November", "1994")]) == (0.0, 1.0)
    # Year only: " 1085" normalises to "1085.0".
    assert QA.drop_em_f1("1085", [_date("", "", "1085")]) == (1.0, 1.0)


def test_drop_answer_json_to_strings_types():
    assert QA.answer_json_to_strings(_num("7")) == (("7",), "number")
    assert QA.answer_json_to_strings(_spans("a")) == (("a",), "span")
    assert QA.answer_json_to_strings(_spans("a", "b")) == (("a", "b"), "spans")
    with pytest.raises(ValueError, match="Answer type not found"):
        QA.answer_json_to_strings({"number": "", "spans": []})


def test_drop_max_over_validated_answers():
    golds = [_num("7"), _num("14"), _num("14")]
    assert QA.drop_em_f1("14", golds) == (1.0, 1.0)
    assert QA.drop_em_f1("9", golds) == (0.0, 0.0)
    # EM and F1 maxed independently: "Owens" vs "Terrell Owens" 0.67, vs "WR Terrell Owens" 0.5.
    assert QA.drop_em_f1("Owens", [_spans("WR Terrell Owens"), _spans("Terrell Owens")]) == (
        0.0, 0.67)


def test_drop_blank_gold_is_skipped():
    blank = _date("", "", "")
    assert QA.get_metrics("", QA.answer_json_to_strings(blank)[0]) == (1.0, 1.0)
    assert QA.drop_em_f1("", [blank]) == (0.0, 0.0)  # the official evaluator skips it
    assert QA.drop_em_f1("3", [blank, _num("3")]) == (1.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Corpus-level QA and summarize


def _rec(task, answers, rid="q"):
    ref = answers[0] if isinstance(answers[0], str) else "x"
    return Record(id=rid, task=task, user_id="", query="?", reference=ref,
                  meta={"answers": answers})


def test_qa_scores_mixed_and_empty():
    records = [_rec("hotpotqa", ["Barack Obama"]), _rec("hotpotqa", ["yes"]),
               _rec("drop", [_spans("Smith", "Jones")]), _rec("drop", [_num("5")])]
    preds = ["Barack Obama president", "", ["Jones", "Smith"], "5.0"]
    out = QA.qa_scores(preds, records)
    assert out["n"] == 4 and out["n_empty"] == 1
    assert out["em"] == pytest.approx(100 * (0 + 0 + 1 + 1) / 4)
    assert out["f1"] == pytest.approx(100 * (0.8 + 0 + 1 + 1) / 4)
    assert M.summarize("qa", preds, records) == out
    assert set(out) == {"em", "f1", "n", "n_empty", "per_example"}
    assert out["per_example"]["em"] == [0.0, 0.0, 100.0, 100.0]
    assert out["per_example"]["f1"] == pytest.approx([80.0, 0.0, 100.0, 100.0])


def test_qa_scores_errors():
    with pytest.raises(ValueError, match="record 0 .*not a QA task"):
        QA.qa_scores(["a"], [_rec("topic_writing", ["a"])])
    with pytest.raises(ValueError, match="1 predictions but 2 records"):
        QA.qa_scores(["a"], [_rec("drop", [_num("1")])] * 2)


def test_summarize_generation_accepts_records():
    recs = [_rec("topic_writing", [r], rid=str(i)) for i, (_, r) in enumerate(PAIRS)]
    preds = [p for p, _ in PAIRS]
    out = M.summarize("generation", preds, recs)
    assert set(out) == {"rouge_l", "meteor", "n", "n_empty", "tokenizer", "n_unicode_tokenized",
                        "per_example"}
    assert out["tokenizer"] == G.DEFAULT_TOKENIZER and out["n_unicode_tokenized"] == 0
    assert out["rouge_l"] == G.rouge_l(preds, [r for _, r in PAIRS]).mean
    assert out["per_example"]["rouge_l"] == G.rouge_l(preds, [r for _, r in PAIRS]).per_sample
    assert out["per_example"]["meteor"] == G.meteor(preds, [r for _, r in PAIRS]).per_sample
    assert out["n"] == 4 and out["n_empty"] == 0


@pytest.mark.skipif(not DROP_SAMPLE.is_file(), reason="DROP sample not available")
def test_drop_sample_own_reference_is_exact():
    """Every first answer in the sample is a number, one span or a year-only date, so its
    rendered reference text matches it exactly under the official metric (a multi-span or full
    date answer would not: "A, B" is one span, and the reference orders dates month day year)."""
    from percontrast.data.qa import load_drop

    records = load_drop(DROP_SAMPLE)
    assert len(records) == 73
    out = QA.qa_scores([r.reference for r in records], records)
    assert out == {"em": 100.0, "f1": 100.0, "n": 73, "n_empty": 0,
                   "per_example": {"em": [100.0] * 73, "f1": [100.0] * 73}}
    # A wrong answer to every question scores far lower.
    wrong = QA.qa_scores(["banana"] * len(records), records)
    assert wrong["em"] == 0.0 and wrong["f1"] < 5


@pytest.mark.skipif(not HOTPOT_SAMPLE.is_file(), reason="HotpotQA sample not available")
def test_hotpot_sample_own_reference_is_exact():
    from percontrast.data.qa import load_hotpotqa

    records = load_hotpotqa(HOTPOT_SAMPLE)
    out = QA.qa_scores([r.reference for r in records], records)
    assert out == {"em": 100.0, "f1": 100.0, "n": len(records), "n_empty": 0,
                   "per_example": {"em": [100.0] * len(records), "f1": [100.0] * len(records)}}


@pytest.mark.parametrize("invisible", ["\u200b", " \u200b\u200c\u200d\ufeff ", "\u2060\u00ad",
                                       "\u3000\u00a0\u2028", "\u180e", "\u200e\u200f\u202a"])
def test_invisible_text_is_empty(invisible):
    # issue 20 item 9: a zero-width space passed the empty-reference check and scored 0
    assert G.is_empty(invisible)
    with pytest.raises(ValueError, match="reference 1 is empty"):
        G.rouge_l(["a", "b"], ["a", invisible])
    res = G.rouge_l(["a b", invisible], ["a b", "some reference"])
    assert res.n_empty == 1 and res.per_sample[1] == 0.0
    for visible in ("a\u200b", "\u00e9", "\uff21", "\u200b\u0915", "0"):
        assert not G.is_empty(visible), repr(visible)
