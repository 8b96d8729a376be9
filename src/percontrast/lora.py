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
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

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
    return peft_model


def is_peft_model(model: torch.nn.Module) -> bool:
    from peft import PeftModel

    return isinstance(model, PeftModel)


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
