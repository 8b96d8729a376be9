"""Token weights for CE, LossCE, EntCE, PerCE and PerCE's two controls, and the weighted
cross-entropy (paper eq. 5-8).

All the losses are the weighted CE

    L = -(1 / n) * sum_i w_i * log p(y_i | persona, x, y_<i)

over the n response tokens, with detached weights w_i that differ only in how they are chosen:

* ``ce``     w_i = 1.
* ``perce``  w_i = clip(PIR_i, m, M),
             PIR_i = log p(y_i | persona, ...) - log p(y_i | no persona, ...)
             (PerContrast; recomputed every step with the current model: the online E-step).
* ``lossce`` w_i = clip(l_i / mean_j l_j, m, M) with l_i = -log p(y_i | ...): tokens with above-
             average loss are upweighted, in the spirit of Rho-1 ("Not all tokens are what you
             need"), without Rho-1's reference model.
* ``entce``  w_i = clip(H_i / mean_j H_j, m, M) with H_i the entropy of the model's predictive
             distribution at position i: high-entropy "forking" tokens are upweighted, in the spirit
             of "Beyond the 80/20 rule" (high-entropy minority tokens).
* ``perce_shuffled``   PerCE's w, permuted at random among the response tokens of the same
             sequence at every step (a seeded generator): the same weights, no selection.
* ``perce_normalized`` PerCE's w / mean_j w_j over the sequence's response tokens: the same
             selection, mean weight 1 as CE's (the controls of :mod:`percontrast.methods`).

The means in LossCE and EntCE run over the response tokens of the same sequence, so a weight of 1
means "average for this response"; both use PerCE's [m, M] so that the four losses put the same
bounds on a token's emphasis and differ only in *which* tokens they emphasise.

Tensors are ``[..., T]`` with an optional boolean ``mask`` of the same shape (False = padding).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import torch

from percontrast.methods import METHODS

log = logging.getLogger(__name__)

DEFAULT_CLIP = (0.8, 5.0)


def _shape(t: torch.Tensor) -> str:
    return "x".join(map(str, t.shape)) or "a scalar"


def _check_shape(name: str, t: torch.Tensor, logp: torch.Tensor, *, extra: int = 0) -> None:
    """``t`` has exactly ``logp``'s shape (plus ``extra`` trailing dims): no broadcasting, which
    would silently pair one sequence's tokens with another's."""
    got = tuple(t.shape[:t.dim() - extra]) if extra else tuple(t.shape)
    if t.dim() != logp.dim() + extra or got != tuple(logp.shape):
        want = _shape(logp) + ("x V" if extra else "")
        raise ValueError(f"{name} has shape {_shape(t)} but logp has shape {_shape(logp)}: "
                         f"{name} must be {want} exactly (one value per response token; "
                         "shapes are never broadcast)")


def _as_mask(mask: torch.Tensor | None, logp: torch.Tensor) -> torch.Tensor | None:
    if mask is None:
        return None
    _check_shape("mask", mask, logp)
    return mask.bool()


def _check_finite(name: str, t: torch.Tensor, mask: torch.Tensor | None) -> None:
    """Every value of ``t`` at a response position is finite (padding may hold anything)."""
    values = t if mask is None else t[mask]
    bad = ~torch.isfinite(values)
    if bad.any():
        raise ValueError(f"{name} holds {int(bad.sum())} non-finite value(s) (NaN or inf) at "
                         "response tokens: the weights and the loss would be NaN; check the "
                         "model's outputs (overflow in fp16?) and the inputs of this batch")


def _check_clip(clip: tuple[float, float]) -> tuple[float, float]:
    lo, hi = (float(c) for c in clip)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"clip bounds must be finite numbers, got ({lo}, {hi})")
    if lo < 0:  # the schema's bound too: a negative weight ascends the loss on that token
        raise ValueError(f"clip min {lo} < 0: a negative token weight would push that token's "
                         "probability down (and the loss below 0); use clip min >= 0")
    if lo > hi:
        raise ValueError(f"clip min {lo} > clip max {hi}")
    return lo, hi


def _masked_mean(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over the last dim, ignoring masked positions (kept as a trailing dim of size 1)."""
    if mask is None:
        return x.mean(-1, keepdim=True)
    m = mask.to(x.dtype)
    return (torch.where(mask, x, 0) * m).sum(-1, keepdim=True) / m.sum(-1, keepdim=True).clamp(
        min=1)


