"""PIR benchmark: token/keyword spans, word matching, gold kinds, judge parsing, dev split,
evaluation of token rows, the benchmark on a tiny model."""

from __future__ import annotations

import numpy as np
import pytest

from percontrast.io import DataError
from percontrast.pir_benchmark import (
    AnswerToken,
    answer_tokens,
    evaluate,
    gold_kind,
    inside,
    keyword_spans,
    parse_judge_keywords,
    run_benchmark,
    split_answers,
    validate_rows,
    word_matching_spans,
)


def test_keyword_spans_are_word_bounded_and_case_insensitive():
    answer = "I stitch clothes; Stitching is fun, and I stitch again."
    assert keyword_spans(answer, ["stitch"]) == [(2, 8), (42, 48)]  # not inside "Stitching"
    assert keyword_spans(answer, ["STITCH CLOTHES"]) == [(2, 16)]
    assert keyword_spans(answer, ["", "  "]) == []


def test_token_inside_a_span_is_correct_partial_overlap_is_not():
    spans = [(10, 20)]
    assert inside(AnswerToken(0, "abc", 10, 13), spans)
    assert inside(AnswerToken(0, "abc", 17, 20), spans)
    assert not inside(AnswerToken(0, "abc", 18, 21), spans)  # sticks out
    assert not inside(AnswerToken(0, "", 12, 12), spans)


def test_answer_tokens_map_to_character_offsets(bundled_tokenizer):
    answer = "I usually stitch clothes or crafts."
    ids, tokens = answer_tokens(bundled_tokenizer, answer)
    assert ids == bundled_tokenizer(answer, add_special_tokens=False)["input_ids"]
    assert "".join(answer[t.start:t.end] for t in tokens).replace(" ", "") == \
        answer.replace(" ", "")
    stitch = [t for t in tokens if inside(t, keyword_spans(answer, ["stitch"]))]
    assert [t.text for t in stitch] == ["stitch"]


def test_word_matching_paper_rule_is_exact_surface_forms():
    persona = "I like to sew. My dogs are named Rex and Bo. I run marathons in Leeds."
    answer = "I was running with my dog while sewing, then I run to Leeds with my Dogs."
    exact = [answer[s:e] for s, e in word_matching_spans(persona, answer)]
    # "run", "Leeds" and "Dogs" (case-folded) occur in the persona; "I", "my", "with" are
    # function words; "running", "dog", "sewing" are other forms, not the persona's words
    assert exact == ["run", "Leeds", "Dogs"]
    assert word_matching_spans(persona, answer, "exact") == word_matching_spans(persona, answer)


def test_word_matching_lemma_rule_matches_inflections():
    persona = "I like to sew. My dogs are named Rex and Bo. I run marathons."
    answer = "I was running with my dog while sewing a hat."
    matched = {answer[s:e] for s, e in word_matching_spans(persona, answer, "lemma")}
    assert matched == {"running", "dog", "sewing"}  # "I", "my", "with" are function words
    assert word_matching_spans(persona, "I usually stitch clothes.", "lemma") == []  # paraphrase
    with pytest.raises(ValueError, match="word-matching rule"):
        word_matching_spans(persona, answer, "stem")


def test_gold_kind_verbatim_when_the_word_is_in_the_persona(bundled_tokenizer):
    persona = "I play the violin in an orchestra. I have two kids."
    answer = "I rehearsed with the Orchestra and packed lunches for the little ones."
    _, tokens = answer_tokens(bundled_tokenizer, answer)
    spans = keyword_spans(answer, ["rehearsed", "Orchestra", "little ones"])
    kinds = {t.text: gold_kind(t, answer, persona) for t in tokens if inside(t, spans)}
    assert kinds["Orchestra"] == "verbatim"  # case-folded surface form
    assert {k for t, k in kinds.items() if t != "Orchestra"} == {"paraphrase"}
    assert len(kinds) >= 4  # rehearsed (maybe several tokens), little, ones


@pytest.mark.parametrize("reply, expected", [
    ("stitch, crafts", ["stitch", "crafts"]),
    ("Keywords: \n- stitch clothes\n- crafts", ["stitch clothes", "crafts"]),
    ('1. "stitch"\n2. knitting', ["stitch"]),  # knitting is not in the answer
    ("I think the keywords are none", []),
])
def test_judge_replies_are_parsed_robustly(reply, expected):
    assert parse_judge_keywords(reply, "I usually stitch clothes or crafts.") == expected


def test_bad_persona_qa_rows_name_line_and_field():
    rows = [{"id": "a", "persona": "p", "question": "q", "answer": "I sew.", "keywords": ["sew"]},
            {"id": "b", "persona": "p", "question": "q", "answer": "I sew.", "keywords": ["knit"]}]
    with pytest.raises(DataError, match=r"qa.jsonl, line 2, field 'keywords'"):
        validate_rows(rows, "qa.jsonl")
    with pytest.raises(DataError, match="line 1, field 'answer'"):
        validate_rows([{**rows[0], "answer": ""}], "qa.jsonl")


class FakeJudge:
    def chat_many(self, conversations, **kw):
        self.prompts = [c[0]["content"] for c in conversations]
        return ["Keywords: dog" for _ in conversations]


