"""PIR benchmark scoring: token/keyword spans, word matching, judge parsing, P/R/F1."""

from __future__ import annotations

import pytest

from percontrast.io import DataError
from percontrast.pir_benchmark import (
    AnswerToken,
    answer_tokens,
    inside,
    keyword_spans,
    parse_judge_keywords,
    prf,
    run_benchmark,
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


def test_word_matching_uses_lemmas_of_content_words():
    persona = "I like to sew. My dogs are named Rex and Bo. I run marathons."
    answer = "I was running with my dog while sewing a hat."
    matched = {answer[s:e] for s, e in word_matching_spans(persona, answer)}
    assert matched == {"running", "dog", "sewing"}  # "I", "my", "with" are function words
    assert word_matching_spans(persona, "I usually stitch clothes.") == []  # paraphrase: missed


def test_prf_by_hand():
    assert prf([True, True, False, False], [True, False, True, False]) == {
        "precision": 0.5, "recall": 0.5, "f1": 0.5, "n_tokens": 4, "n_gold": 2,
        "n_predicted": 2, "n_correct": 1}
    assert prf([False, False], [True, False])["f1"] == 0.0


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
