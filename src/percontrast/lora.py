"""LoRA fine-tuning (``training.lora``) with ``peft``: wrap the model, save it for every consumer.

Absent ``training.lora`` means full fine-tuning, the paper's setting. With it, the model is wrapped
by :func:`peft.get_peft_model` *before* the Trainer sees it, so everything downstream is unchanged:

* PerCE's persona-free forward (:meth:`percontrast.training.PerCETrainer.compute_loss`) is called
  with the same wrapped ``model`` as the persona forward, so the online E-step measures PIR under
  the *current adapted* weights, not under the frozen base.
* Trainer checkpoints of a ``PeftModel`` hold the adapter (``adapter_model.safetensors``) plus the
  optimizer over the adapter's parameters only; the Trainer resumes them itself.
* The run's final ``model/`` is the adapter **merged** into the base (:func:`merge_adapter`): a
  plain safetensors model that :func:`percontrast.models.load_prepared` loads like any other, so
  ``generate``, ``aloe`` and ``llm_judge`` need no peft code path and pay no adapter overhead at
  generation time. The adapter itself is kept in ``model/adapter/`` (tens of MB instead of GB) for
  anyone who wants to load it with ``PeftModel.from_pretrained`` on the base model.

``lora`` is part of the run's training spec, hence of its checkpoint identity: changing any LoRA
setting (or adding/removing ``lora``) never resumes a checkpoint of the other setting.

Memory. LoRA must peak below full fine-tuning, as it keeps no gradients or Adam state for the
frozen weights. Two things would add activations that cost about as much as that saves:

* peft's ``PeftModel.forward(input_ids, ..., **kwargs)`` hides the base model's
  ``logits_to_keep``: :func:`percontrast.pir.response_logits` reads the signature under the
  wrappers, so it asks for the response positions' logits only, not the whole
  ``[batch, seq, vocab]`` tensor (ten times more at 1.36k-token persona prompts, kept with its
  gradient for the backward pass).
* peft applies ``lora_dropout`` as a module of its own before ``lora_A``, so each adapted layer
  would keep a dropped copy of its input (and the mask) for the backward pass, seven per decoder
  layer (q/k/v each draw their own). :func:`apply_lora` folds the dropout into ``lora_A``
  (:class:`DropoutLoraA`), which keeps only its input (shared with the other projections reading
  it) and recomputes the dropped copy in the backward pass from the saved RNG state: the same
  masks, values and gradients as peft's, for a dropout and an r-wide matmul more per layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

#: Subfolder of a trained model folder that holds the LoRA adapter (peft's own format).
ADAPTER_DIR = "adapter"
#: peft's name for "every linear layer except the output head".
ALL_LINEAR = "all-linear"
DEFAULTS = {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": ALL_LINEAR}
KEY = "training.lora"


def lora_settings(training: dict[str, Any]) -> dict[str, Any] | None:
    """``training.lora`` with its defaults filled in, or ``None`` for full fine-tuning."""
    lora = training.get("lora")
    if lora is None:
        return None
    if not isinstance(lora, dict):
        raise ValueError(f"{KEY} must be a mapping {{r, alpha, dropout, target_modules}}, "
                         f"got {lora!r}")
    unknown = set(lora) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"{KEY}: unknown key(s) {', '.join(sorted(unknown))}; "
                         f"allowed: {', '.join(DEFAULTS)}")
    out = {**DEFAULTS, **lora}
    if not (isinstance(out["r"], int) and out["r"] >= 1):
        raise ValueError(f"{KEY}.r must be a positive integer, got {out['r']!r}")
    if not 0 <= float(out["dropout"]) < 1:
        raise ValueError(f"{KEY}.dropout must be in [0, 1), got {out['dropout']!r}")
    return out


def linear_module_names(model: torch.nn.Module) -> list[str]:
    """The distinct short names (``q_proj``, ``down_proj``...) of the model's linear layers, the
    names ``target_modules`` may use."""
    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, torch.nn.Linear) and name})


def check_target_modules(model: torch.nn.Module, targets: str | list[str]) -> None:
    """Fail with a clear error when a ``target_modules`` entry names no linear layer of the
    model (peft would either fail deep inside or, for a partial match, silently adapt less)."""
    if targets == ALL_LINEAR:
        return
    if isinstance(targets, str) or not targets or not all(isinstance(t, str) for t in targets):
        raise ValueError(f"{KEY}.target_modules must be {ALL_LINEAR!r} or a non-empty list of "
                         f"module names, got {targets!r}")
    available = linear_module_names(model)
    missing = [t for t in targets if t not in available]
    if missing:
        raise ValueError(
            f"{KEY}.target_modules: {', '.join(missing)} name(s) no linear layer of "
            f"{type(model).__name__}; available: {', '.join(available)} (or {ALL_LINEAR!r})")


def apply_lora(model: torch.nn.Module, training: dict[str, Any], *, seed: int = 0
               ) -> torch.nn.Module:
    """``model`` wrapped for LoRA training per ``training.lora`` (unchanged when absent).

    The adapter's random init (``lora_A``) is drawn from ``seed``, not from whatever state the
    global RNG is in: the run's seed alone decides its result, as for full fine-tuning (and a
    resumed run, whose checkpoint holds the adapter, ends where an uninterrupted one does)."""
    settings = lora_settings(training)
    if settings is None:
        return model
    from peft import LoraConfig, get_peft_model

    check_target_modules(model, settings["target_modules"])
    config = LoraConfig(r=settings["r"], lora_alpha=settings["alpha"],
                        lora_dropout=float(settings["dropout"]),
                        target_modules=settings["target_modules"], task_type="CAUSAL_LM")
    with torch.random.fork_rng(devices=[]):  # leaves the caller's RNG stream untouched
        torch.manual_seed(seed)
        peft_model = get_peft_model(model, config)
    fold_lora_dropout(peft_model)
    return peft_model


class DropoutLoraA(torch.nn.Linear):
    """A LoRA ``lora_A`` projection with the adapter's input dropout folded in.

    ``lora_A(dropout(x))`` as peft computes it keeps ``dropout(x)`` (a full copy of the layer's
    input) for ``lora_A``'s weight gradient, and the mask for the input gradient. Here the pair is
    one checkpointed function of ``x``: only ``x`` is kept (the tensor the base layer and the
    other projections read, so nothing new), and the backward pass recomputes ``dropout(x)`` with
    the RNG state of the forward, hence the same mask. Outside training, or without grad, it is
    ``lora_A(dropout(x))`` directly (dropout only in training mode, as ``nn.Dropout``).

    A subclass of ``nn.Linear`` with the same ``weight``: state dicts, adapter files, merging and
    the optimizer see the ``lora_A`` they know."""

    dropout_p: float = 0.0

    def _dropped(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.dropout(x, self.dropout_p, training=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.dropout_p == 0:
            return super().forward(x)
        if not torch.is_grad_enabled():
            return self._dropped(x)
        return checkpoint(self._dropped, x, use_reentrant=False, preserve_rng_state=True)


def fold_lora_dropout(model: torch.nn.Module) -> int:
    """Move every plain LoRA adapter's ``lora_dropout`` into its ``lora_A``
    (:class:`DropoutLoraA`), leaving ``nn.Identity`` in its place; the number of adapters folded.

    Only vanilla LoRA on linear layers: variants (DoRA...) read the dropout module themselves."""
    folded = 0
    for module in model.modules():
        lora_a, dropouts = getattr(module, "lora_A", None), getattr(module, "lora_dropout", None)
        if not isinstance(lora_a, torch.nn.ModuleDict) or not isinstance(dropouts,
                                                                          torch.nn.ModuleDict):
            continue
        variants = getattr(module, "lora_variant", {}) or {}
        for name, dropout in list(dropouts.items()):
            linear = lora_a[name] if name in lora_a else None
            if (name in variants or type(dropout) is not torch.nn.Dropout
                    or type(linear) is not torch.nn.Linear):
                continue
            linear.__class__ = DropoutLoraA
            linear.dropout_p = float(dropout.p)
            dropouts[name] = torch.nn.Identity()
            folded += 1
    return folded


def merge_adapter(model_dir: str | Path, adapter_dir: str | Path, dest: str | Path) -> None:
    """Write to ``dest`` the prepared base model of ``model_dir`` with the adapter saved in
    ``adapter_dir`` merged in (a plain transformers model), and its tokenizer.

    The adapter is merged into a fresh CPU copy of the base rather than into the trained model:
    the adapter files are what the Trainer gathered and saved (also from FSDP shards, or from the
    checkpoint of a run killed after its last step), so one path serves every case, and the
    trained model is left as it was."""
    from peft import PeftModel

    from percontrast.models import load_prepared

    base, tokenizer = load_prepared(model_dir, device="cpu")
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(dest, safe_serialization=True)
    tokenizer.save_pretrained(dest)
