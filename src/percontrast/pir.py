"""PerContrast: the per-token Personal Influence Ratio (PIR), paper eq. 2.

    PIR(y_i) = log p(y_i | persona, x, y_<i) - log p(y_i | x, y_<i)

Both terms come from the same model, scoring the identical response token ids after two prompts
that differ only by the persona (:mod:`percontrast.prompts`). This module is the one place PIR is
computed, whether it weights a PerCE training step or classifies tokens in the benchmark.

Batches are **left-padded** so every row's response occupies the last positions of its sequence.
The model is then asked for logits at those positions only (``logits_to_keep``), never for the
prompt: a persona prompt is ~10x the counterfactual one (paper table 6), and [batch, seq, vocab]
logits of a 5k-token Qwen3 prompt would be 3 GB of fp32. Position ids are derived from the
attention mask, so a left-padded row scores exactly as the same row alone.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from percontrast.prompts import EncodedPair, encode_response, pair_from_messages

IGNORE_INDEX = -100


# --------------------------------------------------------------------------- batching

def left_pad(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack id lists right-aligned: ``(input_ids, attention_mask)``, both ``[B, max_len]``."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        if len(seq):
            ids[row, width - len(seq):] = torch.as_tensor(list(seq), dtype=torch.long)
            mask[row, width - len(seq):] = 1
    return ids, mask


def response_labels(pairs: Sequence[EncodedPair]) -> torch.Tensor:
    """``[B, K]`` response ids right-aligned (K = longest response), ``-100`` elsewhere."""
    width = max(len(p.response_ids) for p in pairs)
    labels = torch.full((len(pairs), width), IGNORE_INDEX, dtype=torch.long)
    for row, pair in enumerate(pairs):
        n = len(pair.response_ids)
        if n:
            labels[row, width - n:] = torch.as_tensor(pair.response_ids, dtype=torch.long)
    return labels


def response_marker_masks(pairs: Sequence[EncodedPair], width: int) -> torch.Tensor:
    """``[B, width]`` bool, aligned with :func:`response_labels`: True at marker tokens.

    Pairs without a mask contribute False, as padding does; a run's records come from one
    dataset, so in practice a batch has masks for all its pairs or for none.
    """
    out = torch.zeros((len(pairs), width), dtype=torch.bool)
    for row, pair in enumerate(pairs):
        if pair.marker_mask and len(pair.marker_mask) != len(pair.response_ids):
            raise ValueError(f"marker_mask has {len(pair.marker_mask)} entries for "
                             f"{len(pair.response_ids)} response ids")
        if pair.marker_mask:
            out[row, width - len(pair.marker_mask):] = torch.as_tensor(pair.marker_mask)
    return out


def collate_pairs(pairs: Sequence[EncodedPair], pad_id: int) -> dict[str, torch.Tensor]:
    """A training / scoring batch of persona and persona-removed sequences.

    ``shift_labels`` (also under ``labels``) are the response targets aligned with the logits
    :func:`response_logits` returns; Hugging Face's Trainer counts them for
    ``num_items_in_batch`` as they are (no causal shift), which keeps gradient accumulation exact.
    When any pair knows its marker tokens, ``marker_mask`` (same shape as ``shift_labels``) flags
    them, for the training log only; no forward pass reads it.
    """
    input_ids, attention_mask = left_pad([p.with_ids for p in pairs], pad_id)
    cf_input_ids, cf_attention_mask = left_pad([p.without_ids for p in pairs], pad_id)
    labels = response_labels(pairs)
    batch = {"input_ids": input_ids, "attention_mask": attention_mask,
             "cf_input_ids": cf_input_ids, "cf_attention_mask": cf_attention_mask,
             "shift_labels": labels, "labels": labels}
    if any(p.marker_mask is not None for p in pairs):
        batch["marker_mask"] = response_marker_masks(pairs, labels.shape[1])
    return batch


class PairCollator:
    """``DataCollator`` for datasets of :class:`~percontrast.prompts.EncodedPair`."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, pairs: Sequence[EncodedPair]) -> dict[str, torch.Tensor]:
        return collate_pairs(pairs, self.pad_id)


# --------------------------------------------------------------------------- forward passes

def _innermost(model):
    """The model under its wrappers: a ``PeftModel`` (``get_base_model``),
    DDP / FSDP (``module``) and ``torch.compile`` (``_orig_mod``). Each wrapper's ``forward``
    takes ``**kwargs`` and hands them down unchanged, so the innermost signature is what counts."""
    for _ in range(8):  # wrappers nest a few levels at most
        if hasattr(model, "get_base_model"):
            inner = model.get_base_model()
        elif isinstance(getattr(model, "_orig_mod", None), torch.nn.Module):
            inner = model._orig_mod
        elif isinstance(getattr(model, "module", None), torch.nn.Module):
            inner = model.module
        else:
            return model
        if inner is model:
            return model
        model = inner
    return model


def _accepts_logits_to_keep(model) -> bool:
    """Whether the model under its wrappers takes ``logits_to_keep``. The wrappers' own
    signatures hide it (peft's ``forward(input_ids, ..., **kwargs)``): reading only theirs made
    every LoRA (and DDP) step compute ``[B, seq, V]`` logits, ~10x the response logits at
    persona-prompt lengths, and keep them, and their gradient, for the backward pass."""
    try:
        return "logits_to_keep" in inspect.signature(_innermost(model).forward).parameters
    except (TypeError, ValueError):  # pragma: no cover - exotic wrappers
        return False


