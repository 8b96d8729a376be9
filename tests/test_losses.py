"""Token weights and the weighted CE against hand computations (paper eq. 5-7)."""

from __future__ import annotations

import pytest
import torch

from percontrast.losses import perce_loss, token_weights, weighted_ce


def test_perce_loss_value_and_gradient_by_hand():
    logp = torch.tensor([-0.5, -2.0, -1.0, -3.0], requires_grad=True)
    logp_cf = torch.tensor([-0.4, -4.5, -9.0, -3.5], requires_grad=True)
    # PIR = [-0.1, 2.5, 8.0, 0.5] -> clip to [0.8, 5.0] = [0.8, 2.5, 5.0, 0.8]
    w = torch.tensor([0.8, 2.5, 5.0, 0.8])
    loss = perce_loss(logp, logp_cf, clip=(0.8, 5.0))
    expected = -(0.8 * -0.5 + 2.5 * -2.0 + 5.0 * -1.0 + 0.8 * -3.0) / 4
    assert loss.item() == pytest.approx(expected)
    loss.backward()
    torch.testing.assert_close(logp.grad, -w / 4)  # d/dlogp_i = -w_i / n
    assert logp_cf.grad is None  # weights are detached: no gradient reaches the counterfactual


def test_weights_carry_no_gradient():
    logp = torch.randn(3, 5, requires_grad=True)
    for method, kw in [("ce", {}), ("lossce", {}), ("perce", {"logp_counterfactual": logp - 1}),
                       ("entce", {"logits": torch.randn(3, 5, 7, requires_grad=True)})]:
        w = token_weights(method, logp, **kw)
        assert not w.requires_grad, method


def test_identical_contexts_make_perce_0_8_times_ce():
    torch.manual_seed(0)
    logp = -torch.rand(2, 6) * 4
    mask = torch.ones(2, 6, dtype=torch.bool)
    mask[1, :2] = False
    ce = weighted_ce(logp, token_weights("ce", logp, mask=mask), mask)
    perce = perce_loss(logp, logp.clone(), mask=mask)
    assert perce.item() == pytest.approx(0.8 * ce.item())


def test_masked_tokens_get_zero_weight_and_do_not_count():
    logp = torch.tensor([[-1.0, -2.0, -50.0]])
    mask = torch.tensor([[True, True, False]])
    w = token_weights("ce", logp, mask=mask)
    assert w.tolist() == [[1.0, 1.0, 0.0]]
    assert weighted_ce(logp, w, mask).item() == pytest.approx(1.5)
    assert weighted_ce(logp, w, mask, num_items=6).item() == pytest.approx(0.5)


def test_lossce_upweights_high_loss_tokens_relative_to_the_sequence_mean():
    logp = torch.tensor([[-0.1, -1.0, -4.0, -0.9]])  # losses 0.1 1 4 0.9, mean 1.5
    w = token_weights("lossce", logp, clip=(0.5, 2.0))
    torch.testing.assert_close(w, torch.tensor([[0.5, 1 / 1.5, 2.0, 0.9 / 1.5]]))


def test_entce_upweights_high_entropy_positions():
    uniform = torch.zeros(4)  # entropy log 4
    peaked = torch.tensor([10.0, 0.0, 0.0, 0.0])
    logits = torch.stack([uniform, peaked, uniform, peaked])[None]  # [1, 4, 4]
    w = token_weights("entce", torch.zeros(1, 4), logits=logits, clip=(0.0, 10.0))
    h_u = torch.log(torch.tensor(4.0))
    p = torch.softmax(peaked, -1)
    h_p = -(p * p.log()).sum()
    mean = (h_u + h_p) / 2
    torch.testing.assert_close(w, torch.stack([h_u, h_p, h_u, h_p])[None] / mean)
    assert w[0, 0] > 1 > w[0, 1]


def test_all_weights_respect_the_clip_bounds():
    torch.manual_seed(1)
    logp = -torch.rand(4, 9) * 6
    for method, kw in [("perce", {"logp_counterfactual": -torch.rand(4, 9) * 20}),
                       ("lossce", {}), ("entce", {"logits": torch.randn(4, 9, 11) * 3})]:
        w = token_weights(method, logp, clip=(0.8, 5.0), **kw)
        assert w.min() >= 0.8 and w.max() <= 5.0, method


def test_bad_arguments_fail_clearly():
    logp = torch.zeros(3)
    with pytest.raises(ValueError, match="unknown weighting"):
        token_weights("focal", logp)
    with pytest.raises(ValueError, match="logp_counterfactual"):
        token_weights("perce", logp)
    with pytest.raises(ValueError, match="clip min"):
        token_weights("ce", logp, clip=(5.0, 0.8))


