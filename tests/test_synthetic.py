"""Synthetic persona-QA: robust parsing of LLM replies, drops counted, keywords in answers."""

from __future__ import annotations

import pytest

from percontrast.synthetic import GENERATION_PROMPT, build_persona_qa, parse_reply


@pytest.mark.parametrize("reply, expected", [
    ("Question: What do you do on weekends?\nAnswer: I usually stitch clothes or small crafts.\n"
     "Keywords: stitch clothes, crafts",
     {"question": "What do you do on weekends?",
      "answer": "I usually stitch clothes or small crafts.", "keywords": ["stitch clothes",
                                                                         "crafts"]}),
    ("**Question:** Any pets?\n**Answer:** Yes, my old **beagle** sleeps at my feet.\n",
     {"question": "Any pets?", "answer": "Yes, my old beagle sleeps at my feet.",
      "keywords": ["beagle"]}),
    ("Q: How do you relax?\nA: A few quick chess games before bed.\nKeyword: chess games, poker",
     {"question": "How do you relax?", "answer": "A few quick chess games before bed.",
      "keywords": ["chess games"]}),  # poker is not in the answer: dropped
])
def test_replies_in_different_shapes_parse(reply, expected):
    parsed, outcome = parse_reply(reply)
    assert outcome == "ok" and parsed == expected


@pytest.mark.parametrize("reply, reason", [
    ("Sure! Here is a question for you.", "no_question"),
    ("Question: Hi?\nKeywords: x", "no_answer"),
    ("Question: Hi?\nAnswer: Yes.\nKeywords: yes", "answer_length"),
    ("Question: Hi?\nAnswer: I love to walk by the sea.\nKeywords: mountains",
     "no_keyword_in_answer"),
])
def test_bad_replies_are_dropped_with_a_reason(reply, reason):
    assert parse_reply(reply) == (None, reason)


class ScriptedLLM:
    def __init__(self, replies):
        self.replies = replies

    def chat_many(self, conversations, **kw):
        self.prompts = [c[0]["content"] for c in conversations]
        return self.replies[:len(conversations)]


def test_build_counts_outcomes_and_uses_the_d2_prompt():
    personas = [{"id": f"p{i}", "persona": [f"I like thing {i}.", "I have a cat."]}
                for i in range(5)]
    good = "Question: Pets?\nAnswer: My cat sleeps on my lap all day.\nKeywords: cat"
    llm = ScriptedLLM([good, "nonsense", good, "Question: x\nAnswer: no", good])
    rows, outcomes = build_persona_qa(personas, llm, n=5, seed=1)
    assert outcomes == {"ok": 3, "no_question": 1, "answer_length": 1}
    assert len(rows) == 3 and all(r["keywords"] == ["cat"] for r in rows)
    assert all(r["persona"].endswith("I have a cat.") for r in rows)
    assert llm.prompts[0].startswith(GENERATION_PROMPT.split("{persona}")[0])
    again, _ = build_persona_qa(personas, ScriptedLLM(llm.replies), n=5, seed=1)
    assert [r["id"] for r in again] == [r["id"] for r in rows]  # seeded persona sample


# --------------------------------------------------------------------------- hand-labelled SPC set

def test_rows_naming_an_spc_persona_get_its_text_and_unknown_ids_fail():
    from percontrast.io import DataError
    from percontrast.synthetic import attach_personas

    personas = [{"id": "spc-test-0001", "persona": ["I sew.", "I have a cat."]}]
    rows = [{"id": "spc-test-0001", "question": "q", "answer": "a", "keywords": []},
            {"id": "own", "persona": "I ski.", "question": "q", "answer": "a", "keywords": []}]
    out = attach_personas(rows, personas, "qa.jsonl")
    assert [r["persona"] for r in out] == ["I sew. I have a cat.", "I ski."]
    assert "persona" not in rows[0]  # the input rows are left alone
    with pytest.raises(DataError, match=r"qa.jsonl, line 1, field 'id'.*spc-test-0002"):
        attach_personas([{**rows[0], "id": "spc-test-0002"}], personas, "qa.jsonl")


def test_hand_labelled_spc_persona_qa_resolves_against_the_real_personas(repo, shared_data):
    """tests/data/spc_persona_qa.jsonl: 32 answers written for real Synthetic-Persona-Chat test
    personas, gold personal words labelled by hand; about a third of them occur in the persona."""
    from percontrast.data.demo import find_markers
    from percontrast.data.spc import load_spc_personas
    from percontrast.io import read_jsonl
    from percontrast.pir_benchmark import validate_rows
    from percontrast.synthetic import attach_personas

    path = repo / "tests" / "data" / "spc_persona_qa.jsonl"
    personas = load_spc_personas(shared_data / "synthetic_persona_chat"
                                 / "Synthetic-Persona-Chat_test.csv")
    rows = attach_personas(read_jsonl(path), personas, str(path))
    validate_rows(rows, str(path))
    assert len(rows) == len({r["persona"] for r in rows}) == 32
    assert all(5 <= len(r["answer"].split()) <= 20 for r in rows)
    verbatim = sum(bool(find_markers(r["persona"], [k])) for r in rows for k in r["keywords"])
    total = sum(len(r["keywords"]) for r in rows)
    assert (verbatim, total) == (40, 125)
