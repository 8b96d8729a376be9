"""Prompt templates and tokenization: identical response ids in both contexts, truncation."""

from __future__ import annotations

import pytest

from percontrast.data.records import Record
from percontrast.prompts import (
    TEMPLATES,
    build_messages,
    encode_pair,
    encode_record,
    system_prompt,
)

PROFILE = [f"My dog Biscuit and I walked along the river in Leeds, day {i}. " * 4 for i in range(4)]


def test_appendix_d_templates_verbatim():
    sys_with = system_prompt("abstract_generation", ["A.", "B."])
    assert sys_with.startswith("Your task is to write abstracts for the user's paper.\n"
                               "The following are abstracts from the user's previous papers:\n")
    assert sys_with.endswith("Based on these examples, compose a new abstract that is consistent "
                             "with the user's preferred style and language.")
    assert "[1] A.\n[2] B." in sys_with
    assert "preferred style and tone" in system_prompt("product_review", ["x"])
    assert "write a new text on the given topic" in system_prompt("topic_writing", ["x"])


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_without_persona_differs_only_by_the_persona(kind):
    with_p = build_messages(kind, "the query", ["PERSONA-ENTRY"], {"context": "c", "passage": "p"})
    without = build_messages(kind, "the query", None, {"context": "c", "passage": "p"})
    assert with_p[1] == without[1]  # the user turn is identical
    assert "PERSONA-ENTRY" not in without[0]["content"]
    assert without[0]["content"].startswith(TEMPLATES[kind].instruction)
    if TEMPLATES[kind].persona_intro:
        assert "PERSONA-ENTRY" in with_p[0]["content"]


def test_empty_persona_renders_as_no_persona():
    assert system_prompt("product_review", []) == system_prompt("product_review", None)


def test_both_contexts_hold_the_identical_response_ids(bundled_tokenizer):
    tok = bundled_tokenizer
    response = "Honestly, a splendid kettle. Biscuit approves!"
    pair = encode_pair(tok, "product_review", "Review this kettle.", PROFILE, response)
    n = len(pair.response_ids)
    assert pair.with_ids[-n:] == pair.without_ids[-n:] == pair.response_ids
    assert pair.response_ids[-1] == tok.eos_token_id  # models learn to stop
    assert tok.decode(pair.response_ids[:-1]) == response
    # everything before the response is the chat-templated prompt, ending in the generation prompt
    head_with = tok.decode(pair.with_ids[:pair.response_start_with])
    head_without = tok.decode(pair.without_ids[:pair.response_start_without])
    assert head_with.endswith("<|im_start|>assistant\n")
    assert head_without.endswith("<|im_start|>assistant\n")
    assert "Biscuit and I walked" in head_with and "Biscuit" not in head_without
    assert len(pair.with_ids) > 5 * len(pair.without_ids) // 2  # the persona dominates the prompt


def test_encode_record_uses_the_records_profile(bundled_tokenizer):
    rec = Record(id="r1", task="topic_writing", user_id="u", query="Write about rain.",
                 reference="Rain again, love it.", profile=PROFILE[:2])
    pair = encode_record(bundled_tokenizer, rec)
    assert pair.persona_entries_kept == 2
    assert bundled_tokenizer.decode(pair.response_ids[:-1]) == "Rain again, love it."


@pytest.mark.parametrize("max_length", [300, 200, 120, 80])
def test_truncation_cuts_the_persona_never_the_response(bundled_tokenizer, max_length):
    tok = bundled_tokenizer
    response = "Honestly, a splendid kettle. Biscuit approves!"
    full = encode_pair(tok, "product_review", "Review this kettle.", PROFILE, response)
    assert len(full.with_ids) > 300
    cut = encode_pair(tok, "product_review", "Review this kettle.", PROFILE, response,
                      max_length=max_length)
    assert len(cut.with_ids) <= max_length
    assert cut.response_ids == full.response_ids  # the response is intact
    assert cut.without_ids == full.without_ids  # the query was not touched
    assert cut.persona_entries_kept < 4
    assert cut.truncated.get("persona_entries", 0) + cut.truncated.get("persona_tokens", 0) > 0
    assert "response" not in cut.truncated and "query_tokens" not in cut.truncated
    head = tok.decode(cut.with_ids[:cut.response_start_with])
    if cut.persona_entries_kept:
        assert "[1] My dog Biscuit" in head  # the best-ranked entry is the one kept


def test_too_small_max_length_is_an_error(bundled_tokenizer):
    with pytest.raises(ValueError, match="cannot hold even the bare"):
        encode_pair(bundled_tokenizer, "product_review", "q", PROFILE, "r", max_length=10)


def test_generation_prompts_fit_their_budget_persona_first(bundled_tokenizer):
    from percontrast.data.records import Record
    from percontrast.prompts import encode_prompt, generation_messages, record_messages

    record = Record(id="r1", task="product_review", user_id="u", query="Review this blender.",
                    reference="Great.", profile=[f"Old review number {i}: " + "tasty " * 40
                                                 for i in range(4)])
    full = len(encode_prompt(bundled_tokenizer, record_messages(record)))
    messages, truncated = generation_messages(bundled_tokenizer, record, full - 60)
    assert len(encode_prompt(bundled_tokenizer, messages)) <= full - 60
    assert truncated["persona_entries"] == 1 and "query_tokens" not in truncated
    assert "Review this blender." in messages[-1]["content"]
    same, none_cut = generation_messages(bundled_tokenizer, record, full)
    assert same == record_messages(record) and none_cut == {}


def test_a_generation_prompt_whose_fixed_part_is_over_budget_is_kept_whole(bundled_tokenizer):
    from percontrast.data.records import Record
    from percontrast.prompts import encode_prompt, generation_messages, record_messages

    record = Record(id="q1", task="hotpotqa", user_id="u", query="Who came first?",
                    reference="Ann", meta={"context": [["Ann", ["Ann was born in 1900. " * 30]]]})
    full = encode_prompt(bundled_tokenizer, record_messages(record))
    messages, truncated = generation_messages(bundled_tokenizer, record, 64)
    assert messages == record_messages(record) and truncated == {"over_budget": len(full)}