# ------------------------------------------------- issue 20 items 4-5: shapes and non-finite values

@pytest.mark.parametrize("cf_shape", [(1, 5), (5,), (2, 1), (2, 6), (3, 2, 5)])
def test_counterfactual_of_another_shape_is_an_error_naming_both(cf_shape):
    logp = -torch.rand(2, 5)
    shape = "x".join(map(str, cf_shape))
    with pytest.raises(ValueError, match=rf"2x5.*{shape}|{shape}.*2x5"):
        perce_loss(logp, -torch.rand(*cf_shape))
    with pytest.raises(ValueError, match="logp_counterfactual"):
        token_weights("perce", logp, logp_counterfactual=-torch.rand(*cf_shape))


def test_mask_logits_and_entropy_of_another_shape_are_errors():
    logp = -torch.rand(2, 5)
    with pytest.raises(ValueError, match="mask"):
        token_weights("ce", logp, mask=torch.ones(1, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask"):
        weighted_ce(logp, torch.ones(2, 5), torch.ones(5, dtype=torch.bool))
    with pytest.raises(ValueError, match="weights"):
        weighted_ce(logp, torch.ones(1, 5))
    with pytest.raises(ValueError, match="entropy"):
        token_weights("entce", logp, entropy=torch.rand(2, 1))
    with pytest.raises(ValueError, match="logits"):
        token_weights("entce", logp, logits=torch.rand(2, 4, 7))


def test_a_batch_without_response_tokens_gives_exactly_zero_never_nan(caplog):
    logp = (-torch.rand(2, 5)).requires_grad_()
    none = torch.zeros(2, 5)
    with caplog.at_level("WARNING", logger="percontrast.losses"):
        loss = perce_loss(logp, logp.detach() - 1, mask=none)
    assert loss.item() == 0.0 and not torch.isnan(loss)
    assert "no response token" in caplog.text
    loss.backward()  # a zero with a graph: the step is a no-op, not a crash
    assert torch.equal(logp.grad, torch.zeros(2, 5))
    for n in (0, torch.tensor(0)):
        assert weighted_ce(logp, torch.ones(2, 5), none, num_items=n).item() == 0.0
    for method in ("lossce", "entce"):
        kw = {"logits": torch.randn(2, 5, 3)} if method == "entce" else {}
        w = token_weights(method, logp, mask=none, **kw)
        assert torch.equal(w, torch.zeros(2, 5))


def test_tokens_but_no_count_is_an_error():
    logp = -torch.rand(2, 5)
    with pytest.raises(ValueError, match="num_items"):
        weighted_ce(logp, torch.ones(2, 5), num_items=0)
    with pytest.raises(ValueError, match="num_items"):
        weighted_ce(logp, torch.ones(2, 5), num_items=float("nan"))


@pytest.mark.parametrize("where", ["logp", "logp_counterfactual", "logits", "entropy", "weights"])
def test_non_finite_inputs_raise_naming_what(where):
    logp = -torch.rand(2, 5)
    bad = logp.clone()
    bad[1, 3] = float("nan")
    if where == "logp":
        with pytest.raises(ValueError, match="logp.*non-finite|non-finite.*logp"):
            perce_loss(bad, logp - 1)
    elif where == "logp_counterfactual":
        with pytest.raises(ValueError, match="logp_counterfactual"):
            perce_loss(logp, bad)
    elif where == "logits":
        logits = torch.randn(2, 5, 3)
        logits[0, 0, 0] = float("inf")
        with pytest.raises(ValueError, match="logits"):
            token_weights("entce", logp, logits=logits)
    elif where == "entropy":
        with pytest.raises(ValueError, match="entropy"):
            token_weights("entce", logp, entropy=bad.abs())
    else:
        with pytest.raises(ValueError, match="weights"):
            weighted_ce(logp, bad.abs())


def test_non_finite_values_at_masked_positions_are_ignored():
    logp = -torch.rand(1, 4)
    logp[0, 3] = float("-inf")  # padding: log p of a pad token may be -inf
    mask = torch.tensor([[True, True, True, False]])
    assert torch.isfinite(perce_loss(logp, logp - 1, mask=mask))


@pytest.mark.parametrize("clip", [(float("nan"), 5.0), (0.8, float("nan")), (0.8, float("inf")),
                                  (float("-inf"), 5.0)])
def test_non_finite_clip_bounds_raise(clip):
    logp = -torch.rand(2, 5)
    with pytest.raises(ValueError, match="clip"):
        perce_loss(logp, logp - 1, clip=clip)