def response_logits(model, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    n_response: int) -> torch.Tensor:
    """Logits predicting the last ``n_response`` tokens of each left-padded row: ``[B, K, V]``.

    Position ``t`` predicts token ``t + 1``, so the ``K + 1`` last positions are kept and the very
    last (which predicts past the end) is dropped.
    """
    position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
    kwargs = dict(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                  use_cache=False)
    if _accepts_logits_to_keep(model):
        logits = model(**kwargs, logits_to_keep=n_response + 1).logits
    else:  # models without logits_to_keep: full logits, then slice (costs memory, still correct)
        logits = model(**kwargs).logits[:, -(n_response + 1):]
    return logits[:, :-1]


def token_logprobs(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``log p(label)`` per position in fp32 (0 where label is -100), via fused cross-entropy."""
    flat = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1),
                           ignore_index=IGNORE_INDEX, reduction="none")
    return -flat.view(labels.shape)


def token_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of the predictive distribution at each position, fp32."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(-1)


def counterfactual_logprobs(model, cf_input_ids: torch.Tensor, cf_attention_mask: torch.Tensor,
                            labels: torch.Tensor) -> torch.Tensor:
    """``log p(y_i | x, y_<i)`` on the persona-removed batch: grad-free, in eval mode.

    Eval mode makes the counterfactual deterministic even for models with dropout; the caller's
    train/eval mode is restored afterwards.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits = response_logits(model, cf_input_ids, cf_attention_mask, labels.shape[1])
            return token_logprobs(logits, labels)
    finally:
        model.train(was_training)


# --------------------------------------------------------------------------- PIR

@dataclass
class PIRResult:
    """Per-token PIR of one response. ``tokens`` are the decoded response tokens."""

    response_ids: list[int]
    tokens: list[str]
    pir: list[float]
    logp_with: list[float]
    logp_without: list[float]


@torch.no_grad()
def score_sequences(model, sequences: Sequence[Sequence[int]], n_response: Sequence[int],
                    pad_id: int) -> list[torch.Tensor]:
    """``log p`` of the last ``n_response[i]`` tokens of each sequence, given what precedes
    them: one left-padded forward (eval, no grad); 1-D fp32 CPU tensors.

    The PIR benchmark scores one persona context against several counterfactual contexts with
    this, one forward each, instead of repeating the persona forward per counterfactual.
    """
    if len(sequences) != len(n_response):
        raise ValueError(f"{len(sequences)} sequences but {len(n_response)} response lengths")
    if not sequences:
        raise ValueError("no sequences to score (an empty batch)")
    for row, (seq, n) in enumerate(zip(sequences, n_response, strict=True)):
        if not 0 <= n < len(seq):  # the first token has no context to be scored from
            raise ValueError(f"sequence {row}: n_response {n} must be in [0, {len(seq)}) for a "
                             f"sequence of {len(seq)} tokens (scoring more would score padding)")
    width = max(n_response)
    if width == 0:  # nothing to score (and ids[:, -0:] would be the whole row)
        return [torch.zeros(0) for _ in n_response]
    device = next(model.parameters()).device
    input_ids, attention_mask = left_pad(sequences, pad_id)
    labels = input_ids[:, -width:].clone()
    for row, n in enumerate(n_response):
        labels[row, :width - n] = IGNORE_INDEX
    was_training = model.training
    model.eval()
    try:
        logits = response_logits(model, input_ids.to(device), attention_mask.to(device), width)
        logp = token_logprobs(logits, labels.to(device)).cpu()
    finally:
        model.train(was_training)
    return [logp[row, width - n:] for row, n in enumerate(n_response)]


@torch.no_grad()
def score_pairs(model, pairs: Sequence[EncodedPair], pad_id: int
                ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(log p with persona, log p without)`` per response token of each pair (eval, no grad).

    One forward on the left-padded persona batch and one on the counterfactual batch; returns
    1-D fp32 CPU tensors of each pair's response length.
    """
    lengths = [len(p.response_ids) for p in pairs]
    with_ = score_sequences(model, [p.with_ids for p in pairs], lengths, pad_id)
    without = score_sequences(model, [p.without_ids for p in pairs], lengths, pad_id)
    return list(zip(with_, without, strict=True))


def pir_batch(model, pairs: Sequence[EncodedPair], pad_id: int) -> list[torch.Tensor]:
    """PIR per response token for a batch of encoded pairs (the pipeline's batched variant)."""
    return [with_ - without for with_, without in score_pairs(model, pairs, pad_id)]


def pir_scores(model, tokenizer, with_persona: list[dict[str, str]],
               without_persona: list[dict[str, str]], response: str, *,
               chat_template_kwargs: dict | None = None, add_eos: bool = False) -> PIRResult:
    """PIR of every token of ``response`` under ``model`` (eval, no grad).

    ``with_persona`` / ``without_persona`` are chat message lists (system + user); the response is
    tokenized once and appended after both chat-templated prompts. ``add_eos`` also scores the
    end-of-turn token.
    """
    response_ids = encode_response(tokenizer, response, add_eos=add_eos)
    if not response_ids:
        raise ValueError("empty response: nothing to score")
    pair = pair_from_messages(tokenizer, with_persona, without_persona, response_ids,
                              chat_template_kwargs)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    [(logp_with, logp_without)] = score_pairs(model, [pair], pad_id)
    return PIRResult(response_ids=response_ids,
                     tokens=[tokenizer.decode([t]) for t in response_ids],
                     pir=(logp_with - logp_without).tolist(),
                     logp_with=logp_with.tolist(), logp_without=logp_without.tolist())
