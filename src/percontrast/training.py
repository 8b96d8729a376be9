"""PerCE training as a Hugging Face ``Trainer`` subclass (plus the three baselines).

:class:`PerCETrainer` only overrides ``compute_loss``: each step it

1. runs the persona batch and keeps logits at response positions only (:mod:`percontrast.pir`);
2. for ``perce``, runs one grad-free forward on the short persona-removed batch with the *current*
   weights (the online E-step) — the only extra cost of PerCE (the baselines run it too with
   ``track_pir``, to log PIR only);
3. weights the token log-probs (:func:`percontrast.losses.token_weights`) and returns
   ``sum_i w_i * -log p_i / num_items_in_batch`` (the M-step).

Everything else — accelerate / DDP / FSDP / DeepSpeed, gradient accumulation, mixed precision,
checkpointing and resume, logging — is the Trainer's. Normalising by ``num_items_in_batch`` (the
response-token count of the whole accumulated, all-device batch, which the Trainer counts from our
``shift_labels``) makes gradient accumulation give exactly the big-batch gradient.

Use it in your own code::

    from percontrast.pir import PairCollator
    from percontrast.prompts import encode_record
    from percontrast.training import PerCETrainer

    train = [encode_record(tokenizer, r, max_length=4096) for r in records]
    trainer = PerCETrainer(model=model, args=TrainingArguments(...), train_dataset=train,
                           data_collator=PairCollator(tokenizer.pad_token_id), weighting="perce")
    trainer.train()
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer, TrainerCallback, TrainingArguments

from percontrast.losses import DEFAULT_CLIP, METHODS, token_weights, weighted_ce
from percontrast.pir import (
    IGNORE_INDEX,
    counterfactual_logprobs,
    response_logits,
    token_entropy,
    token_logprobs,
)


class PerCETrainer(Trainer):
    """``Trainer`` whose loss is the token-weighted CE of ``weighting`` (ce/lossce/entce/perce).

    Batches come from :class:`percontrast.pir.PairCollator`: ``input_ids`` / ``attention_mask``
    (persona prompt + response, left-padded), ``cf_input_ids`` / ``cf_attention_mask`` (persona
    removed), ``shift_labels`` (response ids aligned with the response logits), and optionally
    ``marker_mask`` (the user's known marker tokens, logged apart; never forwarded).

    ``track_pir`` also measures PIR for the baselines (one extra grad-free forward per step), so
    their logs show how PIR on marker tokens evolves when nothing optimises for it; the loss
    never sees it.
    """

    def __init__(self, *args: Any, weighting: str = "perce",
                 clip: tuple[float, float] = DEFAULT_CLIP, track_pir: bool = False,
                 **kwargs: Any):
        if weighting not in METHODS:
            raise ValueError(f"weighting must be one of {METHODS}, got {weighting!r}")
        if clip[0] > clip[1]:
            raise ValueError(f"clip min {clip[0]} > clip max {clip[1]}")
        training_args = kwargs.get("args") if "args" in kwargs else (args[1] if len(args) > 1
                                                                       else None)
        if training_args is not None:
            # our batches carry cf_* columns the model's forward does not name
            training_args.remove_unused_columns = False
        super().__init__(*args, **kwargs)
        self.weighting = weighting
        self.clip = (float(clip[0]), float(clip[1]))
        self.track_pir = bool(track_pir)
        # The loss below is always normalised by num_items_in_batch, whatever the model's forward
        # signature, so ask the Trainer to count it (and not to divide by the GA steps again).
        self.model_accepts_loss_kwargs = True
        self._stats = _StepStats()

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs["shift_labels"]
        mask = labels != IGNORE_INDEX
        logits = response_logits(model, inputs["input_ids"], inputs["attention_mask"],
                                 labels.shape[1])
        logp = token_logprobs(logits, labels)
        extra: dict[str, torch.Tensor] = {}
        logp_cf = None
        if self.weighting == "perce" or self.track_pir:  # eval mode, no grad: loss unaffected
            logp_cf = counterfactual_logprobs(model, inputs["cf_input_ids"],
                                              inputs["cf_attention_mask"], labels)
        if self.weighting == "perce":
            extra["logp_counterfactual"] = logp_cf
        elif self.weighting == "entce":
            extra["entropy"] = token_entropy(logits.detach())
        weights = token_weights(self.weighting, logp, mask=mask, clip=self.clip, **extra)
        n_items = num_items_in_batch if num_items_in_batch is not None else mask.sum()
        loss = weighted_ce(logp, weights, mask, n_items)
        if (self.args.average_tokens_across_devices and num_items_in_batch is not None
                and self.accelerator.num_processes > 1):
            # num_items_in_batch is summed over processes and DDP averages gradients: undo that
            # average (the Trainer does the same for losses it computes itself)
            loss = loss * self.accelerator.num_processes
        tokens = int(inputs["attention_mask"].sum())  # tokens forwarded, for tokens/s
        if logp_cf is not None:
            tokens += int(inputs["cf_attention_mask"].sum())
        self._stats.add(logp.detach(), weights, mask, self.clip, logp_cf, tokens=tokens,
                        marker_mask=inputs.get("marker_mask"))
        if return_outputs:
            return loss, {"loss": loss.detach()}
        return loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs:  # training logs: add this window's token-weight statistics
            logs.update(self._stats.flush())
        super().log(logs, start_time)


class _StepStats:
    """Token-weight statistics accumulated between two log calls.

    With a ``marker_mask`` (demo data: the user's known marker tokens) PIR and weights are also
    summed separately over marker tokens and the other response tokens: the online E-step should
    give marker tokens higher PIR, and PerCE therefore higher weights, than the rest.
    """

    GROUPS = ("marker", "other")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.n = 0
        self.w_sum = self.at_min = self.at_max = self.nll_sum = self.pir_sum = 0.0
        self.tokens = 0
        self.saw_markers = False
        # per group: [tokens, weight sum, tokens with PIR, PIR sum]
        self.groups = {g: [0, 0.0, 0, 0.0] for g in self.GROUPS}
        self.t0 = time.perf_counter()

    def add(self, logp, weights, mask, clip, logp_cf, tokens: int, marker_mask=None) -> None:
        w = weights[mask]  # response tokens only, gathered once
        self.n += w.numel()
        self.w_sum += float(w.sum())
        self.at_min += float((w <= clip[0] + 1e-6).sum())
        self.at_max += float((w >= clip[1] - 1e-6).sum())
        self.nll_sum += float(-logp[mask].sum())
        pir = None if logp_cf is None else logp - logp_cf
        if pir is not None:
            self.pir_sum += float(pir[mask].sum())
        if marker_mask is not None:
            self._add_groups(weights, pir, mask, marker_mask.bool())
        self.tokens += tokens

    def _add_groups(self, weights, pir, mask, marker_mask) -> None:
        self.saw_markers = True
        for group, sel in zip(self.GROUPS, (mask & marker_mask, mask & ~marker_mask), strict=True):
            acc = self.groups[group]
            n = int(sel.sum())
            acc[0] += n
            acc[1] += float(weights[sel].sum())
            if pir is not None:
                acc[2] += n
                acc[3] += float(pir[sel].sum())

    def _group_means(self) -> dict[str, float]:
        """Token-weighted means per group; a mean with no tokens behind it is left out."""
        if not self.saw_markers:
            return {}
        out: dict[str, float] = {"n_marker_tokens": self.groups["marker"][0]}
        for group, (n, w_sum, n_pir, pir_sum) in self.groups.items():
            if n:
                out[f"weight_{group}_mean"] = w_sum / n
            if n_pir:
                out[f"pir_{group}_mean"] = pir_sum / n_pir
        return out

    def flush(self) -> dict[str, float]:
        elapsed = time.perf_counter() - self.t0
        n = max(self.n, 1)
        out = {"weight_mean": self.w_sum / n, "frac_clip_min": self.at_min / n,
               "frac_clip_max": self.at_max / n, "nll": self.nll_sum / n,
               "response_tokens": self.n, "tokens_per_s": self.tokens / max(elapsed, 1e-9)}
        if self.pir_sum:
            out["pir_mean"] = self.pir_sum / n
        out.update(self._group_means())
        self.reset()
        return out


class JsonlLogCallback(TrainerCallback):
    """Append every training log to ``path`` as one JSON object per line (with step time).

    On resume, lines past the checkpoint's step are dropped first, so the log of a run that was
    killed and resumed reads as one clean run.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._last_time: float | None = None
        self._last_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        if self.path.exists():
            keep = [line for line in self.path.read_text().splitlines()
                    if line.strip() and json.loads(line).get("step", 0) <= state.global_step]
            self.path.write_text("".join(k + "\n" for k in keep))
        self._last_time, self._last_step = time.perf_counter(), state.global_step

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or not state.is_world_process_zero:
            return
        now = time.perf_counter()
        row = {"step": state.global_step, **logs}
        steps = state.global_step - self._last_step
        if steps > 0 and self._last_time is not None:
            row["step_time_s"] = (now - self._last_time) / steps
        self._last_time, self._last_step = now, state.global_step
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")


def training_arguments(training: dict[str, Any], output_dir: str | Path, *, lr: float,
                       batch_size: int, seed: int, device: str | None = None,
                       world_size: int = 1) -> TrainingArguments:
    """``TrainingArguments`` from the config's ``training`` section (paper appendix B)."""
    per_device = training.get("per_device_batch_size", 1)
    accum = max(1, math.ceil(batch_size / (per_device * world_size)))
    cuda = torch.cuda.is_available() and device != "cpu"
    precision = training.get("precision", "auto")
    bf16 = precision == "bf16" or (precision == "auto" and cuda and torch.cuda.is_bf16_supported())
    beta1, beta2 = training.get("adam_betas", (0.9, 0.999))
    extra: dict[str, Any] = {}
    if training.get("gradient_checkpointing"):  # renamed activation_checkpointing in v5
        fields = TrainingArguments.__dataclass_fields__
        key = "activation_checkpointing" if "activation_checkpointing" in fields else \
            "gradient_checkpointing"
        extra[key] = True
    return TrainingArguments(
        output_dir=str(output_dir),
        per_device_train_batch_size=per_device,
        gradient_accumulation_steps=accum,
        learning_rate=lr,
        num_train_epochs=training.get("epochs", 1),
        max_steps=training.get("max_steps", -1),
        warmup_steps=training.get("warmup_ratio", 0.04),
        lr_scheduler_type=training.get("lr_scheduler", "linear"),
        adam_beta1=beta1,
        adam_beta2=beta2,
        weight_decay=training.get("weight_decay", 0.0),
        bf16=bf16,
        use_cpu=not cuda,
        logging_steps=training.get("logging_steps", 1),
        save_strategy="steps",
        save_steps=training.get("save_steps", 50),
        save_total_limit=2,
        save_only_model=False,
        seed=seed,
        data_seed=seed,
        report_to="none",
        remove_unused_columns=False,
        dataloader_num_workers=0,
        disable_tqdm=True,
        **extra,
    )


def run_training(model_dir: str | Path, records: list, out_dir: str | Path, *, method: str,
                 lr: float, clip: tuple[float, float], training: dict[str, Any],
                 batch_size: int, seed: int, chat_template_kwargs: dict | None = None,
                 device: str | None = None, callbacks: list | tuple = (),
                 keep_checkpoints: bool = False) -> dict[str, Any]:
    """One pipeline training run in ``out_dir``; resumes from its last checkpoint if any.

    Writes ``log.jsonl`` as it goes, then ``model/`` (a prepared-model folder that
    :func:`percontrast.models.load_prepared` reads), then ``done.json`` last, so a run that dies
    anywhere leaves no ``done.json`` and Snakemake reruns it (from the last checkpoint).
    """
    from transformers.trainer_utils import get_last_checkpoint

    from percontrast.io import atomic_dir, read_json, write_json
    from percontrast.models import MANIFEST, load_prepared
    from percontrast.pir import PairCollator
    from percontrast.prompts import encode_record

    out_dir = Path(out_dir)
    ckpt_dir = out_dir / "checkpoints"
    model, tokenizer = load_prepared(model_dir, device="cpu")
    max_length = training.get("max_length")
    pairs = [encode_record(tokenizer, r, max_length=max_length,
                           chat_template_kwargs=chat_template_kwargs) for r in records]
    world_size = int(os.environ.get("WORLD_SIZE", "1"))  # set by accelerate launch / torchrun
    args = training_arguments(training, ckpt_dir, lr=lr, batch_size=batch_size, seed=seed,
                              device=device, world_size=world_size)
    trainer = PerCETrainer(model=model, args=args, train_dataset=pairs,
                           data_collator=PairCollator(tokenizer.pad_token_id),
                           processing_class=tokenizer, weighting=method, clip=clip,
                           track_pir=training.get("track_pir", True),
                           callbacks=[JsonlLogCallback(out_dir / "log.jsonl"), *callbacks])
    last = get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=last)
    elapsed = time.perf_counter() - started

    # save_model is collective (it gathers FSDP / DeepSpeed shards); rank 0 finalises the folder
    staging = out_dir / ".model.staging"
    if trainer.is_world_process_zero():
        shutil.rmtree(staging, ignore_errors=True)  # left over by a run killed while saving
    trainer.save_model(str(staging))
    if not trainer.is_world_process_zero():
        return {}
    (staging / "training_args.bin").unlink(missing_ok=True)  # a pickle; nothing should load it
    base_manifest = read_json(Path(model_dir) / MANIFEST)
    write_json(staging / MANIFEST, {**base_manifest, "weights": "local",
                                    "trained_from": str(model_dir), "method": method,
                                    "learning_rate": lr, "clip": list(clip)})
    with atomic_dir(out_dir / "model") as tmp:
        for item in staging.iterdir():
            item.rename(tmp / item.name)
    staging.rmdir()
    if not keep_checkpoints:
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    truncated = sum(1 for p in pairs if p.truncated)
    summary = {
        "method": method, "learning_rate": lr, "clip": list(clip), "seed": seed,
        "batch_size": batch_size, "per_device_batch_size": args.per_device_train_batch_size,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
        "global_step": trainer.state.global_step, "epochs": trainer.state.epoch,
        "train_loss": result.training_loss, "n_examples": len(pairs),
        "n_truncated": truncated, "resumed_from": Path(last).name if last else None,
        "train_seconds_this_session": elapsed, "precision": "bf16" if args.bf16 else "fp32",
        "model": base_manifest.get("name"),
    }
    write_json(out_dir / "done.json", summary)
    return summary
