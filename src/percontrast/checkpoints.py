"""Which checkpoint a training run may resume from, and the record that makes one trustworthy.

The Trainer writes ``checkpoint-N/`` file by file and resumes from the highest ``N`` it finds. A job
killed while saving (the common case at the paper's scale: optimizer states of many GB, cluster
time limits) leaves a folder that looks like a checkpoint but is not one, and every rerun then
fails inside the library; a checkpoint written by *other* settings would be resumed silently.

So every checkpoint gets a completion record, :data:`RECORD`, written atomically *after* the
Trainer has written everything else (:class:`CheckpointRecordCallback`). It holds the run's
identity (:func:`run_identity`: the training spec, a hash of the training data, the model's
manifest...) and the size of every file. :func:`choose_checkpoint` resumes from the newest
checkpoint whose record exists, matches this run's identity, and whose files are all there, of
their recorded size, and open (``trainer_state.json`` parses, safetensors headers load, torch
archives open). Every other checkpoint is skipped with its reason and then removed, so a
half-written one is never resumed, nor counted by the Trainer's checkpoint rotation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from percontrast.io import honour_umask, write_json

log = logging.getLogger(__name__)

#: Completion record of a checkpoint; its presence means the Trainer finished writing the folder.
RECORD = "percontrast_checkpoint.json"
RECORD_FORMAT = 1
_NAME = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")


def _sha256_json(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def data_fingerprint(records: list) -> str:
    """SHA-256 of the training records' content (in order), the data a run trains on.

    Hashing the parsed records rather than the file's bytes makes the identity the data itself:
    the same records written with other whitespace or key order are the same run."""
    return _sha256_json([r.to_dict() if hasattr(r, "to_dict") else r for r in records])


def run_identity(*, training: dict[str, Any], records: list, model_manifest: dict[str, Any],
                 method: str, lr: float, clip: tuple[float, float], batch_size: int, seed: int,
                 chat_template_kwargs: dict | None) -> dict[str, Any]:
    """Everything that determines a run's result. A checkpoint written under another identity
    belongs to another run and is never resumed. ``training`` is the run's own training spec
    (:func:`percontrast.plan.run_training_spec`), ``model_manifest`` the prepared model's
    manifest (name, spec, seed, hub commit...)."""
    return {
        "training": training, "data_sha256": data_fingerprint(records),
        "model": model_manifest, "method": method, "learning_rate": lr, "clip": list(clip),
        "batch_size": batch_size, "seed": seed,
        "chat_template_kwargs": chat_template_kwargs or {},
    }


def identity_differences(old: dict[str, Any], new: dict[str, Any], prefix: str = ""
                         ) -> list[str]:
    """Human-readable ``key: old -> new`` lines for what differs between two identities."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "<unset>"), new.get(key, "<unset>")
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += identity_differences(a, b, f"{prefix}{key}.")
        elif key == "data_sha256":
            out.append(f"{prefix}{key}: the training data differ")
        else:
            out.append(f"{prefix}{key}: {json.dumps(a)} -> {json.dumps(b)}")
    return out


def write_record(checkpoint: str | Path, identity: dict[str, Any]) -> None:
    """Seal ``checkpoint`` (all its files written): the identity and the size of every file."""
    checkpoint = Path(checkpoint)
    files = {p.relative_to(checkpoint).as_posix(): p.stat().st_size
             for p in sorted(checkpoint.rglob("*")) if p.is_file() and p.name != RECORD}
    write_json(checkpoint / RECORD, {"format": RECORD_FORMAT, "identity": identity,
                                     "identity_sha256": _sha256_json(identity), "files": files})


def _load_problem(path: Path) -> str | None:
    """Why ``path`` would not load (cheap checks: headers and archive directories, not data)."""
    name = path.name
    try:
        if name.endswith(".safetensors"):
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as fh:
                fh.keys()
        elif name.endswith((".pt", ".pth", ".bin")):
            with zipfile.ZipFile(path) as zf:  # torch.save's format: a zip archive
                zf.namelist()
        elif name.endswith(".json"):
            json.loads(path.read_text(encoding="utf-8"))
    except Exception as err:  # noqa: BLE001 - any failure to open means "does not load"
        return f"{name} does not load ({type(err).__name__}: {err})"
    return None


