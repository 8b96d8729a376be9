"""A training run's folder from its first checkpoint to ``done.json`` (``layout.RUN_MEMBERS``).

:func:`percontrast.training.run_training` trains; this module keeps the folder sound around it,
so that a run killed anywhere is rerun by Snakemake and resumes where it can:

* :func:`resume_point` picks the checkpoint to resume (:mod:`percontrast.checkpoints`) and
  removes the others, with every process agreeing first;
* :func:`save_model` writes ``model/`` through a staging folder and an atomic rename (a LoRA
  run's adapter merged into its base), so ``model/`` is never half-written;
* :func:`write_done` writes ``done.json`` last: its presence means the run is complete;
* :func:`whole_run_loss` gives the run's loss over all its resumes, not only the last session.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from percontrast.io import atomic_dir, read_json, write_json
from percontrast.layout import run_member


def resume_point(trainer, identity: dict[str, Any]):
    """The :class:`~percontrast.checkpoints.Choice` of checkpoint to resume from (``None`` when
    training starts fresh). Every process chooses the same before rank 0 removes the skipped
    ones, and all wait for that, so no process resumes from a folder being deleted."""
    from percontrast.checkpoints import choose_checkpoint, remove_skipped

    ckpt_dir = Path(trainer.args.output_dir)
    choice = choose_checkpoint(ckpt_dir, identity)
    trainer.accelerator.wait_for_everyone()
    if trainer.is_world_process_zero():
        remove_skipped(ckpt_dir, choice)
    trainer.accelerator.wait_for_everyone()
    return choice


def trainer_state_step(checkpoint: Path) -> int:
    """The global step a checkpoint was saved at (from its ``trainer_state.json``)."""
    return int(read_json(checkpoint / "trainer_state.json")["global_step"])


def whole_run_loss(log_history: list[dict[str, Any]], resumed_step: int, session_loss: float,
                   global_step: int) -> float:
    """Mean training loss per step over the whole run, resumes included.

    The Trainer's ``training_loss`` covers only the steps since the last resume; the steps before
    come from the checkpoint's log history (per logging window: mean loss x window length). Steps
    between the last log and the checkpoint, if logging is sparser than saving, count at the
    logged mean."""
    session_steps = global_step - resumed_step
    prior_sum, logged, last = 0.0, 0, 0
    for row in log_history:
        step = row.get("step", 0)
        if "loss" in row and last < step <= resumed_step:
            prior_sum += row["loss"] * (step - last)
            logged, last = logged + (step - last), step
    if resumed_step and logged:
        prior_sum *= resumed_step / logged
    elif resumed_step:  # nothing logged before the checkpoint: only this session is known
        return session_loss
    return (prior_sum + session_loss * session_steps) / max(global_step, 1)


def save_model(trainer, run_dir: str | Path, *, base_dir: str | Path, manifest: dict[str, Any],
               lora: dict[str, Any] | None, final_checkpoint: Path | None) -> bool:
    """Write the trained model to the run's ``model/`` member; True on the process that did.

    ``save_model`` is collective (it gathers FSDP / DeepSpeed shards), so every process calls
    this; rank 0 finalises the folder. ``final_checkpoint`` (a run killed after its last step)
    supplies the weights instead of the Trainer. A LoRA run's ``model/`` is the base with the
    adapter merged in, and ``model/adapter/`` keeps the adapter. ``manifest`` is written as the
    folder's prepared-model manifest, so :func:`percontrast.models.load_prepared` reads it."""
    from percontrast.checkpoints import copy_model_files
    from percontrast.lora import ADAPTER_DIR, merge_adapter
    from percontrast.models import MANIFEST

    staging = run_member(run_dir, "staging")
    saved = staging / ADAPTER_DIR if lora else staging
    if trainer.is_world_process_zero():
        shutil.rmtree(staging, ignore_errors=True)  # left over by a run killed while saving
        if final_checkpoint is not None:
            copy_model_files(final_checkpoint, saved)
    if final_checkpoint is None:
        trainer.save_model(str(saved))
    if not trainer.is_world_process_zero():
        return False
    (saved / "training_args.bin").unlink(missing_ok=True)  # a pickle; nothing should load it
    if lora:
        merge_adapter(base_dir, saved, staging)
    write_json(staging / MANIFEST, manifest)
    with atomic_dir(run_member(run_dir, "model")) as tmp:
        for item in staging.iterdir():
            item.rename(tmp / item.name)
    staging.rmdir()
    return True


def write_done(run_dir: str | Path, summary: dict[str, Any], *, keep_checkpoints: bool) -> None:
    """Finish the folder: drop the checkpoints (unless kept) and write ``done.json`` last."""
    if not keep_checkpoints:
        shutil.rmtree(run_member(run_dir, "checkpoints"), ignore_errors=True)
    write_json(run_member(run_dir, "done"), summary)
