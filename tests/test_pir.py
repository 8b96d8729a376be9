"""PIR (PerContrast) against plain, unbatched forward passes."""

from __future__ import annotations

import pytest
import torch

from percontrast.pir import left_pad, pir_batch, pir_scores, response_logits
from percontrast.prompts import build_messages, encode_pair

PROFILE = ["I walk my dog Biscuit by the river in Leeds every morning.",
           "Honestly, nothing beats a splendid cup of tea after a night shift."]


def plain_logprobs(model, ids: list[int], n_response: int) -> torch.Tensor:
    """log p of the last n tokens from one full, unpadded forward (the definition)."""
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].float()
    logp = torch.log_softmax(logits, -1)
    positions = range(len(ids) - n_response, len(ids))
    return torch.stack([logp[t - 1, ids[t]] for t in positions])


def test_pir_scores_equals_two_plain_forward_passes(tiny_model):
    model, tok = tiny_model
    with_p = build_messages("product_review", "Review this kettle.", PROFILE)
    without = build_messages("product_review", "Review this kettle.", None)
    response = "Honestly, a splendid kettle; Biscuit approves."
    result = pir_scores(model, tok, with_p, without, response)
    pair = encode_pair(tok, "product_review", "Review this kettle.", PROFILE, response)
    n = len(result.response_ids)
    assert result.response_ids == pair.response_ids[:-1]  # no EOS unless asked
    expected_with = plain_logprobs(model, pair.with_ids[:-1], n)
    expected_without = plain_logprobs(model, pair.without_ids[:-1], n)
    torch.testing.assert_close(torch.tensor(result.logp_with), expected_with, atol=1e-4, rtol=0)
    torch.testing.assert_close(torch.tensor(result.logp_without), expected_without, atol=1e-4,
                               rtol=0)
    torch.testing.assert_close(torch.tensor(result.pir), expected_with - expected_without,
                               atol=2e-4, rtol=0)
    assert len(result.tokens) == n and "".join(result.tokens) == response
    assert max(abs(p) for p in result.pir) > 1e-3  # the persona does change the predictions


def test_pir_batch_with_left_padding_matches_each_pair_alone(tiny_model):
    model, tok = tiny_model
    pairs = [encode_pair(tok, "topic_writing", q, prof, r) for q, prof, r in [
        ("Write about rain.", PROFILE, "Rain again. Biscuit hates it."),
        ("Write about a long, slow Sunday in the city.", PROFILE[:1],
         "Honestly, a splendid Sunday: river walk, tea, a nap, and Biscuit snoring by the fire."),
        ("Write about tea.", [], "Tea."),
    ]]
    batched = pir_batch(model, pairs, tok.pad_token_id)
    for pair, pir in zip(pairs, batched, strict=True):
        n = len(pair.response_ids)
        expected = (plain_logprobs(model, pair.with_ids, n)
                    - plain_logprobs(model, pair.without_ids, n))
        assert pir.shape == (n,)
        torch.testing.assert_close(pir, expected, atol=2e-4, rtol=0)
    # an empty persona renders no persona: PIR is zero (up to the two batches' padding noise)
    assert batched[2].abs().max() < 1e-5


def test_identical_prompts_give_zero_pir(tiny_model):
    model, tok = tiny_model
    msgs = build_messages("dialogue", "User 2: hi! what do you do?", PROFILE)
    result = pir_scores(model, tok, msgs, msgs, "I am a nurse, and I walk Biscuit.", add_eos=True)
    assert result.response_ids[-1] == tok.eos_token_id
    assert result.pir == [0.0] * len(result.response_ids)


def test_logits_are_kept_only_at_response_positions(tiny_model):
    model, tok = tiny_model
    ids, mask = left_pad([[5, 6, 7, 8, 9, 10], [11, 12, 13]], tok.pad_token_id)
    logits = response_logits(model, ids, mask, 2)
    assert logits.shape == (2, 2, model.config.vocab_size)  # never [B, seq, V]


def test_model_mode_is_restored(tiny_model):
    model, tok = tiny_model
    model.train()
    try:
        pir_scores(model, tok, build_messages("persona_qa", "q?", PROFILE),
                   build_messages("persona_qa", "q?", None), "an answer")
        assert model.training
    finally:
        model.eval()


def test_empty_response_is_an_error(tiny_model):
    model, tok = tiny_model
    with pytest.raises(ValueError, match="empty response"):
        pir_scores(model, tok, build_messages("persona_qa", "q", PROFILE),
                   build_messages("persona_qa", "q", None), "")