def checkpoint_problem(checkpoint: str | Path, identity: dict[str, Any]) -> str | None:
    """``None`` if ``checkpoint`` is complete, belongs to this run and loads; else why not."""
    checkpoint = Path(checkpoint)
    record_path = checkpoint / RECORD
    if not record_path.is_file():
        return (f"incomplete: no {RECORD} (the job stopped while writing it: killed, out of "
                f"time, or out of disk space; {_free_space(checkpoint)} there now)")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        stored, files = record["identity"], record["files"]
    except (ValueError, KeyError, TypeError) as err:
        return f"{RECORD} is damaged ({err})"
    if _sha256_json(stored) != _sha256_json(identity):
        diffs = identity_differences(stored, identity)
        return "written by other settings (" + "; ".join(diffs or ["identity differs"]) + ")"
    for rel, size in files.items():
        path = checkpoint / rel
        if not path.is_file():
            return f"{rel} is missing"
        if path.stat().st_size != size:
            return f"{rel} is {path.stat().st_size} bytes, {size} when written (truncated?)"
    for rel in files:
        problem = _load_problem(checkpoint / rel)
        if problem:
            return problem
    state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8")) \
        if "trainer_state.json" in files else None
    step = int(_NAME.match(checkpoint.name).group(1))
    if state is None or state.get("global_step") != step:
        return f"trainer_state.json does not record step {step}"
    return None


def _free_space(path: Path) -> str:
    try:
        return f"{shutil.disk_usage(path).free / 1e9:.2f} GB free"
    except OSError:
        return "free space unknown"


#: Files of a checkpoint that are training state, not the model ``save_model`` wrote there.
_STATE_FILES = ("optimizer.pt", "scheduler.pt", "scaler.pt", "trainer_state.json",
                "training_args.bin", RECORD)


def _model_files(checkpoint: Path) -> list[Path]:
    return [p for p in checkpoint.iterdir() if p.is_file() and p.name not in _STATE_FILES
            and not re.match(r"^rng_state(_\d+)?\.pth$", p.name)]


def is_final_checkpoint(checkpoint: str | Path) -> bool:
    """Whether ``checkpoint`` (a sound one) was saved at the last training step and holds the
    whole model (``config.json`` and safetensors weights, not FSDP shards) or, for a LoRA run,
    the whole adapter (``adapter_config.json`` and ``adapter_model.safetensors``)."""
    checkpoint = Path(checkpoint)
    state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
    names = {p.name for p in _model_files(checkpoint)}
    whole = ("config.json" in names and any(n.endswith(".safetensors") for n in names)) or \
        {"adapter_config.json", "adapter_model.safetensors"} <= names
    return whole and 0 < state.get("max_steps", 0) <= state["global_step"]


def copy_model_files(checkpoint: str | Path, dest: str | Path) -> None:
    """Copy the model ``save_model`` wrote into ``checkpoint`` (weights, config, tokenizer) to
    ``dest``, leaving the optimizer, scheduler, RNG and trainer state behind."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for path in _model_files(Path(checkpoint)):
        shutil.copy2(path, dest / path.name)


@dataclass
class Choice:
    """Result of :func:`choose_checkpoint`: where to resume (or ``None``) and what was skipped."""

    resume_from: Path | None = None
    skipped: list[dict[str, str]] = field(default_factory=list)


def choose_checkpoint(ckpt_dir: str | Path, identity: dict[str, Any]) -> Choice:
    """The newest sound checkpoint of this run in ``ckpt_dir``; every newer one is skipped
    (and logged with its reason), and so is every checkpoint of other settings. Read-only: every
    process of a multi-process run makes the same choice; :func:`remove_skipped` cleans up."""
    ckpt_dir = Path(ckpt_dir)
    folders = [p for p in ckpt_dir.iterdir() if p.is_dir() and _NAME.match(p.name)] \
        if ckpt_dir.is_dir() else []
    folders.sort(key=lambda p: int(_NAME.match(p.name).group(1)), reverse=True)
    choice = Choice()
    for folder in folders:
        problem = checkpoint_problem(folder, identity)
        if problem is None and choice.resume_from is None:
            choice.resume_from = folder
        elif problem is not None:
            log.warning("skipping %s: %s", folder, problem)
            choice.skipped.append({"checkpoint": folder.name, "reason": problem})
    if choice.resume_from is not None:
        log.info("resuming from %s", choice.resume_from)
    elif choice.skipped:
        log.warning("no usable checkpoint in %s: starting fresh", ckpt_dir)
    return choice


def remove_skipped(ckpt_dir: str | Path, choice: Choice) -> None:
    """Delete the skipped checkpoints (main process only): never resumed, and not left for the
    Trainer's rotation to keep in place of a sound one."""
    for skipped in choice.skipped:
        shutil.rmtree(Path(ckpt_dir) / skipped["checkpoint"], ignore_errors=True)


class CheckpointRecordCallback(TrainerCallback):
    """Writes :data:`RECORD` into each checkpoint once every process has finished saving it."""

    def __init__(self, identity: dict[str, Any]):
        self.identity = identity

    def on_save(self, args, state, control, **kwargs):
        from accelerate import PartialState

        PartialState().wait_for_everyone()  # other ranks may still write shards / RNG states
        folder = Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"
        if state.is_world_process_zero and folder.is_dir():
            honour_umask(folder)  # safetensors writes model.safetensors 0600 whatever the umask
            write_record(folder, self.identity)
