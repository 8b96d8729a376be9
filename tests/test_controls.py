"""PerCE's two controls (percontrast.methods) on data with a known answer, and the method
registry: one record and one weight rule per method, nothing else."""

from __future__ import annotations

import pytest
import torch

from percontrast import losses, methods
from percontrast.losses import token_weights


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    logp = -torch.rand(3, 9, generator=g) * 4
    cf = logp - torch.randn(3, 9, generator=g) * 2
    mask = torch.ones(3, 9, dtype=torch.bool)
    mask[0, :4] = False  # left padding of different widths
    mask[1, :1] = False
    return logp, cf, mask


def test_shuffled_weights_are_a_per_row_permutation_of_perces():
    logp, cf, mask = _batch()
    perce = token_weights("perce", logp, logp_counterfactual=cf, mask=mask)
    shuffled = token_weights("perce_shuffled", logp, logp_counterfactual=cf, mask=mask,
                             generator=torch.Generator().manual_seed(1))
    for row in range(3):
        m = mask[row]
        assert sorted(shuffled[row, m].tolist()) == pytest.approx(sorted(perce[row, m].tolist()))
        assert (shuffled[row, ~m] == 0).all()  # masked positions untouched (weight 0)
    assert not torch.equal(shuffled, perce)  # the selection is gone
    again = token_weights("perce_shuffled", logp, logp_counterfactual=cf, mask=mask,
                          generator=torch.Generator().manual_seed(1))
    assert torch.equal(again, shuffled)  # seeded: the same stream gives the same permutation


def test_a_permutation_never_moves_a_weight_onto_padding():
    w = torch.arange(1.0, 7.0).reshape(1, 6)
    mask = torch.tensor([[False, False, True, True, True, True]])
    for seed in range(20):
        out = losses.permute_within_rows(w, mask, torch.Generator().manual_seed(seed))
        assert out[0, :2].tolist() == [1.0, 2.0]
        assert sorted(out[0, 2:].tolist()) == [3.0, 4.0, 5.0, 6.0]


def test_normalized_weights_have_mean_one_over_each_rows_response_tokens():
    logp, cf, mask = _batch(3)
    perce = token_weights("perce", logp, logp_counterfactual=cf, mask=mask)
    norm = token_weights("perce_normalized", logp, logp_counterfactual=cf, mask=mask)
    for row in range(3):
        m = mask[row]
        assert norm[row, m].mean().item() == pytest.approx(1.0, abs=1e-6)
        ratio = norm[row, m] / perce[row, m]
        assert torch.allclose(ratio, ratio[0].expand_as(ratio))  # the selection is kept
        assert (norm[row, ~m] == 0).all()


def test_controls_need_the_counterfactual_like_perce():
    logp, _, mask = _batch()
    for name in methods.CONTROL_METHODS:
        assert methods.needs(name) == "counterfactual"
        with pytest.raises(ValueError, match="logp_counterfactual"):
            token_weights(name, logp, mask=mask)


def test_every_method_has_one_weight_rule_and_a_missing_one_is_an_error():
    assert list(losses.WEIGHT_RULES) == list(methods.METHODS)
    methods.register(methods.Method("ruleless", "Ruleless", "#000000", "-"))
    try:
        with pytest.raises(ValueError, match="has no weight rule"):
            token_weights("ruleless", torch.zeros(1, 3))
    finally:
        methods.unregister("ruleless")
    assert "ruleless" not in methods.METHODS
    with pytest.raises(ValueError, match="unknown weighting"):
        token_weights("dpo", torch.zeros(1, 3))


def test_losses_sum_in_fp32_and_refuse_negative_clips():
    """fp16 log-probs over many tokens: the sum overflowed to inf before the division."""
    logp = torch.full((8, 1500), -30.0, dtype=torch.float16)
    cf = torch.full((8, 1500), -31.0, dtype=torch.float16)
    loss = losses.perce_loss(logp, cf)
    assert torch.isfinite(loss) and loss.item() == pytest.approx(30.0, rel=1e-3)
    w = torch.ones(40_000, dtype=torch.float16)
    assert losses.weighted_ce(torch.full((40_000,), -20.0, dtype=torch.float16), w).item() \
        == pytest.approx(20.0, rel=1e-3)
    with pytest.raises(ValueError, match="clip min -5.0 < 0"):
        losses.perce_loss(logp.float(), cf.float(), clip=(-5, 5))


def test_score_sequences_refuses_an_empty_batch_and_responses_longer_than_their_sequence(
        tiny_model):
    from percontrast.pir import score_sequences

    model, tok = tiny_model
    with pytest.raises(ValueError, match="empty batch"):
        score_sequences(model, [], [], 0)
    with pytest.raises(ValueError, match="sequence 1: n_response 5 must be in"):
        score_sequences(model, [[1, 2, 3, 4], [5, 6, 7]], [2, 5], 0)
    with pytest.raises(ValueError, match="n_response 3 must be in"):  # nothing before it
        score_sequences(model, [[1, 2, 3]], [3], 0)
    [logp] = score_sequences(model, [[1, 2, 3, 4]], [2], 0)
    assert logp.shape == (2,) and torch.isfinite(logp).all()
