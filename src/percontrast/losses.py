"""Token weights for CE, LossCE, EntCE and PerCE, and the weighted cross-entropy (paper eq. 5-8).

All four losses are the weighted CE

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

The means in LossCE and EntCE run over the response tokens of the same sequence, so a weight of 1
means "average for this response"; both use PerCE's [m, M] so that the four losses put the same
bounds on a token's emphasis and differ only in *which* tokens they emphasise.

Tensors are ``[..., T]`` with an optional boolean ``mask`` of the same shape (False = padding).
"""

from __future__ import annotations

import torch

from percontrast.methods import METHODS

DEFAULT_CLIP = (0.8, 5.0)


def _masked_mean(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over the last dim, ignoring masked positions (kept as a trailing dim of size 1)."""
    if mask is None:
        return x.mean(-1, keepdim=True)
    m = mask.to(x.dtype)
    return (x * m).sum(-1, keepdim=True) / m.sum(-1, keepdim=True).clamp(min=1)


def _entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(-1)


@torch.no_grad()
def token_weights(method: str, logp: torch.Tensor, *,
                  logp_counterfactual: torch.Tensor | None = None,
                  logits: torch.Tensor | None = None,
                  entropy: torch.Tensor | None = None,
                  mask: torch.Tensor | None = None,
                  clip: tuple[float, float] = DEFAULT_CLIP) -> torch.Tensor:
    """Detached per-token weights for ``method`` (see the module docstring for the formulas).

    ``logp``: log-probs of the response tokens with the persona, ``[..., T]``.
    ``logp_counterfactual``: the same tokens without the persona (``perce``).
    ``logits`` ``[..., T, V]`` or a precomputed ``entropy`` ``[..., T]`` (``entce``).
    Masked positions get weight 0.
    """
    lo, hi = clip
    if lo > hi:
        raise ValueError(f"clip min {lo} > clip max {hi}")
    logp = logp.detach().float()
    if method == "ce":
        w = torch.ones_like(logp)
    elif method == "perce":
        if logp_counterfactual is None:
            raise ValueError("perce weights need logp_counterfactual (the persona-removed pass)")
        w = (logp - logp_counterfactual.detach().float()).clamp(lo, hi)
    elif method == "lossce":
        loss = -logp
        w = (loss / _masked_mean(loss, mask).clamp(min=1e-8)).clamp(lo, hi)
    elif method == "entce":
        if entropy is None:
            if logits is None:
                raise ValueError("entce weights need logits or entropy")
            entropy = _entropy_from_logits(logits.detach())
        entropy = entropy.detach().float()
        w = (entropy / _masked_mean(entropy, mask).clamp(min=1e-8)).clamp(lo, hi)
    else:
        raise ValueError(f"unknown weighting {method!r}; one of {', '.join(METHODS)}")
    if mask is not None:
        w = w * mask.to(w.dtype)
    return w


def weighted_ce(logp: torch.Tensor, weights: torch.Tensor, mask: torch.Tensor | None = None,
                num_items: int | float | torch.Tensor | None = None) -> torch.Tensor:
    """``-(1/n) * sum_i w_i * logp_i``; ``n`` = ``num_items`` or the number of unmasked tokens.

    Pass the token count of the whole (accumulated, all-device) batch as ``num_items`` to make
    gradient accumulation exact: the sum of micro-batch losses then equals the big-batch loss.
    """
    terms = weights.detach().to(logp.dtype) * logp
    if mask is not None:
        terms = terms * mask.to(logp.dtype)
    if num_items is None:
        num_items = mask.sum() if mask is not None else logp.numel()
    return -terms.sum() / num_items


def perce_loss(logp: torch.Tensor, logp_counterfactual: torch.Tensor,
               clip: tuple[float, float] = DEFAULT_CLIP, mask: torch.Tensor | None = None,
               num_items: int | float | torch.Tensor | None = None) -> torch.Tensor:
    """PerCE (eq. 5-7): weighted CE with w = clip(logp - logp_counterfactual, m, M), w detached."""
    w = token_weights("perce", logp, logp_counterfactual=logp_counterfactual, mask=mask,
                      clip=clip)
    return weighted_ce(logp, w, mask, num_items)