def _entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(-1)


def _ce_weights(logp, mask, lo, hi, inputs) -> torch.Tensor:
    return torch.ones_like(logp)


def _pir_weights(logp, mask, lo, hi, inputs) -> torch.Tensor:
    cf = inputs.get("logp_counterfactual")
    if cf is None:
        raise ValueError("perce weights need logp_counterfactual (the persona-removed pass)")
    _check_shape("logp_counterfactual", cf, logp)
    cf = cf.detach().float()
    _check_finite("logp_counterfactual", cf, mask)
    return (logp - cf).clamp(lo, hi)


def _lossce_weights(logp, mask, lo, hi, inputs) -> torch.Tensor:
    loss = -logp
    return (loss / _masked_mean(loss, mask).clamp(min=1e-8)).clamp(lo, hi)


def _entce_weights(logp, mask, lo, hi, inputs) -> torch.Tensor:
    entropy, logits = inputs.get("entropy"), inputs.get("logits")
    if entropy is None:
        if logits is None:
            raise ValueError("entce weights need logits or entropy")
        _check_shape("logits", logits, logp, extra=1)
        _check_finite("logits", logits.detach(), mask)
        entropy = _entropy_from_logits(logits.detach())
    else:
        _check_shape("entropy", entropy, logp)
    entropy = entropy.detach().float()
    _check_finite("entropy", entropy, mask)
    return (entropy / _masked_mean(entropy, mask).clamp(min=1e-8)).clamp(lo, hi)


def _shuffled_weights(logp, mask, lo, hi, inputs) -> torch.Tensor:
    return permute_within_rows(_pir_weights(logp, mask, lo, hi, inputs), mask,
                               inputs.get("generator"))


def _normalized_weights(logp, mask, lo, hi, inputs) -> torch.Tensor:
    w = _pir_weights(logp, mask, lo, hi, inputs)
    return w / _masked_mean(torch.where(mask, w, 0) if mask is not None else w,
                            mask).clamp(min=1e-8)


def permute_within_rows(w: torch.Tensor, mask: torch.Tensor | None,
                        generator: torch.Generator | None = None) -> torch.Tensor:
    """``w`` with each row's values at its response positions (``mask``) permuted at random
    among those positions; masked positions keep their value. The same multiset per row, the
    selection of which token gets which weight removed."""
    flat = w.reshape(-1, w.shape[-1]).clone()
    rows_mask = (torch.ones_like(flat, dtype=torch.bool) if mask is None
                 else mask.reshape(-1, w.shape[-1]))
    for row in range(flat.shape[0]):
        pos = rows_mask[row].nonzero(as_tuple=True)[0]
        if pos.numel() > 1:
            order = torch.randperm(pos.numel(), generator=generator)
            flat[row, pos] = flat[row, pos[order]]
    return flat.reshape(w.shape)


#: Each method's weight rule: ``rule(logp, mask, lo, hi, inputs) -> weights`` with ``inputs``
#: the extra tensors of :func:`token_weights`. Keyed exactly like
#: :data:`percontrast.methods.METHODS` (a test checks it): a method without a rule is an error,
#: never another method's weights.
WEIGHT_RULES: dict[str, Callable[..., torch.Tensor]] = {
    "ce": _ce_weights,
    "lossce": _lossce_weights,
    "entce": _entce_weights,
    "perce": _pir_weights,
    "perce_shuffled": _shuffled_weights,
    "perce_normalized": _normalized_weights,
}


def register_rule(name: str, rule: Callable[..., torch.Tensor]) -> None:
    """The weight rule of a method added with :func:`percontrast.methods.register`."""
    if name not in METHODS:
        raise ValueError(f"register the method {name!r} first (percontrast.methods.register)")
    WEIGHT_RULES[name] = rule