def test_run_benchmark_on_a_tiny_model(tiny_model):
    model, tok = tiny_model
    rows = [{"id": "a", "persona": "I have a dog. I like tea.", "question": "Any pets?",
             "answer": "Yes, a dog named Rex.", "keywords": ["dog named Rex"]},
            {"id": "b", "persona": "I sew.", "question": "Hobbies?",
             "answer": "I stitch clothes.", "keywords": ["stitch"]}]
    judge = FakeJudge()
    tokens, summary = run_benchmark(model, tok, rows, threshold=-1e9, judge=judge, batch_size=1)
    assert "User 2: Any pets? User 1: Yes, a dog named Rex." in judge.prompts[0]
    assert len(tokens) == sum(len(answer_tokens(tok, r["answer"])[1]) for r in rows)
    # threshold -inf: every token is predicted personal -> recall 1, precision = gold share
    assert summary["percontrast"]["recall"] == 1.0
    gold = sum(t["gold"] for t in tokens)
    assert summary["percontrast"]["precision"] == pytest.approx(gold / len(tokens))
    assert {t["token"] for t in tokens if t["word_matching"]} == {"dog"}
    assert {t["token"] for t in tokens if t["llm_judge"]} == {"dog"}
    assert summary["llm_judge"]["precision"] == 1.0
    assert all(t["pir"] == pytest.approx(t["logp_with"] - t["logp_without"]) for t in tokens)


def test_split_answers_is_seeded_and_keeps_both_sides():
    ids = [f"a{i}" for i in range(20)]
    split = split_answers(ids, 0.3, seed=1)
    assert sum(v == "dev" for v in split.values()) == 6
    assert split == split_answers(list(reversed(ids)), 0.3, seed=1)
    assert split != split_answers(ids, 0.3, seed=2)
    assert set(split_answers(["x", "y"], 0.1, seed=0).values()) == {"dev", "test"}
    with pytest.raises(ValueError, match="dev_fraction"):
        split_answers(ids, 1.0, seed=0)


def test_evaluate_reports_variants_baselines_kinds_and_differences():
    rng = np.random.default_rng(3)
    tokens = []
    for a in range(30):
        for i in range(6):
            gold = i < 2
            kind = ("verbatim" if i == 0 else "paraphrase") if gold else None
            tokens.append({"id": f"a{a}", "gold": gold, "kind": kind,
                           "split": "dev" if a < 10 else "test",
                           "pir_removed": (2.0 if gold else 0.0) + rng.normal(0, 0.5),
                           "pir_filler": rng.normal(),
                           "word_matching": i == 0, "word_matching_lemma": i in (0, 2),
                           "llm_judge": None})
    out = evaluate(tokens, threshold=1.0, counterfactual="removed",
                   variants=["removed", "filler"], boot={"n_resamples": 300, "seed": 0})
    wm = out["baselines"]["word_matching"]
    assert wm["recall_by_kind"]["verbatim"] == {"recall": 1.0, "n_gold": 30}
    assert wm["recall_by_kind"]["paraphrase"] == {"recall": 0.0, "n_gold": 30}
    assert wm["at_threshold"]["precision"] == 1.0 and wm["at_threshold"]["recall"] == 0.5
    assert wm["roc_auc"] == pytest.approx(0.75)  # binary scorer: (TPR + TNR) / 2
    removed = out["variants"]["removed"]
    assert removed["roc_auc"] > 0.9 and 0.3 < removed["dev_threshold"] < 1.7
    assert removed["test_at_dev_threshold"]["n_tokens"] == 20 * 6
    assert out["variants"]["filler"]["roc_auc"] < 0.7
    assert "llm_judge" not in out["baselines"]
    assert out["split"] == {"dev": 10, "test": 20} and out["gold_kinds"] == {
        "verbatim": 30, "paraphrase": 30}
    d = out["differences"]
    assert d["roc_auc_removed_minus_word_matching"]["low"] > 0
    assert d["ap_filler_minus_removed"]["high"] < 0
    assert d["f1_dev_threshold_removed_minus_word_matching"]["n"] == 20
    assert d["f1_removed_minus_word_matching_lemma"]["b"] == "removed"
    with pytest.raises(ValueError, match="not among the variants"):
        evaluate(tokens, threshold=1.0, counterfactual="placebo", variants=["removed"])


def test_run_benchmark_scores_every_counterfactual_with_one_forward_each(tiny_model, monkeypatch):
    import percontrast.pir as pir_module
    from percontrast.data.demo import generate_persona_qa

    model, tok = tiny_model
    rows = generate_persona_qa(8, seed=0, verbatim_share=0.5)
    calls = []
    real = pir_module.score_sequences
    monkeypatch.setattr(pir_module, "score_sequences",
                        lambda *a, **k: calls.append(len(a[1])) or real(*a, **k))
    tokens, cls = run_benchmark(model, tok, rows, counterfactual="filler", batch_size=4,
                                seed=0, boot={"n_resamples": 50})
    assert calls == [4] * 8  # 2 batches x (persona + removed, filler, placebo)
    assert {"pir_removed", "pir_filler", "pir_placebo"} <= set(tokens[0])
    assert all(t["pir"] == t["pir_filler"] and t["percontrast"] == (t["pir_filler"] > 1.0)
               for t in tokens)
    assert all(t["pir"] == pytest.approx(t["logp_with"] - t["logp_without"]) for t in tokens)
    assert any(t["pir_removed"] != t["pir_filler"] for t in tokens)  # different contexts
    assert {t["kind"] for t in tokens if t["gold"]} == {"verbatim", "paraphrase"}
    assert all(t["kind"] is None for t in tokens if not t["gold"])
    assert cls["split"] == {"dev": 2, "test": 6} and cls["counterfactual"] == "filler"
    assert set(cls["variants"]) == {"filler", "removed", "placebo"}
    assert cls["word_matching"]["n_tokens"] == len(tokens) and "word_matching_lemma" in cls
    assert cls["baselines"]["word_matching"]["recall_by_kind"]["paraphrase"]["recall"] == 0.0
    # 8 answers: below stats.MIN_EXAMPLES, so values without intervals, never a crash
    d = cls["differences"]["f1_filler_minus_word_matching"]
    assert d["low"] is None and d["n"] == 8
