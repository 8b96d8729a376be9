"""A training run's folder from its first checkpoint to ``done.json`` (``layout.RUN_MEMBERS``).

:func:`percontrast.training.run_training` trains; this module keeps the folder sound around it,
so that a run killed anywhere is rerun by Snakemake and resumes where it can:

* :func:`resume_point` picks the checkpoint to resume (:mod:`percontrast.checkpoints`) and
  removes the others, with every process agreeing first;
* :func:`save_model` writes ``model/`` through a staging folder and an atomic rename (a LoRA
  run's adapter merged into its base), so ``model/`` is never half-written;
* :func:`write_done` writes ``done.json`` last: its presence means the run is complete;
* :func:`whole_run_loss` gives the run's loss over all its resumes, not only the last session;
* :func:`lock_run_folder` makes one process the folder's only writer: a second ``percontrast
  train`` on the same folder (a hand-run job beside Snakemake, a requeued SLURM job) fails at
  once, naming the holder, instead of deleting the first one's live checkpoint as "incomplete"
  or interleaving two runs in ``log.jsonl``.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

from percontrast.io import atomic_dir, read_json, write_json
from percontrast.layout import RUN_MEMBERS, run_member

log = logging.getLogger(__name__)

#: The lock file of a run folder (its content names the holder, for the second process's error).
LOCK = RUN_MEMBERS["lock"]
#: Run folders this process holds locked (resolved path -> file descriptor), until it exits.
_HELD: dict[str, int] = {}


class RunFolderLocked(RuntimeError):
    """Another process is training into this run folder."""


def lock_run_folder(run_dir: str | Path) -> bool:
    """Take an exclusive lock on ``run_dir`` for the rest of this process (``flock`` on its
    :data:`LOCK` file; the kernel releases it when the process ends, however it ends). A second
    call in the same process is a no-op. Raises :class:`RunFolderLocked`, naming the holder,
    when another process holds it. Returns False (with a warning) on a file system without
    locks, where training goes on unlocked, as before."""
    import fcntl

    run_dir = Path(run_dir)
    key = str(run_dir.resolve())
    path = run_dir / LOCK
    if key in _HELD:
        try:
            held, now = os.fstat(_HELD[key]), os.stat(path)
            if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                return True
        except OSError:
            pass
        os.close(_HELD.pop(key))  # the folder was removed and made again: lock the new one
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
        os.close(fd)
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise RunFolderLocked(
                f"{run_dir}: another process is training into this run folder "
                f"({holder or 'holder unknown'}); wait for it to finish or stop it (two "
                "trainings in one folder would delete each other's checkpoints and mix their "
                "logs)") from None
        log.warning("%s: cannot lock the run folder (%s): the file system has no locks; make "
                    "sure no other job trains into it", run_dir, err)
        return False
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since "
                  f"{time.strftime('%Y-%m-%d %H:%M:%S %z')}\n".encode(), 0)
    _HELD[key] = fd
    return True


def resume_point(trainer, identity: dict[str, Any]):
    """The :class:`~percontrast.checkpoints.Choice` of checkpoint to resume from (``None`` when
    training starts fresh). The main process first locks the run folder
    (:func:`lock_run_folder`): another training in it fails here, before anything is removed.
    Every process chooses the same before rank 0 removes the skipped ones, and all wait for
    that, so no process resumes from a folder being deleted."""
    from percontrast.checkpoints import choose_checkpoint, remove_skipped

    ckpt_dir = Path(trainer.args.output_dir)
    if trainer.is_world_process_zero():
        lock_run_folder(ckpt_dir.parent)  # the checkpoints live in the run folder
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
