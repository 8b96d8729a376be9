"""Prompt templates and tokenization: identical response ids in both contexts, truncation."""

from __future__ import annotations

import pytest

from percontrast.data.records import Record
from percontrast.prompts import (
    COUNTERFACTUALS,
    FILLER_SENTENCE,
    TEMPLATES,
    build_messages,
    counterfactual_entries,
    encode_pair,
    encode_prompt,
    encode_record,
    encode_records,
    filler_entry,
    placebo_partners,
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


# --------------------------------------------------------------------------- counterfactuals

def _diff(a: list[int], b: list[int]) -> tuple[int, int]:
    """Lengths of the longest common prefix and suffix (not overlapping) of two id lists."""
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    s = 0
    while s < min(len(a), len(b)) - p and a[-1 - s] == b[-1 - s]:
        s += 1
    return p, s


PERSONA = "I like to sew. My dog Biscuit is old. I grew up in Leeds."
OTHER = "I am a nurse on night shifts. I drive a pickup truck."


@pytest.mark.parametrize("kind", ["persona_qa", "product_review"])
@pytest.mark.parametrize("variant", COUNTERFACTUALS)
def test_counterfactual_prompts_differ_only_where_intended(bundled_tokenizer, kind, variant):
    tok = bundled_tokenizer
    with_ids = encode_prompt(tok, build_messages(kind, "What do you do on weekends?", [PERSONA]))
    entries = counterfactual_entries(variant, [PERSONA], [OTHER])
    cf_ids = encode_prompt(tok, build_messages(kind, "What do you do on weekends?", entries))
    p, s = _diff(with_ids, cf_ids)
    head, tail = tok.decode(with_ids[:p]), tok.decode(with_ids[len(with_ids) - s:])
    changed = tok.decode(with_ids[p:len(with_ids) - s])
    instead = tok.decode(cf_ids[p:len(cf_ids) - s])
    t = TEMPLATES[kind]
    assert t.instruction in head and "What do you do on weekends?" in tail
    assert "Biscuit" in changed and "Biscuit" not in head + tail + instead
    if variant == "removed":  # the whole persona part gives way to the plain instruction
        assert t.persona_intro in changed and t.persona_outro.rstrip(".") in changed
        assert t.plain.startswith(instead.strip()) and t.plain in instead + tail
    else:  # only the entries change: intro and outro are shared, the persona text replaced
        expected = OTHER if variant == "placebo" else filler_entry(PERSONA)
        marker = t.persona_intro + "\n[1]"
        before = head[head.index(marker) + len(marker):]  # shared start of both entries
        after = tail[:tail.index(t.persona_outro)]  # shared end of both entries
        assert (before + changed + after).strip() == PERSONA
        assert (before + instead + after).strip() == expected
        if variant == "filler":
            assert set(instead.replace(".", " ").split()) <= set(
                FILLER_SENTENCE.replace(".", " ").split())
            assert abs(len(cf_ids) - len(with_ids)) <= 4  # similar length, no persona


def test_filler_has_the_entry_word_count_and_unknown_variants_fail():
    assert len(filler_entry(PERSONA).split()) == len(PERSONA.split())
    assert filler_entry(PERSONA).endswith(".")
    assert counterfactual_entries("removed", [PERSONA]) is None
    with pytest.raises(ValueError, match="another user's persona"):
        counterfactual_entries("placebo", [PERSONA])
    with pytest.raises(ValueError, match="unknown counterfactual"):
        counterfactual_entries("shuffled", [PERSONA])


def test_placebo_partners_pick_another_owner_deterministically():
    owners = ["u1", "u1", "u2", "u3", "u3", "u3"]
    partners = placebo_partners(owners, seed=0)
    assert all(owners[j] != owners[i] for i, j in enumerate(partners))
    assert partners == placebo_partners(owners, seed=0)
    assert len(set(partners)) >= 3  # spread over the other users' items
    with pytest.raises(ValueError, match="two users"):
        placebo_partners(["u1", "u1"], seed=0)


def test_encode_records_uses_the_configured_counterfactual(bundled_tokenizer):
    tok = bundled_tokenizer
    records = [Record(id=f"r{i}", task="product_review", user_id=f"u{i % 2}", query="Review it.",
                      reference="Great kettle.", profile=[f"Entry of user {i % 2} about tea."])
               for i in range(4)]
    removed = encode_records(tok, records)
    placebo = encode_records(tok, records, counterfactual="placebo", seed=0)
    filler = encode_records(tok, records, counterfactual="filler")
    for r, a, b, c in zip(records, removed, placebo, filler, strict=True):
        assert a.with_ids == b.with_ids == c.with_ids  # the persona side never changes
        other = "1" if r.user_id == "u0" else "0"
        assert f"Entry of user {other}" in tok.decode(b.without_ids)
        assert "Entry of user" not in tok.decode(a.without_ids) + tok.decode(c.without_ids)
        assert FILLER_SENTENCE.split()[0] in tok.decode(c.without_ids)
        assert a.without_ids == encode_record(tok, r).without_ids
