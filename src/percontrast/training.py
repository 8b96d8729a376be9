"""PerCE training as a Hugging Face ``Trainer`` subclass (plus the baselines and controls).

:class:`PerCETrainer` only overrides ``compute_loss``: each step it

1. runs the persona batch and keeps logits at response positions only (:mod:`percontrast.pir`);
2. for ``perce`` (and its controls), runs one grad-free forward on the short persona-removed
   batch with the *current* weights (the online E-step) — the only extra cost of PerCE (the
   baselines run it too with ``track_pir``, to log PIR only);
3. weights the token log-probs (:func:`percontrast.losses.token_weights`) and returns
   ``sum_i w_i * -log p_i / num_items_in_batch`` (the M-step).

Everything else — accelerate / DDP / FSDP / DeepSpeed, gradient accumulation, mixed precision,
checkpointing and resume, logging and experiment tracking (``training.report_to``) — is the
Trainer's (:func:`run_training` only chooses *which* checkpoint to resume,
:mod:`percontrast.checkpoints`). Normalising by ``num_items_in_batch`` (the
response-token count of the whole accumulated, all-device batch, which the Trainer counts from our
``shift_labels``) makes gradient accumulation give exactly the big-batch gradient.

Use it in your own code::

    from percontrast.pir import PairCollator
    from percontrast.prompts import encode_record
    from percontrast.training import PerCEConfig, PerCETrainer

    train = [encode_record(tokenizer, r, max_length=4096) for r in records]
    args = PerCEConfig(output_dir="out", weighting="perce", clip=(0.8, 5.0), ...)
    trainer = PerCETrainer(model=model, args=args, train_dataset=train,
                           data_collator=PairCollator(tokenizer.pad_token_id))
    trainer.train()
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer, TrainerCallback, TrainingArguments

from percontrast.io import DataError, write_text
from percontrast.losses import DEFAULT_CLIP, token_weights, weighted_ce
from percontrast.methods import METHODS
from percontrast.methods import needs as method_needs
from percontrast.pir import (
    IGNORE_INDEX,
    counterfactual_logprobs,
    response_logits,
    token_entropy,
    token_logprobs,
)
from percontrast.precision import resolve as resolve_precision
from percontrast.tracking import report_integrations

log = logging.getLogger(__name__)


@dataclass
class PerCEConfig(TrainingArguments):
    """``TrainingArguments`` plus the settings of the token-weighted loss (as TRL's ``SFTConfig``
    extends them for SFT): one object says how a run trains, and checkpoints pickle it whole.

    ``remove_unused_columns`` defaults to False: our batches carry ``cf_*`` columns that the
    model's forward does not name, and the Trainer would otherwise drop them.
    """

    weighting: str = field(default="perce", metadata={
        "help": f"Token weighting of the cross-entropy: one of {', '.join(METHODS)}."})
    clip: tuple[float, float] = field(default=DEFAULT_CLIP, metadata={
        "help": "(min, max) clip of the token weights (lossce / entce / perce)."})
    track_pir: bool = field(default=False, metadata={
        "help": "Also measure PIR for the baselines (one grad-free forward per step, logged "
                "only; the loss never sees it)."})
    remove_unused_columns: bool = field(default=False, metadata={
        "help": "Must stay False: the cf_* batch columns are not forward arguments."})

    def __post_init__(self):
        if self.weighting not in METHODS:
            raise ValueError(f"weighting must be one of {METHODS}, got {self.weighting!r}")
        self.clip = (float(self.clip[0]), float(self.clip[1]))
        if self.clip[0] > self.clip[1]:
            raise ValueError(f"clip min {self.clip[0]} > clip max {self.clip[1]}")
        if self.remove_unused_columns:
            raise ValueError("PerCEConfig needs remove_unused_columns=False: PerCETrainer's "
                             "batches carry cf_* columns that the model's forward does not name")
        super().__post_init__()


def as_perce_config(args: TrainingArguments | None) -> PerCEConfig:
    """``args`` as a :class:`PerCEConfig`. A plain ``TrainingArguments`` is converted with its
    values, PerCE's loss defaults and ``remove_unused_columns=False`` (the ``cf_*`` columns must
    reach the loss), leaving the caller's object as it was (as TRL's ``SFTTrainer`` converts to
    ``SFTConfig``)."""
    if isinstance(args, PerCEConfig):
        return args
    if args is None:
        return PerCEConfig()
    values = {f.name: getattr(args, f.name) for f in fields(TrainingArguments) if f.init}
    return PerCEConfig(**{**values, "remove_unused_columns": False})


class PerCETrainer(Trainer):
    """``Trainer`` whose loss is the token-weighted CE of ``weighting`` (a method of
    :mod:`percontrast.methods`).

    Batches come from :class:`percontrast.pir.PairCollator`: ``input_ids`` / ``attention_mask``
    (persona prompt + response, left-padded), ``cf_input_ids`` / ``cf_attention_mask`` (persona
    removed), ``shift_labels`` (response ids aligned with the response logits), and optionally
    ``marker_mask`` (the user's known marker tokens, logged apart; never forwarded).

    The loss settings live on ``args``, a :class:`PerCEConfig`; a plain ``TrainingArguments`` is
    converted to one with PerCE's defaults (as TRL's ``SFTTrainer`` converts to ``SFTConfig``).

    ``track_pir`` also measures PIR for the baselines (one extra grad-free forward per step), so
    their logs show how PIR on marker tokens evolves when nothing optimises for it; the loss
    never sees it.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        if "args" in kwargs:
            kwargs["args"] = as_perce_config(kwargs["args"])
        elif len(args) > 1:
            args = (args[0], as_perce_config(args[1]), *args[2:])
        else:
            kwargs["args"] = as_perce_config(None)
        super().__init__(*args, **kwargs)
        # The loss below is always normalised by num_items_in_batch, whatever the model's forward
        # signature, so ask the Trainer to count it (and not to divide by the GA steps again).
        self.model_accepts_loss_kwargs = True
        self._stats = _StepStats()
        self._micro_step, self._micro = -1, 0

    def _weight_generator(self) -> torch.Generator:
        """The random stream of a stochastic weight rule (``perce_shuffled``) for this
        micro-batch, seeded from the run's seed, the optimizer step and the micro-batch's place
        in it: the same run draws the same permutations, resumed or not."""
        step = self.state.global_step
        self._micro = self._micro + 1 if step == self._micro_step else 0
        self._micro_step = step
        gen = torch.Generator()
        gen.manual_seed((self.args.seed * 1_000_003 + step) * 1_009 + self._micro)
        return gen

    @property
    def weighting(self) -> str:
        return self.args.weighting

    @property
    def clip(self) -> tuple[float, float]:
        return self.args.clip

    @property
    def track_pir(self) -> bool:
        return self.args.track_pir

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs["shift_labels"]
        mask = labels != IGNORE_INDEX
        logits = response_logits(model, inputs["input_ids"], inputs["attention_mask"],
                                 labels.shape[1])
        logp = token_logprobs(logits, labels)
        extra: dict[str, Any] = {}
        logp_cf = None
        needs = method_needs(self.weighting)  # what the method's weight rule reads
        if needs == "counterfactual" or self.track_pir:  # eval mode, no grad: loss unaffected
            logp_cf = counterfactual_logprobs(model, inputs["cf_input_ids"],
                                              inputs["cf_attention_mask"], labels)
        if needs == "counterfactual":
            extra["logp_counterfactual"] = logp_cf
        elif needs == "entropy":
            extra["entropy"] = token_entropy(logits.detach())
        extra["generator"] = self._weight_generator()
        n_response = int(mask.sum())
        if n_response == 0:  # nothing to learn from: the loss is exactly 0, never NaN
            self._stats.empty_batches += 1
            log.warning("step %d: a micro-batch of %d rows has no response token (every label "
                        "is %d); it contributes 0 to the loss", self.state.global_step,
                        labels.shape[0], IGNORE_INDEX)
        try:
            weights = token_weights(self.weighting, logp, mask=mask, clip=self.clip, **extra)
            n_items = num_items_in_batch if num_items_in_batch is not None else n_response
            loss = weighted_ce(logp, weights, mask, n_items)
        except ValueError as err:  # non-finite log-probs / weights: name the step and batch
            raise ValueError(f"step {self.state.global_step}, micro-batch of "
                             f"{labels.shape[0]} rows ({n_response} response tokens): {err}"
                             ) from err
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
            # every process logs (the Trainer gathers the loss first), so the statistics can be
            # summed over processes: rank 0 alone saw only its share of the batch
            acc = self.accelerator
            reduce = None if acc.num_processes == 1 else (
                lambda t: acc.reduce(t.to(acc.device), reduction="sum").cpu())
            logs.update(self._stats.flush(reduce))
        # every callback's on_log gets them: log.jsonl and the report_to integrations (scalars
        # train/weight_mean, train/frac_clip_min ... beside train/loss, tests/test_tracking.py)
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
        self.empty_batches = 0
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

    def _sum_over_processes(self, reduce) -> None:
        """Replace every counter by its sum over processes (one collective for all of them)."""
        flat = [self.n, self.w_sum, self.at_min, self.at_max, self.nll_sum, self.pir_sum,
                self.tokens, float(self.saw_markers), self.empty_batches,
                *(v for g in self.GROUPS for v in self.groups[g])]
        total = reduce(torch.tensor(flat, dtype=torch.float64)).tolist()
        n, self.w_sum, self.at_min, self.at_max, self.nll_sum, self.pir_sum, tokens, saw, \
            empty = total[:9]
        self.n, self.tokens, self.saw_markers = round(n), round(tokens), saw > 0
        self.empty_batches = round(empty)
        for i, group in enumerate(self.GROUPS):
            g_n, w_sum, n_pir, pir_sum = total[9 + 4 * i:13 + 4 * i]
            self.groups[group] = [round(g_n), w_sum, round(n_pir), pir_sum]

    def flush(self, reduce=None) -> dict[str, float]:
        """This window's means; ``reduce`` (sum a float64 tensor over processes) makes them the
        means over every process's tokens, and tokens/s the throughput of all processes."""
        elapsed = time.perf_counter() - self.t0
        if reduce is not None:
            self._sum_over_processes(reduce)
        n = max(self.n, 1)
        out = {"weight_mean": self.w_sum / n, "frac_clip_min": self.at_min / n,
               "frac_clip_max": self.at_max / n, "nll": self.nll_sum / n,
               "response_tokens": self.n, "tokens_per_s": self.tokens / max(elapsed, 1e-9)}
        if self.pir_sum:
            out["pir_mean"] = self.pir_sum / n
        if self.empty_batches:  # micro-batches without a response token (loss 0)
            out["empty_batches"] = self.empty_batches
        out.update(self._group_means())
        self.reset()
        return out