@torch.no_grad()
def token_weights(method: str, logp: torch.Tensor, *,
                  logp_counterfactual: torch.Tensor | None = None,
                  logits: torch.Tensor | None = None,
                  entropy: torch.Tensor | None = None,
                  mask: torch.Tensor | None = None,
                  clip: tuple[float, float] = DEFAULT_CLIP,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Detached per-token weights for ``method`` (see the module docstring for the formulas).

    ``logp``: log-probs of the response tokens with the persona, ``[..., T]``.
    ``logp_counterfactual``: the same tokens without the persona (``perce`` and its controls),
    of the same shape. ``logits`` ``[..., T, V]`` or a precomputed ``entropy`` ``[..., T]``
    (``entce``). ``generator``: the random stream of ``perce_shuffled``'s permutation.
    Masked positions get weight 0. Shapes must match exactly (never broadcast), and every input
    must be finite at the response tokens: a NaN or inf raises ``ValueError`` naming it.
    """
    lo, hi = _check_clip(clip)
    mask = _as_mask(mask, logp)
    logp = logp.detach().float()
    if method not in METHODS:
        raise ValueError(f"unknown weighting {method!r}; one of {', '.join(METHODS)}")
    rule = WEIGHT_RULES.get(method)
    if rule is None:
        raise ValueError(f"method {method!r} is registered but has no weight rule "
                         "(percontrast.losses.register_rule)")
    _check_finite("logp", logp, mask)
    inputs = {"logp_counterfactual": logp_counterfactual, "logits": logits, "entropy": entropy,
              "generator": generator}
    w = rule(logp, mask, lo, hi, inputs)
    if mask is not None:
        w = torch.where(mask, w, 0.0)
    _check_finite(f"the {method} weights", w, mask)
    return w


def weighted_ce(logp: torch.Tensor, weights: torch.Tensor, mask: torch.Tensor | None = None,
                num_items: int | float | torch.Tensor | None = None) -> torch.Tensor:
    """``-(1/n) * sum_i w_i * logp_i``; ``n`` = ``num_items`` or the number of unmasked tokens.

    Pass the token count of the whole (accumulated, all-device) batch as ``num_items`` to make
    gradient accumulation exact: the sum of micro-batch losses then equals the big-batch loss.

    A batch without response tokens (every position masked) has nothing to learn from: its loss
    is exactly 0 (with a graph, so a training step is a no-op) and a warning is logged, never
    NaN. A ``num_items`` of 0 with response tokens present, or a non-finite ``weights`` /
    ``logp`` at a response token, is a ``ValueError``.
    """
    _check_shape("weights", weights, logp)
    mask = _as_mask(mask, logp)
    if logp.dtype in (torch.float16, torch.bfloat16):  # sum in fp32: an fp16 sum of 40k
        logp = logp.float()  # tokens overflows to inf before the division
    w = weights.detach().to(logp.dtype)
    _check_finite("weights", w, mask)
    _check_finite("logp", logp.detach(), mask)
    if mask is None:
        terms = w * logp
        n_tokens = logp.numel()
    else:
        terms = torch.where(mask, torch.where(mask, w, 0) * logp, 0)
        n_tokens = int(mask.sum())
    n = float(n_tokens if num_items is None else num_items)
    if n_tokens == 0 and (n == 0 or math.isnan(n)):
        log.warning("a batch with no response token (every position masked): its loss is 0")
        return -terms.sum()
    if not (math.isfinite(n) and n > 0):
        raise ValueError(f"num_items must be a positive token count, got {n:g} for a batch "
                         f"with {n_tokens} response tokens")
    return -terms.sum() / num_items if num_items is not None else -terms.sum() / n_tokens


def perce_loss(logp: torch.Tensor, logp_counterfactual: torch.Tensor,
               clip: tuple[float, float] = DEFAULT_CLIP, mask: torch.Tensor | None = None,
               num_items: int | float | torch.Tensor | None = None) -> torch.Tensor:
    """PerCE (eq. 5-7): weighted CE with w = clip(logp - logp_counterfactual, m, M), w detached.
    ``logp_counterfactual`` must have exactly ``logp``'s shape."""
    w = token_weights("perce", logp, logp_counterfactual=logp_counterfactual, mask=mask,
                      clip=clip)
    return weighted_ce(logp, w, mask, num_items)