class JsonlLogCallback(TrainerCallback):
    """Append every training log to ``path`` as one JSON object per line (with step time).

    On resume, lines past the checkpoint's step are dropped first, so the log of a run that was
    killed and resumed reads as one clean run (and a fresh start begins an empty log). A torn
    last line (the job was killed while appending it) is dropped too.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._last_time: float | None = None
        self._last_step = 0

    def trim(self, step: int) -> None:
        """Keep the rows up to ``step`` (the step training continues from)."""
        if self.path.exists():
            keep = [row for row in _read_log(self.path) if row.get("step", 0) <= step]
            write_text(self.path, "".join(json.dumps(row) + "\n" for row in keep))

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.trim(state.global_step)
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


def _read_log(path: Path) -> list[dict[str, Any]]:
    """Rows of a training log; a torn last line is dropped (logged), a bad line elsewhere is a
    :class:`~percontrast.io.DataError` naming the file and line."""
    lines = path.read_bytes().split(b"\n")
    rows = []
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            rows.append(json.loads(raw.decode("utf-8")))
        except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
            if all(not rest.strip() for rest in lines[lineno:]):
                log.warning("%s, line %d: dropping a torn last line (%s)", path, lineno, err)
                break
            raise DataError(path, f"not a JSON log row ({err})", line=lineno) from err
    return rows


def warmup_arguments(ratio: float) -> dict[str, float]:
    """The ``TrainingArguments`` keyword for a warmup *ratio*: ``warmup_ratio`` where it exists
    (transformers 4), else ``warmup_steps``, which transformers 5 reads as a ratio when below 1
    (and transformers 4 as a step count: passing a ratio there silently meant no warmup)."""
    if not 0 <= ratio < 1:
        raise ValueError(f"training.warmup_ratio must be in [0, 1), got {ratio!r}")
    if "warmup_ratio" in TrainingArguments.__dataclass_fields__:
        return {"warmup_ratio": ratio}
    return {"warmup_steps": ratio}


def training_arguments(training: dict[str, Any], output_dir: str | Path, *, method: str,
                       lr: float, clip: tuple[float, float] = DEFAULT_CLIP, batch_size: int,
                       seed: int, device: str | None = None, world_size: int = 1,
                       **overrides: Any) -> PerCEConfig:
    """The :class:`PerCEConfig` of a run, from the config's ``training`` section (paper appendix
    B). The one place that turns config keys into trainer settings: training runs and
    ``scripts/bench_step.py`` both build theirs here; ``overrides`` set other fields directly
    (the benchmark's ``save_strategy="no"``)."""
    per_device = training.get("per_device_batch_size", 1)
    accum = max(1, math.ceil(batch_size / (per_device * world_size)))
    cuda = torch.cuda.is_available() and device != "cpu"
    # auto: bf16 mixed precision where the chip has native bf16 (CUDA, or a CPU with AVX-512
    # BF16 / AMX), fp32 elsewhere (percontrast.precision); master weights stay fp32 (autocast)
    bf16 = resolve_precision(training.get("precision"), "cuda" if cuda else "cpu") == "bf16"
    beta1, beta2 = training.get("adam_betas", (0.9, 0.999))
    extra: dict[str, Any] = warmup_arguments(training.get("warmup_ratio", 0.04))
    if training.get("gradient_checkpointing"):  # renamed activation_checkpointing in v5
        fields_ = TrainingArguments.__dataclass_fields__
        key = "activation_checkpointing" if "activation_checkpointing" in fields_ else \
            "gradient_checkpointing"
        extra[key] = True
    settings = dict(
        output_dir=str(output_dir),
        weighting=method,
        clip=tuple(clip),
        track_pir=training.get("track_pir", True),
        per_device_train_batch_size=per_device,
        gradient_accumulation_steps=accum,
        learning_rate=lr,
        num_train_epochs=training.get("epochs", 1),
        max_steps=training.get("max_steps", -1),
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
        report_to=report_integrations(training) or "none",
        dataloader_num_workers=0,
        disable_tqdm=True,
        **extra,
    )
    return PerCEConfig(**{**settings, **overrides})


@dataclass
class _Session:
    """What one call of :func:`run_training` trained: from which checkpoint, to which state."""

    choice: Any
    last: Path | None
    final: bool
    state: Any
    resumed_step: int
    loss: float
    seconds: float


def _train_or_finish(trainer: PerCETrainer, run_log: JsonlLogCallback, identity) -> _Session:
    """Resume from the run folder's sound checkpoint (if any) and train to the end; a
    checkpoint that is already the end of training is finished from, not trained again."""
    from transformers import TrainerState

    from percontrast import run_folder
    from percontrast.checkpoints import is_final_checkpoint

    choice = run_folder.resume_point(trainer, identity)
    last = choice.resume_from
    resumed_step = run_folder.trainer_state_step(last) if last else 0
    # Killed after its last step: the Trainer, resumed there mid-epoch, would take one step
    # past max_steps; the checkpoint already holds the final model: nothing trains again.
    final = last is not None and is_final_checkpoint(last)
    started = time.perf_counter()
    if final:
        log.info("%s is the end of training: finishing from it", last)
        state = TrainerState.load_from_json(str(last / "trainer_state.json"))
        session_loss = 0.0
        if trainer.is_world_process_zero():
            run_log.trim(resumed_step)
    else:
        result = trainer.train(resume_from_checkpoint=str(last) if last else None)
        state, session_loss = trainer.state, result.training_loss
    return _Session(choice, last, final, state, resumed_step, session_loss,
                    time.perf_counter() - started)


def _session_summary(args: PerCEConfig, session: _Session, pairs) -> dict[str, Any]:
    """``done.json``'s account of how the run trained: steps, loss over every resume, the
    checkpoint it resumed from, and the precision it computed in."""
    from percontrast import run_folder

    state, step = session.state, session.state.global_step
    return {
        "per_device_batch_size": args.per_device_train_batch_size,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
        "global_step": step, "epochs": state.epoch,
        "train_loss": run_folder.whole_run_loss(state.log_history, session.resumed_step,
                                                session.loss, step),
        "train_loss_this_session": session.loss, "n_examples": len(pairs),
        "n_truncated": sum(1 for p in pairs if p.truncated),
        "resumed_from": session.last.name if session.last else None,
        "resumed_step": session.resumed_step, "skipped_checkpoints": session.choice.skipped,
        "train_seconds_this_session": session.seconds,
        "precision": "bf16" if args.bf16 else "fp32",
    }


def run_training(model_dir: str | Path, records: list, out_dir: str | Path, *, method: str,
                 lr: float, clip: tuple[float, float], training: dict[str, Any],
                 batch_size: int, seed: int, chat_template_kwargs: dict | None = None,
                 device: str | None = None, callbacks: list | tuple = (),
                 keep_checkpoints: bool = False) -> dict[str, Any]:
    """One pipeline training run in ``out_dir``; resumes from its last sound checkpoint if any.

    Writes ``log.jsonl`` as it goes, then ``model/`` (a prepared-model folder that
    :func:`percontrast.models.load_prepared` reads), then ``done.json`` last, so a run that dies
    anywhere leaves no ``done.json`` and Snakemake reruns it (from the last checkpoint;
    :mod:`percontrast.run_folder` keeps the folder sound). Checkpoints carry the run's identity
    (:func:`percontrast.checkpoints.run_identity`); a rerun resumes only from a complete
    checkpoint of the same identity (see :mod:`percontrast.checkpoints`) and otherwise starts
    fresh, saying why.

    ``training.report_to`` (tensorboard, mlflow) sends the training logs to those integrations
    too, into the run folder (:mod:`percontrast.tracking`). Tracking never changes the weights,
    so it is left out of the checkpoints' identity: a run killed without tracking resumes with
    it.
    """
    from percontrast import run_folder
    from percontrast.checkpoints import CheckpointRecordCallback, run_identity
    from percontrast.io import read_json
    from percontrast.layout import run_member
    from percontrast.lora import apply_lora, lora_settings
    from percontrast.models import MANIFEST, load_prepared
    from percontrast.pir import PairCollator
    from percontrast.prompts import encode_records
    from percontrast.tracking import check_integrations, tensorboard_dir, tracking_environment

    out_dir = Path(out_dir)
    if not records:
        raise ValueError(f"{out_dir}: no training records: nothing to train on")
    integrations = check_integrations(training)  # a missing package fails before any work
    base_manifest = read_json(Path(model_dir) / MANIFEST)
    untracked = {k: v for k, v in training.items() if k != "report_to"}  # weights unaffected
    identity = run_identity(training=untracked, records=records, model_manifest=base_manifest,
                            method=method, lr=lr, clip=clip, batch_size=batch_size, seed=seed,
                            chat_template_kwargs=chat_template_kwargs)
    model, tokenizer = load_prepared(model_dir, device="cpu")
    # training.lora: the Trainer (and PerCE's persona-free forward) get the adapted model
    lora = lora_settings(training)
    model = apply_lora(model, training, seed=seed)
    # the persona-free forward of PerCE (and of PIR tracking) uses the configured counterfactual
    # (config pir.counterfactual, carried in the run's spec when not the paper's "removed")
    pairs = encode_records(tokenizer, records, max_length=training.get("max_length"),
                           chat_template_kwargs=chat_template_kwargs,
                           counterfactual=training.get("counterfactual", "removed"), seed=seed)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))  # set by accelerate launch / torchrun
    # transformers 4 reads TensorBoard's folder from the arguments, 5 from the environment
    tb_dir = ({"logging_dir": str(tensorboard_dir(out_dir))} if "tensorboard" in integrations
              and "logging_dir" in TrainingArguments.__dataclass_fields__ else {})
    args = training_arguments(training, run_member(out_dir, "checkpoints"), method=method, lr=lr,
                              clip=clip, batch_size=batch_size, seed=seed, device=device,
                              world_size=world_size, **tb_dir)
    run_log = JsonlLogCallback(run_member(out_dir, "log"))
    with tracking_environment(integrations, out_dir):  # the callbacks read it as they start
        trainer = PerCETrainer(model=model, args=args, train_dataset=pairs,
                               data_collator=PairCollator(tokenizer.pad_token_id),
                               processing_class=tokenizer,
                               callbacks=[run_log, CheckpointRecordCallback(identity),
                                          *callbacks])
        session = _train_or_finish(trainer, run_log, identity)
    last, final = session.last, session.final

    manifest = {**base_manifest, "weights": "local", "trained_from": str(model_dir),
                "method": method, "learning_rate": lr, "clip": list(clip),
                **({"lora": lora} if lora else {})}
    if not run_folder.save_model(trainer, out_dir, base_dir=model_dir, manifest=manifest,
                                 lora=lora, final_checkpoint=last if final else None):
        return {}
    summary = {"method": method, "learning_rate": lr, "clip": list(clip), "seed": seed,
               "batch_size": batch_size, **_session_summary(args, session, pairs),
               "model": base_manifest.get("name")}
    run_folder.write_done(out_dir, summary, keep_checkpoints=keep_checkpoints)
    return summary
